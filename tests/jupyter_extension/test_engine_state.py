"""The server's engine: started once, outside the lock the loop takes; a failed start does not
stop later subscriptions; lost jobs are settled by a sync (no engine is started for that);
it stops with the server."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from studio_jupyter.state import StudioState

from studio import Project, Workspace
from studio.engine import Engine
from studio.engine import jobs as job_log


class FakeClient:
    """What the server's engine needs from a Dask client, without a cluster."""

    def __init__(self) -> None:
        self.scheduler = SimpleNamespace(address="tcp://127.0.0.1:1")
        self.topics: list[str] = []
        self.closed = False

    def subscribe_topic(self, topic: str, handler: Any) -> None:
        self.topics.append(topic)

    def close(self) -> None:
        self.closed = True


def fake_engine() -> Engine:
    return Engine(client=FakeClient())  # type: ignore[arg-type]


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StudioState]:
    workspace = Workspace(tmp_path / "ws")
    workspace.create_project("Night Market")
    made = StudioState(
        workspace=workspace.path, root_dir=tmp_path, base_url="/", log=logging.getLogger("test")
    )
    yield made
    made.close()


def test_a_slow_engine_start_does_not_block_projects_hubs_or_locks(state, monkeypatch):
    started, release = threading.Event(), threading.Event()

    def slow_start(cls, root):
        started.set()
        release.wait(10)
        return fake_engine()

    monkeypatch.setattr(Engine, "for_workspace", classmethod(slow_start))
    starter = threading.Thread(target=state.engine)
    starter.start()
    try:
        assert started.wait(5)
        begin = time.monotonic()
        state.project("Night_Market")
        state.hub("Night_Market")
        state.lock("Night_Market")
        assert time.monotonic() - begin < 1
    finally:
        release.set()
        starter.join(10)
    assert state.engine_started


def test_the_engine_starts_once(state, monkeypatch):
    calls = []

    def start(cls, root):
        calls.append(root)
        time.sleep(0.2)
        return fake_engine()

    monkeypatch.setattr(Engine, "for_workspace", classmethod(start))
    threads = [threading.Thread(target=state.engine) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(calls) == 1


def test_a_failed_engine_start_leaves_the_hub_unsubscribed(state, monkeypatch):
    # First the scheduler is unreachable, then it answers: the hub subscribes then.
    attempts = []

    def start(cls, root):
        attempts.append(root)
        if len(attempts) == 1:
            raise OSError("Timed out trying to connect to tcp://127.0.0.1:9")
        return fake_engine()

    monkeypatch.setattr(Engine, "for_workspace", classmethod(start))
    with pytest.raises(OSError):
        state.listen("Night_Market")
    assert state.hub("Night_Market").unlisten is None
    state.listen("Night_Market")
    assert state.hub("Night_Market").unlisten is not None
    assert len(state.engine().client.topics) == 1


def _lost_job(project: Project, node_id: str = "shot-1", *, job_id: str = "gone") -> None:
    """A job a gone cluster (a restarted kernel's) left "generating", an hour ago (older than
    any grace the engine gives a job that was just submitted)."""
    line = job_log.record(
        job_id=job_id, event="server:node_state_updated",
        info={"scheduler": "tcp://127.0.0.1:9"},
        payload={"node_id": node_id, "state": "generating", "task_id": job_id},
    )  # fmt: skip
    line["at"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    job_log.append(project.path, line)


def test_listening_records_lost_jobs(state, monkeypatch):
    monkeypatch.setattr(Engine, "for_workspace", classmethod(lambda cls, root: fake_engine()))
    project = state.project("Night_Market")
    _lost_job(project)
    state.listen("Night_Market")
    assert [(j.job_id, j.state) for j in job_log.jobs(project.path)] == [("gone", "failed")]


def test_close_is_idempotent(state, monkeypatch):
    monkeypatch.setattr(Engine, "for_workspace", classmethod(lambda cls, root: fake_engine()))
    client = state.engine().client
    state.listen("Night_Market")
    state.close()
    state.close()
    assert client.closed and state.closed and not state.engine_started


# --- with the server ------------------------------------------------------------------------------


async def test_the_extension_stops_the_engine_with_the_server(jp_serverapp, monkeypatch):
    monkeypatch.setattr(Engine, "for_workspace", classmethod(lambda cls, root: fake_engine()))
    state = jp_serverapp.web_app.settings["studio"]
    client = state.engine().client
    assert "studio_jupyter" in jp_serverapp.extension_manager.extension_apps
    await jp_serverapp.cleanup_extensions()  # what the server's shutdown runs
    assert state.closed and client.closed


async def test_a_sync_settles_lost_jobs_without_starting_an_engine(
    connect, jp_serverapp, film: Project
):
    from .test_ws import receive, send

    film.graph.add_node("Shot", id="shot-1", prompt="lanterns", scene=1, shot=10)
    film.graph.save()
    _lost_job(film)
    state = jp_serverapp.web_app.settings["studio"]
    # No engine (and no shared scheduler): none is started just to settle.
    ws = await connect()
    await send(ws, "client:sync_request")
    status = (await receive(ws))["payload"]["node_status"]["shot-1"]
    assert status["state"] == "failed" and "the job was lost" in status["error"]
    assert not state.engine_started
    # Once the engine runs, the clients hear a lost job fail (the events the settling
    # records), before the sync that says so.
    state._engine = fake_engine()
    ws = await connect()
    _lost_job(film, job_id="gone-too")
    await send(ws, "client:sync_request")
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["event"] != "server:full_sync":
        seen.append(await receive(ws))
    assert [m["payload"].get("task_id") for m in seen[:-1]] == ["gone-too"] * (len(seen) - 1)
    assert seen[-1]["payload"]["node_status"]["shot-1"]["state"] == "failed"
