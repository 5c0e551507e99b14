"""The queue's give-way rule (:func:`studio.engine.pause.yield_to`) on a real job log and
queue file: a job gives its slot to a moved job while that one still waits, again and again
for a while (Dask may hand it straight back), never to one that started, was canceled or is
held by the pause on a worker, and not for ever."""

from __future__ import annotations

import time
from pathlib import Path

from studio.engine import jobs as job_log
from studio.engine import pause
from studio.engine.jobs import LOG_DIR


def queued(root: Path, job_id: str, *, step: str | None = None) -> None:
    payload = {"node_id": "n1", "state": "queued", "task_id": job_id}
    if step is not None:
        payload["step"] = step
    job_log.append(root, job_log.record(
        job_id=job_id, event="server:node_state_updated", payload=payload
    ))  # fmt: skip


def moved(root: Path, *job_ids: str) -> None:
    pause.update_state(root, lambda s: pause.QueueState(s.paused, s.changed_at, job_ids))


def test_gives_way_to_a_waiting_moved_job_again_for_a_while(tmp_path: Path):
    for job in ("early", "moved"):
        queued(tmp_path, job)
    assert pause.yield_to(tmp_path, "early") is None  # nothing moved
    moved(tmp_path, "moved")
    assert pause.yield_to(tmp_path, "early") == pause.GiveWay(to="moved", again=False)
    # Dask handed it straight back while the moved one still waits: it gives way again.
    assert pause.yield_to(tmp_path, "early") == pause.GiveWay(to="moved", again=True)
    assert pause.yield_to(tmp_path, "moved") is None  # the moved one never gives way to itself
    # Not for ever: a moved job whose task no cluster holds stops delaying the others.
    later = pause.GIVE_WAY_S + 1
    marker = tmp_path / LOG_DIR / pause.YIELDED_DIR / "early-moved"
    first = float(marker.read_text())  # this worker's clock, not the folder's
    assert pause.yield_to(tmp_path, "early", now=first + later) is None
    pause.forget_yields(tmp_path, "early")
    assert not marker.exists()


def test_never_gives_way_to_a_started_canceled_or_held_job(tmp_path: Path):
    queued(tmp_path, "early")
    queued(tmp_path, "held", step=pause.HELD_STEP)  # on a worker already: it has its slot
    queued(tmp_path, "canceled")
    job_log.request_cancel(tmp_path, "canceled")
    queued(tmp_path, "started")
    job_log.append(tmp_path, job_log.record(
        job_id="started", event="server:node_state_updated",
        payload={"node_id": "n1", "state": "generating", "task_id": "started"},
    ))  # fmt: skip
    moved(tmp_path, "started", "canceled", "held", "unknown")
    assert pause.yield_to(tmp_path, "early") is None
    # The most recently moved waiting one first; a job moved later than another waits for it.
    queued(tmp_path, "second")
    queued(tmp_path, "first")
    moved(tmp_path, "first", "second")
    assert pause.yield_to(tmp_path, "early") == pause.GiveWay(to="first", again=False)
    assert pause.yield_to(tmp_path, "second") == pause.GiveWay(to="first", again=False)
    assert pause.yield_to(tmp_path, "first") is None


def test_never_gives_up_a_slot_the_moved_job_cannot_use(tmp_path: Path):
    """A moved job that needs what this worker does not declare (GPU memory, a render's CPU
    slot): this worker's job starts (the moved one waits for a worker that has it)."""
    queued(tmp_path, "early")
    for job, needs in (("gpu", {"VRAM": 12.0}), ("render", {"CPU": 1})):
        job_log.append(tmp_path, job_log.record(
            job_id=job, event="server:node_state_updated",
            payload={"node_id": "n1", "state": "queued", "task_id": job},
            info={"resources": needs},
        ))  # fmt: skip
    moved(tmp_path, "render", "gpu")
    assert pause.yield_to(tmp_path, "early") is None  # a worker that declares nothing
    assert pause.yield_to(tmp_path, "early", resources={"VRAM": 8.0}) is None
    assert pause.yield_to(tmp_path, "early", resources={"VRAM": 24.0}) == pause.GiveWay(
        to="gpu", again=False
    )
    pause.forget_yields(tmp_path, "early")
    assert pause.yield_to(tmp_path, "early", resources={"CPU": 2}) == pause.GiveWay(
        to="render", again=False
    )
    assert pause.fits({"VRAM": "lots"}, {}) and pause.fits(None, {})


def test_a_move_keeps_the_task_key_and_a_clock_behind_ends_the_window(tmp_path: Path):
    for job in ("early", "moved", "older"):
        queued(tmp_path, job)
    pause.update_state(tmp_path, lambda s: s.moved("older", key="task-older"))
    pause.update_state(tmp_path, lambda s: s.moved("moved", key="task-moved"))
    state = pause.read_state(tmp_path)
    assert state.front == ("moved", "older")
    assert state.keys == {"moved": "task-moved", "older": "task-older"}
    assert pause.set_paused(tmp_path, paused=True).keys == state.keys  # a pause keeps them
    give_way = pause.yield_to(tmp_path, "early")
    assert give_way == pause.GiveWay(to="moved", again=False, key="task-moved")
    marker = tmp_path / LOG_DIR / pause.YIELDED_DIR / "early-moved"
    first = float(marker.read_text())  # this worker's clock, not the folder's
    assert pause.yield_to(tmp_path, "early", now=first + 1) == pause.GiveWay(
        to="moved", again=True, key="task-moved"
    )
    # This worker's clock behind the folder's: not a window that never ends (the next moved
    # job that still waits is given way to, once its own window starts).
    later = pause.yield_to(tmp_path, "early", now=first - 60)
    assert later is not None and later.to == "older"


def test_a_starting_job_prunes_the_old_marks_of_jobs_that_never_started(tmp_path: Path):
    folder = tmp_path / LOG_DIR / pause.YIELDED_DIR
    folder.mkdir(parents=True)
    old, recent, own = folder / "lost-moved", folder / "other-moved", folder / "starting-moved"
    old.write_text(repr(time.time() - 2 * pause.STALE_MARK_S))
    recent.write_text(repr(time.time()))
    own.write_text(repr(time.time()))
    pause.forget_yields(tmp_path, "starting")
    assert not old.exists() and recent.exists() and not own.exists()
