"""Git LFS's clean step, done in this process: what ``git-lfs clean`` does to a file, without
starting git-lfs (a Go program that itself starts about seven git processes per run).

For a file it stores, ``git-lfs clean`` (Git LFS spec v1) computes the SHA-256 and size of
the content, writes the content once to ``<git dir>/lfs/objects/<oid[0:2]>/<oid[2:4]>/<oid>``
(through a temporary file in ``<git dir>/lfs/tmp``, renamed into place; an object already
there with the right size is kept) and hands git the *pointer* to store as the blob::

    version https://git-lfs.github.com/spec/v1
    oid sha256:<64 hex digits>
    size <bytes>

:func:`store_object` does exactly that, byte for byte, so ``git lfs ls-files``,
``git lfs fsck``, a clone's smudge and ``git lfs push`` cannot tell the difference. The
object is copied (one read of the source, hashed on the way), never hard-linked: an object
sharing the take's inode would be corrupted by anyone editing the take in place.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from studio.atomic import fsync_dir

POINTER_VERSION: Final = b"version https://git-lfs.github.com/spec/v1"
POINTER_MAX_BYTES: Final = 1024
"""git-lfs reads a file of at most this size as a possible pointer (and stores it as is)."""
CHUNK: Final = 1 << 20
_OID: Final = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Pointer:
    """An LFS pointer: the content's SHA-256 (``oid``) and size in bytes."""

    oid: str
    size: int

    def __post_init__(self) -> None:
        if not _OID.fullmatch(self.oid) or self.size < 0:
            raise ValueError(f"not an LFS pointer: oid {self.oid!r}, size {self.size}")

    def text(self) -> bytes:
        """The pointer file as git-lfs writes it (the blob git stores)."""
        return b"%s\noid sha256:%s\nsize %d\n" % (POINTER_VERSION, self.oid.encode(), self.size)


def object_path(*, lfs_dir: Path, oid: str) -> Path:
    """Where the local LFS store keeps the object ``oid``."""
    return lfs_dir / "objects" / oid[0:2] / oid[2:4] / oid


def looks_like_pointer(path: Path) -> bool:
    """True when ``path`` may already be a pointer file (git-lfs would store it unchanged)."""
    try:
        if path.stat().st_size > POINTER_MAX_BYTES:
            return False
        with path.open("rb") as f:
            return f.read(len(POINTER_VERSION)) == POINTER_VERSION
    except OSError:
        return False


def store_object(*, lfs_dir: Path, source: Path) -> Pointer:
    """Put ``source``'s content into the local LFS store as git-lfs's clean step does and
    return its pointer. Atomic (temporary file, fsync, rename: a reader sees the whole
    object or none) and idempotent (concurrent writers of one object all succeed)."""
    temp_dir = lfs_dir / "tmp"
    temp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(dir=temp_dir, prefix="studio-clean-")
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        pointer = Pointer(digest.hexdigest(), size)
        target = object_path(lfs_dir=lfs_dir, oid=pointer.oid)
        if _has_object(target, size=size):
            return pointer
        target.parent.mkdir(parents=True, exist_ok=True)
        temp.chmod(0o644)
        temp.replace(target)
        fsync_dir(target.parent)
        return pointer
    finally:
        temp.unlink(missing_ok=True)


def _has_object(target: Path, *, size: int) -> bool:
    try:
        return target.stat().st_size == size
    except FileNotFoundError:
        return False
