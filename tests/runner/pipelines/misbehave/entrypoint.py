"""A pipeline that misbehaves on request (tests of the runners' error paths)."""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import time
import uuid
from pathlib import Path

from studio.sdk import Context, InputError, progress_bar, serve


class OutOfMemoryError(RuntimeError):
    """What torch raises when the GPU is full (``torch.OutOfMemoryError``), by name."""


def setup() -> str:
    # A token per worker: a warm worker's jobs all see the same one.
    return f"{uuid.uuid4().hex}:{os.getpid()}"


def predict(
    ctx: Context,
    *,
    mode: str = "ok",
    seconds: float = 0.0,
    text: str = "",
    image: Path | None = None,
) -> dict[str, Path]:
    print(f"misbehave: mode={mode}")  # a stray print: must become a log line, not break events
    if mode == "fail":
        raise RuntimeError("boom: the model failed")
    if mode in ("exit", "silent-exit"):
        os._exit(3 if mode == "exit" else 0)
    if mode == "input-error":
        raise InputError("text: cannot be used")
    if mode == "crash-after-error":
        # What a CUDA pipeline does: it reports its own error (as the SDK would for a caught
        # exception), then a native library crashes on the way out (a real SIGSEGV, which
        # ends even PID 1 of a container).
        ctx._emit({"type": "error", "code": "OOM", "message": "CUDA out of memory (2.00 GiB)"})
        ctypes.string_at(0)
    if mode == "oom":
        hog = []
        while True:  # until the cgroup's OOM killer ends us
            hog.append(bytearray(16 * 1024 * 1024))
            for i in range(0, len(hog[-1]), 4096):
                hog[-1][i] = 1
    if mode == "gpu-oom":
        raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    if mode == "memory-error":
        resource.setrlimit(resource.RLIMIT_AS, (512 * 1024**2, 512 * 1024**2))
        _ = bytearray(2 * 1024**3)
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(seconds)  # no progress() calls: ignores a cooperative cancel too
    if mode == "sleep":
        steps = max(1, int(seconds * 10))
        for _ in progress_bar(range(steps), desc="sleeping"):
            time.sleep(0.1)
    out = ctx.outputs_dir / "result.json"
    if mode != "no-output":
        payload = {"text": text, "setup": ctx.state, "pid": os.getpid(), "uid": os.getuid()}
        if image is not None:
            payload["image_bytes"] = image.stat().st_size
        out.write_text(json.dumps(payload))
        return {"result": out}
    return {}


if __name__ == "__main__":
    serve(predict, setup=setup)
