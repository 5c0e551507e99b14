"""``projects/{id}/media/{path}``: a take file or thumbnail, a rendered film or an EDL of that
project, nothing else.

Single byte ranges are honored (``Range: bytes=a-b``): browsers seek in a video take that
way."""

from __future__ import annotations

import mimetypes
import os
import re
import stat
from pathlib import Path
from typing import BinaryIO, Final

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from studio_jupyter import service
from studio_jupyter.errors import HTTPProblem
from studio_jupyter.handlers.base import StudioHandler

CHUNK: Final = 1 << 20
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Pure: the inclusive (first, last) bytes a ``Range`` header asks for, or None for the
    whole file (no header, or one this route does not serve partially, like multi-range).
    Raises 416 for a range outside the file."""
    match = _RANGE.fullmatch((header or "").strip())
    if match is None or match[1] == match[2] == "":
        return None
    if match[1] == "":  # the last N bytes
        first, last = max(0, size - int(match[2])), size - 1
    else:
        first = int(match[1])
        last = min(int(match[2]), size - 1) if match[2] else size - 1
    if first >= size or first > last:
        raise HTTPProblem(416, f"range {header!r} is outside the file ({size} bytes)")
    return first, last


def _open(path: Path) -> tuple[BinaryIO, int]:
    """The file, opened once, and its size from the open handle (what is served is what was
    checked, even if the name is replaced meanwhile). 404 when it is gone or not a file."""
    missing = HTTPProblem(404, f"no media file {path.name!r}")
    try:
        handle = path.open("rb")
    except OSError:
        raise missing from None
    try:
        info = os.fstat(handle.fileno())
    except OSError:
        handle.close()
        raise missing from None
    if not stat.S_ISREG(info.st_mode):
        handle.close()
        raise missing
    return handle, info.st_size


def _read(handle: BinaryIO, offset: int, length: int) -> bytes:
    handle.seek(offset)
    return handle.read(length)


class MediaHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def get(self, project_id: str, path: str) -> None:
        file = await self.studio.run(service.media_file, self.studio, project_id, path)
        handle, size = await self.studio.run(_open, file)
        try:
            await self._send(handle, file.name, size)
        except StreamClosedError:  # the client went away (a video seek, a closed tab)
            self.log.debug("studio: media client closed %s", self.request.path)
        finally:
            handle.close()

    async def _send(self, handle: BinaryIO, name: str, size: int) -> None:
        wanted = byte_range(self.request.headers.get("Range"), size)
        first, last = wanted if wanted is not None else (0, size - 1)
        if wanted is not None:
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {first}-{last}/{size}")
        kind, _ = mimetypes.guess_type(name)
        self.set_header("Content-Type", kind or "application/octet-stream")
        self.set_header("Content-Length", str(max(0, last - first + 1)))
        self.set_header("Accept-Ranges", "bytes")
        # Takes are immutable: a take's name always means the same bytes.
        self.set_header("Cache-Control", "private, max-age=3600")
        offset = first
        while offset <= last:
            chunk = await self.studio.run(_read, handle, offset, min(CHUNK, last - offset + 1))
            if not chunk:
                break
            self.write(chunk)
            await self.flush()
            offset += len(chunk)
        self.finish()
