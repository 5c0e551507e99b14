"""Where Dask keeps the tasks waiting to run, changed for the queue (:mod:`studio.engine.queue`).

Dask fixes a task's priority when it is submitted and offers no call to change it or to start
a queued task on a chosen worker, so these functions change its state where Dask keeps it, on
the scheduler's or the worker's event loop (``run_on_scheduler`` / ``run``): the scheduler's
priority heap of queued tasks (``Scheduler.queued``), a worker's heaps of tasks ready to run
(``WorkerState.ready`` / ``constrained``). They use the scheduler's and the worker's own
internals (``distributed`` 2026.x); each says what it found, so a caller can tell.
"""

from __future__ import annotations

import time
from typing import Any


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
    slot straight back to it). False when the task is not queued there (it runs, or another
    worker took it) or the worker is gone."""
    ts = dask_scheduler.tasks.get(key)
    ws = dask_scheduler.workers.get(worker)
    if ts is None or ws is None or ts not in dask_scheduler.queued:
        return False
    stimulus_id = f"studio-move-to-front-{time.time()}"
    dask_scheduler.queued.discard(ts)
    recommendations, client_msgs, worker_msgs = dask_scheduler._add_to_processing(
        ts, ws, stimulus_id=stimulus_id
    )
    dask_scheduler.send_all(client_msgs, worker_msgs)
    if recommendations:
        dask_scheduler.transitions(recommendations, stimulus_id=stimulus_id)
    return True


def pull_moved_task(key: str) -> bool:
    """From a task on a worker: the moved job's queued task ``key`` sent to this worker (see
    :func:`pull_to_worker`). False when it was not queued, or the scheduler could not be
    asked (the job then only gives way, as before)."""
    from distributed import get_client, get_worker

    try:
        address = get_worker().address
        client = get_client()
        pulled = client.run_on_scheduler(  # type: ignore[no-untyped-call]  # distributed is untyped
            pull_to_worker, key=key, worker=address
        )
        return bool(pulled)
    except (OSError, TimeoutError, ValueError):
        return False
