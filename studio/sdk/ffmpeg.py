"""ffmpeg for pipelines: find the binary, read a video's basics, run a command or encode raw
frames with progress events and cancel. Uses the static ffmpeg of the ``imageio-ffmpeg``
wheel when installed (add it to the pipeline's requirements), else ``ffmpeg`` on PATH."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from studio.sdk.runtime import Canceled, Context


def executable() -> str:
    try:
        import imageio_ffmpeg  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        found = shutil.which("ffmpeg")
        if found is None:
            raise RuntimeError("no ffmpeg: add imageio-ffmpeg to requirements.txt") from None
        return found
    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    duration_s: float
    has_audio: bool


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #.*Video:.*?(\d{2,5})x(\d{2,5})")
_FPS = re.compile(r"(\d+(?:\.\d+)?) fps")


def probe(path: Path) -> VideoInfo:
    """Size, frame rate, duration and audio presence, from ``ffmpeg -i``'s header."""
    header = subprocess.run(
        [executable(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr
    duration, video, fps = _DURATION.search(header), _VIDEO.search(header), _FPS.search(header)
    if not (duration and video):
        raise ValueError(f"{path.name} is not a readable video")
    h, m, s = duration.groups()
    return VideoInfo(
        width=int(video.group(1)),
        height=int(video.group(2)),
        fps=float(fps.group(1)) if fps else 25.0,
        duration_s=int(h) * 3600 + int(m) * 60 + float(s),
        has_audio="Audio:" in header,
    )


H264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
        "-movflags", "+faststart"]  # fmt: skip


def run(ctx: Context, args: list[str], *, duration_s: float, message: str) -> None:
    """Run ``ffmpeg ARGS`` reporting progress (percent of ``duration_s``); kills ffmpeg and
    raises Canceled when the job is canceled; RuntimeError with ffmpeg's last words on failure."""
    proc = subprocess.Popen(
        [executable(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-progress", "pipe:1", "-nostats", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    if proc.stdout is None or proc.stderr is None:
        raise RuntimeError("subprocess pipes missing")  # unreachable: PIPE was requested
    try:
        for line in proc.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.isdigit() and duration_s > 0:
                done = min(100, int(int(value) / 1e6 / duration_s * 100))
                ctx.progress(done, 100, message)
        code = ctx.wait_process(proc)
    except (Canceled, Exception):
        proc.kill()
        proc.wait()
        raise
    if code != 0:
        raise RuntimeError(f"ffmpeg failed ({code}): {proc.stderr.read().strip()[-600:]}")


def encode_frames(
    ctx: Context,
    frames: Iterable[bytes],
    *,
    output: Path,
    size: tuple[int, int],
    fps: int,
    total: int,
    message: str = "encoding",
) -> None:
    """Encode RGB24 frames (``width*height*3`` bytes each) to an H.264 MP4."""
    width, height = size
    proc = subprocess.Popen(
        [executable(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps),
         "-i", "pipe:0", *H264, "-r", str(fps), str(output)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    if proc.stdin is None or proc.stderr is None:
        raise RuntimeError("subprocess pipes missing")  # unreachable: PIPE was requested
    try:
        for index, frame in enumerate(frames, start=1):
            proc.stdin.write(frame)
            ctx.progress(index, total, message)
        proc.stdin.close()
        code = ctx.wait_process(proc)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if code != 0:
        raise RuntimeError(f"ffmpeg failed ({code}): {proc.stderr.read().decode()[-600:]}")
