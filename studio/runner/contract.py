"""The pipeline job contract (ARCHITECTURE.md contract 5). Pure data, no I/O.

A job is a folder::

    <job>/spec.json        JobSpec: pipeline id, validated inputs, quality, seed
    <job>/inputs/...       input files (mounted read-only into a container)
    <job>/outputs/...      written by the pipeline (the only writable place)
    <job>/result.json      JobResult, written by the runner when the job ends

The entrypoint prints one JSON object per line on stdout: ``progress``, ``log``, ``output``,
``error`` (with an :class:`ErrorCode`). Warm workers add ``ready`` and ``done`` and tag every
event with the ``job`` it belongs to. The same module is vendored into pipeline images
through :mod:`studio.sdk`, which speaks the same lines with the stdlib only.
"""

from __future__ import annotations

import json
import signal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from studio.errors import StudioError
from studio.quality import Quality

SPEC_FILE: Final = "spec.json"
RESULT_FILE: Final = "result.json"
INPUTS_DIR: Final = "inputs"
OUTPUTS_DIR: Final = "outputs"
MODELS_ENV: Final = "STUDIO_MODELS"
"""JSON ``{model id: folder}`` as the pipeline sees it (``studio.sdk.model_path`` reads it)."""
MODELS_MOUNT: Final = "/models"
"""Where a container finds its models, read-only: ``/models/<id>``."""


class ErrorCode(StrEnum):
    INPUT_INVALID = "INPUT_INVALID"
    OOM = "OOM"
    TIMEOUT = "TIMEOUT"
    CANCELED = "CANCELED"
    MODEL_ERROR = "MODEL_ERROR"
    SETUP_FAILED = "SETUP_FAILED"
    KILLED = "KILLED"
    """Stopped by a signal from outside the studio (``kill -9``, a supervisor), not by the
    kernel's or the container's out-of-memory killer."""
    ENGINE_ERROR = "ENGINE_ERROR"
    """Outside the pipeline: git, LFS, the take store, a lost worker (pipelines never emit it)."""


# What a user can do about each failure (shown as the hint of a JobFailed).
ADVICE: Final[dict[ErrorCode, str]] = {
    ErrorCode.INPUT_INVALID: "fix the named input (see `studio pipeline list --json` for ranges)",
    ErrorCode.OOM: "lower the quality (e.g. 'low') or the size/duration, or raise the "
    "pipeline's resources.<quality>.memory_gb in its manifest",
    ErrorCode.TIMEOUT: "lower the quality or the size/duration, or raise timeout_s in the manifest",
    ErrorCode.CANCELED: "the job was canceled; run it again if that was not intended",
    ErrorCode.MODEL_ERROR: "the pipeline failed; read its log lines above for the cause",
    ErrorCode.SETUP_FAILED: "the pipeline could not start; build its image with "
    "`studio pipeline build ID` and check its setup",
    ErrorCode.KILLED: "something outside the studio stopped the pipeline (a `kill`, a "
    "supervisor, a machine shutting down); generate again",
    ErrorCode.ENGINE_ERROR: "the studio failed around the pipeline; the message says what to "
    "fix (the project's git/LFS setup, disk space, a worker that died), then generate again",
}


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    job: str | None = None
    """Set by warm workers, which serve many jobs over one stream."""


class ProgressEvent(_Event):
    type: Literal["progress"] = "progress"
    step: int = Field(ge=0)
    total: int | None = Field(default=None, ge=0)
    message: str = ""
    preview: str | None = None
    """Path of a preview image, relative to the outputs folder."""


class LogEvent(_Event):
    type: Literal["log"] = "log"
    message: str
    stream: Literal["stdout", "stderr"] = "stdout"


class OutputEvent(_Event):
    type: Literal["output"] = "output"
    name: str
    path: str
    """Relative to the outputs folder."""


MemoryKind = Literal["gpu", "host"]
"""Which memory an ``OOM`` ran out of: a retry with a lighter GPU strategy (offloading to the
host) helps only the first."""


class ErrorEvent(_Event):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    memory: MemoryKind | None = None
    """For ``OOM``: which memory ran out (the SDK says; None: it cannot tell)."""


class ReadyEvent(_Event):
    """A warm worker finished its setup and waits for jobs."""

    type: Literal["ready"] = "ready"
    setup_s: float = 0.0


class DoneEvent(_Event):
    """A warm worker finished one job (its outputs/errors were sent before)."""

    type: Literal["done"] = "done"
    ok: bool


Event = Annotated[
    ProgressEvent | LogEvent | OutputEvent | ErrorEvent | ReadyEvent | DoneEvent,
    Field(discriminator="type"),
]
_EVENT: Final[TypeAdapter[Event]] = TypeAdapter(Event)


def parse_event_line(line: str, *, stream: Literal["stdout", "stderr"] = "stdout") -> Event:
    """One line of pipeline output as an event. Anything that is not a valid event (a stray
    ``print`` from a library) becomes a log event, so output is never lost or fatal."""
    text = line.rstrip("\r\n")
    if stream == "stdout" and text.startswith("{"):
        try:
            return _EVENT.validate_python(json.loads(text))
        except (ValueError, ValidationError):
            pass
    return LogEvent(message=text, stream=stream)


def event_line(event: Event) -> str:
    return json.dumps(event.model_dump(mode="json", exclude_none=True)) + "\n"


class JobSpec(BaseModel):
    """``spec.json``: what to run. Inputs are already validated against the manifest; file
    inputs are paths relative to the job folder (``inputs/source.png``)."""

    model_config = ConfigDict(frozen=True)

    job_id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,128}$")
    pipeline: str
    inputs: dict[str, Any]
    quality: Quality = "low"
    gpus: tuple[str, ...] = ()
    """GPU device ids given to this job (empty: CPU only)."""
    models: dict[str, str] = {}
    """Model id -> its folder in a model store on the runner's host (the manifest's
    ``models``, resolved by whoever made the job); runners mount or pass them."""
    vram_gb: float = Field(default=0, ge=0)
    """GPU memory the job's worker declares; a pipeline picks its memory strategy from it
    (0: from the device it finds)."""
    lighter: int = Field(default=0, ge=0)
    """How many memory strategies lighter than that choice to use: 1 when the job is retried
    after running out of GPU memory."""


class JobFailure(BaseModel):
    model_config = ConfigDict(frozen=True)
    code: ErrorCode
    message: str
    hint: str = ""
    memory: MemoryKind | None = None
    """For ``OOM``: which memory ran out, when known (see :data:`MemoryKind`)."""


class JobResult(BaseModel):
    """``result.json``: how the job ended."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    pipeline: str
    ok: bool
    outputs: dict[str, str] = {}
    """Output name -> path relative to the job folder (``outputs/frame.png``)."""
    error: JobFailure | None = None
    duration_s: float = 0.0
    runner: str = ""
    exit_code: int | None = None
    image_digest: str | None = None
    """The image ID (``sha256:...``, as ``docker image inspect`` shows it) the job's container
    ran; None for a local process. The ID, not a RepoDigest: the studio builds its images
    locally and never pushes them, so they have no RepoDigests, while the ID always names the
    exact image (its config, and through it every layer)."""

    def output_path(self, job_dir: Path, name: str) -> Path:
        return job_dir / self.outputs[name]


class JobFailed(StudioError):
    """A job ended with an error code (raised by ``JobResult``-returning APIs on request)."""

    def __init__(self, failure: JobFailure) -> None:
        super().__init__(f"[{failure.code}] {failure.message}", hint=failure.hint or None)
        self.code = failure.code
        self.failure = failure


def models_env(models: dict[str, str]) -> dict[str, str]:
    """Pure: the environment naming a job's model folders (none: nothing to add), with the
    Hugging Face libraries told to stay offline: the weights are all there already."""
    if not models:
        return {}
    return {MODELS_ENV: json.dumps(models, sort_keys=True), "HF_HUB_OFFLINE": "1"}


def container_models(models: dict[str, str]) -> dict[str, str]:
    """Pure: where each model is mounted inside a container."""
    return {model_id: f"{MODELS_MOUNT}/{model_id}" for model_id in models}


def missing_models(needed: tuple[str, ...], models: dict[str, str]) -> list[str]:
    """Pure: the needed model ids a job was not given."""
    return [m for m in needed if m not in models]


def failure(code: ErrorCode, message: str, *, memory: MemoryKind | None = None) -> JobFailure:
    return JobFailure(code=code, message=message, hint=ADVICE[code], memory=memory)


SIGNAL_EXIT_BASE: Final = 128
"""Shells and Docker report "killed by signal N" as exit status 128 + N."""
CRASH_SIGNALS: Final = frozenset({"SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT", "SIGSYS"})
"""Signals a process raises on itself by crashing, not ones sent from outside."""


def exit_signal(exit_code: int | None) -> str | None:
    """Pure: the signal name behind an exit status of 128 + N (``137`` -> ``SIGKILL``)."""
    if exit_code is None or not SIGNAL_EXIT_BASE < exit_code < SIGNAL_EXIT_BASE + 65:
        return None
    try:
        return signal.Signals(exit_code - SIGNAL_EXIT_BASE).name
    except ValueError:  # a real-time signal (no name): say its number
        return f"signal {exit_code - SIGNAL_EXIT_BASE}"


def classify_exit(
    *,
    exit_code: int | None,
    oom_killed: bool | None = None,
    oom_evidence: str = "",
    canceled: bool = False,
    timed_out: bool = False,
    reported: ErrorEvent | None = None,
) -> JobFailure | None:
    """Decide how a finished job ended. The runner's own knowledge (it canceled the job, the
    deadline passed, the container or the kernel's OOM killer says it ran out of memory, a
    signal from outside ended it) wins over what the pipeline printed. Exit 137 alone is a
    SIGKILL, not an OOM: only ``oom_killed`` says the memory ran out, and only
    ``oom_killed=False`` says it did not (``None``: nothing here can tell; ``oom_evidence``
    says who told, or why nobody can). A crash signal (SIGSEGV, SIGABRT, ...) after the
    pipeline reported its own error does not hide that error: the report says why the job
    failed, the crash is what happened next."""
    if timed_out:
        return failure(ErrorCode.TIMEOUT, "the job exceeded its time limit and was stopped")
    if canceled:
        return failure(ErrorCode.CANCELED, "the job was canceled")
    if oom_killed:
        return failure(
            ErrorCode.OOM,
            f"the pipeline ran out of memory and was killed by the out-of-memory killer "
            f"(exit code {exit_code})",
            memory="host",  # the kernel's and the container's killers count host memory
        )
    if (name := exit_signal(exit_code)) is not None:
        if name in CRASH_SIGNALS:
            if reported is not None:
                return failure(
                    reported.code,
                    f"{reported.message} (the pipeline then crashed: {name}, exit code "
                    f"{exit_code})",
                    memory=reported.memory,
                )
            return failure(
                ErrorCode.MODEL_ERROR, f"the pipeline crashed ({name}, exit code {exit_code})"
            )
        return killed_by_signal(name, exit_code, oom_killed=oom_killed, evidence=oom_evidence)
    if reported is not None:
        return failure(reported.code, reported.message, memory=reported.memory)
    if exit_code is None:
        return failure(ErrorCode.MODEL_ERROR, "the pipeline ended without an exit status")
    if exit_code != 0:
        return failure(ErrorCode.MODEL_ERROR, f"the pipeline exited with code {exit_code}")
    return None


def killed_by_signal(
    name: str, exit_code: int | None, *, oom_killed: bool | None, evidence: str
) -> JobFailure:
    """Pure: a pipeline ended by a signal it did not raise itself, saying only what is known.
    The kernel's OOM killer sends SIGKILL, so another signal came from outside; a SIGKILL is
    "not an out-of-memory kill" only when the evidence says so, otherwise either may be."""
    if name != "SIGKILL":
        return failure(
            ErrorCode.KILLED,
            f"the pipeline was killed by {name} from outside the studio (exit code "
            f"{exit_code}; not the out-of-memory killer, which sends SIGKILL)",
        )
    if oom_killed is False:
        because = f": {evidence}" if evidence else ""
        return failure(
            ErrorCode.KILLED,
            f"the pipeline was killed by SIGKILL from outside the studio (exit code "
            f"{exit_code}; not an out-of-memory kill{because})",
        )
    because = f" ({evidence})" if evidence else ""
    return JobFailure(
        code=ErrorCode.KILLED,
        message=f"the pipeline was killed by SIGKILL (exit code {exit_code}), from outside the "
        f"studio or by the out-of-memory killer: whether it ran out of memory cannot be told "
        f"here{because}",
        hint=f"{ADVICE[ErrorCode.KILLED]}; if it may have run out of memory, "
        f"{ADVICE[ErrorCode.OOM]}",
    )
