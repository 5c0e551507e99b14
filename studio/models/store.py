"""A model store on disk: one folder per model id beside ``models.json``, the sha256 of every
file recorded once at add time.

Adding stages the files (hard links where the filesystem allows, else copies) and hashes them
outside the store's lock, then publishes under it: a rename of the staged folder and an atomic
rewrite of ``models.json``. Two adds at once therefore never tear the metadata, and a crash
leaves at most a staging folder nobody reads."""

from __future__ import annotations

import builtins
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from filelock import FileLock

from studio.documents import load_model, write_model
from studio.models.hf_cache import find_snapshot
from studio.models.ids import (
    METADATA_FILE,
    FileRecord,
    ModelRecord,
    ModelStoreError,
    Problem,
    StoreMetadata,
    check_id,
    compare,
)
from studio.project.lfs import looks_like_pointer

LOCK_FILE: Final = ".models.lock"
STAGING_DIR: Final = ".staging"
CHUNK: Final = 8 * 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def record_digest(record: ModelRecord) -> str:
    """One hash of a whole model (every file's path and recorded hash): what a take's
    provenance names as its weights."""
    files = record.files
    listing = "".join(f"{path}\0{files[path].sha256}\n" for path in sorted(files))
    return "sha256:" + hashlib.sha256(listing.encode()).hexdigest()


def source_files(source: Path) -> Iterator[tuple[str, Path]]:
    """(path inside the model, file to read) of a folder or a single file. Hidden entries
    (``.git``, ``.cache``) are not weights; symlinks (a Hugging Face snapshot's links into
    ``blobs/``) are followed."""
    if source.is_file():
        yield source.name, source
        return
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        yield rel.as_posix(), path


def place_file(source: Path, target: Path, *, link: bool) -> None:
    """A hard link to ``source``'s data (no second copy of gigabytes), else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if link:
        try:
            os.link(source.resolve(), target)
            return
        except OSError:  # another filesystem, or links not allowed: copy
            pass
    shutil.copyfile(source, target)


class ModelStore:
    """The models of one store folder (a workspace's shared store, or a project's
    ``01_Assets/AI_Models``).

    >>> store = studio.models()                       # the workspace's store
    >>> store.add("flux1-schnell", Path("~/weights/FLUX.1-schnell"))
    >>> store.add_from_hf_cache("sd15", "stable-diffusion-v1-5/stable-diffusion-v1-5")
    >>> [m.id for m in store.list()], store.verify()  # verify: [] when every hash matches
    """

    def __init__(self, root: Path, *, scratch: Path | None = None) -> None:
        self.root = root.expanduser().resolve()
        self.scratch = (scratch or self.root).expanduser().resolve()
        """Where the lock and the staging folders live (same filesystem as ``root``)."""

    @property
    def metadata_path(self) -> Path:
        return self.root / METADATA_FILE

    def _lock(self) -> FileLock:
        self.scratch.mkdir(parents=True, exist_ok=True)
        return FileLock(self.scratch / LOCK_FILE)

    def metadata(self) -> StoreMetadata:
        if not self.metadata_path.is_file():
            return StoreMetadata()
        return load_model(self.metadata_path, StoreMetadata)

    def list(self) -> builtins.list[ModelRecord]:
        return [m for _, m in sorted(self.metadata().models.items())]

    def get(self, model_id: str) -> ModelRecord | None:
        return self.metadata().models.get(check_id(model_id))

    def path(self, model_id: str) -> Path:
        """The folder of ``model_id`` (whether or not it is there)."""
        return self.root / check_id(model_id)

    def has(self, model_id: str) -> bool:
        return self.get(model_id) is not None and self.path(model_id).is_dir()

    # --- changing the store -------------------------------------------------------------------

    def add(
        self,
        model_id: str,
        source: Path,
        *,
        replace: bool = False,
        link: bool = True,
        origin: str | None = None,
    ) -> ModelRecord:
        """Put the folder or file ``source`` into the store as ``model_id``. An id already
        there is refused unless ``replace``. ``link``: hard-link the files where possible."""
        check_id(model_id)
        source = source.expanduser()
        if not source.exists():
            raise ModelStoreError(
                f"{source} does not exist", hint="give the folder (or file) of the weights"
            )
        if not replace and self.get(model_id) is not None:
            raise self._taken(model_id)
        staged = self.scratch / STAGING_DIR / f"{model_id}-{uuid.uuid4().hex[:8]}"
        try:
            files = self._stage(source, staged, link=link)
            record = ModelRecord(
                id=model_id,
                source=origin or str(source.resolve()),
                added_at=datetime.now(UTC),
                files=files,
            )
            self._publish(record, staged, replace=replace)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        return record

    def add_from_hf_cache(
        self,
        model_id: str,
        repo: str,
        *,
        revision: str = "main",
        replace: bool = False,
        caches: builtins.list[Path] | None = None,
    ) -> ModelRecord:
        """Add the snapshot of ``repo`` already in the local Hugging Face cache (never a
        download); ``refs/<revision>`` names which snapshot."""
        check_id(model_id)
        snapshot = find_snapshot(repo, revision=revision, caches=caches)
        return self.add(
            model_id,
            snapshot.path,
            replace=replace,
            origin=f"hf:{snapshot.repo}@{snapshot.revision}",
        )

    def remove(self, model_id: str) -> ModelRecord:
        with self._lock():
            metadata = self.metadata()
            record = metadata.models.pop(check_id(model_id), None)
            if record is None:
                raise self._unknown(model_id)
            write_model(self.metadata_path, metadata)
            shutil.rmtree(self.path(model_id), ignore_errors=True)
        return record

    def _stage(self, source: Path, staged: Path, *, link: bool) -> dict[str, FileRecord]:
        staged.mkdir(parents=True)
        files: dict[str, FileRecord] = {}
        for rel, path in source_files(source):
            target = staged / rel
            place_file(path, target, link=link)
            files[rel] = FileRecord(sha256=sha256_of(target), size=target.stat().st_size)
        if not files:
            raise ModelStoreError(f"{source} holds no files", hint="give the weights' folder")
        return files

    def _publish(self, record: ModelRecord, staged: Path, *, replace: bool) -> None:
        target = self.path(record.id)
        with self._lock():
            metadata = self.metadata()
            if record.id in metadata.models and not replace:
                raise self._taken(record.id)  # added by someone else while this one hashed
            old = staged.with_name(f"{staged.name}.old")
            if target.exists():
                target.rename(old)
            self.root.mkdir(parents=True, exist_ok=True)
            staged.rename(target)
            metadata.models[record.id] = record
            write_model(self.metadata_path, metadata)
            shutil.rmtree(old, ignore_errors=True)

    # --- checking ------------------------------------------------------------------------------

    def verify(self, model_ids: builtins.list[str] | None = None) -> builtins.list[Problem]:
        """Hash every file of every model (or of ``model_ids``) and compare with the hashes
        recorded at add time: ``[]`` when all match."""
        metadata = self.metadata()
        wanted = model_ids if model_ids is not None else sorted(metadata.models)
        problems: builtins.list[Problem] = []
        for model_id in wanted:
            record = metadata.models.get(check_id(model_id))
            if record is None:
                raise self._unknown(model_id)
            folder = self.path(model_id)
            found: dict[str, str | None] = {}
            pointers = set()
            for rel, expected in record.files.items():
                path = folder / rel
                if not path.is_file():
                    found[rel] = None
                    continue
                if path.stat().st_size != expected.size and looks_like_pointer(path):
                    pointers.add(rel)
                found[rel] = sha256_of(path)
            problems += compare(record, found, pointers=frozenset(pointers))
        return problems

    def _taken(self, model_id: str) -> ModelStoreError:
        return ModelStoreError(
            f"model {model_id} is already in {self.root}",
            hint="pass --replace to replace it, or choose another id",
        )

    def _unknown(self, model_id: str) -> ModelStoreError:
        known = ", ".join(sorted(self.metadata().models)) or "none yet"
        return ModelStoreError(f"no model {model_id} in {self.root}", hint=f"models here: {known}")

    def __repr__(self) -> str:
        return f"ModelStore({str(self.root)!r})"
