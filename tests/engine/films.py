"""Real media and a real two-shot edit for the render tests: clips made by ffmpeg, committed
as takes (git + LFS), an Assembler cutting them; and ffprobe's word on a rendered film."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from distributed import Client

from studio import Project
from studio.engine.cluster import local_cluster

SIZE = (320, 180)


def ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def make_clip(path: Path, *, seconds: float, pattern: str = "testsrc", tone: bool = True) -> Path:
    """An H.264 clip at 24 fps, 320x180 (and a 48 kHz tone when ``tone``)."""
    width, height = SIZE
    args = ["-f", "lavfi", "-i", f"{pattern}=size={width}x{height}:rate=24"]
    if tone:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    args += ["-t", str(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p"]
    args += ["-c:a", "aac", "-shortest"] if tone else []
    ffmpeg(*args, str(path))
    return path


def add_take(project: Project, *, shot: int, source: Path) -> None:
    take = project.new_take(scene=1, shot=shot, ext="mp4", prompt=f"shot {shot}")
    take.write_from(source)
    project.commit_takes([take])
    project.set_active_take(take)


def two_shot_edit(project: Project, media: Path, *, seconds: tuple[float, float] = (2, 2)) -> str:
    """Shots s10 (testsrc, with sound) and s20 (another pattern, silent) cut by Assembler
    ``asm`` at 24 fps, 480p, with a 6-frame dissolve between; returns the Assembler's id."""
    media.mkdir(parents=True, exist_ok=True)
    add_take(project, shot=10, source=make_clip(media / "a.mp4", seconds=seconds[0]))
    add_take(
        project,
        shot=20,
        source=make_clip(media / "b.mp4", seconds=seconds[1], pattern="smptebars", tone=False),
    )
    graph = project.graph
    graph.add_node("Shot", id="s10", scene=1, shot=10)
    graph.add_node("Shot", id="s20", scene=1, shot=20)
    graph.add_node(
        "VSEAssembler",
        id="asm",
        frame_rate="24",
        resolution="480p",
        order=["s10", "s20"],
        clip_settings={"s10": {"transition": {"kind": "dissolve", "frames": 6}}},
    )
    graph.connect("s10", "output", "asm", "clips")
    graph.connect("s20", "output", "asm", "clips")
    graph.save()
    return "asm"


def probe(path: Path) -> dict[str, Any]:
    """ffprobe's facts of a film: frames counted, duration, rate, size, audio sample rate."""
    ffprobe = shutil.which("ffprobe")
    assert ffprobe, "ffprobe is needed to check a render"
    done = subprocess.run(
        [ffprobe, "-v", "error", "-count_frames", "-print_format", "json", "-show_streams",
         "-show_format", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    info = json.loads(done.stdout)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
    return {
        "frames": int(video["nb_read_frames"]),
        "fps": Fraction(video["avg_frame_rate"]),
        "size": (int(video["width"]), int(video["height"])),
        "codec": video["codec_name"],
        "pix_fmt": video["pix_fmt"],
        "video_duration": Fraction(video["duration"]),
        "audio_rate": int(audio[0]["sample_rate"]) if audio else None,
    }


@contextmanager
def cpu_cluster() -> Iterator[Client]:
    """The studio's own local cluster without GPUs, in threads: one CPU worker (it declares
    the CPU slot renders ask for)."""
    with (
        local_cluster(n_workers=1, vram_gb=[], processes=False, dashboard=False) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client
