"""restore-ffmpeg: denoise (hqdn3d) and deblock a video at a strength from 0 to 1."""

from __future__ import annotations

from pathlib import Path

from studio.sdk import Context, InputError, ffmpeg, serve


def filters(strength: float, deblock: bool) -> str:
    """The ffmpeg filter chain for ``strength``: 0 leaves the picture as it is."""
    chain = []
    if deblock and strength > 0:
        alpha = 0.05 + 0.15 * strength  # deblock's thresholds grow with the strength
        chain.append(f"deblock=filter=strong:block=8:alpha={alpha:.3f}:beta={alpha / 2:.3f}")
    if strength > 0:
        spatial = 40 * strength  # hqdn3d's luma threshold: 4 is its gentle default, 40 strong
        chain.append(
            f"hqdn3d={spatial:.2f}:{spatial * 0.75:.2f}:{spatial * 1.5:.2f}:{spatial * 1.1:.2f}"
        )
    return ",".join(chain) or "null"


def predict(
    ctx: Context, *, video: Path, strength: float = 0.5, deblock: bool = True
) -> dict[str, Path]:
    try:
        info = ffmpeg.probe(video)
    except ValueError as exc:
        raise InputError(f"video: {exc}") from None
    out = ctx.outputs_dir / "restored.mp4"
    ffmpeg.run(
        ctx,
        ["-i", str(video), "-map", "0:v:0", "-map", "0:a?", "-c:a", "copy",
         "-vf", filters(strength, deblock), *ffmpeg.H264, str(out)],
        duration_s=info.duration_s,
        message=f"restoring at strength {strength:g}",
    )  # fmt: skip
    return {"video": out}


if __name__ == "__main__":
    serve(predict)
