"""The project's queue through the server (``projects/{id}/queue``): jobs a kernel submitted
(a sweep of the tests' misbehaving pipeline, sleeping) on a REAL local Dask cluster with one
worker, listed, paused, one moved to the front, one canceled, the sweep canceled, and the
refusals, each a clear message. (Every route refuses a request without a token:
``test_auth.py`` walks the route table.)"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest
from distributed import Client, LocalCluster

from studio import Project
from studio.engine import Engine
from studio.engine import jobs as job_log
from studio.sweeps import start_sweep
from tests.engine.clusters import thread_cluster
from tests.runner.media import MISBEHAVE

pytestmark = pytest.mark.slow
TIMEOUT = 60


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with thread_cluster() as local:
        yield local


async def test_queue_list_pause_move_cancel(
    api, film: Project, cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("STUDIO_SCHEDULER", cluster.scheduler_address)  # the server's engine
    monkeypatch.setenv("STUDIO_PIPELINE_DIRS", json.dumps([str(MISBEHAVE.parent)]))
    status, empty = await api("GET", "projects", film.name, "queue")
    assert status == 200 and empty["jobs"] == [] and empty["paused"] is False
    node = film.graph.add_node("Shot", prompt="x", scene=4, shot=10)
    pipe = film.graph.add_node("Pipeline", pipeline_id="misbehave")
    film.graph.connect(pipe.id, "pipeline", node.id, "pipeline")
    film.graph.save()
    with Client(cluster.scheduler_address) as client:  # type: ignore[no-untyped-call]
        sweep = start_sweep(film, node.id, engine=Engine(client=client),
                            params={"mode": ["sleep"], "seconds": [20.0, 20.0, 20.0]})  # fmt: skip
        first, second, third = (j for j in sweep.job_ids if j)
        deadline = time.monotonic() + TIMEOUT
        while job_log.snapshot(film.path).jobs[first].state != "generating":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)

        status, view = await api("GET", "projects", film.name, "queue")
        assert status == 200
        assert [(j["job_id"], j["phase"]) for j in view["jobs"]] == [
            (first, "running"), (second, "queued"), (third, "queued")]  # fmt: skip
        assert view["jobs"][1]["sweep_id"] == sweep.id and view["jobs"][1]["kind"] == "sweep"
        assert view["counts"] == {"running": 1, "queued": 2, "finished": 0}

        status, view = await api("PUT", "projects", film.name, "queue", body={"paused": True})
        assert status == 200 and view["paused"] is True and "paused" in view["message"]
        status, view = await api("POST", "projects", film.name, "queue", "move_to_front",
                                 body={"job_id": third})  # fmt: skip
        assert status == 200, view
        assert "front" in view["message"]
        assert [j["job_id"] for j in view["jobs"]] == [first, third, second]
        assert view["jobs"][1]["moved_to_front"]

        status, refused = await api("POST", "projects", film.name, "queue", "move_to_front",
                                    body={"job_id": first})  # fmt: skip
        assert status == 422 and "only a queued job" in refused["message"]
        status, refused = await api("POST", "projects", film.name, "queue", "cancel",
                                    body={"job_id": "nope"})  # fmt: skip
        assert status == 422 and "no job 'nope'" in refused["message"]
        status, refused = await api("POST", "projects", film.name, "queue", "cancel", body={})
        assert status == 422 and "exactly one" in refused["message"]
        status, missing = await api("GET", "projects", "No_Such", "queue")
        assert status == 404 and "No_Such" in missing["message"]

        status, view = await api("POST", "projects", film.name, "queue", "cancel",
                                 body={"job_id": second})  # fmt: skip
        assert status == 200 and "will not start" in view["message"]
        assert [j["cancel_requested"] for j in view["jobs"]][2] is True
        status, view = await api("POST", "projects", film.name, "queue", "cancel",
                                 body={"sweep_id": sweep.id})  # fmt: skip
        assert status == 200 and "3 unfinished job(s) canceled" in view["message"]
        status, view = await api("PUT", "projects", film.name, "queue", body={"paused": False})
        assert view["paused"] is False and "resumed" in view["message"]
        sweep.wait(timeout=TIMEOUT)
    status, view = await api("GET", "projects", film.name, "queue")
    assert {j["state"] for j in view["jobs"]} == {"canceled"}
    assert view["counts"] == {"running": 0, "queued": 0, "finished": 3}
