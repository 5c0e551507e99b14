"""sr-lanczos: classical Lanczos upscaling of an image (Pillow) or a video (ffmpeg)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from studio.sdk import Context, InputError, ffmpeg, serve

VIDEO = {".mp4", ".mov", ".mkv", ".webm", ".avi"}


def predict(ctx: Context, *, media: Path, scale: float = 2.0) -> dict[str, Path]:
    if media.suffix.lower() in VIDEO:
        try:
            info = ffmpeg.probe(media)
        except ValueError as exc:
            raise InputError(f"media: {exc}") from None
        w, h = round(info.width * scale / 2) * 2, round(info.height * scale / 2) * 2
        out = ctx.outputs_dir / "upscaled.mp4"
        ffmpeg.run(
            ctx,
            ["-i", str(media), "-map", "0:v:0", "-map", "0:a?", "-c:a", "copy",
             "-vf", f"scale={w}:{h}:flags=lanczos", *ffmpeg.H264, str(out)],
            duration_s=info.duration_s,
            message=f"upscaling x{scale:g} to {w}x{h}",
        )  # fmt: skip
        return {"result": out}
    ctx.progress(0, 2, "reading")
    try:
        image = Image.open(media)
        image.load()
    except OSError as exc:
        raise InputError(f"media: not a readable image ({exc})") from None
    size = (round(image.width * scale), round(image.height * scale))
    ctx.progress(1, 2, f"upscaling x{scale:g} to {size[0]}x{size[1]}")
    out = ctx.outputs_dir / "upscaled.png"
    image.resize(size, Image.Resampling.LANCZOS).save(out, format="PNG")
    ctx.progress(2, 2, "done")
    return {"result": out}


if __name__ == "__main__":
    serve(predict)
