"""A job's Publisher (studio.engine.tasks): ``generating`` and progress are sent by its own
thread, never out of order with the job's other events, and a failure to send one is not
lost."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from studio.engine import jobs as job_log
from studio.engine.tasks import Publisher


def publisher(root: Path) -> Publisher:
    return Publisher(project_root=root, topic="t", job_id="job1", node_id="n1")


def test_progress_never_overtakes_the_events_around_it(tmp_path: Path) -> None:
    publish = publisher(tmp_path)
    publish.nowait("server:node_state_updated", node_id="n1", state="generating", task_id="job1")
    for step in range(20):
        publish.nowait("server:task_progress", task_id="job1", node_id="n1", progress=step * 5.0,
                       step=f"s{step}")  # fmt: skip
    publish("server:node_state_updated", node_id="n1", state="canceled", task_id="job1")
    publish.close()
    logged = [(line["event"], line["payload"].get("step")) for line in job_log.read(tmp_path)]
    assert logged == [
        ("server:node_state_updated", None),
        *[("server:task_progress", f"s{step}") for step in range(20)],
        ("server:node_state_updated", None),
    ]


def test_the_reporting_thread_does_not_wait_for_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real = job_log.append_many

    def slow_append(root: Path, lines: list[dict[str, Any]]) -> None:
        release.wait(10)
        real(root, lines)

    monkeypatch.setattr(job_log, "append_many", slow_append)
    publish = publisher(tmp_path)
    publish.nowait(
        "server:task_progress", task_id="job1", node_id="n1", progress=1.0, step="one"
    )  # returns at once
    assert list(job_log.read(tmp_path)) == []
    release.set()
    publish.flush()
    assert [line["payload"]["step"] for line in job_log.read(tmp_path)] == ["one"]
    publish.close()


def test_a_progress_event_that_cannot_be_sent_fails_the_next_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(root: Path, lines: list[dict[str, Any]]) -> None:
        raise OSError(28, "No space left on device")

    publish = publisher(tmp_path)
    monkeypatch.setattr(job_log, "append_many", full_disk)
    publish.nowait("server:task_progress", task_id="job1", node_id="n1", progress=1.0, step="one")
    with pytest.raises(OSError, match="No space left"):
        publish("server:node_state_updated", node_id="n1", state="canceled", task_id="job1")
    publish.close()


def test_jobs_share_the_processs_sending_and_cancel_threads(tmp_path: Path) -> None:
    """A job starts no thread of its own for its events or its cancel marker: the process's
    threads serve every job, each job's events in order, each job's cancel seen."""
    from studio.engine.cancel_watch import CANCEL_POLL_S, CancelWatch

    first = publisher(tmp_path)
    first.nowait("server:task_progress", task_id="job1", node_id="n1", progress=1.0, step="0")
    first.close()
    CancelWatch(tmp_path / "warm-up").close()
    threads = threading.active_count()
    publishers = [
        Publisher(project_root=tmp_path, topic="t", job_id=f"job{i}", node_id="n1")
        for i in range(2, 12)
    ]
    watches = [CancelWatch(tmp_path / f"cancel-{i}") for i in range(10)]
    for step in range(5):
        for publish in publishers:
            publish.nowait("server:task_progress", task_id=publish.job_id, node_id="n1",
                           progress=step * 10.0, step=f"s{step}")  # fmt: skip
    (tmp_path / "cancel-3").touch()
    assert watches[3].event.wait(CANCEL_POLL_S * 10)
    assert threading.active_count() == threads
    for publish in publishers:
        publish.close()
    for watch in watches:
        watch.close()
    assert not any(w.event.is_set() for i, w in enumerate(watches) if i != 3)
    logged: dict[str, list[str]] = {}
    for line in job_log.read(tmp_path):
        logged.setdefault(line["job_id"], []).append(line["payload"]["step"])
    assert all(logged[p.job_id] == [f"s{s}" for s in range(5)] for p in publishers)
