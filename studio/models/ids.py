"""Pure model-store logic: ids, the metadata file's shape, and what a verify finds. No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from studio.errors import InvalidInput, StudioError

ID_PATTERN: Final = r"^[a-z0-9][a-z0-9._-]{0,63}$"
"""A model id: the same rule as a pipeline id (also its folder name in the store)."""
METADATA_FILE: Final = "models.json"
_ID = re.compile(ID_PATTERN)


class ModelMissing(StudioError):
    """A pipeline needs a model the store does not hold (refused before queueing)."""


class ModelStoreError(StudioError):
    """The store cannot do what was asked (an id taken, a source absent, a cache empty)."""


def check_id(model_id: str) -> str:
    """``model_id`` when it is a safe folder name: no ``/``, ``:``, ``..``, nothing hidden."""
    if not _ID.fullmatch(model_id) or ".." in model_id:
        raise InvalidInput(
            f"invalid model id {model_id!r}",
            hint="use lower case letters, digits, '.', '_' and '-' (at most 64, starting with "
            "a letter or digit, no '..'), e.g. flux1-schnell",
        )
    return model_id


class FileRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class ModelRecord(BaseModel):
    """One model in ``models.json``: where it came from and the hash of every file, recorded
    once at add time (``verify`` compares against them)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str = Field(pattern=ID_PATTERN)
    source: str
    """The folder or file it was added from, or ``hf:REPO@REVISION``."""
    added_at: datetime
    files: dict[str, FileRecord]
    """Path relative to the model's folder (posix) -> its hash and size."""

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files.values())


class StoreMetadata(BaseModel):
    """``models.json`` of a store."""

    model_config = ConfigDict(extra="allow")

    format: Literal["generative-media-studio/models"] = "generative-media-studio/models"
    format_version: int = 1
    models: dict[str, ModelRecord] = Field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """A file of a model that does not match what was recorded at add time."""

    model: str
    path: str
    kind: Literal["missing", "mismatch", "lfs-pointer"]

    def __str__(self) -> str:
        what = {
            "missing": "is missing",
            "mismatch": "does not match its recorded sha256 (changed or corrupted)",
            "lfs-pointer": "is a Git LFS pointer, not the weights (run `git lfs pull`)",
        }[self.kind]
        return f"{self.model}: {self.path} {what}"


def compare(
    model: ModelRecord, found: dict[str, str | None], *, pointers: frozenset[str] = frozenset()
) -> list[Problem]:
    """What differs between ``model``'s record and the hashes ``found`` on disk (None: no
    such file); ``pointers``: files that are LFS pointers."""
    problems = []
    for rel, record in sorted(model.files.items()):
        digest = found.get(rel)
        if digest is None:
            problems.append(Problem(model.id, rel, "missing"))
        elif rel in pointers:
            problems.append(Problem(model.id, rel, "lfs-pointer"))
        elif digest != record.sha256:
            problems.append(Problem(model.id, rel, "mismatch"))
    return problems


def add_command(model_id: str, *, project: str | None = None) -> str:
    """The command that puts ``model_id`` into a store (the fix a refusal names)."""
    where = f" --project {project}" if project else ""
    return f"studio models add {model_id}{where} /path/to/{model_id}"


def missing_message(pipeline: str, missing: list[str]) -> str:
    """``t2i-flux-schnell needs model flux1-schnell: studio models add flux1-schnell ...``."""
    return "; ".join(f"{pipeline} needs model {m}: {add_command(m)}" for m in missing)
