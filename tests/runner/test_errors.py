"""Every failure path, through both runners: the right error code, nothing left running."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from studio.pipelines import InputInvalid
from studio.runner.base import create_job
from studio.runner.contract import ErrorCode, Event, JobResult

pytestmark = pytest.mark.slow


def no_containers_left(runner) -> None:
    """For a DockerRunner: ``docker ps -a --filter label=studio.owner=...`` is empty."""
    client = getattr(runner, "client", None)
    if client is not None:
        left = client.containers.list(
            all=True, filters={"label": f"studio.owner={runner.owner}"}, ignore_removed=True
        )
        assert left == []


def test_bad_inputs_are_rejected_before_anything_runs(make_runner, misbehave, tmp_path: Path):
    with pytest.raises(InputInvalid) as caught:
        create_job(misbehave, {"mode": "explode", "seconds": -1}, job_dir=tmp_path / "bad")
    assert "mode: must be one of" in str(caught.value) and "seconds: must be at least" in str(
        caught.value
    )
    assert not (tmp_path / "bad").exists()
    # a spec tampered with after creation is caught by the runner, before starting anything
    runner = make_runner(misbehave)
    job = create_job(misbehave, {"mode": "ok"}, job_dir=tmp_path / "job")
    spec = json.loads((job / "spec.json").read_text())
    spec["inputs"]["seconds"] = 1e9
    (job / "spec.json").write_text(json.dumps(spec))
    events: list[Event] = []
    result = runner.run(misbehave, job, on_event=events.append)
    assert result.error is not None and result.error.code == ErrorCode.INPUT_INVALID
    assert "seconds: must be at most 600" in result.error.message
    assert result.exit_code is None  # never started
    assert not any(e.type == "progress" or "mode=" in getattr(e, "message", "") for e in events)


@pytest.mark.parametrize(
    ("mode", "code", "message"),
    [
        ("fail", ErrorCode.MODEL_ERROR, "RuntimeError: boom"),
        ("exit", ErrorCode.MODEL_ERROR, "exited with code 3"),
        ("input-error", ErrorCode.INPUT_INVALID, "text: cannot be used"),
        ("no-output", ErrorCode.MODEL_ERROR, "no outputs"),
        ("silent-exit", ErrorCode.MODEL_ERROR, "wrote no output for result"),
        ("memory-error", ErrorCode.OOM, "out of memory"),
        # its own report wins over the crash that followed it (and the crash is said too)
        (
            "crash-after-error",
            ErrorCode.OOM,
            "CUDA out of memory (2.00 GiB) (the pipeline then crashed: SIGSEGV, exit code 139)",
        ),
    ],
)
def test_failures_map_to_codes(make_runner, misbehave, tmp_path: Path, mode, code, message):
    runner = make_runner(misbehave)
    events: list[Event] = []
    result = runner.run(
        misbehave, create_job(misbehave, {"mode": mode}, job_dir=tmp_path / "job"),
        on_event=events.append,
    )  # fmt: skip
    assert not result.ok and result.error is not None
    assert (result.error.code, result.outputs) == (code, {})
    assert message in result.error.message
    assert result.error.hint
    saved = json.loads((tmp_path / "job" / "result.json").read_text())
    assert saved["error"]["code"] == code.value
    # the stray print of the pipeline arrived as a log line
    assert any(e.type == "log" and f"mode={mode}" in e.message for e in events)
    no_containers_left(runner)


def test_timeout(make_runner, misbehave, tmp_path: Path):
    runner = make_runner(misbehave, grace_s=2)
    started = time.monotonic()
    job = create_job(misbehave, {"mode": "sleep", "seconds": 60}, job_dir=tmp_path / "job")
    result = runner.run(misbehave, job, timeout_s=1)
    assert result.error is not None and result.error.code == ErrorCode.TIMEOUT
    assert time.monotonic() - started < 10
    no_containers_left(runner)


def test_stubborn_job_is_killed_after_the_grace_period(make_runner, misbehave, tmp_path: Path):
    runner = make_runner(misbehave, grace_s=1)
    job = create_job(misbehave, {"mode": "stubborn", "seconds": 60}, job_dir=tmp_path / "job")
    started = time.monotonic()
    result = runner.run(misbehave, job, timeout_s=0.5)
    assert result.error is not None and result.error.code == ErrorCode.TIMEOUT
    assert time.monotonic() - started < 10
    no_containers_left(runner)


def test_cancel_during_a_job(make_runner, misbehave, tmp_path: Path):
    runner = make_runner(misbehave)
    cancel = threading.Event()
    progressed = threading.Event()

    def on_event(event):
        if event.type == "progress":
            progressed.set()

    job = create_job(misbehave, {"mode": "sleep", "seconds": 60}, job_dir=tmp_path / "job")
    outcome: dict[str, JobResult] = {}
    worker = threading.Thread(
        target=lambda: outcome.update(
            r=runner.run(misbehave, job, cancel=cancel, on_event=on_event)
        )
    )
    worker.start()
    assert progressed.wait(30), "the job never reported progress"
    started = time.monotonic()
    cancel.set()
    worker.join(30)
    assert not worker.is_alive()
    result = outcome["r"]
    assert result.error is not None and result.error.code == ErrorCode.CANCELED
    assert time.monotonic() - started < 10
    no_containers_left(runner)
