"""``project.json`` (PRD §2.3): the validated model, and saves under an optimistic lock."""

from __future__ import annotations

import uuid as uuid_module
from pathlib import Path
from typing import Annotated, Final

from filelock import FileLock
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from studio.documents import load_model, write_model
from studio.errors import VersionConflict
from studio.graph.builtin_types import DEFAULT_FRAME_RATE, FRAME_RATE_CHOICES
from studio.project.layout import CANVAS_PATH
from studio.quality import Quality

AspectRatio = Annotated[str, StringConstraints(pattern=r"^[1-9]\d{0,3}:[1-9]\d{0,3}$")]
# Any characters a person can type; control characters (NUL, newlines, ...) are not a title.
Title = Annotated[
    str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f]+$")
]


DEFAULT_ASPECT_RATIO: Final = "16:9"
ASPECT_RATIO_CHOICES: Final = ("16:9", "9:16", "1:1", "4:3", "21:9")
"""The ratios the front ends offer (any W:H is valid; the New Project dialog lists these)."""
DEFAULT_QUALITY: Final[Quality] = "standard"


def _known_frame_rate(label: str) -> str:
    if label not in FRAME_RATE_CHOICES:
        raise ValueError(f"not a sequence rate; use one of {', '.join(FRAME_RATE_CHOICES)}")
    return label


FrameRateLabel = Annotated[str, AfterValidator(_known_frame_rate)]
"""One of the Assembler's frame rates (``FRAME_RATE_CHOICES``, declared with its field)."""


class ProjectSettings(BaseModel):
    """Project-wide defaults. Unknown keys are kept (a newer studio may have written them)."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    aspect_ratio: AspectRatio = DEFAULT_ASPECT_RATIO
    quality: Quality = DEFAULT_QUALITY
    frame_rate: FrameRateLabel = DEFAULT_FRAME_RATE
    """A new Assembler's frame rate (each Assembler keeps its own once made)."""


class ProjectManifest(BaseModel):
    """The project's identity card. ``version`` is the optimistic-lock counter."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    uuid: uuid_module.UUID
    title: Title
    description: str = ""
    canvas_path: str = CANVAS_PATH
    project_settings: ProjectSettings = Field(default_factory=ProjectSettings)
    version: Annotated[int, Field(ge=1, strict=True)] = 1


def lock_path(project_root: Path) -> Path:
    """Lock files live inside ``.git`` so they never show up as project changes."""
    return project_root / ".git" / "studio-manifest.lock"


def load_manifest(path: Path) -> ProjectManifest:
    return load_model(path, ProjectManifest)


def save_manifest(
    path: Path, manifest: ProjectManifest, *, expected_version: int
) -> ProjectManifest:
    """Write ``manifest`` as version ``expected_version + 1`` if the file is still at
    ``expected_version``; otherwise raise :class:`VersionConflict` and write nothing.

    The check and the write happen under an exclusive file lock, so of several processes
    saving from the same version exactly one wins.
    """
    with FileLock(lock_path(path.parent)):
        current = load_manifest(path).version
        if current != expected_version:
            raise VersionConflict(path, expected=expected_version, current=current)
        saved = manifest.model_copy(update={"version": expected_version + 1})
        write_model(path, saved)
        return saved
