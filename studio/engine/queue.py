"""A queue users control (issue 14 item 5): ``project.queue()``.

>>> queue = project.queue()        # queued, running and recently finished jobs of the project
>>> queue                          # a table in a notebook; queue.jobs / queue.dataframe()
>>> queue.pause()                  # running jobs finish, queued ones wait (across restarts)
>>> queue.move_to_front(job_id)    # it starts next
>>> queue.resume(); queue.cancel(job_id); queue.cancel_sweep(sweep_id)

Everything is read from the durable job log (whoever submitted the jobs: canvas Generates,
renders, sweeps, batch runs), the pause state from its file beside the log
(:mod:`studio.engine.pause`); the rows are made by the pure :mod:`studio.engine.queue_rows`.

Pausing is the workers' to honour: a job about to start its pipeline waits while the queue is
paused (:func:`studio.engine.pause.hold_while_paused`, still cancellable), so what is queued
stays in Dask's queue and in the log, and nothing is lost on a restart.

Moving a job to the front: Dask fixes a task's priority when it is submitted and offers no call
to change it, so the queue changes it where Dask keeps it. The scheduler holds a queued task in
its priority heap (``Scheduler.queued``), a worker holds the tasks sent to it in its own
(``WorkerState.ready`` / ``constrained``); the task is taken out of whichever holds it and put
back with a priority above every other (the newest move highest), on the scheduler's and the
worker's event loops (``run_on_scheduler`` / ``run``), where those heaps are changed. The job
keeps its id and its task (nothing is resubmitted: its arguments, its retries and its
``fire_and_forget`` stay as they are), and the next free slot starts it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from studio.engine import jobs as job_log
from studio.engine import pause
from studio.engine.dask_heaps import front_on_scheduler, front_on_worker
from studio.engine.queue_rows import QueueEntry, entry, order, queue_html
from studio.engine.settling import job_task_key, settle
from studio.errors import InvalidInput, StudioError

if TYPE_CHECKING:
    import pandas as pd
    from distributed import Client

    from studio.project.project import Project


DASK_CALL_TIMEOUT_S: Final = 10.0
"""How long a move waits for the scheduler or a worker (a hung one must not hang the lab)."""


class QueueRefused(InvalidInput):
    """A queue operation that cannot be done (an unknown or finished job, a lost task)."""


def queue_entries(project_root: Path) -> list[QueueEntry]:
    """The queue's rows now, in order (see :func:`studio.engine.queue_rows.order`)."""
    states = job_log.snapshot(project_root).jobs
    state = pause.read_state(project_root)
    canceling = job_log.cancel_requests(project_root)
    moved = set(state.front)
    rows = [
        entry(
            job_id=s.job_id,
            node_id=s.node_id,
            state=s.state,
            code=s.code,
            info=s.info,
            step=s.step,
            progress=s.progress,
            error=s.error,
            submitted_at=s.submitted_at,
            updated_at=s.updated_at,
            cancel_requested=s.job_id in canceling,
            moved_to_front=s.job_id in moved,
        )
        for s in states.values()
    ]
    return order(rows, front=state.front)


def _job(project_root: Path, job_id: str) -> job_log.JobState:
    state = job_log.snapshot(project_root).jobs.get(job_id)
    if state is None:
        raise QueueRefused(f"no job {job_id!r} in this project's job log")
    return state


def cancel_job(project_root: Path, job_id: str) -> str:
    """Ask one job to stop (a queued one is skipped when its worker reaches it); refused for
    a finished job. Returns what happens, as a sentence."""
    state = _job(project_root, job_id)
    if state.finished:
        raise QueueRefused(f"job {job_id} has finished ({state.summary}): nothing to cancel")
    job_log.request_cancel(project_root, job_id)
    if state.state == "queued":
        return f"job {job_id} is canceled: it will not start"
    return f"job {job_id} is being stopped"


def cancel_sweep_jobs(project_root: Path, sweep_id: str) -> list[str]:
    """Ask every unfinished job of the sweep to stop; returns their ids (refused when the
    job log knows no job of that sweep)."""
    ids, known = [], False
    for state in job_log.snapshot(project_root).jobs.values():
        sweep = state.info.get("sweep")
        if isinstance(sweep, Mapping) and sweep.get("id") == sweep_id:
            known = True
            if not state.finished:
                ids.append(state.job_id)
    if not known:
        raise QueueRefused(f"no job of a sweep {sweep_id!r} in this project's job log")
    for job_id in ids:
        job_log.request_cancel(project_root, job_id)
    return ids


def movable_job(project_root: Path, job_id: str) -> job_log.JobState:
    """The job, if it can be moved to the front (it is queued); else the refusal raised."""
    state = _job(project_root, job_id)
    if state.state != "queued" or state.finished:
        raise QueueRefused(
            f"job {job_id} is {state.summary}: only a queued job can be moved to the front"
        )
    return state


def move_job_to_front(project_root: Path, job_id: str, *, client: Client) -> str:
    """Make a queued job start next (see the module doc); returns what was done, as a
    sentence. Refused for a job that is not queued or whose task no cluster holds."""
    state = movable_job(project_root, job_id)
    if job_log.is_process_job(state.info):
        if state.info.get("where") != "cluster":
            raise QueueRefused(
                f"job {job_id} is a batch run outside the cluster: it starts at once, there is "
                "no queue to move it in"
            )
        key = job_log.process_task_key(job_id)
    else:
        key = job_task_key(state)
    first = -time.time_ns()  # Dask runs the lowest first; a later move goes before
    try:
        placed = client.run_on_scheduler(  # type: ignore[no-untyped-call]  # distributed is untyped
            front_on_scheduler, key=key, first=first, callback_timeout=DASK_CALL_TIMEOUT_S
        )
    except (OSError, TimeoutError) as exc:
        raise StudioError(
            f"could not reach the Dask scheduler to move job {job_id}: {exc}"
        ) from exc
    if placed["state"] is None:
        raise QueueRefused(
            f"job {job_id} is queued in the log, but the Dask scheduler does not hold its task "
            "(it was submitted to another cluster, or that cluster stopped): it cannot be moved"
        )
    if placed["state"] == "processing" and placed.get("worker"):
        try:
            on_worker = client.run(
                front_on_worker, key, placed["priority"], workers=[placed["worker"]],
                callback_timeout=DASK_CALL_TIMEOUT_S,
            ).get(placed["worker"])  # fmt: skip
        except (OSError, TimeoutError) as exc:
            raise StudioError(
                f"could not reach the Dask worker {placed['worker']} to move job {job_id}: {exc}"
            ) from exc
        if on_worker == "executing":
            return f"job {job_id} is starting on {placed['worker']} already"
    pause.update_state(project_root, lambda s: s.moved(job_id, key=key))
    return f"job {job_id} moved to the front: it starts next"


# --- the notebook object ----------------------------------------------------------------------


class Queue:
    """The project's queue: ``jobs`` (running, queued in starting order, recently finished),
    ``paused``, and the operations. Each read looks at the job log again (cheap: only what
    was appended since)."""

    def __init__(self, project: Project, *, client: Client | None = None) -> None:
        self.project = project
        self._client = client

    @property
    def root(self) -> Path:
        return self.project.path

    @property
    def jobs(self) -> list[QueueEntry]:
        return queue_entries(self.root)

    def dataframe(self) -> pd.DataFrame:
        """One row per job (the columns of :meth:`QueueEntry.as_dict`), indexed by job id."""
        import pandas as pd

        rows = [one.as_dict() for one in self.jobs]
        columns = [*QueueEntry.__dataclass_fields__, "status"]
        return pd.DataFrame(rows, columns=columns).set_index("job_id")

    @property
    def paused(self) -> bool:
        return pause.read_state(self.root).paused

    def pause(self) -> None:
        """Pause the project's queue: running jobs finish, queued ones wait (on any worker,
        for every client, across kernel and server restarts) until :meth:`resume`."""
        pause.set_paused(self.root, paused=True)

    def resume(self) -> None:
        pause.set_paused(self.root, paused=False)

    def cancel(self, job_id: str) -> str:
        return cancel_job(self.root, job_id)

    def cancel_sweep(self, sweep_id: str) -> list[str]:
        return cancel_sweep_jobs(self.root, sweep_id)

    def move_to_front(self, job_id: str) -> str:
        return move_job_to_front(self.root, job_id, client=self._dask())

    def _dask(self) -> Client:
        if self._client is None:
            from studio.engine.engine import default_engine

            self._client = default_engine(self.project).client
        return self._client

    def __repr__(self) -> str:
        rows = self.jobs
        state = "paused" if self.paused else "running"
        return f"Queue({self.project.name!r}, {state}, {len(rows)} jobs)"

    def _repr_html_(self) -> str:
        return queue_html(self.jobs, paused=self.paused, now=datetime.now(UTC))


def project_queue(project: Project) -> Queue:
    """``project.queue()``: lost jobs settled first (so a dead job never shows as running)."""
    settle(project)
    return Queue(project)
