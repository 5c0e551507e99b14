"""``projects/{id}/media/{path}``: a take file or thumbnail of that project, nothing else."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Final

from jupyter_server.auth.decorator import authorized
from tornado import web

from studio_jupyter import service
from studio_jupyter.handlers.base import StudioHandler

CHUNK: Final = 1 << 20


def _read_chunk(path: Path, offset: int) -> bytes:
    with path.open("rb") as f:
        f.seek(offset)
        return f.read(CHUNK)


class MediaHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def get(self, project_id: str, path: str) -> None:
        file = await self.studio.run(service.media_file, self.studio, project_id, path)
        kind, _ = mimetypes.guess_type(file.name)
        self.set_header("Content-Type", kind or "application/octet-stream")
        self.set_header("Content-Length", str(file.stat().st_size))
        # Takes are immutable: a take's name always means the same bytes.
        self.set_header("Cache-Control", "private, max-age=3600")
        offset = 0
        while chunk := await self.studio.run(_read_chunk, file, offset):
            self.write(chunk)
            await self.flush()
            offset += len(chunk)
        self.finish()
