"""The URL table of the studio's server extension: every REST route with its operations and
their bodies, in one place. :mod:`studio_jupyter.openapi` describes exactly this table and
:func:`studio_jupyter.extension.setup_routes` registers exactly this table, so the two
cannot drift."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from jupyter_server.utils import url_path_join
from pydantic import BaseModel
from tornado.web import RequestHandler

from studio_jupyter import schemas
from studio_jupyter.handlers.media import MediaHandler
from studio_jupyter.handlers.projects import (
    CanvasNotebookHandler,
    ProjectHandler,
    ProjectsHandler,
    SettingsHandler,
    ShotsHandler,
    TakesHandler,
)
from studio_jupyter.handlers.queue import QueueCancelHandler, QueueHandler, QueueMoveHandler
from studio_jupyter.handlers.status import OpenAPIHandler, StatusHandler
from studio_jupyter.handlers.tasks import GenerateShotHandler
from studio_jupyter.handlers.ws import ProjectWebSocket
from studio_jupyter.state import API_PREFIX, WS_PREFIX

PARAMETER_PATTERNS: Final = {"path": ".+"}
"""Regex of a path parameter (default: one path segment)."""


@dataclass(frozen=True)
class Operation:
    method: str
    summary: str
    responses: Mapping[int, type[BaseModel] | None]
    """Success status → body model (None: not a JSON body; see ``media_type``)."""
    request: type[BaseModel] | None = None
    media_type: str = "application/json"
    errors: tuple[int, ...] = ()
    """4xx statuses besides the ones every route has (403) and bodies imply (400, 422)."""


@dataclass(frozen=True)
class Route:
    path: str
    """OpenAPI path template under ``studio/api/v1``, e.g. ``/projects/{project_id}``."""
    handler: type[RequestHandler]
    operations: tuple[Operation, ...] = field(default_factory=tuple)

    @property
    def parameters(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)

    def pattern(self) -> str:
        """The Tornado regex (named groups become the handler's keyword arguments)."""
        return re.sub(
            r"\{(\w+)\}",
            lambda m: f"(?P<{m[1]}>{PARAMETER_PATTERNS.get(m[1], '[^/]+')})",
            self.path,
        )


PROJECT: Final = (404,)
ROUTES: Final[tuple[Route, ...]] = (
    Route("/projects", ProjectsHandler, (
        Operation("get", "List the workspace's projects", {200: schemas.ProjectList}),
        Operation("post", "Create a project (scaffolded through the core)",
                  {201: schemas.ProjectSummary}, request=schemas.ProjectCreate),
    )),
    Route("/projects/{project_id}", ProjectHandler, (
        Operation("get", "A project's manifest and graph", {200: schemas.ProjectDetail},
                  errors=PROJECT),
        Operation("put", "Save the graph under the optimistic version lock",
                  {200: schemas.SaveResult}, request=schemas.GraphSave, errors=(404, 409)),
    )),
    Route("/projects/{project_id}/settings", SettingsHandler, (
        Operation("get", "The project's settings and the choices offered",
                  {200: schemas.ProjectSettings}, errors=PROJECT),
        Operation("patch", "Change settings under project.json's optimistic version lock",
                  {200: schemas.ProjectSettings}, request=schemas.SettingsUpdate,
                  errors=(404, 409)),
    )),
    Route("/projects/{project_id}/shots", ShotsHandler, (
        Operation("get", "The project's shots (render folders and Shot nodes)",
                  {200: schemas.ShotList}, errors=(404, 422)),
    )),
    Route("/projects/{project_id}/takes/{scene}/{shot}", TakesHandler, (
        Operation("get", "A shot's takes, with thumbnails and the active one",
                  {200: schemas.TakeList}, errors=(404, 422)),
    )),
    Route("/projects/{project_id}/media/{path}", MediaHandler, (
        Operation("get", "A take file or thumbnail of the project (single byte ranges)",
                  {200: None, 206: None}, media_type="application/octet-stream",
                  errors=(404, 416)),
    )),
    Route("/projects/{project_id}/canvas_notebook", CanvasNotebookHandler, (
        Operation("post", "Ensure the project notebook (first cell: the canvas) exists",
                  {200: schemas.NotebookPath}, errors=(404, 409)),
    )),
    Route("/projects/{project_id}/queue", QueueHandler, (
        Operation("get", "The project's queue: running, queued (in starting order) and "
                  "recently finished jobs, and whether it is paused",
                  {200: schemas.QueueView}, errors=PROJECT),
        Operation("put", "Pause the project's queue (running jobs finish, queued ones wait, "
                  "across restarts) or resume it", {200: schemas.QueueView},
                  request=schemas.QueuePause, errors=PROJECT),
    )),
    Route("/projects/{project_id}/queue/cancel", QueueCancelHandler, (
        Operation("post", "Cancel a job, or every unfinished job of a sweep",
                  {200: schemas.QueueView}, request=schemas.QueueCancel, errors=PROJECT),
    )),
    Route("/projects/{project_id}/queue/move_to_front", QueueMoveHandler, (
        Operation("post", "Make a queued job start next (Dask priorities)",
                  {200: schemas.QueueView}, request=schemas.QueueMove, errors=PROJECT),
    )),
    Route("/tasks/generate_shot", GenerateShotHandler, (
        Operation("post", "Generate one take of a Shot node on the studio engine",
                  {202: schemas.TaskAccepted}, request=schemas.GenerateShot,
                  errors=(404, 409)),
    )),
    Route("/status", StatusHandler, (
        Operation("get", "Version, workspace, git and git-lfs checks", {200: schemas.Status}),
    )),
    Route("/openapi.json", OpenAPIHandler, (
        Operation("get", "This description (OpenAPI 3.1)", {200: None}),
    )),
)  # fmt: skip

WS_PATH: Final = "/{project_id}"
"""The WebSocket, under ``studio/ws``: PRD Table 6 events (:mod:`studio.events`)."""


def handlers(base_url: str) -> list[tuple[str, type[RequestHandler]]]:
    rest = [(url_path_join(base_url, API_PREFIX, r.pattern()), r.handler) for r in ROUTES]
    ws_pattern = WS_PATH.replace("{project_id}", "(?P<project_id>[^/]+)")
    return [*rest, (url_path_join(base_url, WS_PREFIX, ws_pattern), ProjectWebSocket)]
