"""Checking media outputs: Pillow for images, Debian's ffprobe for videos."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
from PIL import Image, ImageStat

MISBEHAVE = Path(__file__).parent / "pipelines" / "misbehave"


def ffprobe(path: Path) -> dict[str, Any]:
    exe = shutil.which("ffprobe")
    if exe is None:
        pytest.fail("ffprobe is missing: apt-get install -y ffmpeg (.ci/run does)")
    out = subprocess.run(
        [exe, "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    info: dict[str, Any] = json.loads(out)
    return info


def video_facts(path: Path) -> tuple[str, int, int, Fraction, float]:
    """(codec, width, height, fps, duration) of the first video stream."""
    info = ffprobe(path)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    return (
        video["codec_name"],
        int(video["width"]),
        int(video["height"]),
        Fraction(video["r_frame_rate"]),
        float(info["format"]["duration"]),
    )


def make_video(
    path: Path, *, size: str = "160x90", fps: int = 12, seconds: float = 1.0, flat: bool = False
) -> Path:
    """A noisy H.264 test pattern, or a noisy flat colour (whose noise is easy to measure)."""
    source = f"color=c=0x6080a0:size={size}" if flat else f"testsrc=size={size}"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
         "-i", f"{source}:rate={fps}", "-t", str(seconds),
         "-vf", "noise=alls=40:allf=t", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


def noise_level(path: Path) -> float:
    """Mean per-frame standard deviation of the pixels (a flat colour has none but noise)."""
    frames = imageio_ffmpeg.read_frames(str(path))
    width, height = next(frames)["size"]
    deviations = [
        statistics.mean(ImageStat.Stat(Image.frombytes("RGB", (width, height), frame)).stddev)
        for frame in frames
    ]
    return statistics.mean(deviations)
