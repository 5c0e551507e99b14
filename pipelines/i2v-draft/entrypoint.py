"""i2v-draft: a camera move (zoom or pan) over a source image, encoded as H.264 MP4."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from studio.sdk import Context, InputError, serve
from studio.sdk.ffmpeg import encode_frames

ZOOM = 1.3  # how far a zoom travels; pans cover the same fraction of the frame


def ease(t: float) -> float:
    return t * t * (3 - 2 * t)  # smoothstep: the move starts and lands gently


def window(motion: str, t: float, w: int, h: int) -> tuple[float, float, float, float]:
    """The source rectangle (left, top, right, bottom) shown at time ``t`` in [0, 1]."""
    if motion in ("zoom-in", "zoom-out", "push-diagonal"):
        z = 1 + (ZOOM - 1) * (t if motion != "zoom-out" else 1 - t)
        cw, ch = w / z, h / z
        if motion == "push-diagonal":
            return (w - cw) * t, (h - ch) * t, (w - cw) * t + cw, (h - ch) * t + ch
        return (w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2
    cw = w / ZOOM
    x = (w - cw) * (t if motion == "pan-right" else 1 - t)
    return x, 0.0, x + cw, float(h)


def predict(
    ctx: Context,
    *,
    image: Path,
    duration_s: float = 3.0,
    fps: int = 24,
    motion: str = "zoom-in",
    width: int = 1280,
) -> dict[str, Path]:
    try:
        source = Image.open(image).convert("RGB")
    except OSError as exc:
        raise InputError(f"image: not a readable image ({exc})") from None
    sw, sh = source.size
    out_w = width - width % 2  # H.264 yuv420p needs even sizes
    out_h = max(2, round(out_w * sh / sw / 2) * 2)
    total = max(1, round(duration_s * fps))

    def frames() -> Iterator[bytes]:
        for i in range(total):
            box = window(motion, ease(i / max(1, total - 1)), sw, sh)
            frame = source.transform(
                (out_w, out_h), Image.Transform.EXTENT, box, Image.Resampling.BICUBIC
            )
            yield frame.tobytes()

    out = ctx.outputs_dir / "clip.mp4"
    encode_frames(
        ctx, frames(), output=out, size=(out_w, out_h), fps=fps, total=total, message=motion
    )
    return {"video": out}


if __name__ == "__main__":
    serve(predict)
