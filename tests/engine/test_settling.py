"""Settling lost jobs (studio.engine.settling): asking a scheduler which jobs it holds is
bounded in time; a scheduler that does not answer cannot say a job is lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from distributed import Client, LocalCluster

from studio.engine.settling import scheduler_tasks


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
