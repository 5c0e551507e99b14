"""``render_sequence`` on real media made with ffmpeg: the MP4 checked with ffprobe, frames
sampled at cuts and inside dissolves (solid colours and a grey ramp whose level is the source
frame number say which source and which frame is on screen), titles, stills, black, the mix,
the frame rates 23.976 and 29.97, cancel, LFS pointers and paths out of the project."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from studio.assembly import edl, render
from studio.assembly.model import AudioClip, Clip, Media, Overlay, Sequence, Transition
from studio.assembly.render import (
    LFSPointerMedia,
    RenderCanceled,
    RenderFailed,
    RenderProgress,
    concat_ready,
    lfs_pointer_sources,
    render_sequence,
)
from studio.assembly.resolve import probe_media
from studio.assembly.timecode import FrameRate, frame_rate
from studio.errors import SequenceError

W, H = 160, 90
FFPROBE = shutil.which("ffprobe")
pytestmark = pytest.mark.skipif(FFPROBE is None, reason="ffprobe is needed (Debian: ffmpeg)")

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)
Rendered = tuple[Path, list[RenderProgress], Sequence]
RAMP_STEP = 5
"""The ramp source's frame n is grey RAMP_STEP * n."""


def ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def colour_video(path: Path, rgb: tuple[int, int, int], *, rate: str = "24", seconds: int = 2,
                 size: str = f"{W}x{H}", tone: int | None = None) -> None:  # fmt: skip
    hex_colour = "0x{:02x}{:02x}{:02x}".format(*rgb)
    audio = ["-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=48000"] if tone else []
    ffmpeg(
        "-f", "lavfi", "-i", f"color=c={hex_colour}:s={size}:r={rate}", *audio,
        "-t", str(seconds), "-c:v", "libx264", "-crf", "1", "-pix_fmt", "yuv420p",
        *(["-c:a", "aac", "-shortest"] if tone else []), str(path),
    )  # fmt: skip


def ramp_video(path: Path, *, rate: str, frames: int = 48) -> None:
    """Frame n is a flat grey of level RAMP_STEP * n: its colour says which frame it is."""
    ffmpeg(
        "-f", "lavfi", "-i", f"color=c=black:s={W}x{H}:r={rate}",
        "-vf", f"format=gray,geq=lum='{RAMP_STEP}*N'", "-frames:v", str(frames),
        "-c:v", "libx264", "-crf", "0", "-pix_fmt", "yuv420p", str(path),
    )  # fmt: skip


def counter_video(path: Path, *, rate: str, frames: int = 200) -> None:
    """Frame n's flat colour writes n in base 16 (red: n % 16, green: n // 16 % 16, blue:
    n // 256), one step of 16 levels per digit: far more than the codec's error."""
    red, green, blue = (
        "mod(N,16)*16+8",
        "mod(trunc(N/16),16)*16+8",
        "trunc(N/256)*16+8",
    )
    ffmpeg(
        "-f", "lavfi", "-i", f"color=c=black:s={W}x{H}:r={rate}",
        "-vf", f"format=gbrp,geq=r='{red}':g='{green}':b='{blue}'", "-frames:v", str(frames),
        "-c:v", "libx264", "-crf", "0", "-pix_fmt", "yuv420p", str(path),
    )  # fmt: skip


def counted_frames(path: Path) -> list[int]:
    """The frame numbers a video made of :func:`counter_video` frames shows."""
    digits = [np.clip(mean(f) // 16, 0, 15).astype(int) for f in frames_of(path)]
    return [int(r + 16 * g + 256 * b) for r, g, b in digits]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder with the sources of every test (in 03_Renders, as takes are)."""
    base = tmp_path_factory.mktemp("project")
    media = base / "03_Renders"
    media.mkdir()
    colour_video(media / "red.mp4", RED, tone=440)
    colour_video(media / "green.mp4", GREEN)
    colour_video(media / "blue.mp4", BLUE)
    for label, rate in (("24", "24"), ("23976", "24000/1001"), ("2997", "30000/1001")):
        ramp_video(media / f"ramp{label}.mp4", rate=rate)
        counter_video(media / f"counter{label}.mp4", rate=rate)
    counter_video(media / "counter12.mp4", rate="12", frames=24)
    colour_video(media / "wide.mp4", BLUE, size="320x90")  # letterboxed into 160x90
    Image.new("RGB", (64, 36), YELLOW).save(media / "still.png")
    half = Image.new("RGBA", (64, 36), (*YELLOW, 255))
    half.paste((255, 255, 255, 0), (0, 0, 32, 36))  # a transparent left half, white under it
    half.save(media / "half.png")
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=220:sample_rate=44100", "-t", "10",
        str(media / "bed.wav"),
    )  # fmt: skip
    return base


def media(root: Path, name: str) -> Media:
    return probe_media(root / "03_Renders" / name, f"03_Renders/{name}")


def clip(media_: Media | None, source_in: int, frames: int, record_in: int, **kw: object) -> Clip:
    return Clip(
        media=media_, source_in=source_in, source_out=source_in + frames, record_in=record_in,
        reel=media_.name[:8] if media_ else "BL", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def probe(path: Path) -> dict[str, dict[str, Any]]:
    assert FFPROBE is not None
    out = subprocess.run(
        [FFPROBE, "-v", "error", "-count_frames", "-print_format", "json", "-show_streams",
         "-show_format", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    data = json.loads(out)
    streams = {s["codec_type"]: s for s in data["streams"]}
    return {"video": streams["video"], "audio": streams["audio"], "format": data["format"]}


def frames_of(path: Path) -> np.ndarray:
    """Every frame of the video, decoded to RGB: (frames, H, W, 3)."""
    raw = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, H, W, 3)


def sound_of(path: Path) -> np.ndarray:
    raw = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "f32le",
         "-ac", "2", "-ar", "48000", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype="<f4").reshape(-1, 2)


def ramp_frames(output: Path, ramp: Path) -> list[int]:
    """Which frame of the ramp each frame of ``output`` shows (the nearest grey)."""
    levels = np.array([mean(f)[0] for f in frames_of(ramp)])
    return [int(np.argmin(np.abs(levels - mean(f)[0]))) for f in frames_of(output)]


def mean(frame: np.ndarray) -> np.ndarray:
    return np.asarray(frame.reshape(-1, 3).mean(axis=0))


def near(frame: np.ndarray, rgb: tuple[int, int, int], tolerance: float = 12) -> bool:
    return bool(np.abs(mean(frame) - np.array(rgb)).max() <= tolerance)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def ffmpeg_children() -> list[str]:
    """This process's descendants (zombies too: an unreaped child is a leak) named ffmpeg."""
    parents: dict[int, list[tuple[int, str]]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        name = text[text.index("(") + 1 : text.rindex(")")]
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append((int(stat.parent.name), name))
    found, todo = [], [os.getpid()]
    while todo:
        for pid, name in parents.get(todo.pop(), []):
            todo.append(pid)
            found.append(f"{pid} {name}")
    return [entry for entry in found if "ffmpeg" in entry]


def top_level_atoms(path: Path) -> list[str]:
    data, names, at = path.read_bytes(), [], 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        names.append(data[at + 4 : at + 8].decode("latin-1"))
        if size == 1:  # a 64-bit size follows the name
            size = int.from_bytes(data[at + 8 : at + 16], "big")
        at += size if size else len(data)
    return names


def check_mp4(path: Path, sequence: Sequence, rate_text: str) -> None:
    facts = probe(path)
    video, audio = facts["video"], facts["audio"]
    assert (video["codec_name"], video["pix_fmt"]) == ("h264", "yuv420p")
    assert (int(video["width"]), int(video["height"])) == (sequence.width, sequence.height)
    assert video["r_frame_rate"] == rate_text
    assert int(video["nb_read_frames"]) == sequence.duration
    assert Fraction(video["duration"]) == pytest.approx(float(sequence.seconds), abs=1e-3)
    assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == ("aac", "48000", 2)
    frame_s = 1 / float(sequence.frame_rate.fps)
    assert float(facts["format"]["duration"]) == pytest.approx(float(sequence.seconds), abs=frame_s)
    atoms = top_level_atoms(path)
    assert atoms[0] == "ftyp" and atoms.index("moov") < atoms.index("mdat")  # faststart


# --- the edit ---------------------------------------------------------------------------------


def edit(root: Path) -> Sequence:
    """ramp [6, 30) | dissolve 8 | red | cut | green + title | black | still | blue, with the
    red shot's own sound on A1 and a music bed on A2 at -6 dB from the black on."""
    red, green, blue = media(root, "red.mp4"), media(root, "green.mp4"), media(root, "blue.mp4")
    ramp, still = media(root, "ramp24.mp4"), media(root, "still.png")
    bed = media(root, "bed.wav")
    clips = (
        clip(ramp, 6, 24, 0),
        clip(red, 0, 24, 24, transition_in=Transition(8)),
        clip(green, 0, 24, 48, overlay=Overlay("HELLO", "title", "center", 6, 12)),
        clip(None, 0, 12, 72),
        clip(still, 0, 12, 84),
        clip(blue, 12, 12, 96),
    )
    audio = (
        AudioClip(track="A1", media=red, source_in=0, source_out=24, record_in=24, reel="RED",
                  sync=True),
        AudioClip(track="A2", media=bed, source_in=0, source_out=36, record_in=72, reel="BED",
                  level_db=-6.0),
    )  # fmt: skip
    return Sequence(title="Edit", frame_rate=frame_rate("24"), width=W, height=H,
                    clips=clips, audio=audio)  # fmt: skip


@pytest.fixture(scope="module")
def rendered(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    sequence = edit(root)
    output = tmp_path_factory.mktemp("exports") / "Edit_v001.mp4"
    reports: list[RenderProgress] = []
    report = render_sequence(sequence, root=root, output=output, on_progress=reports.append)
    assert report.output == output and report.frames == sequence.duration == 108
    assert report.method == "moviepy"
    return output, reports, sequence


def test_the_mp4_is_h264_aac_at_the_sequence_size_rate_and_length(rendered: Rendered) -> None:
    output, _, sequence = rendered
    check_mp4(output, sequence, "24/1")
    assert [p.name for p in output.parent.iterdir()] == [output.name]  # no temp left beside it
    assert ffmpeg_children() == []


def test_cuts_show_the_right_source_frame_by_frame(root: Path, rendered: Rendered) -> None:
    output, _, _ = rendered
    frames = frames_of(output)
    # The ramp from its in point: record frame k shows source frame 6 + k.
    assert ramp_frames(output, root / "03_Renders" / "ramp24.mp4")[:24] == list(range(6, 30))
    assert near(frames[47], RED) and near(frames[48], GREEN)  # the cut red -> green
    assert near(frames[71], GREEN) and near(frames[72], (0, 0, 0))  # green -> black
    assert near(frames[83], (0, 0, 0)) and near(frames[84], YELLOW)  # black -> the still
    assert near(frames[95], YELLOW) and near(frames[96], BLUE) and near(frames[107], BLUE)


def test_a_dissolve_mixes_the_outgoing_tail_into_the_incoming_clip(rendered: Rendered) -> None:
    frames = frames_of(rendered[0])
    # Frame 24 + k (k < 8) is (k+1)/9 red over the ramp's tail: source frame 30 + k.
    for k in (0, 3, 7):
        weight = (k + 1) / 9
        grey = RAMP_STEP * (30 + k)
        expected = (weight * 255 + (1 - weight) * grey, (1 - weight) * grey, (1 - weight) * grey)
        assert mean(frames[24 + k]) == pytest.approx(expected, abs=4), k
    assert near(frames[32], RED)  # the dissolve is over


def test_the_title_is_drawn_in_its_frames_only(rendered: Rendered) -> None:
    frames = frames_of(rendered[0]).astype(int)
    centre = (slice(H // 2 - 8, H // 2 + 8), slice(W // 2 - 30, W // 2 + 30))
    corner = (slice(0, 10), slice(0, 10))
    with_title, without = frames[48 + 6 + 5], frames[48 + 2]  # title at clip frames [6, 18)
    assert np.abs(with_title[centre] - without[centre]).max() > 100  # white text on green
    assert np.abs(with_title[corner] - without[corner]).max() < 8
    assert np.abs(frames[48 + 18][centre] - without[centre]).max() < 12  # gone after


def test_the_sync_sound_and_the_bed_are_mixed_where_they_play(
    root: Path, rendered: Rendered
) -> None:
    samples = sound_of(rendered[0])
    second = 48_000

    def window(start: float, end: float) -> float:
        return rms(samples[int(start * second) : int(end * second)])

    assert len(samples) == pytest.approx(4.5 * second, abs=2048)  # AAC frames round it
    tone = rms(sound_of(root / "03_Renders" / "red.mp4")[: 2 * second])
    bed = rms(sound_of(root / "03_Renders" / "bed.wav")[: 2 * second])
    assert window(0.1, 0.9) < 0.002  # the ramp has no sound
    assert window(1.1, 1.9) == pytest.approx(tone, rel=0.05)  # the red shot's own, at 0 dB
    assert window(2.1, 2.9) < 0.002  # green has none, the bed starts at the black
    assert window(3.1, 4.4) == pytest.approx(bed * 10 ** (-6 / 20), rel=0.05)  # at -6 dB


def test_progress_counts_frames_to_the_total_with_an_eta(rendered: Rendered) -> None:
    _, reports, sequence = rendered
    assert reports[-1] == RenderProgress(sequence.duration, sequence.duration, 0.0)
    done = [r.frames_done for r in reports]
    assert done == sorted(done) and all(r.frames_total == sequence.duration for r in reports)
    assert all(r.eta_s is not None and r.eta_s >= 0 for r in reports if r.frames_done)


# --- rates, sizes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "name", "rate_text"),
    [
        ("24", "counter24.mp4", "24/1"),
        ("23.976", "counter23976.mp4", "24000/1001"),
        ("29.97 DF", "counter2997.mp4", "30000/1001"),
    ],
)
def test_trims_are_frame_exact_at_every_rate(root: Path, tmp_path: Path, label: str, name: str,
                                    rate_text: str) -> None:  # fmt: skip
    rate: FrameRate = frame_rate(label)
    counter = media(root, name)
    assert counter.fps == Fraction(rate_text)
    # In points near the start, far in (the reader seeks), and a clip running to the last frame.
    clips = (clip(counter, 10, 20, 0), clip(counter, 150, 7, 20), clip(counter, 2, 5, 27),
             clip(counter, 190, 10, 32))  # fmt: skip
    sequence = Sequence(title="NTSC", frame_rate=rate, width=W, height=H, clips=clips)
    output = tmp_path / "ntsc.mp4"
    for fast in (True, False):
        report = render_sequence(sequence, root=root, output=output, fast_paths=fast)
        assert report.method == ("concat" if fast else "moviepy")
        check_mp4(output, sequence, rate_text)
        expected = [*range(10, 30), *range(150, 157), *range(2, 7), *range(190, 200)]
        assert counted_frames(output) == expected, report.method


def test_a_source_of_another_rate_is_cut_by_time(root: Path, tmp_path: Path) -> None:
    """A 12 fps take in a 24 fps sequence: its in point 5 (sequence frames) is 5/24 s in,
    and every source frame shows for two sequence frames."""
    slow = media(root, "counter12.mp4")
    assert slow.length_at(frame_rate("24")) == 48
    sequence = Sequence(title="Slow", frame_rate=frame_rate("24"), width=W, height=H,
                        clips=(clip(slow, 5, 30, 0),))  # fmt: skip
    assert not concat_ready(sequence, root=root)
    render_sequence(sequence, root=root, output=tmp_path / "slow.mp4")
    assert counted_frames(tmp_path / "slow.mp4") == [(5 + k) // 2 for k in range(30)]


def test_an_unreadable_source_is_refused_by_name(root: Path, tmp_path: Path) -> None:
    (tmp_path / "03_Renders").mkdir()
    (tmp_path / "03_Renders" / "broken.mp4").write_bytes(b"not a video at all" * 100)
    broken = Media(path="03_Renders/broken.mp4", kind="video", frames=24, fps=Fraction(24))
    sequence = Sequence(title="Broken", frame_rate=frame_rate("24"), width=W, height=H,
                        clips=(clip(broken, 0, 12, 0, transition_in=Transition(4)),))  # fmt: skip
    with pytest.raises(RenderFailed, match=r"03_Renders/broken\.mp4: ffmpeg cannot read it"):
        render_sequence(sequence, root=tmp_path, output=tmp_path / "06_Exports" / "b.mp4")
    assert list((tmp_path / "06_Exports").iterdir()) == []
    assert ffmpeg_children() == []


def test_a_source_of_another_shape_is_letterboxed(root: Path, tmp_path: Path) -> None:
    wide = media(root, "wide.mp4")
    sequence = Sequence(
        title="Wide", frame_rate=frame_rate("24"), width=W, height=H, clips=(clip(wide, 0, 12, 0),)
    )
    assert not concat_ready(sequence, root=root)
    render_sequence(sequence, root=root, output=tmp_path / "wide.mp4")
    frame = frames_of(tmp_path / "wide.mp4")[6]
    assert near(frame[30:60], BLUE) and near(frame[:18], (0, 0, 0)) and near(frame[-18:], (0, 0, 0))


def test_the_first_clip_dissolves_in_from_black_over_a_transparent_still(
    root: Path, tmp_path: Path
) -> None:
    half = media(root, "half.png")
    sequence = Sequence(
        title="Fade in", frame_rate=frame_rate("24"), width=W, height=H,
        clips=(clip(half, 0, 24, 0, transition_in=Transition(11)),),
    )  # fmt: skip
    render_sequence(sequence, root=root, output=tmp_path / "fade.mp4")
    frames = frames_of(tmp_path / "fade.mp4")
    right = (slice(10, 80), slice(W // 2 + 10, W - 10))
    left = (slice(10, 80), slice(10, W // 2 - 10))
    levels = [mean(frame[right])[0] for frame in frames[:12]]
    assert levels == sorted(levels) and levels[0] == pytest.approx(255 / 12, abs=6)
    assert levels[5] == pytest.approx(255 * 6 / 12, abs=6) and near(frames[12][right], YELLOW)
    assert near(frames[20][left], (0, 0, 0))  # transparent: black, not the white under it


def test_the_render_of_an_edl_read_back_matches_the_sequence(root: Path, tmp_path: Path) -> None:
    sequence = edit(root)
    text = edl.edl_from_timeline(edl.timeline_from_sequence(sequence))
    sources = {m.path: m for m in sequence.sources}
    read = edl.sequence_from_edl(text, frame_rate=sequence.frame_rate, media=sources)
    assert read.duration == sequence.duration
    render_sequence(read, root=root, output=tmp_path / "from_edl.mp4")
    check_mp4(tmp_path / "from_edl.mp4", sequence, "24/1")
    frames = frames_of(tmp_path / "from_edl.mp4")
    assert mean(frames[0])[0] == pytest.approx(RAMP_STEP * 6, abs=3)
    assert near(frames[48], GREEN) and near(frames[90], YELLOW)


# --- cancel, refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize("fast_paths", [False, True], ids=["moviepy", "concat"])
def test_cancel_stops_promptly_leaves_nothing_and_no_ffmpeg(
    root: Path, tmp_path: Path, fast_paths: bool
) -> None:
    long = root / "03_Renders" / "long.mp4"
    if not long.exists():
        ffmpeg(
            "-f", "lavfi", "-i", "testsrc2=s=640x360:r=24", "-t", "20", "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(long),
        )  # fmt: skip
    source = media(root, "long.mp4")
    clips = (clip(source, 0, 240, 0), clip(source, 240, 240, 240))
    if not fast_paths:  # a dissolve: frames are composed by MoviePy
        clips = (clips[0], clip(source, 240, 240, 240, transition_in=Transition(12)))
    sequence = Sequence(title="Long", frame_rate=frame_rate("24"), width=640, height=360,
                        clips=clips)  # fmt: skip
    assert concat_ready(sequence, root=root) is fast_paths
    cancel = threading.Event()
    asked: list[float] = []

    def on_progress(progress: RenderProgress) -> None:
        if progress.frames_done > 0 and not cancel.is_set():
            asked.append(time.monotonic())
            cancel.set()

    exports = tmp_path / "exports"
    with pytest.raises(RenderCanceled, match="canceled"):
        render_sequence(sequence, root=root, output=exports / "Long_v001.mp4",
                        on_progress=on_progress, cancel=cancel, fast_paths=fast_paths)  # fmt: skip
    assert asked and time.monotonic() - asked[0] < 1.0
    assert list(exports.iterdir()) == []  # neither the film nor its temp files
    assert ffmpeg_children() == []


def test_an_lfs_pointer_is_refused_with_the_command_to_fetch_it(root: Path, tmp_path: Path) -> None:
    project = tmp_path / "clone"
    (project / "03_Renders").mkdir(parents=True)
    shutil.copy(root / "03_Renders" / "red.mp4", project / "03_Renders" / "red.mp4")
    pointer = project / "03_Renders" / "take01.mp4"
    pointer.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64
                        + b"\nsize 12345\n")  # fmt: skip
    red = media(root, "red.mp4")
    fake = Media(path="03_Renders/take01.mp4", kind="video", frames=48, fps=Fraction(24))
    sequence = Sequence(title="Clone", frame_rate=frame_rate("24"), width=W, height=H,
                        clips=(clip(red, 0, 12, 0), clip(fake, 0, 12, 12)))  # fmt: skip
    assert lfs_pointer_sources(sequence, root=project) == ["03_Renders/take01.mp4"]
    output = project / "06_Exports" / "Clone_v001.mp4"
    with pytest.raises(LFSPointerMedia) as raised:
        render_sequence(sequence, root=project, output=output)
    assert "03_Renders/take01.mp4" in str(raised.value)
    assert 'git lfs pull --include="03_Renders/take01.mp4"' in (raised.value.hint or "")
    assert not output.exists()


def test_a_missing_font_names_the_package_to_install(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "FONT_FILES", (tmp_path / "DejaVuSans-Bold.ttf",))
    titled = clip(media(root, "green.mp4"), 0, 12, 0, overlay=Overlay("HELLO"))
    sequence = Sequence(title="Font", frame_rate=frame_rate("24"), width=W, height=H,
                        clips=(titled,))  # fmt: skip
    exports = tmp_path / "exports"
    with pytest.raises(RenderFailed, match="no font for the text overlays") as raised:
        render_sequence(sequence, root=root, output=exports / "Font_v001.mp4")
    assert "apt-get install fonts-dejavu-core" in (raised.value.hint or "")
    assert list(exports.iterdir()) == []


@pytest.mark.parametrize("escape", ["../outside.mp4", "absolute", "symlink"])
def test_a_source_outside_the_project_is_refused(root: Path, tmp_path: Path, escape: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    outside = tmp_path / "outside.mp4"
    shutil.copy(root / "03_Renders" / "red.mp4", outside)
    path = {"../outside.mp4": "../outside.mp4", "absolute": str(outside), "symlink": "link.mp4"}
    if escape == "symlink":
        (project / "link.mp4").symlink_to(outside)
    source = Media(path=path[escape], kind="video", frames=48, fps=Fraction(24))
    sequence = Sequence(title="Out", frame_rate=frame_rate("24"), width=W, height=H,
                        clips=(clip(source, 0, 12, 0),))  # fmt: skip
    with pytest.raises(SequenceError, match="outside the project"):
        render_sequence(sequence, root=project, output=project / "out.mp4")
    assert not (project / "out.mp4").exists()
