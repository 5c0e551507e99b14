"""Where Dask keeps the tasks waiting to run, changed for the queue (:mod:`studio.engine.queue`).

Dask fixes a task's priority when it is submitted and offers no call to change it or to start
a queued task on a chosen worker, so these functions change its state where Dask keeps it, on
the scheduler's or the worker's event loop (``run_on_scheduler`` / ``run``): the scheduler's
priority heap of queued tasks (``Scheduler.queued``), a worker's heaps of tasks ready to run
(``WorkerState.ready`` / ``constrained``). They use the scheduler's and the worker's own
internals (``distributed`` 2026.x); each says what it found, so a caller can tell.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

logger = logging.getLogger(__name__)

PULL_TIMEOUT_S: Final = 2.0
"""How long a job giving way waits for the scheduler to pull the moved task to its worker."""


def front_on_scheduler(dask_scheduler: Any, key: str, first: int) -> dict[str, Any]:
    """On the scheduler's event loop: give the task ``key`` the priority ``(first, ...)``,
    re-placed in the scheduler's queue if it waits there."""
    ts = dask_scheduler.tasks.get(key)
    if ts is None:
        return {"state": None}
    priority = (first, *tuple(ts.priority or ())[1:])
    queued = dask_scheduler.queued
    if ts in queued:
        queued.discard(ts)
        ts.priority = priority
        queued.add(ts)
    else:
        ts.priority = priority
    worker = ts.processing_on.address if ts.processing_on is not None else None
    return {"state": ts.state, "worker": worker, "priority": list(priority)}


def front_on_worker(key: str, priority: list[Any], dask_worker: Any) -> str | None:
    """On the worker's event loop: the same priority for its copy of the task, re-placed in
    the worker's heap of tasks ready to run."""
    state = dask_worker.state
    ts = state.tasks.get(key)
    if ts is None:
        return None
    new = tuple(priority)
    for heap in (state.ready, state.constrained):
        if ts in heap:
            heap.discard(ts)
            ts.priority = new
            heap.add(ts)
            return str(ts.state)
    ts.priority = new
    return str(ts.state)


def pull_to_worker(dask_scheduler: Any, key: str, worker: str) -> bool:
    """On the scheduler's event loop: the queued task ``key`` sent to ``worker`` now, whether
    that worker has a free slot or not (a job there gives its slot to it: a task that gives
    way with ``Reschedule`` frees no slot the scheduler's queue sees, so Dask would hand the
    slot straight back to it). What ``_transition_queued_processing`` does with a worker of
    Dask's choosing, with this one (no transition-log entry or plugin call is made for it).
    False, and nothing changed, when the task is not queued (it runs, or another worker took
    it) or the worker is not running (gone, paused, closing)."""
    ts = dask_scheduler.tasks.get(key)
    ws = dask_scheduler.workers.get(worker)
    if ts is None or ws is None or ws not in dask_scheduler.running:
        return False
    if ts.state != "queued" or ts not in dask_scheduler.queued:
        return False
    stimulus_id = f"studio-move-to-front-{time.time()}"
    dask_scheduler.queued.discard(ts)
    try:
        recommendations, client_msgs, worker_msgs = dask_scheduler._add_to_processing(
            ts, ws, stimulus_id=stimulus_id
        )
    except Exception:
        if ts.state == "queued":  # nothing was changed but the queue: the task goes back
            dask_scheduler.queued.add(ts)
        raise
    dask_scheduler.send_all(client_msgs, worker_msgs)
    if recommendations:
        dask_scheduler.transitions(recommendations, stimulus_id=stimulus_id)
    return True


def pull_moved_task(key: str) -> bool:
    """From a task on a worker: the moved job's queued task ``key`` sent to this worker (see
    :func:`pull_to_worker`), and here, before this returns (the scheduler's messages to the
    worker travel on another stream than its answer). False when it was not queued, or the
    scheduler could not be asked in time or failed (the job then only gives way)."""
    from distributed import get_client, get_worker

    try:
        worker = get_worker()
        pulled = get_client().run_on_scheduler(  # type: ignore[no-untyped-call]  # distributed is untyped
            pull_to_worker, key=key, worker=worker.address, callback_timeout=PULL_TIMEOUT_S
        )
    except Exception as exc:  # a fallback, never the job's failure (Dask internals may change)
        logger.warning("could not pull the moved task %s to this worker: %r", key, exc)
        return False
    if not pulled:
        return False
    deadline = time.monotonic() + PULL_TIMEOUT_S
    while key not in worker.state.tasks and time.monotonic() < deadline:
        time.sleep(0.01)
    return True
