"""Real takes for tests: H.264 clips made with ffmpeg and PNG stills, committed (git + LFS)
the way generated takes are."""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg
from PIL import Image

from studio import Project
from studio.project.takes import Take


def make_clip(path: Path, *, size: str = "64x36", fps: int = 12, seconds: float = 1.0) -> Path:
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
         "-i", f"testsrc=size={size}:rate={fps}", "-t", str(seconds),
         "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


def video_take(
    project: Project, *, scene: int = 1, shot: int = 10, prompt: str = "a clip", **clip: object
) -> Take:
    """A committed video take of the shot (its next take)."""
    take = project.new_take(scene=scene, shot=shot, ext="mp4", prompt=prompt)
    with tempfile.TemporaryDirectory() as folder:
        take.write_from(make_clip(Path(folder) / "clip.mp4", **clip))  # type: ignore[arg-type]
    project.commit_takes([take])
    return take


def image_take(project: Project, *, scene: int = 1, shot: int = 10) -> Take:
    """A committed PNG still of the shot."""
    take = project.new_take(scene=scene, shot=shot, ext="png", prompt="a still")
    buffer = io.BytesIO()
    Image.new("RGB", (32, 18), (20, 90, 160)).save(buffer, format="PNG")
    take.write_bytes(buffer.getvalue())
    project.commit_takes([take])
    return take
