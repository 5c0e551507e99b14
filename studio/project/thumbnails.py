"""Small JPEG thumbnails of takes, cached in ``05_Cache/thumbnails`` (git-ignored).

Whoever writes a take makes its thumbnail once (the worker, for generated takes); the canvas
inlines it as a small data URL and the server serves it, so no large media travels through
the widget."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import TYPE_CHECKING, Final

from PIL import Image, UnidentifiedImageError

from studio.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from studio.project.takes import Take

THUMBNAIL_DIR: Final = "05_Cache/thumbnails"
THUMBNAIL_PX: Final = 256


def thumbnail_path(project_root: Path, take: Take) -> Path:
    return project_root / THUMBNAIL_DIR / f"{take.name}.jpg"


def jpeg_thumbnail(source: Path, *, size: int = THUMBNAIL_PX) -> bytes | None:
    """A JPEG at most ``size`` px on its long side; None for media Pillow cannot read."""
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
