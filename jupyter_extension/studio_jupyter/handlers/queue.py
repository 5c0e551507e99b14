"""``projects/{id}/queue``: the project's job queue (issue 14 item 5) — list, pause and
resume, cancel a job or a sweep, move a job to the front. Each goes to the studio service."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from studio_jupyter import schemas, service
from studio_jupyter.handlers.base import StudioHandler


class QueueHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def get(self, project_id: str) -> None:
        await self.studio.run(self.studio.project, project_id)  # 404 first
        self.reply(await self.studio.run(service.queue_view, self.studio, project_id))

    @web.authenticated
    @authorized
    async def put(self, project_id: str) -> None:
        body = self.body(schemas.QueuePause)
        await self.studio.run(self.studio.project, project_id)
        self.reply(
            await self.studio.run(service.queue_pause, self.studio, project_id, paused=body.paused)
        )


class QueueCancelHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def post(self, project_id: str) -> None:
        body = self.body(schemas.QueueCancel)
        await self.studio.run(self.studio.project, project_id)
        self.reply(await self.studio.run(service.queue_cancel, self.studio, project_id, body=body))


class QueueMoveHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def post(self, project_id: str) -> None:
        body = self.body(schemas.QueueMove)
        await self.studio.run(self.studio.project, project_id)
        self.reply(
            await self.studio.run(
                service.queue_move_to_front, self.studio, project_id, job_id=body.job_id
            )
        )
