"""``studio/ws/{project_id}``: PRD Table 6 over a WebSocket, the same vocabulary
(:mod:`studio.events`) and the same handlers (:mod:`studio.service`) as the canvas widget's
comm. This module is a transport only: it reads a message, hands it to the project's studio
service and sends back what the service answers (to this client) or publishes (to every
client of the project, one hub per project).

Over the server, every edit is saved at once and every client then gets ``server:full_sync``;
undo/redo (which need one editor's history) are refused with a notification. A message that is
larger than ``MAX_MESSAGE_BYTES``, nests deeper than ``MAX_NESTING``, holds NaN/Infinity or is
not JSON is refused here, before parsing or while parsing, never by a crash; the connection
stays open.
"""

from __future__ import annotations

import json
from typing import Any, Final

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from studio.documents import MAX_NESTING, strict_loads
from studio.errors import StudioError
from studio.events import make_event
from studio_jupyter.errors import to_problem
from studio_jupyter.handlers.base import AUTH_RESOURCE
from studio_jupyter.state import StudioState

MAX_MESSAGE_BYTES: Final = 1024 * 1024
"""A client event is an edit, never a whole file: anything larger is refused unread (Tornado
itself closes the connection only past its own, larger ``websocket_max_message_size``)."""


class ProjectWebSocket(WebSocketMixin, WebSocketHandler, JupyterHandler):
    auth_resource = AUTH_RESOURCE
    project_id: str = ""

    @property
    def studio(self) -> StudioState:
        state: StudioState = self.settings["studio"]
        return state

    def set_default_headers(self) -> None:
        """JupyterHandler's default headers make no sense on a WebSocket upgrade."""

    async def pre_get(self, project_id: str) -> None:
        authorized = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "execute", AUTH_RESOURCE)
        )
        if not authorized:
            raise web.HTTPError(403)
        try:
            await self.studio.run(self.studio.project, project_id)  # disk: off the loop
        except StudioError as exc:
            raise web.HTTPError(404, exc.message) from None

    @ws_authenticated
    async def get(self, project_id: str) -> None:
        await self.pre_get(project_id)
        self.project_id = project_id
        await super().get(project_id=project_id)

    async def open(self, project_id: str) -> None:
        super().open()  # WebSocketMixin: keep-alive pings
        self.studio.hub(project_id).add(self)
        # Jobs started elsewhere on the same cluster (a kernel's canvas under `studio lab`)
        # show up too: listen now when that costs no cluster start (a shared scheduler, or
        # the engine already running); else from the first generation on.
        studio = self.studio
        if studio.engine_started or await studio.run(lambda: studio.shared_scheduler):  # disk
            try:
                await studio.run(studio.listen, project_id)
            except StudioError as exc:
                self.send_event(make_event("server:notification", level="warning",
                                           message=exc.message))  # fmt: skip
            except Exception as exc:  # the scheduler gone, a refused connection...: say so
                self.log.warning("studio: listening to %s's jobs failed", project_id,
                                 exc_info=True)  # fmt: skip
                message = f"live job events are unavailable: {exc}"
                self.send_event(make_event("server:notification", level="warning",
                                           message=message))  # fmt: skip

    def on_close(self) -> None:
        hub = self.studio.hubs.get(self.project_id)
        if hub is not None:
            hub.discard(self)
        super().on_close()

    def send_event(self, message: dict[str, Any]) -> None:
        try:
            self.write_message(json.dumps(message, ensure_ascii=False))
        except WebSocketClosedError:  # gone without a close handshake
            self.on_close()

    def _error(self, message: str, node_id: str | None = None) -> None:
        extra = {"node_id": node_id} if node_id else {}
        self.send_event(make_event("server:notification", level="error", message=message, **extra))

    # --- client events --------------------------------------------------------------------------

    async def on_message(self, message: str | bytes) -> None:
        size = len(message.encode() if isinstance(message, str) else message)
        if size > MAX_MESSAGE_BYTES:
            self._error(f"a message may hold at most {MAX_MESSAGE_BYTES} bytes, not {size}")
            return
        try:
            data = strict_loads(message, max_nesting=MAX_NESTING)
        except ValueError as exc:  # malformed, NaN/Infinity, too deep, not UTF-8
            self._error(f"a message must be standard JSON: {exc}")
            return
        # The service runs off the loop; its answers hop back onto it, in order.
        loop = IOLoop.current()

        def reply(answer: dict[str, Any]) -> None:
            loop.add_callback(self.send_event, answer)

        try:
            service = await self.studio.run(self.studio.project_service, self.project_id)
            await self.studio.run(service.handle, data, reply=reply)
        except Exception as exc:  # the service answers every error a user can fix itself
            name = data.get("event") if isinstance(data, dict) else None
            problem = to_problem(exc)
            if problem is None:  # a bug: log it, tell the client, keep the connection
                self.log.exception("studio: %s failed", name)
                self._error(f"{name} failed on the server: {exc!r}")
            else:
                self._error(problem.message)
