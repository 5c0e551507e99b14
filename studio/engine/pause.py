"""The project's queue state on disk: paused or not, and the jobs moved to its front.

One small JSON file beside the job log (``<project>/.git/studio/queue.json``), written
atomically under a lock: operational state of this checkout like the log (never committed),
shared by every kernel, server and worker that shares the project folder, so a pause holds
across a kernel or server restart. Workers read it before a job starts anything
(:func:`studio.engine.tasks.wait_for_turn`): running jobs finish, queued ones wait.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from filelock import FileLock

from studio.atomic import atomic_write_bytes
from studio.engine import jobs as job_log
from studio.engine.jobs import LOG_DIR
from studio.engine.queue_rows import moved_first

QUEUE_FILE: Final = "queue.json"
YIELDED_DIR: Final = "yielded"
HELD_STEP: Final = "the project's queue is paused"
"""A queued job's step while a paused queue holds it on its worker."""
PAUSE_POLL_S: Final = 0.5
"""How often a job held by a paused queue looks again (and at its cancel)."""
GIVE_WAY_S: Final = 15.0
"""How long a job keeps giving its slot to a moved job that still waits (see yield_to)."""
STALE_MARK_S: Final = 3600.0
"""Give-way marks older than this are removed by the next job that starts (kept long enough
that clocks a little apart never remove a waiting job's mark)."""
GIVE_WAY_AGAIN_S: Final = 0.2
"""The pause before giving way again, so a job Dask hands straight back does not spin."""
FRONT_KEPT: Final = 200
"""Jobs moved to the front the file remembers (the oldest moves are forgotten first)."""


@dataclass(frozen=True)
class QueueState:
    paused: bool = False
    changed_at: str | None = None
    front: tuple[str, ...] = field(default_factory=tuple)
    """Job ids moved to the front, most recently moved first."""
    keys: Mapping[str, str] = field(default_factory=dict)
    """The Dask key of each moved job's task (a job giving way pulls that task to itself)."""

    def moved(self, job_id: str, *, key: str) -> QueueState:
        """This state with ``job_id`` moved to the front (first, once), its task ``key`` kept
        (:func:`update_state` keeps only the newest moves and their keys)."""
        front = tuple(moved_first(self.front, job_id))
        return QueueState(self.paused, self.changed_at, front, {**self.keys, job_id: key})


def queue_path(project_root: Path) -> Path:
    return project_root / LOG_DIR / QUEUE_FILE


def read_state(project_root: Path) -> QueueState:
    """The queue's state; a missing or unreadable file is a running queue (a torn file
    cannot exist: it is replaced atomically)."""
    try:
        data: Any = json.loads(queue_path(project_root).read_bytes())
    except (OSError, ValueError):
        return QueueState()
    if not isinstance(data, dict):
        return QueueState()
    front, keys = data.get("front"), data.get("keys")
    return QueueState(
        paused=data.get("paused") is True,
        changed_at=data.get("changed_at") if isinstance(data.get("changed_at"), str) else None,
        front=tuple(j for j in front if isinstance(j, str)) if isinstance(front, list) else (),
        keys={j: k for j, k in keys.items() if isinstance(k, str)}
        if isinstance(keys, dict)
        else {},
    )


def update_state(project_root: Path, change: Callable[[QueueState], QueueState]) -> QueueState:
    """Read, change and write the state under its lock (atomically: a reader sees the old
    file or the new one)."""
    path = queue_path(project_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path.with_suffix(".lock")):
        new = change(read_state(project_root))
        front = list(new.front[:FRONT_KEPT])
        content = {
            "paused": new.paused,
            "changed_at": new.changed_at,
            "front": front,
            "keys": {j: new.keys[j] for j in front if j in new.keys},
        }
        atomic_write_bytes(path, (json.dumps(content, indent=2) + "\n").encode())
    return new


def set_paused(project_root: Path, *, paused: bool) -> QueueState:
    now = datetime.now(UTC).isoformat()

    def change(state: QueueState) -> QueueState:
        if state.paused == paused:
            return state
        return QueueState(paused=paused, changed_at=now, front=state.front, keys=state.keys)

    return update_state(project_root, change)


def ahead_of(
    front: tuple[str, ...] | list[str], job_id: str, *, waiting: Callable[[str], bool]
) -> list[str]:
    """Pure: the jobs moved to the front before ``job_id`` (all of them, if it was not moved)
    that are still ``waiting`` for a worker slot."""
    listed = list(front)
    rank = listed.index(job_id) if job_id in listed else len(listed)
    return [j for j in listed[:rank] if waiting(j)]


def hold_while_paused(
    project_root: Path,
    *,
    stop: threading.Event,
    on_held: Callable[[], None],
    each_look: Callable[[bool], None] | None = None,
) -> None:
    """The one hold of a paused queue, for every kind of job: returns once the queue runs, or
    at once when ``stop`` is set (a Cancel: the caller reports it). ``on_held`` is called once,
    when the job first waits; ``each_look(held)`` before every look at the queue (the engine's
    jobs give way there to a job moved to the front, raising to leave)."""
    held = False
    while not stop.is_set():
        if each_look is not None:
            each_look(held)
        if not read_state(project_root).paused:
            return
        if not held:
            on_held()
            held = True
        stop.wait(PAUSE_POLL_S)


@dataclass(frozen=True)
class GiveWay:
    """A job about to start gives its worker slot to ``to``, a job moved to the front (its
    task's Dask ``key``, if the move recorded it); ``again``: it gave way to that one
    already (Dask handed it straight back)."""

    to: str
    again: bool
    key: str | None = None


def yield_to(
    project_root: Path,
    job_id: str,
    *,
    resources: Mapping[str, float] | None = None,
    now: float | None = None,
) -> GiveWay | None:
    """Whether ``job_id``, about to start on a worker, should give its slot to a job moved to
    the front that still waits (Dask had handed that worker ``job_id`` before the move, or
    handed it straight back after it gave way once, while the moved one still waited in the
    scheduler's queue). It keeps giving way for :data:`GIVE_WAY_S` after the first time (the
    time written in a marker file says when): long enough for a live cluster to start the
    moved job in the next free slot, short enough that a moved job whose task no cluster
    holds any more only delays the others that long. Only to a job this worker could run (the Dask
    ``resources`` it needs, from the job log, within the worker's ``resources``: GPU memory,
    a render's CPU slot): a slot the moved job cannot use is not given up."""
    state = read_state(project_root)
    if not state.front:
        return None
    jobs = job_log.snapshot(project_root).jobs

    def waiting(other: str) -> bool:
        job = jobs.get(other)
        return (
            job is not None
            and job.state == "queued"
            and job.step != HELD_STEP  # held by the pause on a worker: it has its slot
            and fits(job.info.get("resources"), resources or {})
            and not job_log.cancel_marker(project_root, other).exists()
        )

    clock = time.time() if now is None else now
    for other in ahead_of(state.front, job_id, waiting=waiting):
        marker = project_root / LOG_DIR / YIELDED_DIR / f"{job_id}-{other}"
        key = state.keys.get(other)
        first = _marked_at(marker)
        if first is None:
            marker.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(marker, repr(clock).encode())
            return GiveWay(to=other, again=False, key=key)
        # The marker holds the time of the worker that wrote it (a file server's clock never
        # enters); a reader whose clock is behind the writer's counts the window as over.
        if 0 <= clock - first < GIVE_WAY_S:
            return GiveWay(to=other, again=True, key=key)
    return None


def fits(needs: Any, declared: Mapping[str, float]) -> bool:
    """Pure: whether a worker declaring ``declared`` can run a job needing ``needs`` (a job
    log's ``info["resources"]``; anything but a mapping of numbers needs nothing)."""
    if not isinstance(needs, Mapping):
        return True
    return all(
        not isinstance(amount, int | float) or declared.get(str(name), 0.0) >= amount
        for name, amount in needs.items()
    )


def _marked_at(marker: Path) -> float | None:
    """When a job first gave way (the time written in the marker), or None when it never did
    (a marker that cannot be read counts as written at the file's time, or never)."""
    try:
        return float(marker.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        try:
            return marker.stat().st_mtime
        except OSError:
            return None


def forget_yields(project_root: Path, job_id: str) -> None:
    """The job starts: its markers of having given way are needed no more (a retry may give
    way again, which only delays it once more). In the same look, the marks that jobs which
    never started left (their cluster went away) go too, once old enough to be moot."""
    stale = time.time() - STALE_MARK_S
    for marker in (project_root / LOG_DIR / YIELDED_DIR).glob("*"):
        mine = marker.name.startswith(f"{job_id}-")
        marked = None if mine else _marked_at(marker)
        if mine or (marked is not None and marked < stale):
            with contextlib.suppress(OSError):
                marker.unlink(missing_ok=True)
