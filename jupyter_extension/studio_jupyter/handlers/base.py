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


class StudioHandler(APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def studio(self) -> StudioState:
        state: StudioState = self.settings["studio"]
        return state

    def body(self, model: type[M]) -> M:
        """The request body as ``model``; 400 for malformed JSON (NaN, Infinity and numbers
        out of range are not JSON; nor is nesting past ``MAX_NESTING``, refused before
        parsing), 422 for schema violations (the message names the field)."""
        raw = self.request.body
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
