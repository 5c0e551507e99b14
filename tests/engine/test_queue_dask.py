"""The project's queue on a real ``distributed.LocalCluster`` with one single-threaded worker:
real sweep jobs (the tests' misbehaving pipeline sleeping, through the ProcessRunner), paused
(held on the worker, across a new Project and Queue), one moved to the front, one canceled,
resumed; then a new engine's job (a restarted kernel's) held by the pause until resumed.
Twice: with the scheduler holding the queued tasks (its default queueing) and with the worker
holding them (``worker-saturation: inf``), the two heaps a move changes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime

import dask
import pytest
from distributed import Client

from studio import Project
from studio.engine import Engine
from studio.engine import engine as engine_module
from studio.engine import jobs as job_log
from studio.engine.pause import GIVE_WAY_S, HELD_STEP
from studio.engine.queue import Queue, QueueRefused
from studio.sweeps import Sweep, start_sweep
from tests.engine.clusters import thread_client
from tests.runner.media import MISBEHAVE

pytestmark = pytest.mark.slow
TIMEOUT = 90


@pytest.fixture(scope="module", params=["1.1", "inf"], ids=["scheduler-queue", "worker-queue"])
def client(request: pytest.FixtureRequest) -> Iterator[Client]:
    with (
        dask.config.set({"distributed.scheduler.worker-saturation": float(request.param)}),
        thread_client() as c,
    ):
        yield c


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def started_at(project: Project, job_id: str) -> str | None:
    """When the job's worker said "generating" (the log's record of its start)."""
    for line in job_log.read(project.path):
        if line["job_id"] == job_id and line["payload"].get("state") == "generating":
            return str(line["at"])
    return None


def test_pause_move_to_front_cancel_resume(
    client: Client, project: Project, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("STUDIO_RUNNER", "process")
    monkeypatch.setenv("STUDIO_PIPELINE_DIRS", json.dumps([str(MISBEHAVE.parent)]))
    engine = Engine(client=client)
    monkeypatch.setattr(engine_module, "_default", engine)  # project.queue()'s engine
    node = project.graph.add_node("Shot", prompt="x", scene=3, shot=10)
    pipe = project.graph.add_node("Pipeline", pipeline_id="misbehave")
    project.graph.connect(pipe.id, "pipeline", node.id, "pipeline")
    sweep = start_sweep(project, node.id, engine=engine,
                        params={"mode": ["sleep"], "seconds": [2.0, 0.5, 0.6, 0.7]})  # fmt: skip
    first, second, third, fourth = (j for j in sweep.job_ids if j)
    queue = project.queue()
    wait_until(lambda: started_at(project, first) is not None, "the first cell starts")
    assert [e.job_id for e in queue.jobs] == [first, second, third, fourth]
    assert [e.phase for e in queue.jobs] == ["running", "queued", "queued", "queued"]
    assert {e.sweep_id for e in queue.jobs} == {sweep.id} and queue.jobs[0].kind == "sweep"
    with pytest.raises(QueueRefused, match="only a queued job"):
        queue.move_to_front(first)

    queue.pause()
    assert "moved to the front" in queue.move_to_front(fourth)
    assert [e.job_id for e in queue.jobs][1:] == [fourth, second, third]  # the view's order
    # The running cell finishes; the next one (the moved one) is held on the worker.
    wait_until(lambda: job_log.snapshot(project.path).jobs[fourth].step == HELD_STEP,
               "the moved cell waits for the paused queue")  # fmt: skip
    # (The first may still be committing: a job gives its slot up once its pipeline is done.)
    wait_until(lambda: job_log.snapshot(project.path).jobs[first].finished, "the first ends")
    time.sleep(1.5)  # held, not started: the pause is what it waits for
    states = job_log.snapshot(project.path).jobs
    assert [states[j].state for j in (second, third, fourth)] == ["queued"] * 3
    # A new Project and Queue (a restarted kernel or server) see the pause: it is the project's.
    reopened = Queue(Project(project.path), client=client)
    assert reopened.paused
    assert "paused" in reopened._repr_html_()
    assert "will not start" in reopened.cancel(third)
    with pytest.raises(QueueRefused, match="nothing to cancel"):
        reopened.cancel(first)

    reopened.resume()
    sweep.wait(timeout=TIMEOUT)
    states = job_log.snapshot(project.path).jobs
    # The misbehaving pipeline's text output is refused at commit (not routed through LFS):
    # each cell that ran ends failed after its sleep; the canceled one never started.
    assert [states[j].state for j in (first, second, third, fourth)] == [
        "failed", "failed", "canceled", "failed"]  # fmt: skip
    assert started_at(project, third) is None
    fourth_start, second_start = started_at(project, fourth), started_at(project, second)
    assert fourth_start is not None and second_start is not None
    assert fourth_start < second_start  # moved to the front: it ran before the earlier cell
    yielded = project.path / ".git" / "studio" / "yielded"
    assert not list(yielded.glob("*")), "a job that started kept its marks of giving way"
    assert [e.phase for e in queue.jobs] == ["finished"] * 4
    frame = queue.dataframe()
    assert frame.loc[third, "state"] == "canceled" and frame.loc[fourth, "sweep_id"] == sweep.id

    # A paused queue holds the jobs of a new engine too (a restarted kernel's, its own client):
    # the pause is the project's, on disk, not any engine's.
    Queue(Project(project.path), client=client).pause()
    shot = project.graph.add_node("Shot", prompt="after the restart", scene=3, shot=20, seed=1)
    draft = project.graph.add_node("Pipeline", pipeline_id="t2i-draft")
    project.graph.connect(draft.id, "pipeline", shot.id, "pipeline")
    with Client(client.scheduler_info()["address"]) as other:  # type: ignore[no-untyped-call]
        job = Engine(client=other).generate(project, shot.id, quality="low")
        wait_until(lambda: job_log.snapshot(project.path).jobs[job.id].step == HELD_STEP,
                   "the new engine's job waits for the paused queue")  # fmt: skip
        time.sleep(1.0)
        assert job_log.snapshot(project.path).jobs[job.id].state == "queued"
        Queue(Project(project.path), client=other).resume()
        assert job.result(timeout=TIMEOUT).ready


def paused_sweep(
    client: Client, project: Project, monkeypatch: pytest.MonkeyPatch, *, shot: int
) -> tuple[Queue, Sweep, list[str]]:
    """A 4-cell sweep of sleeps on the one-thread worker, the queue paused once the first
    cell started; the queue, the sweep and the other three cells' job ids."""
    monkeypatch.setenv("STUDIO_RUNNER", "process")
    monkeypatch.setenv("STUDIO_PIPELINE_DIRS", json.dumps([str(MISBEHAVE.parent)]))
    engine = Engine(client=client)
    node = project.graph.add_node("Shot", prompt="x", scene=4, shot=shot)
    pipe = project.graph.add_node("Pipeline", pipeline_id="misbehave")
    project.graph.connect(pipe.id, "pipeline", node.id, "pipeline")
    sweep = start_sweep(project, node.id, engine=engine,
                        params={"mode": ["sleep"], "seconds": [1.0, 0.3, 0.3, 0.3]})  # fmt: skip
    first, *rest = (j for j in sweep.job_ids if j)
    queue = Queue(project, client=client)
    wait_until(lambda: started_at(project, first) is not None, "the first cell starts")
    queue.pause()
    return queue, sweep, rest


def test_a_job_held_on_its_worker_gives_way_to_the_moved_one(
    client: Client, project: Project, monkeypatch: pytest.MonkeyPatch
):
    """The race CI once lost: the pause holds a cell on the worker (it has the slot), Dask has
    sent another behind it, and the last waits in the scheduler's queue and is moved. On
    resume the held cell gives way, and Dask may hand it straight back to the worker's free
    slot while the moved one still waits: it must keep giving way until that one started."""
    queue, sweep, rest = paused_sweep(client, project, monkeypatch, shot=10)

    def held() -> list[str]:
        jobs = job_log.snapshot(project.path).jobs
        return [j for j in rest if jobs[j].step == HELD_STEP]

    wait_until(lambda: len(held()) == 1, "the next cell is held on the worker")
    [early] = held()  # Dask's choice: the next in its order
    canceled, moved = [j for j in rest if j != early]
    assert "moved to the front" in queue.move_to_front(moved)
    queue.cancel(canceled)
    queue.resume()
    sweep.wait(timeout=TIMEOUT)
    assert started_at(project, canceled) is None
    moved_start, early_start = started_at(project, moved), started_at(project, early)
    assert moved_start is not None and early_start is not None
    assert moved_start < early_start, "the moved cell starts before the one held earlier"


def test_the_moved_job_starts_before_every_earlier_one(
    client: Client, project: Project, monkeypatch: pytest.MonkeyPatch
):
    """As above, with nothing canceled: the job held on the worker and the one Dask sent
    behind it both give way, and no finishing job opens a slot for the moved one (a give-way
    alone frees none the scheduler's queue sees): the moved job's task is pulled to the
    worker, and it starts before both."""
    queue, sweep, rest = paused_sweep(client, project, monkeypatch, shot=20)

    def jobs() -> Mapping[str, job_log.JobState]:
        return job_log.snapshot(project.path).jobs

    wait_until(lambda: any(jobs()[j].step == HELD_STEP for j in rest), "a cell is held")
    moved = [j for j in rest if jobs()[j].step != HELD_STEP][-1]  # one Dask has not started
    earlier = [j for j in rest if j != moved]
    assert "moved to the front" in queue.move_to_front(moved)
    resumed = datetime.now(UTC)
    queue.resume()
    sweep.wait(timeout=TIMEOUT)
    moved_start = started_at(project, moved)
    assert moved_start is not None
    for other in earlier:
        other_start = started_at(project, other)
        assert other_start is not None and moved_start < other_start, (other, moved)
    waited = datetime.fromisoformat(moved_start) - resumed
    assert waited.total_seconds() < GIVE_WAY_S, "the moved job never waited out the give-way"
