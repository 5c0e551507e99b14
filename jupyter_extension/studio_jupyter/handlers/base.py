"""What every REST handler shares: Jupyter authentication, JSON bodies validated by the
schemas, JSON replies, and the studio's errors turned into 4xx JSON ``{"message": ...}``."""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any, Final, TypeVar

from jupyter_server.base.handlers import APIHandler
from pydantic import BaseModel, ValidationError

from studio.documents import MAX_NESTING, strict_loads
from studio_jupyter.errors import HTTPProblem, to_problem
from studio_jupyter.state import StudioState

M = TypeVar("M", bound=BaseModel)
AUTH_RESOURCE: Final = "studio"
"""The resource name Jupyter's authorizer is asked about (``@authorized``)."""
MAX_BODY_BYTES: Final = 16 * 1024 * 1024
"""The largest JSON request body a handler parses (413 above). A 2000-node canvas graph is
about 400 kB, so this leaves some forty times that; Jupyter's own ``max_body_size`` (512 MB
by default) only bounds what Tornado reads, not what the studio turns into Python objects.
The WebSocket has its own, smaller limit per message (``ws.MAX_MESSAGE_BYTES``)."""


class StudioHandler(APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def studio(self) -> StudioState:
        state: StudioState = self.settings["studio"]
        return state

    def body(self, model: type[M]) -> M:
        """The request body as ``model``; 400 for malformed JSON (NaN, Infinity and numbers
        out of range are not JSON; nor is nesting past ``MAX_NESTING``, refused before
        parsing), 413 for a body over ``MAX_BODY_BYTES`` (refused before parsing), 422 for
        schema violations (the message names the field)."""
        raw = self.request.body
        if len(raw) > MAX_BODY_BYTES:
            raise HTTPProblem(
                413,
                f"request body is too large: {len(raw)} bytes, more than the "
                f"{MAX_BODY_BYTES // (1024 * 1024)} MiB ({MAX_BODY_BYTES} bytes) a request "
                "may hold",
                hint="send less at once (a canvas graph of thousands of nodes is well under "
                "a megabyte: look for a huge field, such as an image pasted into node data)",
                max_bytes=MAX_BODY_BYTES,
            )
        try:
            data = strict_loads(raw, max_nesting=MAX_NESTING) if raw else None
        except ValueError as exc:
            raise HTTPProblem(400, f"request body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise HTTPProblem(422, "request body must be a JSON object")
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            problem = to_problem(exc)
            raise problem if problem else exc from None

    def reply(self, model: BaseModel, *, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(model.model_dump_json())

    # --- errors ---------------------------------------------------------------------------------

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # A mapped studio error is the client's problem: one warning line, no traceback.
        problem = to_problem(value) if value is not None else None
        if problem is not None:
            self.log.warning("studio %s %s: %s", problem.status, self.request.path, problem)
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        problem = to_problem(exc_info[1]) if exc_info else None
        if problem is None:
            super().write_error(status_code, **kwargs)
            return
        self.set_status(problem.status)
        self.set_header("Content-Type", "application/json")
        reply = {"message": problem.message}
        reply.update({k: v for k, v in problem.extra.items() if v is not None})
        self.finish(json.dumps(reply, ensure_ascii=False))
