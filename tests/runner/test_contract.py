"""The job contract: event lines, error classification, the job spec. Pure."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from studio.runner.contract import (
    ErrorCode,
    ErrorEvent,
    Event,
    JobSpec,
    LogEvent,
    OutputEvent,
    ProgressEvent,
    ReadyEvent,
    classify_exit,
    event_line,
    exit_signal,
    parse_event_line,
)


def test_event_lines_round_trip():
    events: list[Event] = [
        ProgressEvent(step=3, total=10, message="denoising", preview="p.png"),
        LogEvent(message="hello"),
        OutputEvent(name="image", path="frame.png"),
        ErrorEvent(code=ErrorCode.OOM, message="out of memory", job="j1"),
        ReadyEvent(setup_s=1.5),
    ]
    for event in events:
        line = event_line(event)
        assert line.endswith("\n") and "\n" not in line[:-1]
        assert parse_event_line(line) == event


def test_non_event_lines_become_logs_never_errors():
    assert parse_event_line("Downloading model...\n") == LogEvent(message="Downloading model...")
    assert parse_event_line('{"type": "progress", "step": -1}') == LogEvent(
        message='{"type": "progress", "step": -1}'
    )
    assert parse_event_line('{"type": "nope"}').type == "log"
    assert parse_event_line("{not json").type == "log"
    # stderr is never parsed as events: a library cannot forge an output or an error there
    forged = json.dumps({"type": "error", "code": "OOM", "message": "x"})
    assert parse_event_line(forged, stream="stderr") == LogEvent(message=forged, stream="stderr")


def test_unknown_error_code_is_not_an_error_event():
    assert parse_event_line('{"type": "error", "code": "WHATEVER", "message": "m"}').type == "log"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"exit_code": 0}, None),
        ({"exit_code": 1}, ErrorCode.MODEL_ERROR),
        ({"exit_code": None}, ErrorCode.MODEL_ERROR),
        ({"exit_code": 137}, ErrorCode.KILLED),  # SIGKILL alone is not an OOM
        ({"exit_code": 143}, ErrorCode.KILLED),  # SIGTERM from outside
        ({"exit_code": 139}, ErrorCode.MODEL_ERROR),  # SIGSEGV: a crash
        ({"exit_code": 137, "oom_killed": True}, ErrorCode.OOM),
        ({"exit_code": 1, "oom_killed": True}, ErrorCode.OOM),
        ({"exit_code": 137, "canceled": True}, ErrorCode.CANCELED),
        ({"exit_code": 137, "timed_out": True}, ErrorCode.TIMEOUT),
        ({"exit_code": 0, "timed_out": True}, ErrorCode.TIMEOUT),
        (
            {"exit_code": 1, "reported": ErrorEvent(code=ErrorCode.INPUT_INVALID, message="m")},
            ErrorCode.INPUT_INVALID,
        ),
        (
            {
                "exit_code": 1,
                "canceled": True,
                "reported": ErrorEvent(code="MODEL_ERROR", message="m"),
            },
            ErrorCode.CANCELED,
        ),
    ],
)
def test_classify_exit(kwargs, code):
    result = classify_exit(**kwargs)
    assert (result.code if result else None) == code
    if result is not None:
        assert result.hint  # every failure tells the user what to do


def test_oom_advice_mentions_quality():
    result = classify_exit(exit_code=137, oom_killed=True)
    assert result is not None and "quality" in result.hint


def test_a_kill_names_its_signal():
    result = classify_exit(exit_code=137, oom_killed=False, oom_evidence="the counter says so")
    assert result is not None and result.code == ErrorCode.KILLED
    assert "SIGKILL" in result.message and "out of memory" not in result.message
    assert "not an out-of-memory kill: the counter says so" in result.message
    assert exit_signal(137) == "SIGKILL" and exit_signal(1) is None and exit_signal(None) is None


def test_a_sigkill_nothing_can_explain_is_not_called_a_kill_from_outside_only():
    # no memory.events / no OOM-kill counter: either may have killed it, and the job says so
    result = classify_exit(exit_code=137, oom_evidence="no OOM-kill counter is readable")
    assert result is not None and result.code == ErrorCode.KILLED
    assert "not an out-of-memory kill" not in result.message
    assert "whether it ran out of memory cannot be told here" in result.message
    assert "(no OOM-kill counter is readable)" in result.message
    assert "quality" in result.hint  # the OOM advice too: it may have been one
    bare = classify_exit(exit_code=137, oom_killed=None)
    assert bare is not None
    assert bare.message.endswith("whether it ran out of memory cannot be told here")


def test_other_signals_are_never_the_oom_killers():
    result = classify_exit(exit_code=143, oom_killed=None)
    assert result is not None and result.code == ErrorCode.KILLED
    assert "SIGTERM from outside the studio" in result.message
    assert "cannot be told" not in result.message


@pytest.mark.parametrize(
    ("reported", "code"),
    [(ErrorCode.MODEL_ERROR, ErrorCode.MODEL_ERROR), (ErrorCode.OOM, ErrorCode.OOM)],
)
def test_a_crash_after_the_pipelines_own_report_keeps_the_report(reported, code):
    report = ErrorEvent(code=reported, message="CUDA error: an illegal memory access")
    for exit_code, name in [(134, "SIGABRT"), (139, "SIGSEGV")]:
        result = classify_exit(exit_code=exit_code, reported=report)
        assert result is not None and result.code == code
        assert result.message == (
            f"CUDA error: an illegal memory access (the pipeline then crashed: {name}, "
            f"exit code {exit_code})"
        )
    # a crash with nothing reported is still the crash; a kill from outside still wins
    crashed = classify_exit(exit_code=139)
    assert crashed is not None and crashed.message.startswith("the pipeline crashed (SIGSEGV")
    killed = classify_exit(exit_code=137, oom_killed=False, reported=report)
    assert killed is not None and killed.code == ErrorCode.KILLED


def test_job_spec_rejects_unsafe_ids():
    JobSpec(job_id="a1_b.c-d", pipeline="p", inputs={})
    for bad in ["", "../x", "a/b", "x" * 200]:
        with pytest.raises(ValidationError):
            JobSpec(job_id=bad, pipeline="p", inputs={})
