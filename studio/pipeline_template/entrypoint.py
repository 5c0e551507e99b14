"""{{id}}: replace the body of setup() and predict() with your model.

setup() runs once per worker (load weights here); predict() runs once per job with the
inputs of manifest.json as typed keyword arguments. Report progress with ctx.progress() (or
wrap loops in progress_bar(); tqdm bars are reported automatically) and return the outputs.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

from studio.sdk import Context, serve


def setup() -> dict[str, str]:
    return {"model": "replace me with your model"}


def predict(ctx: Context, *, prompt: str, seed: int = 0, steps: int = 8) -> dict[str, Path]:
    rng = random.Random(seed)  # noqa: S311 - a picture, not a secret
    image = Image.new(
        "RGB", (512, 512), (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    )
    draw = ImageDraw.Draw(image)
    for step in range(steps):
        ctx.progress(step + 1, steps, "generating")
        x, y = rng.randrange(512), rng.randrange(512)
        draw.ellipse([x - 20, y - 20, x + 20, y + 20], fill=(255, 255, 255))
    draw.text((16, 480), prompt[:60], fill=(0, 0, 0))
    out = ctx.outputs_dir / "image.png"
    image.save(out)
    return {"image": out}


if __name__ == "__main__":
    serve(predict, setup=setup)
