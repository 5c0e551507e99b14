"""``tasks/generate_shot`` (PRD Table 5): one take of a Shot node on the studio engine."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from studio_jupyter import schemas, service
from studio_jupyter.handlers.base import StudioHandler


class GenerateShotHandler(StudioHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body(schemas.GenerateShot)
        # Fail fast (404) on an unknown project before the engine is started.
        await self.studio.run(self.studio.project, body.project_id)
        task_id = await self.studio.run(
            service.generate_shot,
            self.studio,
            body.project_id,
            node_id=body.node_id,
            node_data=body.node_data,
        )
        self.reply(schemas.TaskAccepted(task_id=task_id), status=202)
