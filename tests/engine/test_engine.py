"""Pure parts of the kernel-side engine."""

from __future__ import annotations

import json
from concurrent.futures import CancelledError

from studio.engine.engine import crash_message
from studio.errors import LFSRequired


def test_crash_messages_are_sentences_not_reprs():
    # (KilledWorker from a real worker death: tests/engine/test_reliability.py)
    assert "cluster" in crash_message(CancelledError())
    assert crash_message(LFSRequired("x.bin is not tracked", hint="add it")) == (
        "x.bin is not tracked\n  hint: add it"
    )
    assert crash_message(OSError(28, "No space left on device")) == (
        "OSError: [Errno 28] No space left on device"
    )
    assert crash_message(None) == "the job ended without a result"


def test_the_scheduler_comes_from_the_environment_else_workspace_json(
    project, workspace, monkeypatch
):
    from studio.engine.engine import _setting

    monkeypatch.delenv("STUDIO_SCHEDULER", raising=False)
    assert _setting(project, "scheduler") is None  # a local cluster
    config = workspace.path / "workspace.json"
    config.write_text(
        json.dumps({**json.loads(config.read_text()), "scheduler": "tcp://team:8786"})
    )
    assert _setting(project, "scheduler") == "tcp://team:8786"
    monkeypatch.setenv("STUDIO_SCHEDULER", "tcp://mine:8786")
    assert _setting(project, "scheduler") == "tcp://mine:8786"
