"""Small JPEG thumbnails of takes, cached in ``05_Cache/thumbnails`` (git-ignored).

Whoever writes a take makes its thumbnail once (the worker, for generated takes); the canvas
inlines it as a small data URL and the server serves it, so no large media travels through
the widget. A video take's thumbnail is its first frame (ffmpeg), the poster its player shows
before it plays."""

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
VIDEO_EXTENSIONS: Final = frozenset({"mp4", "mov", "m4v", "mkv", "webm", "avi", "mxf"})
"""Take extensions that are videos: their thumbnail is a poster frame."""
POSTER_TIMEOUT_S: Final = 30.0


def thumbnail_path(project_root: Path, take: Take) -> Path:
    return project_root / THUMBNAIL_DIR / f"{take.name}.jpg"


def jpeg_thumbnail(source: Path, *, size: int = THUMBNAIL_PX) -> bytes | None:
    """A JPEG at most ``size`` px on its long side; None for media Pillow cannot read."""
    return _jpeg(source, size=size)  # not an image Pillow reads safely: None, the take stands


def first_frame(source: Path, *, timeout_s: float = POSTER_TIMEOUT_S) -> bytes | None:
    """The first frame of a video as PNG bytes (the static ffmpeg of ``imageio-ffmpeg``, a
    dependency of the studio); None for a file ffmpeg cannot decode."""
    import imageio_ffmpeg  # (finds its binary when first used)

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    command = [ffmpeg, "-nostdin", "-v", "error", "-i", str(source), "-frames:v", "1",
               "-f", "image2pipe", "-c:v", "png", "pipe:1"]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 and done.stdout else None


def poster_thumbnail(source: Path, *, size: int = THUMBNAIL_PX) -> bytes | None:
    """A video's first frame as a JPEG thumbnail; None when it cannot be read."""
    frame = first_frame(source)
    return None if frame is None else _jpeg(io.BytesIO(frame), size=size)


def _jpeg(source: Path | io.BytesIO, *, size: int) -> bytes | None:
    try:
        with Image.open(source) as image:
            image.thumbnail((size, size))
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="JPEG", quality=80)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError):
        return None
    return buffer.getvalue()


def data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()


def make_thumbnail(project_root: Path, take: Take) -> Path | None:
    """The take's cached thumbnail (a video's: its first frame), made on first use; None for
    media that cannot be read."""
    target = thumbnail_path(project_root, take)
    if target.exists() and target.stat().st_mtime >= take.path.stat().st_mtime:
        return target
    is_video = take.ext.lower() in VIDEO_EXTENSIONS
    jpeg = poster_thumbnail(take.path) if is_video else jpeg_thumbnail(take.path)
    if jpeg is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, jpeg)
    return target
