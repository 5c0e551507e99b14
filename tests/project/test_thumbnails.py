"""Take thumbnails: an image's is a small JPEG of it, a video's is its first frame."""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image

from studio import Project
from studio.project.thumbnails import THUMBNAIL_PX, make_thumbnail


def _pixel(jpeg: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(jpeg)) as image:
        rgb = image.convert("RGB")
        pixel = rgb.getpixel((rgb.width // 2, rgb.height // 2))
        assert isinstance(pixel, tuple)
        return (int(pixel[0]), int(pixel[1]), int(pixel[2]))


def test_a_video_takes_thumbnail_is_its_first_frame(
    project: Project, make_mp4: Callable[..., bytes]
) -> None:
    take = project.new_take(scene=2, shot=20, ext="mp4")
    take.write_bytes(make_mp4(color="blue", size="640x360"))
    poster = make_thumbnail(project.path, take)
    assert poster is not None and poster.parent.name == "thumbnails"
    with Image.open(poster) as image:
        assert image.format == "JPEG" and image.size == (THUMBNAIL_PX, 144)  # 16:9 kept
    red, green, blue = _pixel(poster.read_bytes())
    assert blue > 200 and red < 60 and green < 60  # the clip's colour
    assert make_thumbnail(project.path, take) == poster  # cached


def test_a_video_ffmpeg_cannot_read_has_no_thumbnail(project: Project) -> None:
    take = project.new_take(scene=2, shot=20, ext="mp4")
    take.write_bytes(b"\x00not a video" * 64)
    assert make_thumbnail(project.path, take) is None  # the take stands, without a poster
