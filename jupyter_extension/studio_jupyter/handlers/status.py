"""``status`` (the lab's startup check, PRD §3.2) and ``openapi.json``."""

from __future__ import annotations

import json

from jupyter_server.auth.decorator import authorized
from tornado import web

from studio_jupyter import service
from studio_jupyter.handlers.base import StudioHandler


class StatusHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.studio.run(service.status, self.studio))


class OpenAPIHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        from studio_jupyter.openapi import openapi_document

        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(openapi_document(base_url=self.studio.base_url)))
