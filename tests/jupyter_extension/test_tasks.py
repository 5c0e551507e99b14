"""Generation through the server: ``POST tasks/generate_shot`` and ``client:start_generation``
run on the studio engine over a REAL local Dask cluster (the built-in ``t2i-draft`` through
the ProcessRunner); every WebSocket client of the project receives the same task events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from distributed import Client, LocalCluster

from studio import Project
from studio.engine import Engine
from tests.engine.clusters import thread_cluster
from tests.jupyter_extension.test_ws import receive, send

pytestmark = pytest.mark.slow
TIMEOUT = 90


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with thread_cluster() as local:
        yield local


@pytest.fixture
def engine_env(cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's engine connects to the test cluster (STUDIO_SCHEDULER) on first use."""
    monkeypatch.setenv("STUDIO_SCHEDULER", cluster.scheduler_address)


@pytest.fixture
def shot_film(film: Project) -> Project:
    graph = film.graph
    graph.add_node("Shot", id="shot-1", prompt="lanterns at dusk", scene=1, shot=10, seed=7)
    graph.add_node("Pipeline", id="pipe-1", pipeline_id="t2i-draft")
    graph.connect("pipe-1", "pipeline", "shot-1", "pipeline")
    graph.save()
    return film


async def until_done(ws, task_id: str) -> list[dict[str, Any]]:
    """The task's events as this client receives them, up to its success or failure."""
    events = []
    while True:
        message = await receive(ws, timeout=TIMEOUT)
        if message["payload"].get("task_id") != task_id:
            continue
        events.append(message)
        if message["event"] in ("server:task_success", "server:task_failed"):
            return events


async def test_rest_generation_reaches_every_client(engine_env, api, connect, shot_film: Project):
    first, second = await connect(), await connect()
    status, body = await api("POST", "tasks", "generate_shot",
                             body={"project_id": "Night_Market", "node_id": "shot-1",
                                   "node_data": {"prompt": "rain on neon"}})  # fmt: skip
    assert status == 202
    task_id = body["task_id"]
    seen_first = await until_done(first, task_id)
    seen_second = await until_done(second, task_id)
    assert seen_first == seen_second  # the same events, in the same order
    names = [m["event"] for m in seen_first]
    assert names[0] == "server:node_state_updated"
    assert seen_first[0]["payload"]["state"] == "queued"
    assert "server:task_progress" in names
    assert names[-1] == "server:task_success", seen_first[-1]
    result = seen_first[-1]["payload"]["result"]
    assert result["take"] == "SHOT-010_v01_take01.png"

    # node_data was saved first, and the take records it.
    saved = json.loads(shot_film.canvas_path.read_text())
    assert saved["nodes"][0]["data"]["prompt"] == "rain on neon"
    take = shot_film.takes(scene=1, shot=10)[0]
    assert take.ready and take.provenance and take.provenance.prompt == "rain on neon"

    # The side panel's views, and a reconnecting client's state from the durable job log.
    _, takes = await api("GET", "projects", "Night_Market", "takes", "1", "10")
    assert [t["name"] for t in takes["takes"]] == ["SHOT-010_v01_take01.png"]
    _, shots = await api("GET", "projects", "Night_Market", "shots")
    assert shots[0]["takes"] == 1 and shots[0]["node_id"] == "shot-1"
    late = await connect()
    await send(late, "client:sync_request")
    sync = await receive(late)
    status_of_shot = sync["payload"]["node_status"]["shot-1"]
    assert status_of_shot["state"] == "success" and status_of_shot["task_id"] == task_id
    assert status_of_shot["takes"] == ["SHOT-010_v01_take01.png"]
    assert "/media/05_Cache/thumbnails/" in status_of_shot["thumbnail_url"]


async def test_websocket_generation_and_its_failures(engine_env, connect, shot_film: Project):
    first, second = await connect(), await connect()
    await send(first, "client:start_generation", node_id="shot-1")
    queued = await receive(second, timeout=TIMEOUT)
    assert queued["event"] == "server:node_state_updated"
    task_id = queued["payload"]["task_id"]
    events = await until_done(second, task_id)
    assert events[-1]["event"] == "server:task_success"
    assert (await until_done(first, task_id))[-1] == events[-1]

    # Not a shot: the sender is told on that node, nothing is queued.
    await send(first, "client:start_generation", node_id="pipe-1")
    failed = await receive(first, timeout=TIMEOUT)
    assert failed["event"] == "server:task_failed" and failed["payload"]["node_id"] == "pipe-1"


async def test_generate_shot_rejects_bad_requests(api, shot_film: Project):
    # None of these starts the engine (no STUDIO_SCHEDULER here: it would start a cluster).
    cases = [
        ({"project_id": "Nope", "node_id": "shot-1"}, 404),
        ({"project_id": "Night_Market", "node_id": "nope"}, 404),
        ({"project_id": "Night_Market"}, 422),
        ({"project_id": "Night_Market", "node_id": "shot-1", "node_data": {"scene": "x"}}, 422),
        ({"project_id": "../Night_Market", "node_id": "shot-1"}, 404),
    ]
    for body, expected in cases:
        status, reply = await api("POST", "tasks", "generate_shot", body=body)
        assert status == expected, (body, reply)
        assert reply["message"]
    status, reply = await api("POST", "tasks", "generate_shot", raw=b"[")
    assert status == 400
    assert not shot_film.takes(scene=1, shot=10)


async def test_a_kernels_generation_reaches_the_websocket(
    engine_env, cluster: LocalCluster, connect, shot_film: Project
):
    """A job submitted by another engine on the same cluster (a kernel's canvas, under
    ``studio lab``) is shown to the server's clients too: the worker's events are relayed."""
    ws = await connect()
    await send(ws, "client:sync_request")  # answered only once the socket's open() is done
    assert (await receive(ws))["event"] == "server:full_sync"
    with Client(cluster.scheduler_address) as kernel_client:  # type: ignore[no-untyped-call]
        kernel_engine = Engine(client=kernel_client)
        job = kernel_engine.generate(Project(shot_film.path), "shot-1")
        events = await until_done(ws, job.id)
        await asyncio.get_running_loop().run_in_executor(None, job.result, TIMEOUT)
    assert events[-1]["event"] == "server:task_success"
    assert events[-1]["payload"]["result"]["take"] == "SHOT-010_v01_take01.png"
