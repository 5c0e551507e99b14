"""The studio's Jupyter Server extension (issue 6): REST latency against Jupyter Server's own
contents API on the same folder, and WebSocket fan-out, all on one live ``jupyter server``
measured in the same run.

* ``GET studio/api/v1/projects`` (20 projects: each manifest and canvas version read) vs
  ``GET api/contents/Projects`` (Jupyter's listing of the same folder);
* ``GET studio/api/v1/projects/{id}`` (manifest + graph) vs ``GET api/contents/.../project.json``;
* a ``PUT projects/{id}`` until both of two connected WebSockets hold its ``server:full_sync``
  vs the PUT's own response time.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.timing import median_seconds, report
from tests.browser.jupyter import free_port, isolated_jupyter_env, wait_until_serving

PROJECTS = 20
REPEAT = 30
TOKEN = "studio-bench"  # noqa: S105 - a throwaway server on 127.0.0.1


def _start_server(root: Path, port: int) -> subprocess.Popen[bytes]:
    env = isolated_jupyter_env(root.parent / "jupyter-home")
    env.pop("STUDIO_WORKSPACE", None)  # the server's root_dir is the workspace
    command = [
        sys.executable, "-m", "jupyter_server", f"--ServerApp.root_dir={root}",
        f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={TOKEN}", "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",  # CI machines run as root
        "--ServerApp.jpserver_extensions=studio_jupyter=True",
    ]  # fmt: skip
    log = root.parent / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    wait_until_serving(f"http://127.0.0.1:{port}", TOKEN, process, log)
    return process


_connections: dict[int, http.client.HTTPConnection] = {}


def _request(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request on a kept-alive connection (so both sides pay the same transport)."""
    connection = _connections.setdefault(port, http.client.HTTPConnection("127.0.0.1", port))
    headers = {"Authorization": f"token {TOKEN}", "Content-Type": "application/json"}
    try:
        connection.request(method, f"/{path}", body=json.dumps(body) if body else None,
                           headers=headers)  # fmt: skip
        response = connection.getresponse()
    except (OSError, http.client.HTTPException):
        _connections.pop(port).close()
        raise
    data = response.read()
    return response.status, json.loads(data) if data else None


def _get(port: int, path: str) -> Any:
    status, data = _request(port, "GET", path)
    assert status == 200, (path, status, data)
    return data


async def _fan_out(port: int, project_id: str) -> tuple[float, float]:
    """Median seconds: PUT response alone, and PUT until two sockets hold the full sync."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    url = f"ws://127.0.0.1:{port}/studio/ws/{project_id}"
    request = HTTPRequest(url, headers={"Authorization": f"token {TOKEN}"})
    sockets = [await websocket_connect(request) for _ in range(2)]
    loop = asyncio.get_running_loop()
    put_only, delivered = [], []
    for _ in range(REPEAT):
        project = await loop.run_in_executor(
            None, _get, port, f"studio/api/v1/projects/{project_id}"
        )
        body = {"graph": project["graph"], "version": project["version"]}
        start = time.perf_counter()
        status, _ = await loop.run_in_executor(
            None, _request, port, "PUT", f"studio/api/v1/projects/{project_id}", body
        )
        put_only.append(time.perf_counter() - start)
        assert status == 200
        for ws in sockets:
            while True:
                message = json.loads(str(await ws.read_message()))
                if message["event"] == "server:full_sync":
                    break
        delivered.append(time.perf_counter() - start)
    for ws in sockets:
        ws.close()
    put_only.sort()
    delivered.sort()
    return put_only[len(put_only) // 2], delivered[len(delivered) // 2]


def main() -> None:
    from studio import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        workspace = Workspace(root)
        for i in range(PROJECTS):
            project = workspace.create_project(f"Film {i:02d}")
            for n in range(10):
                project.graph.add_node("Shot", prompt=f"shot {n}", scene=1, shot=10 * (n + 1))
            project.graph.save()
        first = workspace.projects()[0].path.name
        port = free_port()
        server = _start_server(root, port)
        try:
            assert len(_get(port, "studio/api/v1/projects")) == PROJECTS
            studio = median_seconds(lambda: _get(port, "studio/api/v1/projects"), repeat=REPEAT)
            jupyter = median_seconds(lambda: _get(port, "api/contents/Projects"), repeat=REPEAT)
            report(f"GET projects ({PROJECTS})", studio, "GET api/contents/Projects", jupyter)
            studio = median_seconds(
                lambda: _get(port, f"studio/api/v1/projects/{first}"), repeat=REPEAT
            )
            jupyter = median_seconds(
                lambda: _get(port, f"api/contents/Projects/{first}/project.json"), repeat=REPEAT
            )
            report("GET projects/{id} (manifest + 10-node graph)", studio,
                   "GET api/contents/.../project.json", jupyter)  # fmt: skip
            put_only, delivered = asyncio.run(_fan_out(port, first))
            report("PUT graph -> full_sync on 2 WebSockets", delivered, "the PUT response",
                   put_only)  # fmt: skip
        finally:
            for connection in _connections.values():
                connection.close()
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
