"""The one place where the studio's errors become HTTP statuses (never a 500 for a request
a user or client could fix). The WebSocket reports the same errors as events instead."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from studio.engine import NoPipeline, NoWorkerFits
from studio.engine.cluster import ClusterError
from studio.errors import (
    GitError,
    InvalidInput,
    LFSRequired,
    ManifestError,
    ProjectNotFound,
    StudioError,
    TakeError,
    ToolMissing,
    VersionConflict,
)
from studio.graph.graph import GraphError, GraphFileError
from studio.graph.registry import UnknownNodeType
from studio.pipelines import InputInvalid, PipelineNotFound


class HTTPProblem(Exception):
    """A 4xx the handlers raise themselves (bad JSON, bad path, not found...)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


# Order matters: the first matching class wins (subclasses before their bases).
_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (ProjectNotFound, 404),
    (PipelineNotFound, 404),
    (VersionConflict, 409),
    (GraphFileError, 422),  # a graph sent by the client that does not load
    (ManifestError, 409),  # a project file on disk is broken: the client cannot fix it by retrying
    (UnknownNodeType, 422),
    (InvalidInput, 422),
    (InputInvalid, 422),
    (TakeError, 409),
    (NoWorkerFits, 409),
    (NoPipeline, 422),
    (LFSRequired, 409),
    (ToolMissing, 503),  # git / git-lfs missing on the server: an admin must install them
    (ClusterError, 503),
    (GitError, 503),
    (StudioError, 422),
)


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def to_problem(exc: BaseException) -> HTTPProblem | None:
    """The HTTP answer for ``exc``, or None when it is a bug (then a 500 is honest)."""
    if isinstance(exc, HTTPProblem):
        return exc
    if isinstance(exc, ValidationError):
        return HTTPProblem(422, f"invalid request body: {_validation_message(exc)}")
    if isinstance(exc, GraphError):
        status = 404 if exc.code in ("unknown_node", "unknown_edge") else 422
        return HTTPProblem(status, exc.message, hint=exc.hint)
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            if not isinstance(exc, StudioError):
                return HTTPProblem(status, str(exc))
            extra: dict[str, Any] = {"hint": exc.hint}
            if isinstance(exc, VersionConflict):
                extra["current_version"] = exc.current
            return HTTPProblem(status, exc.message, **extra)
    return None
