"""Pure parts of the kernel-side engine."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError
from typing import Any

from studio.engine import engine as engine_module
from studio.engine.engine import Engine, crash_message
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


class FakeJob:
    def __init__(self, n: int, project: Any) -> None:
        self.id, self.node_id, self.project = f"job-{n}", f"node-{n % 7}", project
        self._done = n % 2 == 0

    def done(self) -> bool:
        return self._done


def test_jobs_are_kept_and_searched_from_many_threads(project, monkeypatch):
    monkeypatch.setattr(engine_module, "KEEP_FINISHED_JOBS", 5)
    engine = Engine(client=object())  # type: ignore[arg-type]  # the table needs no cluster
    errors: list[BaseException] = []

    def submit(offset: int) -> None:
        try:
            for n in range(offset, offset + 3000):
                engine._remember(FakeJob(n, project))  # type: ignore[arg-type]
                engine.running_job(project, "node-3")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(i * 10_000,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(job.done() for job in engine._jobs.values()) <= 5
