"""Benchmark pipeline: no setup, no work, one tiny output."""

from __future__ import annotations

from pathlib import Path

from studio.sdk import Context, serve


def predict(ctx: Context) -> dict[str, Path]:
    out = ctx.outputs_dir / "result.txt"
    out.write_text("ok")
    return {"result": out}


if __name__ == "__main__":
    serve(predict)
