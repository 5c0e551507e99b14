"""ProcessRunner: the pipeline contract as a local subprocess (the embedded default when no
Docker daemon is reachable). Same entrypoint, same job folder, same event lines; no isolation
(no network or memory limits), so it is for trusted pipelines on one's own machine."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

from studio.config import load_settings
from studio.pipelines import Pipeline
from studio.runner.base import EventCollector, Exit, Runner
from studio.runner.build import stage_sdk
from studio.runner.contract import JobSpec

POLL_S = 0.05


def pump_lines(stream: IO[bytes], collector: EventCollector, *, name: str) -> threading.Thread:
    """Read ``stream`` line by line into ``collector`` on a daemon thread."""

    def pump() -> None:
        for line in iter(stream.readline, b""):
            collector.line(line, stream=name)
        stream.close()

    thread = threading.Thread(target=pump, daemon=True, name=f"pump-{name}")
    thread.start()
    return thread


def signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the pipeline and its children (ffmpeg, ...): it leads its own session."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def stop_process(proc: subprocess.Popen[bytes], *, grace_s: float) -> None:
    """SIGTERM (the SDK unwinds ``predict`` and reports CANCELED), SIGKILL after ``grace_s``."""
    signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        signal_group(proc, signal.SIGKILL)
        proc.wait()
    signal_group(proc, signal.SIGKILL)  # children that outlived their parent


def exit_status(returncode: int) -> int:
    """Popen's ``-N`` for "killed by signal N" as a shell/docker-style ``128 + N``."""
    return 128 - returncode if returncode < 0 else returncode


class SdkPath:
    """A staged copy of :mod:`studio.sdk` as a package ``studio`` holding only the SDK, put
    first on the subprocess's ``PYTHONPATH``: the entrypoint sees what a container sees and
    does not pay for importing the whole studio."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="studio-sdk-"))
        stage_sdk(self.root)

    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(self.root), "PYTHONUNBUFFERED": "1"}

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class ProcessRunner(Runner):
    name = "process"

    def __init__(self, *, python: str | None = None, grace_s: float | None = None) -> None:
        self.python = python or sys.executable
        self.grace_s = load_settings().cancel_grace_s if grace_s is None else grace_s
        self._sdk = SdkPath()

    def close(self) -> None:
        self._sdk.remove()

    def _execute(
        self,
        pipeline: Pipeline,
        job_dir: Path,
        spec: JobSpec,
        *,
        collector: EventCollector,
        cancel: threading.Event,
        deadline: float,
    ) -> Exit:
        proc = subprocess.Popen(
            [self.python, str(pipeline.entrypoint), "--job", str(job_dir), "--watch-stdin"],
            cwd=pipeline.folder,
            env=self._sdk.env(),
            stdin=subprocess.PIPE,  # held open: the SDK stops the job if we die (EOF)
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        if proc.stdout is None or proc.stderr is None:
            raise RuntimeError("subprocess pipes missing")  # unreachable: PIPE was requested
        pumps = [
            pump_lines(proc.stdout, collector, name="stdout"),
            pump_lines(proc.stderr, collector, name="stderr"),
        ]
        canceled = timed_out = False
        while proc.poll() is None:
            if cancel.is_set() or time.monotonic() > deadline:
                canceled, timed_out = cancel.is_set(), not cancel.is_set()
                stop_process(proc, grace_s=self.grace_s)
                break
            cancel.wait(POLL_S)
        for pump in pumps:
            pump.join(timeout=5)
        if proc.stdin is not None:
            proc.stdin.close()
        code = exit_status(proc.wait())
        return Exit(exit_code=code, canceled=canceled, timed_out=timed_out)
