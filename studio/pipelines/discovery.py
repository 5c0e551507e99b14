"""Finding the installed pipelines: the search path (``STUDIO_PIPELINE_DIRS``, then the
built-ins), folders loaded once while their manifest is unchanged, broken folders reported
without hiding the others, and a pipeline by reference or folder."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from studio.config import load_settings
from studio.documents import load_model
from studio.errors import StudioError
from studio.pipelines.references import PipelineRef, find_pipeline
from studio.pipelines.schema import MANIFEST_FILE, Manifest, Pipeline

logger = logging.getLogger(__name__)
STUDIO_PACKAGE: Final = Path(__file__).parents[1]


def builtin_pipelines_dir() -> Path:
    """``pipelines/`` of a source checkout, or the copy shipped inside the wheel."""
    packaged = STUDIO_PACKAGE / "builtin_pipelines"
    return packaged if packaged.is_dir() else STUDIO_PACKAGE.parent / "pipelines"


_loaded: dict[tuple[Path, int, int, int, int], Pipeline] = {}
_LOADED_LIMIT: Final = 512


def _load_unchanged(folder: Path) -> Pipeline:
    """:func:`load_pipeline`, reusing the last result while the manifest is unchanged (every
    job and every dispatch discovers the pipelines)."""
    stat = (folder / MANIFEST_FILE).stat()
    # ctime and inode too: a copy that keeps the mtime (cp -p, rsync -a) still changes them
    key = (folder, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_size)
    pipeline = _loaded.get(key)
    if pipeline is None or not pipeline.entrypoint.is_file():
        if len(_loaded) >= _LOADED_LIMIT:
            _loaded.clear()
        pipeline = _loaded[key] = load_pipeline(folder)
    return pipeline


def load_pipeline(folder: Path) -> Pipeline:
    manifest = load_model(folder / MANIFEST_FILE, Manifest)
    if manifest.id != folder.name:
        raise StudioError(
            f"{folder / MANIFEST_FILE}: id {manifest.id!r} differs from the folder name",
            hint=f"rename the folder to {manifest.id} or change the id",
        )
    if not (folder / manifest.entrypoint).is_file():
        raise StudioError(f"{folder}: entrypoint {manifest.entrypoint} is missing")
    return Pipeline(manifest=manifest, folder=folder.resolve())


def search_path() -> list[Path]:
    """Where pipelines are found: ``STUDIO_PIPELINE_DIRS`` first, then the built-ins."""
    return [*load_settings().pipeline_dirs, builtin_pipelines_dir()]


@dataclass(frozen=True)
class Installed:
    """What a search of the pipeline folders found: the pipelines by id (the first folder
    of an id wins) and, by folder name, the folders whose manifest is broken."""

    pipelines: dict[str, Pipeline]
    broken: dict[str, StudioError]


def scan(dirs: list[Path] | None = None) -> Installed:
    """Every pipeline folder in ``dirs`` (default :func:`search_path`). A broken one never
    hides the others: it is listed in ``broken`` instead."""
    found: dict[str, Pipeline] = {}
    broken: dict[str, StudioError] = {}
    for root in search_path() if dirs is None else dirs:
        if not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            if not (folder / MANIFEST_FILE).is_file() or folder.name in found:
                continue
            try:
                found[folder.name] = _load_unchanged(folder)
            except StudioError as exc:
                broken.setdefault(folder.name, exc)
    return Installed(found, broken)


def discover(dirs: list[Path] | None = None) -> dict[str, Pipeline]:
    """The pipelines that load (see :func:`scan` for the broken ones)."""
    installed = scan(dirs)
    for name, problem in installed.broken.items():
        _warn_once(name, problem)
    return installed.pipelines


_warned: set[str] = set()


def _warn_once(name: str, problem: StudioError) -> None:
    if str(problem) not in _warned:
        _warned.add(str(problem))
        logger.warning("pipeline %s is skipped: %s", name, problem)


def get_pipeline(ref: str | Path, *, dirs: list[Path] | None = None) -> Pipeline:
    """A pipeline by reference (``id`` or ``id:tag``), or by the path of its folder."""
    path = Path(ref)
    if (path / MANIFEST_FILE).is_file():
        return load_pipeline(path)
    installed = scan(dirs)
    wanted = PipelineRef.parse(str(ref))
    if wanted.id not in installed.pipelines and wanted.id in installed.broken:
        raise installed.broken[wanted.id]  # say what is wrong with it, not "not installed"
    return find_pipeline(str(ref), installed=installed.pipelines)
