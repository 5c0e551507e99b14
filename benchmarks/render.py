"""The final render (``render_sequence``, MoviePy) vs one ffmpeg command making the same edit.

Two edits of six 720p shots, 4 s each, cut from 5 s sources (trims at both ends):

* the realistic one: 2 dissolves, a title and a lower third, a music bed at -12 dB; the
  baseline is one ffmpeg filter graph (trim, xfade, concat, drawtext, atrim/volume);
* cuts only; the baseline is ffmpeg's concat filter.

Both sides use the same ffmpeg binary (MoviePy's), the same libx264 preset and CRF, and the
same AAC settings; each time is the median of a few runs after a warm-up, the two sides
run in turn, wall time and CPU time (this process and its ffmpeg children) both reported.
On a machine shared with other work the wall-time ratio moves with the load (the studio runs
more processes, which the scheduler may favour or starve); the CPU-time ratio does not.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from moviepy.config import FFMPEG_BINARY

from benchmarks.timing import report
from studio.assembly.model import AudioClip, Clip, Media, Overlay, Sequence, Transition
from studio.assembly.render import (
    AUDIO_BITRATE,
    AUDIO_RATE,
    DEFAULT_CRF,
    DEFAULT_PRESET,
    font_file,
    render_sequence,
)
from studio.assembly.timecode import frame_rate

WIDTH, HEIGHT, FPS = 1280, 720, 24
SHOTS = 6
SOURCE_FRAMES = 5 * FPS
TRIM_IN, CLIP_FRAMES = 12, 4 * FPS
DISSOLVE = 12
DISSOLVES_INTO = (2, 4)
"""Clip indexes that dissolve in from the clip before (it plays its tail under them)."""
TITLES = {
    0: Overlay("NIGHT MARKET", "title", "center", 0, 48),
    3: Overlay("Mara the cook", "lower_third", "bottom_left", 12, 60),
}
REPEAT = 2


def _ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG_BINARY, "-v", "error", "-y", *args], check=True, stderr=subprocess.PIPE)


def _make_media(folder: Path) -> None:
    for shot in range(SHOTS):
        _ffmpeg(
            "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}",
            "-vf", f"hue=h={shot * 60}", "-frames:v", str(SOURCE_FRAMES),
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            str(folder / f"shot{shot}.mp4"),
        )  # fmt: skip
    _ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=44100",
        "-f", "lavfi", "-i", "sine=frequency=495:sample_rate=44100",
        "-filter_complex", "[0:a][1:a]join=inputs=2:channel_layout=stereo", "-t", "30",
        str(folder / "music.wav"),
    )  # fmt: skip


def _sequence(*, effects: bool) -> Sequence:
    clips = []
    for shot in range(SHOTS):
        media = Media(
            path=f"shot{shot}.mp4", kind="video", frames=SOURCE_FRAMES, fps=Fraction(FPS),
            duration=Fraction(SOURCE_FRAMES, FPS), width=WIDTH, height=HEIGHT,
        )  # fmt: skip
        dissolve = effects and shot in DISSOLVES_INTO
        clips.append(
            Clip(
                media=media,
                source_in=TRIM_IN,
                source_out=TRIM_IN + CLIP_FRAMES,
                record_in=shot * CLIP_FRAMES,
                reel=f"SHOT{shot}",
                transition_in=Transition(DISSOLVE) if dissolve else None,
                overlay=TITLES.get(shot) if effects else None,
            )
        )
    total = SHOTS * CLIP_FRAMES
    music = Media(path="music.wav", kind="audio", duration=Fraction(30), has_audio=True)
    bed = AudioClip(
        track="A2", media=music, source_in=0, source_out=total, record_in=0, reel="MUSIC",
        level_db=-12.0,
    )  # fmt: skip
    return Sequence(
        title="Bench", frame_rate=frame_rate("24"), width=WIDTH, height=HEIGHT,
        clips=tuple(clips), audio=(bed,),
    )  # fmt: skip


def _encoder() -> list[str]:
    return [
        "-c:v", "libx264", "-preset", DEFAULT_PRESET, "-crf", str(DEFAULT_CRF),
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(AUDIO_RATE),
        "-ac", "2", "-movflags", "+faststart",
    ]  # fmt: skip


def _inputs(folder: Path) -> list[str]:
    args: list[str] = []
    for shot in range(SHOTS):
        args += ["-i", str(folder / f"shot{shot}.mp4")]
    return [*args, "-i", str(folder / "music.wav")]


def _audio_chain(seconds: float) -> str:
    return f"[{SHOTS}:a]atrim=0:{seconds},volume=-12dB,aresample={AUDIO_RATE}[a]"


def _ffmpeg_edit(folder: Path, output: Path) -> None:
    """The realistic edit as one ffmpeg filter graph (what render_sequence makes)."""
    font = font_file()
    chains = []
    for shot in range(SHOTS):
        tail = DISSOLVE if shot + 1 in DISSOLVES_INTO else 0
        end = TRIM_IN + CLIP_FRAMES + tail
        chains.append(
            f"[{shot}:v]trim=start_frame={TRIM_IN}:end_frame={end},setpts=PTS-STARTPTS,settb=AVTB[s{shot}]"
        )
    current, length = "s0", CLIP_FRAMES + (DISSOLVE if 1 in DISSOLVES_INTO else 0)
    for shot in range(1, SHOTS):
        own = CLIP_FRAMES + (DISSOLVE if shot + 1 in DISSOLVES_INTO else 0)
        if shot in DISSOLVES_INTO:
            offset = (length - DISSOLVE) / FPS
            chains.append(
                f"[{current}][s{shot}]xfade=transition=fade:duration={DISSOLVE / FPS}"
                f":offset={offset}[x{shot}]"
            )
            length += own - DISSOLVE
        else:
            chains.append(f"[{current}][s{shot}]concat=n=2:v=1:a=0[x{shot}]")
            length += own
        current = f"x{shot}"
    for number, (shot, overlay) in enumerate(TITLES.items()):
        first = shot * CLIP_FRAMES + overlay.start
        big = overlay.style == "title"
        size = round(HEIGHT / (11 if big else 18))
        x, y = ("(w-text_w)/2", "(h-text_h)/2") if big else ("w*0.05", "h-text_h-h*0.06")
        chains.append(
            f"[{current}]drawtext=fontfile={font}:text='{overlay.text}':fontsize={size}"
            f":fontcolor=white:borderw=2:bordercolor=black:x={x}:y={y}"
            f":enable='between(n,{first},{first + overlay.frames - 1})'[t{number}]"
        )
        current = f"t{number}"
    chains.append(_audio_chain(SHOTS * CLIP_FRAMES / FPS))
    _ffmpeg(
        *_inputs(folder), "-filter_complex", ";".join(chains),
        "-map", f"[{current}]", "-map", "[a]", *_encoder(), str(output),
    )  # fmt: skip


def _ffmpeg_concat(folder: Path, output: Path) -> None:
    """The cuts-only edit with ffmpeg's concat filter."""
    chains = [
        f"[{shot}:v]trim=start_frame={TRIM_IN}:end_frame={TRIM_IN + CLIP_FRAMES},"
        f"setpts=PTS-STARTPTS[s{shot}]"
        for shot in range(SHOTS)
    ]
    chains.append("".join(f"[s{shot}]" for shot in range(SHOTS)) + f"concat=n={SHOTS}:v=1:a=0[v]")
    chains.append(_audio_chain(SHOTS * CLIP_FRAMES / FPS))
    _ffmpeg(
        *_inputs(folder), "-filter_complex", ";".join(chains),
        "-map", "[v]", "-map", "[a]", *_encoder(), str(output),
    )  # fmt: skip


def _cpu_s() -> float:
    """CPU seconds used so far by this process and its finished children (the ffmpegs)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _compare(
    label: str, studio: Callable[[], object], baseline_label: str, baseline: Callable[[], object]
) -> None:
    """Both sides warmed up, then run in turn (so a busy machine slows both alike); the
    medians of wall time and of CPU time, and their ratios."""
    studio()
    baseline()
    samples: dict[str, list[tuple[float, float]]] = {"studio": [], "baseline": []}
    for _ in range(REPEAT):
        for side, action in (("studio", studio), ("baseline", baseline)):
            wall, cpu = time.perf_counter(), _cpu_s()
            action()
            samples[side].append((time.perf_counter() - wall, _cpu_s() - cpu))
    (studio_wall, studio_cpu), (base_wall, base_cpu) = (
        (
            statistics.median(w for w, _ in samples[side]),
            statistics.median(c for _, c in samples[side]),
        )
        for side in ("studio", "baseline")
    )
    report(label, studio_wall, baseline_label, base_wall)
    print(
        f"  CPU time: {studio_cpu:.1f} s vs {base_cpu:.1f} s -> ratio {studio_cpu / base_cpu:.2f}x"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _make_media(folder)
        out = folder / "out"
        out.mkdir()
        edit, cuts = _sequence(effects=True), _sequence(effects=False)
        label = f"{SHOTS} shots of 720p, {float(edit.seconds):.0f} s ({edit.duration} frames)"
        print(f"libx264 -preset {DEFAULT_PRESET} -crf {DEFAULT_CRF} on both sides; goals: the edit"
              " <= 1.5x, cuts only <= 1.2x")  # fmt: skip
        _compare(
            f"render_sequence, {label}, 2 dissolves, 2 titles, music",
            lambda: render_sequence(edit, root=folder, output=out / "edit.mp4"),
            "one ffmpeg filter graph",
            lambda: _ffmpeg_edit(folder, out / "edit_ffmpeg.mp4"),
        )
        _compare(
            f"render_sequence, {label}, cuts only",
            lambda: render_sequence(cuts, root=folder, output=out / "cuts.mp4"),
            "ffmpeg concat filter",
            lambda: _ffmpeg_concat(folder, out / "cuts_ffmpeg.mp4"),
        )
        _compare(
            "  the same cuts, every frame composed by MoviePy (fast_paths=False)",
            lambda: render_sequence(
                cuts, root=folder, output=out / "cuts_frames.mp4", fast_paths=False
            ),
            "ffmpeg concat filter",
            lambda: _ffmpeg_concat(folder, out / "cuts_ffmpeg.mp4"),
        )


if __name__ == "__main__":
    main()
