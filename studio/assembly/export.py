"""The sequence's files in the project: ``04_Project_Files/EDLs/<title>_v###.edl`` with its
``.otio`` and FCP 7 ``.xml`` beside it, versioned, never overwritten, committed (I/O).

A version number is one more than the highest of that title's files in the folder; each file
is published whole with ``link(2)`` (:func:`studio.atomic.exclusive_write_bytes`), which
fails when the name is taken, so two exports at once get two versions, and nothing is ever
replaced. The three files are then committed together. The rendered film
(``06_Exports/<title>_v###.mp4``) is versioned the same way (:func:`publish_versioned`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from studio.assembly.edl import (
    edl_from_timeline,
    fcp_xml_from_timeline,
    otio_from_timeline,
    timeline_from_sequence,
)
from studio.assembly.model import Sequence
from studio.atomic import exclusive_write_bytes, fsync_dir
from studio.errors import SequenceError
from studio.project import repo
from studio.project.layout import EDLS_DIR

if TYPE_CHECKING:
    from studio.project.project import Project

EXTENSIONS: Final = ("edl", "otio", "xml")
MAX_ATTEMPTS: Final = 50


@dataclass(frozen=True)
class EDLExport:
    """One export: the three files (absolute paths), their version and the commit."""

    edl: Path
    otio: Path
    fcp_xml: Path
    version: int
    commit: str
    sequence: Sequence

    @property
    def paths(self) -> tuple[Path, Path, Path]:
        return self.edl, self.otio, self.fcp_xml

    def __repr__(self) -> str:
        return f"<EDLExport v{self.version:03d}: {', '.join(p.name for p in self.paths)}>"


def file_stem(title: str) -> str:
    """A title as a file name: ``"Night Market: Cut 2"`` -> ``Night_Market_Cut_2``."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", title).strip("_-")[:80]
    return stem or "Sequence"


def next_version(folder: Path, stem: str, extensions: Iterable[str] = EXTENSIONS) -> int:
    """One more than the highest ``<stem>_v###`` among the folder's files of ``extensions``
    (default the EDL, OTIO and XML files)."""
    pattern = re.compile(
        re.escape(stem) + r"_v(\d{3,})\.(?:" + "|".join(map(re.escape, extensions)) + ")"
    )
    numbers = [
        int(match.group(1))
        for path in (folder.iterdir() if folder.is_dir() else ())
        if (match := pattern.fullmatch(path.name))
    ]
    return max(numbers, default=0) + 1


def write_versioned(folder: Path, stem: str, contents: dict[str, bytes]) -> tuple[int, list[Path]]:
    """Publish ``contents`` (extension -> bytes) as ``<stem>_v###.<ext>`` under the next
    free version: the first file reserves it, the others follow under the same number."""
    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(MAX_ATTEMPTS):
        version = next_version(folder, stem)
        paths = [folder / f"{stem}_v{version:03d}.{ext}" for ext in contents]
        if not exclusive_write_bytes(paths[0], contents[next(iter(contents))]):
            continue  # someone took this version first
        for path, data in zip(paths[1:], list(contents.values())[1:], strict=True):
            if not exclusive_write_bytes(path, data):  # a stray file of that version
                raise SequenceError(
                    f"{path} exists though {paths[0].name} did not",
                    hint="remove or commit the stray file, then export again",
                )
        return version, paths
    raise SequenceError(f"could not reserve a version of {stem} in {folder}")


def publish_versioned(source: Path, folder: Path, stem: str, ext: str) -> tuple[int, Path]:
    """Publish the complete file ``source`` (on the same file system) as
    ``<stem>_v###.<ext>`` under the next free version of that extension, with ``link(2)``:
    a name that is taken is never replaced, the next one is tried. ``source`` is removed."""
    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(MAX_ATTEMPTS):
        path = folder / f"{stem}_v{next_version(folder, stem, (ext,)):03d}.{ext}"
        try:
            os.link(source, path)
        except FileExistsError:
            continue  # someone published this version first
        fsync_dir(folder)
        source.unlink()
        return int(path.stem.rsplit("_v", 1)[1]), path
    raise SequenceError(f"could not reserve a version of {stem}.{ext} in {folder}")


def export_edl(project: Project, sequence: Sequence) -> EDLExport:
    """Write ``sequence`` as the next version of its title's EDL, ``.otio`` and FCP XML, and
    commit them. Refused while a clip waits for a post node to run (the EDL would name the
    wrong media)."""
    if sequence.pending:
        names = ", ".join(f"{step.node_type} {step.node_id!r}" for step in sequence.pending)
        raise SequenceError(
            f"the edit waits for post nodes to run first: {names}",
            node_id=sequence.pending[0].node_id,
            hint="run them (their Generate button) and export again",
        )
    timeline = timeline_from_sequence(sequence)
    contents = {
        "edl": edl_from_timeline(timeline).encode(),
        "otio": otio_from_timeline(timeline).encode(),
        "xml": fcp_xml_from_timeline(timeline).encode(),
    }
    repo.require_git_and_lfs()
    stem = file_stem(sequence.title)
    version, paths = write_versioned(project.path / EDLS_DIR, stem, contents)
    minutes, seconds = divmod(float(sequence.seconds), 60)
    commit = repo.commit_paths(
        project.path,
        paths,
        message=f"Export EDL {stem}_v{version:03d}: {len(sequence.clips)} clips, "
        f"{int(minutes)}:{seconds:05.2f} at {sequence.frame_rate.label} fps",
    )
    return EDLExport(
        edl=paths[0],
        otio=paths[1],
        fcp_xml=paths[2],
        version=version,
        commit=commit,
        sequence=sequence,
    )
