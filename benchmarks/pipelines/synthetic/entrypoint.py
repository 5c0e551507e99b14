"""Benchmark pipeline: a 2 s setup (a model load), then ``work_s`` of work per job."""

from __future__ import annotations

import time
from pathlib import Path

from studio.sdk import Context, serve

SETUP_S = 2.0


def setup() -> float:
    time.sleep(SETUP_S)
    return SETUP_S


def predict(ctx: Context, *, work_s: float = 0.1) -> dict[str, Path]:
    time.sleep(work_s)
    out = ctx.outputs_dir / "result.txt"
    out.write_text(f"setup {ctx.state} s, work {work_s} s")
    return {"result": out}


if __name__ == "__main__":
    serve(predict, setup=setup)
