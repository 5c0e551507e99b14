"""Watching a job's cancel marker (:func:`studio.engine.jobs.cancel_marker`): one polling
thread per process for every running job, engine job or batch run, so a Cancel asked from
any kernel, server or worker that shares the project folder reaches it within
:data:`CANCEL_POLL_S`."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Final

CANCEL_POLL_S: Final = 0.2


class _CancelPoller:
    """The one thread of this process that looks for the cancel markers of its running jobs
    (every ``CANCEL_POLL_S``; started at the first job, kept)."""

    def __init__(self) -> None:
        self._watches: set[CancelWatch] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, watch: CancelWatch) -> None:
        with self._lock:
            self._watches.add(watch)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="studio-cancel-watch")  # fmt: skip
                self._thread.start()

    def discard(self, watch: CancelWatch) -> None:
        with self._lock:
            self._watches.discard(watch)

    def _run(self) -> None:
        while True:
            with self._lock:
                watches = list(self._watches)
            for watch in watches:
                try:
                    canceled = watch.marker.exists()
                except OSError:  # e.g. a stale NFS handle: this watch only, look again later
                    continue
                if canceled:
                    watch.event.set()
                    self.discard(watch)
            time.sleep(CANCEL_POLL_S)


_poller = _CancelPoller()


def _new_poller() -> None:
    global _poller
    _poller = _CancelPoller()


os.register_at_fork(after_in_child=_new_poller)


class CancelWatch:
    """Sets ``event`` when the job's cancel marker appears (looked for at once, then by the
    process's polling thread until :meth:`close`)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker
        self.event = threading.Event()
        if marker.exists():
            self.event.set()
        else:
            _poller.add(self)

    def close(self) -> None:
        _poller.discard(self)
