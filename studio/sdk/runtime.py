"""The in-container runtime: argument parsing, the event stream, typed inputs, cancel, warm loop.

Standard library only (see the package docstring). The event vocabulary is the one of
:mod:`studio.runner.contract`; tests check the two agree.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Sized
from pathlib import Path
from typing import Any, TextIO, TypeVar

T = TypeVar("T")

# Error codes, as in studio.runner.contract.ErrorCode (duplicated: this package is stdlib-only).
INPUT_INVALID = "INPUT_INVALID"
OOM = "OOM"
CANCELED = "CANCELED"
MODEL_ERROR = "MODEL_ERROR"
SETUP_FAILED = "SETUP_FAILED"


class InputError(Exception):
    """Raise from ``predict`` when an input cannot be used (reported as INPUT_INVALID)."""


class Canceled(BaseException):
    """Raised inside ``predict`` when the job is canceled. A BaseException, so a model's
    ``except Exception`` does not swallow it."""


class _Emitter:
    """Writes event lines to the protocol stream, one whole line at a time."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def emit(self, event: dict[str, Any]) -> None:
        line = json.dumps({k: v for k, v in event.items() if v is not None})
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


_emitter: _Emitter | None = None
_current: Context | None = None


def _protocol_stream() -> TextIO:
    """Keep the real stdout for events and point fd 1 at stderr, so stray prints (from the
    model, its libraries, or child processes like ffmpeg) become log lines, never bad events."""
    events_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(events_fd, "w", buffering=1, encoding="utf-8")


class Context:
    """One job, as seen by ``predict``."""

    def __init__(
        self,
        *,
        job_id: str,
        job_dir: Path,
        outputs_dir: Path,
        spec: dict[str, Any],
        state: Any,
        emitter: _Emitter,
        tag_events: bool,
    ) -> None:
        self.job_id = job_id
        self.job_dir = job_dir
        self.outputs_dir = outputs_dir
        self.spec = spec
        self.state = state
        """What ``setup()`` returned (None without a setup)."""
        self.quality: str = spec.get("quality", "low")
        self._emitter = emitter
        self._tag = job_id if tag_events else None
        self._cancel = threading.Event()
        self.outputs: dict[str, str] = {}

    # events -----------------------------------------------------------------------------
    def _emit(self, event: dict[str, Any]) -> None:
        self._emitter.emit({**event, "job": self._tag})

    def progress(
        self, step: int, total: int | None = None, message: str = "", *, preview: Path | None = None
    ) -> None:
        """Report progress; also the place where a cooperative cancel takes effect."""
        self.check_canceled()
        rel = str(preview.relative_to(self.outputs_dir)) if preview is not None else None
        self._emit(
            {"type": "progress", "step": step, "total": total, "message": message, "preview": rel}
        )

    def log(self, message: str) -> None:
        self._emit({"type": "log", "message": message})

    def output(self, name: str, path: Path) -> None:
        """Declare an output file (``predict`` may instead return ``{name: path}``)."""
        path = Path(path).resolve()
        try:
            rel = path.relative_to(self.outputs_dir.resolve())
        except ValueError:
            raise RuntimeError(f"output {name!r} at {path} is outside {self.outputs_dir}") from None
        if not path.is_file():
            raise RuntimeError(f"output {name!r}: {path} was not written")
        self.outputs[name] = str(rel)
        self._emit({"type": "output", "name": name, "path": str(rel)})

    # cancel -----------------------------------------------------------------------------
    @property
    def canceled(self) -> bool:
        return self._cancel.is_set()

    def check_canceled(self) -> None:
        if self._cancel.is_set():
            raise Canceled

    def wait_process(self, proc: subprocess.Popen[Any], *, poll_s: float = 0.1) -> int:
        """Wait for a child process (ffmpeg, a CLI model), killing it if the job is canceled."""
        while True:
            try:
                return proc.wait(timeout=poll_s)
            except subprocess.TimeoutExpired:
                if self._cancel.is_set():
                    proc.kill()
                    proc.wait()
                    raise Canceled from None


MODELS_ENV = "STUDIO_MODELS"
"""JSON {model id: folder}, set by the runner for the manifest's ``models``."""


def model_path(model_id: str) -> Path:
    """The read-only folder of a model the manifest names (``/models/<id>`` in a container,
    its model-store folder for a local process). The weights are there before the job
    starts: a pipeline never downloads them."""
    models = json.loads(os.environ.get(MODELS_ENV) or "{}")
    if model_id not in models:
        raise InputError(
            f"model {model_id!r} was not given to this job (it has: "
            f'{", ".join(sorted(models)) or "none"}); name it in the manifest\'s "models"'
        )
    return Path(models[model_id])


def progress(step: int, total: int | None = None, message: str = "") -> None:
    """``progress()`` for the job being run (no-op outside a job)."""
    if _current is not None:
        _current.progress(step, total, message)


def progress_bar(
    iterable: Iterable[T], *, total: int | None = None, desc: str = "", every: int = 1
) -> Iterator[T]:
    """A tqdm-like wrapper: yields the items and reports progress every ``every`` items."""
    if total is None and isinstance(iterable, Sized):
        total = len(iterable)
    step = 0
    for step, item in enumerate(iterable, start=1):
        yield item
        if step % every == 0 or step == total:
            progress(step, total, desc)


def install_tqdm_hook() -> bool:
    """Turn every ``tqdm`` bar (diffusers, transformers, ...) into progress events.
    False when tqdm is not installed in the image."""
    try:
        from tqdm import std  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return False
    bar = std.tqdm
    if getattr(bar, "_studio_hooked", False):
        return True
    original: Callable[..., Any] = bar.update

    def update(self: Any, n: float | None = 1) -> Any:
        shown = original(self, n)
        total = int(self.total) if self.total is not None else None
        progress(int(self.n), total, str(self.desc or ""))
        return shown

    bar.update = update
    bar._studio_hooked = True
    return True


# typed inputs ------------------------------------------------------------------------------
def _accepts(annotation: Any, kind: type) -> bool:
    if annotation is kind:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(arg, kind) for arg in typing.get_args(annotation))
    return False


def bind_inputs(
    predict: Callable[..., Any], inputs: dict[str, Any], *, job_dir: Path
) -> dict[str, Any]:
    """The keyword arguments for ``predict``: file inputs (annotated ``Path``) resolved in the
    job folder, numbers/text/booleans checked against the type hints. InputError says which."""
    hints = typing.get_type_hints(predict)
    params = list(inspect.signature(predict).parameters.values())[1:]  # skip ctx
    names = {p.name for p in params}
    unknown = sorted(set(inputs) - names)
    if unknown:
        raise InputError(f"unknown inputs {unknown}; the entrypoint takes {sorted(names)}")
    kwargs: dict[str, Any] = {}
    for p in params:
        if p.name not in inputs or inputs[p.name] is None:
            if p.default is inspect.Parameter.empty:
                raise InputError(f"input {p.name!r} is required")
            continue
        value = inputs[p.name]
        hint = hints.get(p.name, Any)
        if _accepts(hint, Path):
            path = (job_dir / str(value)).resolve()
            if not path.is_file():
                raise InputError(f"input {p.name!r}: file {value} is missing in the job folder")
            value = path
        elif _accepts(hint, bool):
            if not isinstance(value, bool):
                raise InputError(f"input {p.name!r} expects true/false, not {value!r}")
        elif _accepts(hint, int) and not _accepts(hint, float):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(f"input {p.name!r} expects a whole number, not {value!r}")
        elif _accepts(hint, float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"input {p.name!r} expects a number, not {value!r}")
            value = float(value)
        elif _accepts(hint, str) and not isinstance(value, str):
            raise InputError(f"input {p.name!r} expects text, not {value!r}")
        kwargs[p.name] = value
    return kwargs


# running one job ---------------------------------------------------------------------------
def out_of_gpu_memory(exc: BaseException) -> bool:
    """torch's ``OutOfMemoryError`` (CUDA, ROCm, MPS), known by name: the SDK never imports
    torch."""
    return any(cls.__name__ == "OutOfMemoryError" for cls in type(exc).__mro__) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )


def free_gpu_memory() -> None:
    """Give cached GPU memory back, when torch was loaded by the pipeline."""
    torch = sys.modules.get("torch")
    if torch is not None:
        import gc

        gc.collect()
        with contextlib.suppress(Exception):
            torch.cuda.empty_cache()


def _run_job(predict: Callable[..., Any], ctx: Context) -> bool:
    """Run ``predict`` for ``ctx``; report outputs or one error event. True on success."""
    global _current
    _current = ctx
    gpu_out_of_memory = False
    try:
        kwargs = bind_inputs(predict, ctx.spec.get("inputs", {}), job_dir=ctx.job_dir)
        returned = predict(ctx, **kwargs)
        for name, path in (returned or {}).items():
            ctx.output(name, Path(path))
        if not ctx.outputs:
            raise RuntimeError("predict returned no outputs")
        return True
    except Canceled:
        ctx._emit({"type": "error", "code": CANCELED, "message": "the job was canceled"})
    except InputError as exc:
        ctx._emit({"type": "error", "code": INPUT_INVALID, "message": str(exc)})
    except MemoryError:
        ctx._emit(
            {"type": "error", "code": OOM, "memory": "host",
             "message": "the pipeline ran out of memory (host memory, not the GPU's)"}
        )  # fmt: skip
    except Exception as exc:
        traceback.print_exc()  # to stderr: the runner turns it into log lines
        if not out_of_gpu_memory(exc):
            ctx._emit(
                {"type": "error", "code": MODEL_ERROR, "message": f"{type(exc).__name__}: {exc}"}
            )
            return False
        ctx._emit(
            {"type": "error", "code": OOM, "memory": "gpu",
             "message": f"the GPU ran out of memory: {exc}"}
        )  # fmt: skip
        gpu_out_of_memory = True
    finally:
        _current = None
    if gpu_out_of_memory:
        # Outside the ``except``: the traceback being handled holds the frames, and through
        # them the tensors, whose memory is to be given back.
        free_gpu_memory()  # a warm worker serves the next job with its GPU memory back
    return False


def _read_spec(job_dir: Path) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads((job_dir / "spec.json").read_text(encoding="utf-8"))
    return spec


def _setup(setup: Callable[[], Any] | None, emitter: _Emitter) -> tuple[bool, Any]:
    if setup is None:
        return True, None
    try:
        return True, setup()
    except BaseException as exc:
        traceback.print_exc()
        emitter.emit(
            {"type": "error", "code": SETUP_FAILED, "message": f"{type(exc).__name__}: {exc}"}
        )
        return False, None


def _one_shot(
    predict: Callable[..., Any],
    setup: Callable[[], Any] | None,
    args: argparse.Namespace,
    emitter: _Emitter,
) -> int:
    job_dir = Path(args.job)
    outputs_dir = Path(args.outputs) if args.outputs else job_dir / "outputs"

    def on_term(signum: int, frame: Any) -> None:
        # Docker stop / the runner's cancel: unwind predict now (also out of blocking waits).
        raise Canceled

    signal.signal(signal.SIGTERM, on_term)
    if args.watch_stdin:
        # The runner holds our stdin; EOF means it died: stop instead of running orphaned.
        def watch() -> None:
            sys.stdin.read()
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch, daemon=True).start()
    try:
        ok, state = _setup(setup, emitter)
        if not ok:
            return 1
        spec = _read_spec(job_dir)
        ctx = Context(
            job_id=str(spec.get("job_id", "job")),
            job_dir=job_dir,
            outputs_dir=outputs_dir,
            spec=spec,
            state=state,
            emitter=emitter,
            tag_events=False,
        )
        return 0 if _run_job(predict, ctx) else 1
    except Canceled:
        emitter.emit({"type": "error", "code": CANCELED, "message": "the job was canceled"})
        return 1


def _warm(predict: Callable[..., Any], setup: Callable[[], Any] | None, emitter: _Emitter) -> int:
    """Serve jobs from stdin lines until EOF: ``{"op": "run", "job": ID, "job_dir": ...,
    "outputs_dir": ...}`` and ``{"op": "cancel", "job": ID}``."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    started = time.monotonic()
    ok, state = _setup(setup, emitter)
    if not ok:
        return 1
    emitter.emit({"type": "ready", "setup_s": round(time.monotonic() - started, 3)})
    jobs: queue.Queue[dict[str, Any] | None] = queue.Queue()
    running: dict[str, Context] = {}

    def read_requests() -> None:
        for line in sys.stdin:
            try:
                request = json.loads(line)
            except ValueError:
                print(f"warm worker: ignoring a malformed request: {line!r}", file=sys.stderr)
                continue
            if request.get("op") == "run":
                jobs.put(request)
            elif request.get("op") == "cancel":
                ctx = running.get(str(request.get("job")))
                if ctx is not None:
                    ctx._cancel.set()
        jobs.put(None)

    threading.Thread(target=read_requests, daemon=True).start()
    while (request := jobs.get()) is not None:
        job_dir = Path(request["job_dir"])
        job_id = str(request["job"])
        try:
            spec = _read_spec(job_dir)
        except (OSError, ValueError) as exc:
            emitter.emit(
                {"type": "error", "job": job_id, "code": INPUT_INVALID, "message": str(exc)}
            )
            emitter.emit({"type": "done", "job": job_id, "ok": False})
            continue
        ctx = Context(
            job_id=job_id,
            job_dir=job_dir,
            outputs_dir=Path(request.get("outputs_dir") or job_dir / "outputs"),
            spec=spec,
            state=state,
            emitter=emitter,
            tag_events=True,
        )
        running[job_id] = ctx
        ok = _run_job(predict, ctx)
        running.pop(job_id, None)
        emitter.emit({"type": "done", "job": job_id, "ok": ok})
    return 0


def serve(predict: Callable[..., Any], *, setup: Callable[[], Any] | None = None) -> None:
    """The entrypoint's main: one job (``--job DIR``) or a warm worker (``--warm``)."""
    parser = argparse.ArgumentParser(description="studio pipeline entrypoint")
    parser.add_argument("--job", help="job folder (spec.json, inputs/, outputs/)")
    parser.add_argument("--outputs", help="outputs folder (default: JOB/outputs)")
    parser.add_argument("--warm", action="store_true", help="serve jobs from stdin lines")
    parser.add_argument("--watch-stdin", action="store_true", help="stop when stdin closes")
    args = parser.parse_args()
    if not args.warm and not args.job:
        parser.error("give --job DIR or --warm")
    global _emitter
    _emitter = _Emitter(_protocol_stream())
    install_tqdm_hook()
    code = (
        _warm(predict, setup, _emitter) if args.warm else _one_shot(predict, setup, args, _emitter)
    )
    sys.stderr.flush()
    # os._exit: do not wait for daemon reader threads blocked on stdin.
    os._exit(code)
