"""Pure parts of the kernel-side engine."""

from __future__ import annotations

from concurrent.futures import CancelledError

from distributed import KilledWorker

from studio.engine.engine import crash_message
from studio.errors import LFSRequired


def test_crash_messages_are_sentences_not_reprs():
    died = crash_message(KilledWorker("execute_shot_node-abc", "tcp://w:1"))
    assert died.startswith("the worker running this job died") and "dashboard" in died
    assert "cluster" in crash_message(CancelledError())
    assert crash_message(LFSRequired("x.bin is not tracked", hint="add it")) == (
        "x.bin is not tracked\n  hint: add it"
    )
    assert crash_message(OSError(28, "No space left on device")) == (
        "OSError: [Errno 28] No space left on device"
    )
    assert crash_message(None) == "the job ended without a result"
