"""A real Jupyter Server with the studio extension, on a workspace in its root_dir."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError, HTTPResponse
from traitlets.config import Config

from studio import Project, Workspace


@pytest.fixture
def jp_server_config() -> Config:
    return Config({"ServerApp": {"jpserver_extensions": {"studio_jupyter": True}}})


@pytest.fixture(autouse=True)
def _studio_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The workspace is the server's root_dir unless STUDIO_WORKSPACE is set explicitly.
    monkeypatch.delenv("STUDIO_WORKSPACE", raising=False)
    monkeypatch.delenv("STUDIO_SCHEDULER", raising=False)
    monkeypatch.setenv("STUDIO_RUNNER", "process")  # no Docker daemon needed


@pytest.fixture
def studio_server(jp_serverapp: Any) -> Iterator[Any]:
    """The running server app; the studio state is closed afterwards (engine client)."""
    yield jp_serverapp
    state = jp_serverapp.web_app.settings.get("studio")
    if state is not None:
        state.close()


@pytest.fixture
def ws_root(jp_root_dir: Path) -> Workspace:
    return Workspace(jp_root_dir)


@pytest.fixture
def film(ws_root: Workspace) -> Project:
    return ws_root.create_project("Night Market", description="a short", quality="low")


Fetch = Callable[..., Awaitable[HTTPResponse]]


@pytest.fixture
def api(jp_fetch: Fetch, studio_server: Any) -> Callable[..., Awaitable[tuple[int, Any]]]:
    """``await api("GET", "projects")`` → (status, parsed JSON body), errors included."""

    async def call(method: str, *parts: str, body: Any = None, raw: bytes | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:  # fmt: skip
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is None and method in ("POST", "PUT"):
            data = b""
        try:
            response = await jp_fetch(
                "studio", "api", "v1", *parts, method=method, body=data, headers=headers,
                allow_nonstandard_methods=True,
            )  # fmt: skip
        except HTTPClientError as exc:
            assert exc.response is not None
            return exc.code, json.loads(exc.response.body or b"null")
        content_type = response.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            return response.code, json.loads(response.body)
        return response.code, response.body

    return call


@pytest.fixture
def connect(jp_ws_fetch, studio_server):
    """Open WebSockets to a project (closed at the end of the test)."""
    opened = []

    async def open_socket(project_id: str = "Night_Market"):
        ws = await jp_ws_fetch("studio", "ws", project_id)
        opened.append(ws)
        return ws

    yield open_socket
    for ws in opened:
        ws.close()
