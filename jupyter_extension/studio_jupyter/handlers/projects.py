"""``projects``: list, create, read, save (PRD Table 5), settings, shots, takes and the
canvas notebook."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from studio.events import make_event
from studio_jupyter import schemas, service
from studio_jupyter.handlers.base import StudioHandler


class ProjectsHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.studio.run(service.list_projects, self.studio))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body(schemas.ProjectCreate)
        self.reply(
            await self.studio.run(service.create_project, self.studio, body=body), status=201
        )


class ProjectHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def get(self, project_id: str) -> None:
        self.reply(await self.studio.run(service.get_project, self.studio, project_id))

    @web.authenticated
    @authorized
    async def put(self, project_id: str) -> None:
        body = self.body(schemas.GraphSave)
        result = await self.studio.run(service.save_graph, self.studio, project_id, body=body)
        self.reply(result)
        # Other clients (WebSockets) get the saved graph. The reply is sent: nothing may raise
        # from here on (Tornado cannot send an error after finish()).
        try:
            payload = await self.studio.run(service.full_sync, self.studio, project_id)
            self.studio.hub(project_id).broadcast(make_event("server:full_sync", **payload))
        except Exception:
            self.log.warning("studio: syncing %s after a save failed", project_id, exc_info=True)


class SettingsHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def get(self, project_id: str) -> None:
        self.reply(await self.studio.run(service.project_settings, self.studio, project_id))

    @web.authenticated
    @authorized
    async def patch(self, project_id: str) -> None:
        body = self.body(schemas.SettingsUpdate)
        self.reply(
            await self.studio.run(service.update_settings, self.studio, project_id, body=body)
        )


class ShotsHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def get(self, project_id: str) -> None:
        self.reply(await self.studio.run(service.list_shots, self.studio, project_id))


class TakesHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def get(self, project_id: str, scene: str, shot: str) -> None:
        takes = await self.studio.run(
            service.list_takes, self.studio, project_id, scene=scene, shot=shot
        )
        self.reply(takes)


class CanvasNotebookHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def post(self, project_id: str) -> None:
        self.reply(
            await self.studio.run(service.canvas_notebook, self.studio, project_id=project_id)
        )
