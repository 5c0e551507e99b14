"""The queue's rows, pure: kinds, phases, order (moves to the front), ages, the table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from studio.engine import pause
from studio.engine.queue_rows import (
    QueueEntry,
    age,
    counts,
    entry,
    job_kind,
    moved_first,
    order,
    queue_html,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def row(
    job_id: str, state: str, *, code: str | None = None, at: str = "", **info: Any
) -> QueueEntry:
    return entry(job_id=job_id, node_id="shot-1", state=state, code=code, info=info,
                 submitted_at=at or None, updated_at=at or None)  # fmt: skip


def test_kinds_and_phases():
    assert job_kind({"sweep": {"id": "s1", "cell": 2}}) == "sweep"
    assert job_kind({"task": "render_final_video", "edl": "x.edl"}) == "render"
    assert job_kind({"kind": "batch", "sweep": {"id": "s1"}}) == "batch"  # the log's own word
    assert job_kind({"pipeline": "t2i-draft", "seed": 3}) == "generate"
    one = row("a", "generating", scene=1, shot=10, sweep={"id": "s1", "cell": 2})
    assert (one.phase, one.shot_label, one.sweep_id, one.sweep_cell) == (
        "running", "SC01 SH010", "s1", 2)  # fmt: skip
    assert row("b", "queued").phase == "queued"
    assert row("c", "failed", code="MODEL_ERROR").phase == "finished"
    assert row("d", "success").phase == "finished"
    assert row("e", "canceled").phase == "finished"


def test_order_running_then_queued_as_moved_then_newest_finished():
    rows = [
        row("old-done", "success", at="2026-12-03T10:00:00+00:00"),
        row("run", "generating"),
        row("q1", "queued"),
        row("q2", "queued"),
        row("q3", "queued"),
        row("new-done", "failed", at="2026-12-03T11:00:00+00:00"),
    ]
    front = moved_first(moved_first([], "q2"), "q3")  # q2 moved, then q3
    assert front == ["q3", "q2"]
    assert moved_first(front, "q2") == ["q2", "q3"]  # moved again: first, once
    listed = [e.job_id for e in order(rows, front=front)]
    assert listed == ["run", "q3", "q2", "q1", "new-done", "old-done"]
    assert [e.job_id for e in order(rows, recent=1)] == ["run", "q1", "q2", "q3", "new-done"]
    assert counts(order(rows)) == {"running": 1, "queued": 3, "finished": 2}


def test_status_age_and_table():
    canceling = entry(job_id="x", node_id="n", state="queued", code=None, info={},
                      cancel_requested=True)  # fmt: skip
    assert canceling.status == "queued (cancel requested)"
    assert row("g", "generating").status == "generating 0%"
    assert age("2026-12-03T11:58:30+00:00", now=NOW) == "1 min"
    assert age("2026-12-03T11:59:55+00:00", now=NOW) == "5 s"
    assert age("2026-12-01T11:00:00+00:00", now=NOW) == "2 d"
    assert age("not a time", now=NOW) == age(None, now=NOW) == ""
    shown = queue_html([row("q<1>", "queued", at="2026-12-03T11:00:00+00:00")], paused=True,
                       now=NOW)  # fmt: skip
    assert "paused" in shown and "q&lt;1&gt;" in shown and "1 h" in shown
    assert "No jobs yet" in queue_html([], paused=False, now=NOW)


def test_pause_state_file(tmp_path: Path):
    assert pause.read_state(tmp_path) == pause.QueueState()  # no file: a running queue
    assert pause.set_paused(tmp_path, paused=True).paused
    assert pause.read_state(tmp_path).paused and pause.read_state(tmp_path).changed_at
    pause.queue_path(tmp_path).write_text("[not, json")
    assert not pause.read_state(tmp_path).paused  # unreadable: never a stuck queue
    assert pause.ahead_of(("c", "b"), "a", waiting=lambda j: j != "b") == ["c"]
    assert pause.ahead_of(("c", "b"), "c", waiting=lambda j: True) == []
    assert pause.ahead_of(("c", "b"), "b", waiting=lambda j: True) == ["c"]
