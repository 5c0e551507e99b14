"""Small JPEG thumbnails of takes, cached in ``05_Cache/thumbnails`` (git-ignored).

Whoever writes a take makes its thumbnail once (the worker, for generated takes); the canvas
inlines it as a small data URL and the server serves it, so no large media travels through
the widget. A video's thumbnail is its first frame (decoded by the ffmpeg of
``imageio-ffmpeg``)."""

from __future__ import annotations

import base64
import io
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Final

from PIL import Image, UnidentifiedImageError

from studio.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from studio.project.takes import Take

THUMBNAIL_DIR: Final = "05_Cache/thumbnails"
THUMBNAIL_PX: Final = 256
VIDEO_SUFFIXES: Final = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi"})
FRAME_TIMEOUT_S: Final = 30


def thumbnail_path(project_root: Path, take: Take) -> Path:
    return project_root / THUMBNAIL_DIR / f"{take.name}.jpg"


def first_frame(video: Path) -> bytes | None:
    """The video's first frame as PNG bytes; None when ffmpeg cannot decode one."""
    import imageio_ffmpeg

    args = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(video), "-frames:v", "1",
            "-f", "image2pipe", "-vcodec", "png", "-"]  # fmt: skip
    try:
        done = subprocess.run(args, capture_output=True, timeout=FRAME_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 and done.stdout else None


def jpeg_thumbnail(source: Path, *, size: int = THUMBNAIL_PX) -> bytes | None:
    """A JPEG at most ``size`` px on its long side (a video's: of its first frame); None
    for media neither Pillow nor ffmpeg reads."""
    if source.suffix.lower() in VIDEO_SUFFIXES:
        frame = first_frame(source)
        return _jpeg(io.BytesIO(frame), size) if frame is not None else None
    return _jpeg(source, size)


def _jpeg(source: Path | io.BytesIO, size: int) -> bytes | None:
    try:
        with Image.open(source) as image:
            image.thumbnail((size, size))
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="JPEG", quality=80)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError):
        return None  # not an image Pillow reads safely: no thumbnail, the take stands
    return buffer.getvalue()


def data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()


def make_thumbnail(project_root: Path, take: Take) -> Path | None:
    """The take's cached thumbnail, made on first use; None for media Pillow cannot read."""
    target = thumbnail_path(project_root, take)
    if target.exists() and target.stat().st_mtime >= take.path.stat().st_mtime:
        return target
    jpeg = jpeg_thumbnail(take.path)
    if jpeg is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, jpeg)
    return target
