"""Reads the model the manifest names (tests of the model store's mounts)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from studio.sdk import Context, model_path, serve


def predict(ctx: Context) -> dict[str, Path]:
    folder = model_path("tiny-model")
    try:
        (folder / "scribble").write_text("x")
        writable = True
    except OSError:
        writable = False
    out = ctx.outputs_dir / "result.json"
    out.write_text(json.dumps({
        "folder": str(folder),
        "weights": (folder / "weights.txt").read_text(),
        "writable": writable,
        "offline": os.environ.get("HF_HUB_OFFLINE"),
    }))  # fmt: skip
    return {"result": out}


if __name__ == "__main__":
    serve(predict)
