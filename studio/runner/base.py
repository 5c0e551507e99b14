"""The one Runner interface, job folder creation, and what every runner does around a job:
validate before running, collect events, decide the outcome, write ``result.json``."""

from __future__ import annotations

import abc
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from studio.documents import load_model, write_model
from studio.errors import ManifestError, StudioError
from studio.models.ids import missing_message
from studio.pipelines import InputInvalid, Pipeline, validate_inputs
from studio.quality import Quality
from studio.runner.contract import (
    INPUTS_DIR,
    OUTPUTS_DIR,
    RESULT_FILE,
    SPEC_FILE,
    ErrorCode,
    ErrorEvent,
    Event,
    JobFailure,
    JobResult,
    JobSpec,
    LogEvent,
    OutputEvent,
    ProgressEvent,
    classify_exit,
    failure,
    missing_models,
    parse_event_line,
)

EventHandler = Callable[[Event], None]


def create_job(
    pipeline: Pipeline,
    inputs: dict[str, Any],
    *,
    job_dir: Path,
    quality: Quality = "low",
    gpus: tuple[str, ...] = (),
    job_id: str | None = None,
    models: dict[str, Path] | None = None,
    vram_gb: float = 0,
    lighter: int = 0,
) -> Path:
    """Validate ``inputs`` against the manifest and lay out a job folder: input files are
    copied into ``inputs/`` (so the job is self-contained and can be mounted read-only),
    ``spec.json`` is written atomically. Raises ``InputInvalid`` and creates nothing when an
    input is wrong. ``models``: the folder of each model the manifest names (the model
    store's; :func:`studio.models.require_models` finds them)."""
    values = validate_inputs(pipeline.manifest, inputs, files_root=Path.cwd())
    job_dir.mkdir(parents=True, exist_ok=False)
    (job_dir / INPUTS_DIR).mkdir()
    (job_dir / OUTPUTS_DIR).mkdir()
    for spec in pipeline.manifest.inputs:
        if spec.is_file and spec.name in values:
            source = Path(values[spec.name])
            target = Path(INPUTS_DIR) / f"{spec.name}{source.suffix.lower()}"
            shutil.copyfile(source, job_dir / target)
            values[spec.name] = str(target)
    spec_model = JobSpec(
        job_id=job_id or uuid.uuid4().hex[:16],
        pipeline=pipeline.id,
        inputs=values,
        quality=quality,
        gpus=gpus,
        models={k: str(v.resolve()) for k, v in (models or {}).items()},
        vram_gb=vram_gb,
        lighter=lighter,
    )
    # A private scratch folder, removed after the job: atomic, no need to survive a power cut.
    write_model(job_dir / SPEC_FILE, spec_model, durable=False)
    return job_dir


@dataclass
class Exit:
    """How the pipeline's process or container ended, as the runner saw it."""

    exit_code: int | None
    oom_killed: bool | None = None
    """True: the container or the kernel's OOM killer ended it; False: the evidence says it
    did not; None: nothing here can tell (no readable OOM-kill counter, nobody asked)."""
    oom_evidence: str = ""
    """Who says so, or why nobody can (ends the message of a SIGKILL)."""
    canceled: bool = False
    timed_out: bool = False
    problem: JobFailure | None = None
    """A failure the runner itself detected (image missing, a worker crash, ...)."""
    image_digest: str | None = None
    """The ID (``sha256:...``) of the image the container ran; None outside a container."""


class EventCollector:
    """Receives every event of one job: keeps outputs and the first error, forwards events."""

    def __init__(self, on_event: EventHandler | None) -> None:
        self._on_event = on_event
        self._lock = threading.Lock()
        self.outputs: dict[str, str] = {}
        self.error: ErrorEvent | None = None

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, OutputEvent):
                self.outputs[event.name] = event.path
            elif isinstance(event, ErrorEvent) and self.error is None:
                self.error = event
        if self._on_event is not None:
            self._on_event(event)

    def line(self, raw: bytes | str, *, stream: str) -> None:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if text.strip():
            self(parse_event_line(text, stream="stderr" if stream == "stderr" else "stdout"))


class LineSplitter:
    """Bytes in arbitrary chunks -> whole lines (container logs arrive in frames)."""

    def __init__(self, sink: Callable[[bytes], None]) -> None:
        self._sink = sink
        self._buffer = b""

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self._sink(line)

    def close(self) -> None:
        if self._buffer:
            self._sink(self._buffer)
            self._buffer = b""


def model_problem(pipeline: Pipeline, spec: JobSpec) -> str | None:
    """Why the job cannot have its models (not given, or their folder gone), if so: weights
    are never fetched at run time, so it fails before it starts."""
    absent = missing_models(pipeline.manifest.models, spec.models)
    absent += [m for m, folder in spec.models.items() if not Path(folder).is_dir()]
    if not absent:
        return None
    return missing_message(pipeline.id, absent)


def missing_outputs(pipeline: Pipeline, outputs: dict[str, str], outputs_dir: Path) -> list[str]:
    """Manifest outputs the job did not produce (not reported, or reported but absent/empty)."""
    missing = []
    for spec in pipeline.manifest.outputs:
        rel = outputs.get(spec.name)
        path = (outputs_dir / rel) if rel else None
        if path is None or not path.is_file() or path.stat().st_size == 0:
            missing.append(spec.name)
    return missing


class Runner(abc.ABC):
    """Runs one job folder of a pipeline to completion and reports how it ended.

    ``run`` never raises for a failed job: the :class:`JobResult` carries the error code
    (``result.raise_for_error()``-style: ``if not r.ok: raise JobFailed(r.error)``)."""

    name: str = "runner"

    def run(
        self,
        pipeline: Pipeline,
        job_dir: Path,
        *,
        on_event: EventHandler | None = None,
        cancel: threading.Event | None = None,
        timeout_s: float | None = None,
    ) -> JobResult:
        started = time.monotonic()
        collector = EventCollector(on_event)
        try:
            spec = load_model(job_dir / SPEC_FILE, JobSpec)
            validate_inputs(pipeline.manifest, spec.inputs, files_root=job_dir)
        except (InputInvalid, ManifestError) as exc:
            return self._finish(
                job_dir,
                pipeline,
                job_id=job_dir.name,
                started=started,
                problem=failure(ErrorCode.INPUT_INVALID, exc.message),
                collector=collector,
            )
        if absent := model_problem(pipeline, spec):
            return self._finish(
                job_dir,
                pipeline,
                job_id=spec.job_id,
                started=started,
                problem=failure(ErrorCode.SETUP_FAILED, absent),
                collector=collector,
            )
        job_cancel = cancel or threading.Event()
        try:
            # A first run may build the pipeline's image: before the job's time limit and
            # duration start, within the build's own limit, and cancelable.
            self.prepare(pipeline, on_progress=collector, cancel=job_cancel)
        except StudioError as exc:
            from studio.runner.images import BuildCanceled

            code = ErrorCode.CANCELED if isinstance(exc, BuildCanceled) else ErrorCode.SETUP_FAILED
            return self._finish(
                job_dir,
                pipeline,
                job_id=spec.job_id,
                started=started,
                problem=failure(code, str(exc)),
                collector=collector,
            )
        started = time.monotonic()
        outputs_dir = job_dir / OUTPUTS_DIR
        outputs_dir.mkdir(exist_ok=True)
        limit = timeout_s if timeout_s is not None else pipeline.manifest.timeout_s
        exit_ = self._execute(
            pipeline,
            job_dir,
            spec,
            collector=collector,
            cancel=job_cancel,
            deadline=time.monotonic() + limit,
        )
        problem = exit_.problem or classify_exit(
            exit_code=exit_.exit_code,
            oom_killed=exit_.oom_killed,
            oom_evidence=exit_.oom_evidence,
            canceled=exit_.canceled,
            timed_out=exit_.timed_out,
            reported=collector.error,
        )
        if problem is None:
            missing = missing_outputs(pipeline, collector.outputs, outputs_dir)
            if missing:
                problem = failure(
                    ErrorCode.MODEL_ERROR,
                    f"the pipeline finished but wrote no output for {', '.join(missing)}",
                )
        return self._finish(
            job_dir,
            pipeline,
            job_id=spec.job_id,
            started=started,
            problem=problem,
            collector=collector,
            exit_code=exit_.exit_code,
            image_digest=exit_.image_digest,
        )

    def _finish(
        self,
        job_dir: Path,
        pipeline: Pipeline,
        *,
        job_id: str,
        started: float,
        problem: JobFailure | None,
        collector: EventCollector,
        exit_code: int | None = None,
        image_digest: str | None = None,
    ) -> JobResult:
        if problem is not None:
            collector(LogEvent(message=f"job failed: [{problem.code}] {problem.message}"))
        result = JobResult(
            job_id=job_id,
            pipeline=pipeline.id,
            ok=problem is None,
            outputs={}
            if problem
            else {k: f"{OUTPUTS_DIR}/{v}" for k, v in collector.outputs.items()},
            error=problem,
            duration_s=round(time.monotonic() - started, 3),
            runner=self.name,
            exit_code=exit_code,
            image_digest=image_digest,
        )
        write_model(job_dir / RESULT_FILE, result, durable=False)  # beside the scratch spec
        return result

    def prepare(  # noqa: B027 - optional hook: only image-based runners have work here
        self,
        pipeline: Pipeline,
        *,
        on_progress: Callable[[ProgressEvent], None],
        cancel: threading.Event,
    ) -> None:
        """Make the pipeline runnable (build its image if missing), reporting progress;
        raises ``StudioError`` (``BuildCanceled`` on cancel) when it cannot."""

    @abc.abstractmethod
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
        """Run the validated job; feed every event line to ``collector``."""

    def close(self) -> None:  # noqa: B027 - optional hook, most runners hold nothing
        """Release what the runner holds (warm workers, watchdogs)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
