"""Crash-safe file writes: a reader sees the old file or the new one, never a torn one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """Make a rename or link into ``directory`` durable (its entry on disk)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _temp_beside(path: Path) -> Iterator[Path]:
    """A temp file in ``path``'s folder (same filesystem, so rename/link is atomic)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
    finally:
        temp.unlink(missing_ok=True)


def _write_synced(path: Path, data: bytes, *, durable: bool = True) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        if durable:
            os.fsync(f.fileno())


def atomic_write_bytes(
    path: Path, data: bytes, *, mode: int = 0o644, durable: bool = True, sync_folder: bool = True
) -> None:
    """Replace ``path`` with ``data``: temp file, fsync, rename, fsync of the folder.
    ``durable=False`` skips both fsyncs, for scratch files nobody needs after a power cut
    (a reader still sees the old file or the new one, never a torn one). ``sync_folder=False``
    skips the folder's, for a caller that syncs that folder itself before it relies on the
    rename (until then a power cut may undo the rename, never tear the file)."""
    with _temp_beside(path) as temp:
        _write_synced(temp, data, durable=durable)
        temp.chmod(mode)
        temp.replace(path)
    if durable and sync_folder:
        fsync_dir(path.parent)


def exclusive_write_bytes(
    path: Path, data: bytes, *, mode: int = 0o644, sync_folder: bool = True
) -> bool:
    """Publish ``data`` at ``path`` only if nothing is there yet, complete or not at all.

    Uses ``link(2)``, which fails if the name exists (also over NFS), so two writers racing
    for one name can never both win and a reader never sees a half-written file.
    Returns False when the name was taken. ``sync_folder``: as :func:`atomic_write_bytes`'s.
    """
    with _temp_beside(path) as temp:
        _write_synced(temp, data)
        temp.chmod(mode)
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
    if sync_folder:
        fsync_dir(path.parent)
    return True
