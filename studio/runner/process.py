"""ProcessRunner: the pipeline contract as a local subprocess (the embedded default when no
Docker daemon is reachable). Same entrypoint, same job folder, same event lines; no isolation
(no network or memory limits), so it is for trusted pipelines on one's own machine.

A pipeline killed by SIGKILL is an out-of-memory kill only when the kernel says so: the
``oom_kill`` counter of this process's memory cgroup (v2 ``memory.events``, v1
``memory.oom_control``; the pipeline runs in the same cgroup) rose while it ran. When the
counter did not rise something outside the studio killed it, and the job says that
(``KILLED``); when no counter is readable the job says it cannot tell which."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Final

from studio.config import load_settings
from studio.pipelines import Pipeline
from studio.runner.base import EventCollector, Exit, Runner
from studio.runner.build import stage_sdk
from studio.runner.contract import JobSpec, ProgressEvent, models_env
from studio.runner.environments import ensure_environment

POLL_S = 0.05
CGROUP_ROOT: Final = Path("/sys/fs/cgroup")
PROC_CGROUP: Final = Path("/proc/self/cgroup")
SIGKILL_EXIT: Final = 128 + signal.SIGKILL


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


def parse_oom_kills(text: str) -> int | None:
    """Pure: the ``oom_kill N`` line of ``memory.events`` / ``memory.oom_control``."""
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            return int(value)
    return None


def oom_counter_files(proc_cgroup: str, *, root: Path = CGROUP_ROOT) -> list[Path]:
    """Pure: where this process's memory cgroup counts OOM kills, from ``/proc/self/cgroup``
    (``0::/path`` is cgroup v2, ``N:memory:/path`` the v1 memory controller)."""
    files = []
    for line in proc_cgroup.splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        relative = path.strip().lstrip("/")
        if hierarchy == "0" and controllers == "":
            files.append(root / relative / "memory.events")
        elif "memory" in controllers.split(","):
            files.append(root / "memory" / relative / "memory.oom_control")
    return files


def oom_kills(*, proc_cgroup: Path = PROC_CGROUP, root: Path | None = None) -> int | None:
    """How many processes the OOM killer has killed in this process's memory cgroup; None
    where that cannot be read (not Linux, no memory controller, a file not mounted here).
    ``root`` defaults to :data:`CGROUP_ROOT` as it is at the call."""
    try:
        candidates = oom_counter_files(proc_cgroup.read_text(), root=root or CGROUP_ROOT)
    except OSError:
        return None
    for path in candidates:
        try:
            count = parse_oom_kills(path.read_text())
        except OSError:
            continue
        if count is not None:
            return count
    return None


def killed_by_oom(exit_code: int, *, before: int | None, after: int | None) -> bool | None:
    """Pure: a SIGKILL while the cgroup's OOM-kill counter rose is the OOM killer's; one while
    it stood still is not; None when a SIGKILL meets an unreadable counter (cannot tell).
    The kernel's OOM killer sends nothing but SIGKILL, so other exits are never its."""
    if exit_code != SIGKILL_EXIT:
        return False
    if before is None or after is None:
        return None
    return after > before


def oom_evidence(killed: bool | None) -> str:
    """Pure: what :func:`killed_by_oom`'s answer rests on, for the job's message."""
    if killed is None:
        return "no OOM-kill counter of this process's memory cgroup is readable"
    if killed:
        return "the memory cgroup's OOM-kill counter rose"
    return "the memory cgroup's OOM-kill counter did not rise"


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

    def env(self, models: dict[str, str] | None = None) -> dict[str, str]:
        """The subprocess's environment; ``models``: the job's model folders, on this host."""
        return {
            **os.environ,
            "PYTHONPATH": str(self.root),
            "PYTHONUNBUFFERED": "1",
            "HF_HUB_OFFLINE": "1",  # weights come from the model store, never the network
            **models_env(models or {}),
        }

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class ProcessRunner(Runner):
    """Each pipeline runs in its own environment, made from its ``requirements.txt`` on first
    use (:mod:`studio.runner.environments`); ``python`` runs every pipeline with that
    interpreter instead (one that already has their packages)."""

    name = "process"

    def __init__(self, *, python: str | None = None, grace_s: float | None = None) -> None:
        self.python = python
        self.grace_s = load_settings().cancel_grace_s if grace_s is None else grace_s
        self._sdk = SdkPath()

    def close(self) -> None:
        self._sdk.remove()

    def prepare(
        self,
        pipeline: Pipeline,
        *,
        on_progress: Callable[[ProgressEvent], None],
        cancel: threading.Event,
    ) -> None:
        if self.python is None:
            ensure_environment(pipeline, on_progress=on_progress, cancel=cancel)

    def python_for(self, pipeline: Pipeline) -> str:
        """The interpreter ``pipeline`` runs with: its environment (made by ``prepare``, so
        only found here)."""
        return self.python or str(ensure_environment(pipeline, on_progress=lambda event: None))

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
        oom_before = oom_kills()
        python = self.python_for(pipeline)
        proc = subprocess.Popen(
            [python, str(pipeline.entrypoint), "--job", str(job_dir), "--watch-stdin"],
            cwd=pipeline.folder,
            env=self._sdk.env(spec.models),
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
        oom = killed_by_oom(code, before=oom_before, after=oom_kills())
        return Exit(
            exit_code=code,
            oom_killed=oom,
            oom_evidence=oom_evidence(oom),
            canceled=canceled,
            timed_out=timed_out,
        )
