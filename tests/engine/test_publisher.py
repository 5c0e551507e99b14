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
    real = job_log.append

    def slow_append(root: Path, line: dict[str, Any]) -> None:
        release.wait(10)
        real(root, line)

    monkeypatch.setattr(job_log, "append", slow_append)
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
    def full_disk(root: Path, line: dict[str, Any]) -> None:
        raise OSError(28, "No space left on device")

    publish = publisher(tmp_path)
    monkeypatch.setattr(job_log, "append", full_disk)
    publish.nowait("server:task_progress", task_id="job1", node_id="n1", progress=1.0, step="one")
    with pytest.raises(OSError, match="No space left"):
        publish("server:node_state_updated", node_id="n1", state="canceled", task_id="job1")
    publish.close()
