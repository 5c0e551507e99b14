"""``studio/ws/{project_id}``: PRD Table 6 over a WebSocket, the same vocabulary
(:mod:`studio.events`) as the canvas widget's comm.

Client events in: ``client:sync_request`` (→ ``server:full_sync``), ``client:update_node_data``
(saved, then ``server:full_sync`` to every client of the project), ``client:start_generation``
and ``client:cancel_generation`` (the engine), and the canvas's structural edits (add, move,
connect, remove; saved and synced the same way). Server events out: every engine event of the
project's jobs goes to every connected client of the project (one hub per project). A message
that is not a valid client event gets a ``server:notification`` (level error) back and the
connection stays open; so does one that is larger than ``MAX_MESSAGE_BYTES``, nests deeper than
``MAX_NESTING`` or holds NaN/Infinity (all refused before or while parsing, never by a crash).
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any, Final

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from studio.documents import MAX_NESTING, strict_loads
from studio.errors import StudioError
from studio.events import (
    CLIENT_EVENTS,
    CancelGeneration,
    StartGeneration,
    UpdateNodeData,
    make_event,
    parse_event,
)
from studio.graph.edits import apply_structural_edit, is_structural_edit
from studio_jupyter import service
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
        try:
            name, payload = parse_event(data)
        except StudioError as exc:
            self._error(exc.message)
            return
        if name not in CLIENT_EVENTS:
            self._error(f"{name} is a server event; clients send {', '.join(CLIENT_EVENTS)}")
            return
        try:
            await self._dispatch(name, payload)
        except Exception as exc:
            problem = to_problem(exc)
            if problem is None:  # a bug: log it, tell the client, keep the connection
                self.log.exception("studio: %s failed", name)
                self._error(f"{name} failed on the server: {exc!r}")
                return
            node_id = getattr(payload, "node_id", None)
            if isinstance(payload, StartGeneration):
                failed = make_event("server:task_failed", node_id=payload.node_id,
                                    error=problem.message, code=type(exc).__name__)  # fmt: skip
                self.send_event(failed)
            else:
                self._error(problem.message, node_id)
            if name != "client:sync_request":
                # Undo the client's optimistic change: the true graph.
                await self._sync(to=self)

    async def _sync(self, *, to: ProjectWebSocket | None = None) -> None:
        payload = await self.studio.run(service.full_sync, self.studio, self.project_id)
        message = make_event("server:full_sync", **payload)
        if to is None:
            self.studio.hub(self.project_id).broadcast(message)
        else:
            to.send_event(message)

    async def _dispatch(self, name: str, payload: Any) -> None:
        studio, project_id = self.studio, self.project_id
        if name == "client:sync_request":
            await self._sync(to=self)
        elif isinstance(payload, UpdateNodeData):
            await studio.run(
                service.update_node, studio, project_id, node_id=payload.node_id,
                data=payload.data,
            )  # fmt: skip
            await self._sync()
        elif is_structural_edit(payload):
            edit = partial(apply_structural_edit, payload=payload)
            await studio.run(service.apply_edit, studio, project_id, edit=edit)
            await self._sync()
        elif isinstance(payload, StartGeneration):
            await studio.run(
                service.generate_shot, studio, project_id, node_id=payload.node_id,
                node_data=None,
            )  # fmt: skip
        elif isinstance(payload, CancelGeneration):
            if not await studio.run(service.cancel_node, studio, project_id,
                                    node_id=payload.node_id):  # fmt: skip
                self._error("no running generation on this node", payload.node_id)
        elif name == "client:save":
            await self._sync(to=self)  # every edit over this socket is saved at once
        else:
            # undo/redo need the edit history of one editor (the kernel's canvas has it);
            # rendering needs the assembler (issue 7).
            self._error(f"{name} is not available over the server's WebSocket")
