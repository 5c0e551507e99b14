"""``status`` (the lab's startup check, PRD §3.2) and ``openapi.json``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from jupyter_server.auth.decorator import authorized
from tornado import web

from studio_jupyter import service
from studio_jupyter.handlers.base import StudioHandler

OPENAPI_DOCUMENT: Final = "studio_openapi_document"
"""The web app setting holding ``openapi_document`` (installed with the routes: it describes
the route table, which imports this handler)."""


class StatusHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.studio.run(service.status, self.studio))


class OpenAPIHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        document: Callable[..., dict[str, Any]] = self.settings[OPENAPI_DOCUMENT]
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(document(base_url=self.studio.base_url)))
