"""Settling lost jobs (studio.engine.settling): asking a scheduler which jobs it holds is
bounded in time; a scheduler that does not answer cannot say a job is lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, LocalCluster

from studio.engine import jobs as job_log
from studio.engine.settling import LOST_JOB, scheduler_tasks, settle_lost_jobs


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with (
        LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
            n_workers=0, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as c,  # type: ignore[no-untyped-call]
    ):
        yield c


def test_the_scheduler_says_which_tasks_it_holds(client: Client):
    future = client.submit(sum, [1, 2], key="held-task")  # no worker: it stays queued
    deadline = time.monotonic() + 10
    while not (held := scheduler_tasks(client, ["held-task", "gone-task"])):
        assert time.monotonic() < deadline  # the submit is on its way to the scheduler
        time.sleep(0.05)
    assert held == {"held-task"}
    del future


def test_a_hung_scheduler_cannot_hold_settling_up(client: Client):
    def hang(dask_scheduler: object) -> None:
        time.sleep(3)  # blocks the scheduler's event loop, as a scheduler that hangs does

    hung = threading.Thread(target=client.run_on_scheduler, args=(hang,), daemon=True)
    hung.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert scheduler_tasks(client, ["a", "b"], timeout=0.5) == {"a", "b"}  # cannot tell: held
    assert time.monotonic() - started < 2
    hung.join(10)


def test_a_lost_job_whose_leftovers_cannot_be_removed_is_settled_all_the_same(tmp_path: Path):
    """An OSError while settling one lost job (a file that cannot be removed) fails neither
    the reader nor the other lost jobs: both end failed, the first saying why."""
    for job_id in ("stuck", "other"):
        job_log.append(tmp_path, job_log.record(
            job_id=job_id, event="server:node_state_updated",
            payload={"node_id": "n1", "state": "generating", "task_id": job_id},
        ))  # fmt: skip
    states = list(job_log.snapshot(tmp_path).jobs.values())

    def recover(state: job_log.JobState) -> None:
        if state.job_id == "stuck":
            raise PermissionError(13, "Permission denied", "SHOT-010_v01_take01.png")
        return None

    published: list[dict[str, Any]] = []
    lost = settle_lost_jobs(states, held=lambda s: False, recover=recover,
                            publish=published.append, project_root=tmp_path)  # fmt: skip
    assert sorted(lost) == ["other", "stuck"]
    errors = {line["job_id"]: line["payload"]["error"] for line in published}
    assert "PermissionError" in errors["stuck"] and "SHOT-010_v01_take01.png" in errors["stuck"]
    assert errors["other"] == LOST_JOB
