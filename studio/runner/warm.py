"""Warm mode: one long-lived worker (a container or a process) per pipeline and quality
serves many jobs over a line protocol on its stdin/stdout, so model setup is paid once.

Requests (one JSON object per line on the worker's stdin)::

    {"op": "run", "job": ID, "job_dir": DIR, "outputs_dir": DIR}
    {"op": "cancel", "job": ID}

Events come back as in one-shot mode, tagged with ``job``, plus ``ready`` (after setup) and
``done`` (after each job). A cancel is cooperative first (the SDK raises ``Canceled`` at the
next ``progress()``); after the grace period the worker is killed. Workers are evicted
least-recently-used when a new one needs room in the memory/VRAM budget. A worker that dies
fails the job it held with a clear code and is started afresh for the next job.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from studio.config import load_settings
from studio.errors import StudioError
from studio.pipelines import Pipeline
from studio.runner.base import EventCollector, Exit, LineSplitter, Runner
from studio.runner.build import sources_digest
from studio.runner.contract import (
    INPUTS_DIR,
    OUTPUTS_DIR,
    SPEC_FILE,
    DoneEvent,
    ErrorCode,
    ErrorEvent,
    Event,
    JobSpec,
    LogEvent,
    ProgressEvent,
    ReadyEvent,
    exit_signal,
    failure,
    parse_event_line,
)
from studio.runner.docker import (
    DockerRunner,
    container_image_id,
    docker_oom_verdict,
    remove_quietly,
)
from studio.runner.environments import ensure_environment
from studio.runner.process import SdkPath, exit_status, killed_by_oom, oom_evidence, oom_kills

if TYPE_CHECKING:
    from docker.models.containers import Container

POLL_S = 0.05
LineSink = Callable[[str, bytes], None]


@dataclass(frozen=True)
class Cost:
    memory_gb: float
    vram_gb: float


def fits(used: Cost, extra: Cost, *, memory_budget_gb: float, vram_budget_gb: float) -> bool:
    memory_ok = used.memory_gb + extra.memory_gb <= memory_budget_gb
    return memory_ok and used.vram_gb + extra.vram_gb <= vram_budget_gb


def eviction_order(last_used: dict[str, float]) -> list[str]:
    """Idle workers, least recently used first."""
    return sorted(last_used, key=lambda key: last_used[key])


class Transport(Protocol):
    """How the pool talks to one worker (a local process or a container)."""

    def start(self, on_line: LineSink, on_eof: Callable[[], None]) -> None: ...
    def send(self, line: str) -> None: ...
    def stage(self, job_dir: Path, job_id: str) -> tuple[str, str]:
        """Make the job visible to the worker; returns its (job_dir, outputs_dir) there."""
        ...

    def collect(self, job_dir: Path, job_id: str) -> None:
        """Bring the job's outputs back into ``job_dir/outputs`` and drop staged files."""
        ...

    def stop(self) -> None:
        """Close stdin (the worker exits at EOF), kill it if it lingers."""
        ...

    def kill(self) -> None: ...
    def exit_info(self) -> tuple[int | None, bool | None, str]:
        """(exit code, OOM-killed, what says so) once the worker has ended; OOM-killed is
        None where nothing can tell."""
        ...

    def image_digest(self) -> str | None:
        """The ID of the image the worker's container runs; None for a local process."""
        ...


class ProcessTransport:
    def __init__(
        self, pipeline: Pipeline, sdk: SdkPath, python: str, models: dict[str, str]
    ) -> None:
        self._args = [python, str(pipeline.entrypoint), "--warm"]
        self._cwd = pipeline.folder
        self._env = sdk.env(models)
        self._proc: subprocess.Popen[bytes] | None = None
        self._oom_before: int | None = None

    def start(self, on_line: LineSink, on_eof: Callable[[], None]) -> None:
        self._oom_before = oom_kills()
        proc = subprocess.Popen(
            self._args,
            cwd=self._cwd,
            env=self._env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._proc = proc

        def pump(stream: Any, name: str, last: bool) -> None:
            for line in iter(stream.readline, b""):
                on_line(name, line)
            if last:
                proc.wait()
                on_eof()

        threading.Thread(target=pump, args=(proc.stdout, "stdout", True), daemon=True).start()
        threading.Thread(target=pump, args=(proc.stderr, "stderr", False), daemon=True).start()

    def send(self, line: str) -> None:
        if self._proc is None or self._proc.stdin is None:
            raise RuntimeError("the warm worker was not started")
        self._proc.stdin.write(line.encode())
        self._proc.stdin.flush()

    def stage(self, job_dir: Path, job_id: str) -> tuple[str, str]:
        self._oom_before = oom_kills()  # a death during this job: did the counter rise in it?
        return str(job_dir), str(job_dir / OUTPUTS_DIR)  # same filesystem: nothing to copy

    def collect(self, job_dir: Path, job_id: str) -> None:
        pass

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()

    def exit_info(self) -> tuple[int | None, bool | None, str]:
        code = self._proc.poll() if self._proc else None
        if code is None:
            return None, None, "the worker's exit status is unknown"
        status = exit_status(code)
        oom = killed_by_oom(status, before=self._oom_before, after=oom_kills())
        return status, oom, oom_evidence(oom)

    def image_digest(self) -> str | None:
        return None


class DockerTransport:
    """A container with stdin attached. Jobs are staged into the worker's own folders:
    ``in/`` (read-only in the container) and ``out/`` (its only writable mount)."""

    IN, OUT = "/jobs/in", "/jobs/out"

    def __init__(self, pipeline: Pipeline, spec: JobSpec, runner: DockerRunner) -> None:
        from docker.types import Mount

        self._runner = runner
        self._pipeline = pipeline
        self._root = Path(tempfile.mkdtemp(prefix=f"studio-warm-{pipeline.id}-"))
        (self._root / "in").mkdir()
        (self._root / "out").mkdir()
        runner.hand_over(self._root / "out")
        mounts = [
            Mount(target=self.IN, source=str(self._root / "in"), type="bind", read_only=True),
            Mount(target=self.OUT, source=str(self._root / "out"), type="bind", read_only=False),
        ]
        self._options = runner.options(pipeline, spec.model_copy(update={"job_id": "warm"}), mounts)
        self._options["stdin_open"] = True
        self._container: Container | None = None
        self._socket: Any = None

    def start(self, on_line: LineSink, on_eof: Callable[[], None]) -> None:
        from docker.utils.socket import STDERR, frames_iter

        container = self._runner.create(self._pipeline, ["--warm"], self._options)
        self._container = container
        # Attach before start, so not a byte of the setup's output is missed.
        self._socket = self._runner.client.api.attach_socket(
            container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
        )
        container.start()

        def pump() -> None:
            splitters = {name: LineSplitter(_sink(on_line, name)) for name in ("stdout", "stderr")}
            try:
                for stream_id, data in frames_iter(self._socket, tty=False):
                    splitters["stderr" if stream_id == STDERR else "stdout"].feed(data)
            except OSError:
                pass
            for splitter in splitters.values():
                splitter.close()
            with contextlib.suppress(Exception):  # removed already: exit_info reports None
                container.wait(timeout=30)
            on_eof()

        threading.Thread(target=pump, daemon=True, name=f"warm-{self._pipeline.id}").start()

    def send(self, line: str) -> None:
        self._socket._sock.sendall(line.encode())

    def stage(self, job_dir: Path, job_id: str) -> tuple[str, str]:
        staged = self._root / "in" / job_id
        staged.mkdir()
        shutil.copy2(job_dir / SPEC_FILE, staged / SPEC_FILE)
        if (job_dir / INPUTS_DIR).is_dir():
            shutil.copytree(job_dir / INPUTS_DIR, staged / INPUTS_DIR, copy_function=_link_or_copy)
        out = self._root / "out" / job_id
        out.mkdir()
        self._runner.hand_over(out)
        return f"{self.IN}/{job_id}", f"{self.OUT}/{job_id}"

    def collect(self, job_dir: Path, job_id: str) -> None:
        out = self._root / "out" / job_id
        if out.is_dir():
            for item in out.iterdir():
                item.replace(job_dir / OUTPUTS_DIR / item.name)
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(self._root / "in" / job_id, ignore_errors=True)

    def stop(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket._sock.shutdown(1)  # SHUT_WR: stdin EOF, the worker exits
        if self._container is not None:
            with contextlib.suppress(Exception):  # it did not exit in time: removed below
                self._container.wait(timeout=5)
        self.kill()

    def kill(self) -> None:
        if self._container is not None:
            remove_quietly(self._container)
        shutil.rmtree(self._root, ignore_errors=True)

    def exit_info(self) -> tuple[int | None, bool | None, str]:
        if self._container is None:
            return None, None, "the worker's container was never created"
        try:
            self._container.reload()
        except Exception as exc:
            return None, None, f"the worker's container cannot be inspected ({exc})"
        state = self._container.attrs["State"]
        return (state.get("ExitCode"), *docker_oom_verdict(state))

    def image_digest(self) -> str | None:
        return None if self._container is None else container_image_id(self._container)


def _sink(on_line: LineSink, stream: str) -> Callable[[bytes], None]:
    return lambda line: on_line(stream, line)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@dataclass
class _Job:
    job_id: str
    collector: EventCollector
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False


class WarmWorker:
    """One worker: starts it, waits for ``ready``, routes its events to the job it runs."""

    def __init__(self, key: str, transport: Transport, cost: Cost, *, label: str = "") -> None:
        self.key = key
        self.label = label or key
        """What users see (``pipeline@quality``); ``key`` also names the sources."""
        self.transport = transport
        self.cost = cost
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.dead = threading.Event()
        self.setup_error: ErrorEvent | None = None
        self.log_tail: list[str] = []
        self._job: _Job | None = None

    def start(self, *, timeout_s: float) -> None:
        self.transport.start(self._on_line, self._on_eof)
        deadline = time.monotonic() + timeout_s
        while not self.ready.wait(POLL_S):
            if self.dead.is_set() or time.monotonic() > deadline:
                self.transport.kill()
                why = (
                    self.setup_error.message
                    if self.setup_error
                    else f"no ready signal within {timeout_s:g} s"
                    if not self.dead.is_set()
                    else f"the worker exited during setup: {' | '.join(self.log_tail[-5:])}"
                )
                raise StudioError(f"warm worker {self.label} failed to start: {why}")

    def _on_line(self, stream: str, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace")
        if not text.strip():
            return
        event: Event = parse_event_line(text, stream="stderr" if stream == "stderr" else "stdout")
        job = self._job
        if isinstance(event, ReadyEvent):
            self.ready.set()
            return
        if isinstance(event, ErrorEvent) and event.job is None and not self.ready.is_set():
            self.setup_error = event
        if isinstance(event, LogEvent):
            self.log_tail = [*self.log_tail[-19:], event.message]
        if job is None or (event.job is not None and event.job != job.job_id):
            return
        if isinstance(event, DoneEvent):
            job.ok = event.ok
            job.done.set()
        else:
            job.collector(event)

    def _on_eof(self) -> None:
        self.dead.set()
        if self._job is not None:
            self._job.done.set()

    def run(
        self,
        job_dir: Path,
        job_id: str,
        collector: EventCollector,
        *,
        cancel: threading.Event,
        deadline: float,
        grace_s: float,
    ) -> Exit:
        job = _Job(job_id, collector)
        self._job = job
        try:
            inside_dir, inside_out = self.transport.stage(job_dir, job_id)
            request = {"op": "run", "job": job_id, "job_dir": inside_dir, "outputs_dir": inside_out}
            self.transport.send(json.dumps(request) + "\n")
            canceled = timed_out = False
            while not job.done.wait(POLL_S):
                if cancel.is_set() or time.monotonic() > deadline:
                    canceled, timed_out = cancel.is_set(), not cancel.is_set()
                    self.transport.send(json.dumps({"op": "cancel", "job": job_id}) + "\n")
                    if not job.done.wait(grace_s):
                        self.transport.kill()  # ignored the cancel: restarted for the next job
                        self.dead.set()
                    break
            if self.dead.is_set() and not (canceled or timed_out):
                code, oom, evidence = self.transport.exit_info()
                if oom or exit_signal(code) is not None:  # killed or crashed: say by what
                    return Exit(code, oom_killed=oom, oom_evidence=evidence)
                return Exit(
                    code,
                    problem=failure(
                        ErrorCode.MODEL_ERROR,
                        f"the warm worker of {self.label} crashed (exit code {code}): the "
                        f"pipeline exited with code {code} while running this job; a fresh "
                        "worker will serve the next job",
                    ),
                )
            self.transport.collect(job_dir, job_id)
            return Exit(
                0 if job.ok else 1,
                canceled=canceled,
                timed_out=timed_out,
                image_digest=self.transport.image_digest(),
            )
        finally:
            self._job = None

    def stop(self) -> None:
        self.transport.stop()
        self.dead.set()


class WarmRunner(Runner):
    """A pool of warm workers behind the Runner interface.

    ``backend`` picks containers (through a :class:`DockerRunner`, with all its security
    options and labels) or local processes."""

    def __init__(
        self,
        backend: Literal["docker", "process"] = "process",
        *,
        docker: DockerRunner | None = None,
        memory_budget_gb: float | None = None,
        vram_budget_gb: float | None = None,
        grace_s: float | None = None,
    ) -> None:
        settings = load_settings()
        self.name = f"warm-{backend}"
        self.backend = backend
        self._docker = docker if docker is not None or backend == "process" else DockerRunner()
        self._sdk = SdkPath() if backend == "process" else None
        total_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
        self.memory_budget_gb = (
            memory_budget_gb
            if memory_budget_gb is not None
            else settings.warm_memory_budget_gb or total_gb / 2
        )
        self.vram_budget_gb = (
            vram_budget_gb if vram_budget_gb is not None else settings.warm_vram_budget_gb
        )
        self.grace_s = settings.cancel_grace_s if grace_s is None else grace_s
        self._workers: dict[str, WarmWorker] = {}
        self._last_used: dict[str, float] = {}
        self._lock = threading.Lock()
        self.starts = 0
        """Workers started so far (each one paid the pipeline's setup once)."""
        self.evictions = 0

    def prepare(
        self,
        pipeline: Pipeline,
        *,
        on_progress: Callable[[ProgressEvent], None],
        cancel: threading.Event,
    ) -> None:
        if self._docker is not None and self.backend == "docker":
            self._docker.prepare(pipeline, on_progress=on_progress, cancel=cancel)
        else:
            ensure_environment(pipeline, on_progress=on_progress, cancel=cancel)

    def workers(self) -> list[str]:
        with self._lock:
            return [w.label for w in self._workers.values() if not w.dead.is_set()]

    def _transport(self, pipeline: Pipeline, spec: JobSpec) -> Transport:
        if self._docker is not None and self.backend == "docker":
            return DockerTransport(pipeline, spec, self._docker)
        if self._sdk is None:
            raise RuntimeError("a process pool needs a staged SDK")
        # Made by prepare(), before the job's time limit: only found here.
        python = str(ensure_environment(pipeline, on_progress=lambda event: None))
        return ProcessTransport(pipeline, self._sdk, python, spec.models)

    def _acquire(self, pipeline: Pipeline, spec: JobSpec, deadline: float) -> WarmWorker:
        # The sources digest keeps a worker of an edited (or another folder's same-id)
        # pipeline from serving jobs it was not started for.
        label = f"{pipeline.id}@{spec.quality}"
        # ... nor one started with other model folders (its mounts and environment are fixed).
        models = ",".join(f"{k}={v}" for k, v in sorted(spec.models.items()))
        key = f"{label}#{sources_digest(pipeline)[:12]}" + (f"#{models}" if models else "")
        resources = pipeline.manifest.resources_for(spec.quality)
        cost = Cost(resources.memory_gb, resources.vram_gb)
        if not fits(
            Cost(0, 0),
            cost,
            memory_budget_gb=self.memory_budget_gb,
            vram_budget_gb=self.vram_budget_gb,
        ):
            raise StudioError(
                f"{label} needs {cost.memory_gb:g} GB memory / {cost.vram_gb:g} GB VRAM, more "
                f"than the warm budget ({self.memory_budget_gb:g} / {self.vram_budget_gb:g} GB)",
                hint="raise STUDIO_WARM_MEMORY_BUDGET_GB / STUDIO_WARM_VRAM_BUDGET_GB or run "
                "the pipeline one-shot",
            )
        while True:
            with self._lock:
                worker = self._workers.get(key)
                if worker is not None and not worker.dead.is_set():
                    self._last_used[key] = time.monotonic()
                    return worker
                self._workers.pop(key, None)
                self._last_used.pop(key, None)
                if self._make_room(cost):
                    worker = WarmWorker(key, self._transport(pipeline, spec), cost, label=label)
                    self._workers[key] = worker
                    self._last_used[key] = time.monotonic()
                    break
            if time.monotonic() > deadline:
                raise StudioError(f"no room in the warm budget for {label}: all workers are busy")
            time.sleep(POLL_S)
        try:
            with worker.lock:
                self.starts += 1
                worker.start(timeout_s=pipeline.manifest.setup_timeout_s)
        except BaseException:
            with self._lock:
                self._workers.pop(key, None)
                self._last_used.pop(key, None)
            raise
        return worker

    def release(self, *, memory_gb: float = 0.0, vram_gb: float = 0.0) -> bool:
        """Stop idle workers, least recently used first, until ``memory_gb`` / ``vram_gb``
        more would fit the budgets (for a job that runs outside the pool on the same GPU:
        the cluster does not see what idle warm workers hold). False when busy workers
        alone hold too much."""
        with self._lock:
            return self._make_room(Cost(memory_gb, vram_gb))

    def _make_room(self, cost: Cost) -> bool:
        """Evict idle workers, least recently used first, until ``cost`` fits (lock held)."""
        for key in [None, *eviction_order(self._last_used)]:
            if key is not None:
                worker = self._workers[key]
                if not worker.lock.acquire(blocking=False):
                    continue  # busy: not evictable now
                try:
                    worker.stop()
                finally:
                    worker.lock.release()
                del self._workers[key], self._last_used[key]
                self.evictions += 1
            used = Cost(
                sum(w.cost.memory_gb for w in self._workers.values()),
                sum(w.cost.vram_gb for w in self._workers.values()),
            )
            if fits(
                used,
                cost,
                memory_budget_gb=self.memory_budget_gb,
                vram_budget_gb=self.vram_budget_gb,
            ):
                return True
        return False

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
        budget_s = deadline - time.monotonic()  # the job's time starts once a worker is ready
        setup_deadline = time.monotonic() + pipeline.manifest.setup_timeout_s
        while True:
            try:
                worker = self._acquire(pipeline, spec, setup_deadline)
            except StudioError as exc:
                return Exit(None, problem=failure(ErrorCode.SETUP_FAILED, exc.message))
            with worker.lock:
                deadline = time.monotonic() + budget_s
                if worker.dead.is_set():
                    continue  # evicted or crashed between acquire and lock: get a fresh one
                with self._lock:
                    self._last_used[worker.key] = time.monotonic()
                return worker.run(
                    job_dir,
                    spec.job_id,
                    collector,
                    cancel=cancel,
                    deadline=deadline,
                    grace_s=self.grace_s,
                )

    def close(self) -> None:
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
            self._last_used.clear()
        for worker in workers:
            worker.stop()
        if self._sdk is not None:
            self._sdk.remove()
        if self._docker is not None:
            self._docker.close()
