"""The film: a sequence (read from its EDL) rendered with MoviePy 2 into one MP4 (I/O).

The contract the render job (``render_final_video``) calls; see :func:`render_sequence`.

How the picture is made, and why it is fast enough:

* One MoviePy :class:`~moviepy.VideoClip` for the whole sequence, whose frame function knows
  which clip is on screen at each sequence frame. Each clip's source is read by MoviePy's
  ``VideoFileClip`` (one ffmpeg reader per clip, opened when the timeline reaches the clip,
  closed when it is past it), frame-exact by frame number. Only what needs pixels touched
  is: a dissolve mixes two frames, an overlay blends its own box, a cut passes the reader's
  frame through untouched. (A ``CompositeVideoClip`` of the whole edit composites full-frame
  masks on every frame: ~10x slower than ffmpeg here.)
* Titles are MoviePy ``TextClip`` images drawn once with a DejaVu font (Debian's
  ``fonts-dejavu-core``), stills are ``ImageClip`` images fitted to the frame once.
* Sound is read by MoviePy (an ``AudioFileClip`` per event, open while it plays), mixed at
  each event's level into a 48 kHz stereo WAV beside the output, then encoded to AAC with
  the picture.
* The encoder is ffmpeg fed raw RGB frames through a pipe, with the command written here:
  MoviePy's own writer states the rate as ``%.02f`` (23.98 is not 24000/1001) and asks
  libx264 for ``yuva420p``.
* A cuts-only edit of sources that already have the sequence's size and rate takes MoviePy's
  ffmpeg (``moviepy.config.FFMPEG_BINARY``) straight: one trim + concat filter graph gives the
  same frames without the RGB round trip through Python (``fast_paths=False`` turns it off).
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import tempfile
import threading
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import IO, Any, Final, cast

import numpy as np
import numpy.typing as npt
from moviepy import AudioFileClip, ImageClip, TextClip, VideoClip, VideoFileClip
from moviepy.config import FFMPEG_BINARY
from moviepy.video.io.ffmpeg_reader import ffmpeg_parse_infos
from proglog import ProgressBarLogger

from studio.assembly.model import AudioClip, Clip, Media, Overlay, Sequence
from studio.atomic import fsync_dir
from studio.errors import SequenceError
from studio.project.lfs import looks_like_pointer

Frame = npt.NDArray[np.uint8]

AUDIO_RATE: Final = 48_000
AUDIO_BITRATE: Final = "192k"
DEFAULT_PRESET: Final = "medium"
DEFAULT_CRF: Final = 18
FONT_PACKAGE: Final = "fonts-dejavu-core"
FONT_FILES: Final = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
)
PROGRESS_INTERVAL_S: Final = 0.25
_AUDIO_CHUNK: Final = AUDIO_RATE
"""Samples mixed at a time: under half of MoviePy's audio buffer (200000), past which its
reader splits the request and reads the wrong samples (MoviePy 2.2.1)."""


class RenderCanceled(SequenceError):
    """The render was asked to stop; nothing was left at the output's name."""


class LFSPointerMedia(SequenceError):
    """A source is a Git LFS pointer file, not its media (a clone without ``git lfs pull``)."""


class RenderFailed(SequenceError):
    """The render could not be made (a missing font, a source ffmpeg cannot read, the
    encoder failing); nothing was left at the output's name."""


@dataclass(frozen=True)
class RenderProgress:
    """How far a render is: frames encoded of the total, and the time left (None: unknown)."""

    frames_done: int
    frames_total: int
    eta_s: float | None = None


@dataclass(frozen=True)
class RenderReport:
    """A finished render: the file written, its frame count and how long it took."""

    output: Path
    frames: int
    seconds: float
    method: str = "moviepy"
    """``"moviepy"`` (frames composed by MoviePy) or ``"concat"`` (the cuts-only fast path)."""


# --- sources ----------------------------------------------------------------------------------


def source_path(media: Media, *, root: Path) -> Path:
    """The file of ``media`` (a project-relative path) under ``root``; a path that leads out
    of the project (``..``, an absolute path elsewhere, a symlink out) is refused."""
    base = root.resolve()
    path = (base / media.path).resolve()
    if not path.is_relative_to(base):
        raise SequenceError(
            f"{media.path}: the source is outside the project ({base})",
            hint="sources are files of the project, named relative to its folder",
        )
    return path


def lfs_pointer_sources(sequence: Sequence, *, root: Path) -> list[str]:
    """The sequence's sources (project-relative paths) that are Git LFS pointer files."""
    return [m.path for m in sequence.sources if looks_like_pointer(source_path(m, root=root))]


def _check_sources(sequence: Sequence, *, root: Path) -> None:
    pointers = lfs_pointer_sources(sequence, root=root)
    if pointers:
        command = f'git lfs pull --include="{",".join(pointers)}"'
        raise LFSPointerMedia(
            f"{len(pointers)} source(s) are Git LFS pointers, not media: {', '.join(pointers)}",
            hint=f"fetch them in the project folder ({root}): {command}",
        )
    for media in sequence.sources:
        if not source_path(media, root=root).is_file():
            raise SequenceError(
                f"{media.path}: the source file is missing",
                hint="restore it (git checkout / git lfs pull) or take it out of the sequence",
            )


def font_file() -> Path:
    """The font titles are drawn with (DejaVu Sans, from Debian's ``fonts-dejavu-core``)."""
    for path in FONT_FILES:
        if path.is_file():
            return path
    raise RenderFailed(
        f"no font for the text overlays: {FONT_FILES[0]} is missing",
        hint=f"install it: sudo apt-get install {FONT_PACKAGE}",
    )


# --- the picture ------------------------------------------------------------------------------


def _fit(width: int, height: int, into: tuple[int, int]) -> tuple[int, int]:
    """The even size that fits ``width x height`` into ``into`` keeping its aspect."""
    box_w, box_h = into
    scale = min(box_w / width, box_h / height)
    return (max(2, 2 * round(width * scale / 2)), max(2, 2 * round(height * scale / 2)))


def _letterbox(image: Frame, size: tuple[int, int]) -> Frame:
    """``image`` centered on a black frame of ``size`` (returned as is when it fills it)."""
    width, height = size
    if image.shape[1] == width and image.shape[0] == height:
        return image
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    y, x = (height - image.shape[0]) // 2, (width - image.shape[1]) // 2
    frame[y : y + image.shape[0], x : x + image.shape[1]] = image[..., :3]
    return frame


class _Source:
    """What a clip shows: a frame for each of its source frames (at the sequence rate)."""

    def frame(self, index: int) -> Frame:
        raise NotImplementedError

    def close(self) -> None:
        """Free the reader; the source may be asked for frames again (it reopens)."""


class _Constant(_Source):
    def __init__(self, image: Frame) -> None:
        self.image = image

    def frame(self, index: int) -> Frame:
        return self.image


class _Video(_Source):
    """A video file read by MoviePy's ``VideoFileClip``, opened on first use. Frame ``index``
    counts at the sequence rate from the file's first frame (converted by time when the file
    has another rate)."""

    def __init__(self, path: Path, *, media: Media, fps: Fraction, size: tuple[int, int]) -> None:
        self.path, self.media, self.fps, self.size = path, media, fps, size
        self.clip: Any = None
        self.fitted: tuple[int, int] | None = None

    def _open(self) -> Any:
        clip = self._reader(target=None)
        native = (int(clip.size[0]), int(clip.size[1]))
        self.fitted = _fit(native[0], native[1], self.size)
        if native != self.fitted:  # ffmpeg scales it (cheaper than resizing in Python)
            clip.close()
            clip = self._reader(target=self.fitted)
        if self.media.fps:  # the resolver's exact rate (ffmpeg prints 23.98 for 24000/1001)
            clip.reader.fps = float(self.media.fps)
        return clip

    def _reader(self, *, target: tuple[int, int] | None) -> Any:
        try:
            return VideoFileClip(
                str(self.path), audio=False, target_resolution=target, fps_source="fps"
            )
        except (OSError, KeyError, IndexError) as exc:
            raise RenderFailed(f"{self.media.path}: ffmpeg cannot read it ({exc})") from exc

    def frame(self, index: int) -> Frame:
        if self.clip is None:
            self.clip = self._open()
        reader = self.clip.reader
        native = self.media.fps or Fraction(reader.fps).limit_denominator(1001)
        source_frame = math.floor(Fraction(index) / self.fps * native)
        count = self.media.frames or reader.n_frames  # the resolver's count is exact
        if count:
            source_frame = min(source_frame, int(count) - 1)  # past the end: hold the last
        # The middle of the wanted frame: the reader's frame number is floor(t * its fps).
        image: Frame = reader.get_frame((source_frame + 0.5) / reader.fps)
        return _letterbox(image, self.size) if self.fitted != self.size else image

    def close(self) -> None:
        if self.clip is not None:
            self.clip.close()
            self.clip = None


def _still(path: Path, *, size: tuple[int, int]) -> Frame:
    """An image fitted to the frame once (its transparent parts over black)."""
    image = ImageClip(str(path))
    try:
        rgb = np.asarray(image.get_frame(0)[..., :3], dtype=np.float32)
        if image.mask is not None:
            rgb *= np.asarray(image.mask.get_frame(0), dtype=np.float32)[..., None]
    finally:
        image.close()
    flat = ImageClip(np.rint(rgb).astype(np.uint8))
    try:
        fitted = _fit(flat.size[0], flat.size[1], size)
        if fitted != tuple(flat.size):
            flat = flat.resized(new_size=fitted)
        frame = np.ascontiguousarray(flat.get_frame(0)[..., :3], dtype=np.uint8)
    finally:
        flat.close()
    return _letterbox(frame, size)


@dataclass
class _Title:
    """An overlay drawn once: its box's place, its colour premultiplied, its alpha (0..256)."""

    first: int
    end: int
    x: int
    y: int
    color: npt.NDArray[np.uint16]
    alpha: npt.NDArray[np.uint16]

    def draw(self, frame: Frame) -> Frame:
        height, width = self.alpha.shape[:2]
        out = np.array(frame, copy=True)
        box = out[self.y : self.y + height, self.x : self.x + width]
        box[...] = ((box * (256 - self.alpha) + self.color) >> 8).astype(np.uint8)
        return out


def _title(overlay: Overlay, *, clip: Clip, size: tuple[int, int], font: Path) -> _Title:
    """The overlay drawn once with MoviePy's ``TextClip``, placed at its position (its
    ``frames`` 0: to the clip's end)."""
    width, height = size
    big = overlay.style == "title"
    text = TextClip(
        font=str(font),
        text=overlay.text,
        font_size=max(8, round(height / (11 if big else 18))),
        color="white",
        stroke_color="black",
        stroke_width=max(1, round(height / 360)),
        margin=(round(height / 60), round(height / 60)),
        method="label",
        text_align="center",
    )
    try:
        rgb = np.asarray(text.get_frame(0)[..., :3], dtype=np.uint16)
        mask = text.mask.get_frame(0) if text.mask is not None else np.ones(rgb.shape[:2])
    finally:
        text.close()
    box_h, box_w = rgb.shape[:2]
    if box_w > width or box_h > height:  # a long title: cut to the frame, not refused
        rgb, mask = rgb[:height, :width], mask[:height, :width]
        box_h, box_w = rgb.shape[:2]
    margin_x, margin_y = round(width * 0.05), round(height * 0.06)
    position = overlay.position
    x = {
        "left": margin_x,
        "right": width - box_w - margin_x,
    }.get(position.split("_")[-1], (width - box_w) // 2)
    if position.startswith("top"):
        y = margin_y
    elif position.startswith("bottom"):
        y = height - box_h - margin_y
    else:
        y = (height - box_h) // 2
    x, y = min(max(0, x), width - box_w), min(max(0, y), height - box_h)
    alpha = np.rint(np.asarray(mask, dtype=np.float32) * 256).astype(np.uint16)[..., None]
    first = clip.record_in + overlay.start
    return _Title(
        first=first,
        end=first + overlay.frames if overlay.frames > 0 else clip.record_out,
        x=x,
        y=y,
        color=rgb * alpha,
        alpha=alpha,
    )


def _mix(incoming: Frame, outgoing: Frame, weight: int) -> Frame:
    """``weight``/256 of ``incoming`` over ``outgoing``."""
    a = incoming.astype(np.uint16) * weight
    a += outgoing.astype(np.uint16) * (256 - weight)
    return (a >> 8).astype(np.uint8)


@dataclass
class _Picture:
    """The sequence's frame ``n``: its clip's frame, mixed in a dissolve, with its title."""

    sequence: Sequence
    sources: list[_Source]
    titles: list[_Title | None]
    black: Frame
    current: int = 0
    opened: set[int] = field(default_factory=set)

    def frame(self, n: int) -> Frame:
        clips = self.sequence.clips
        while self.current < len(clips) - 1 and n >= clips[self.current].record_out:
            self.current += 1
        while self.current > 0 and n < clips[self.current].record_in:
            self.current -= 1
        index = self.current
        clip = clips[index]
        offset = n - clip.record_in
        image = self._frame_of(index, clip.source_in + offset)
        if clip.transition_in is not None and offset < clip.transition_in.frames:
            if index > 0:
                before = clips[index - 1]
                outgoing = self._frame_of(index - 1, before.source_out + offset)
            else:
                outgoing = self.black
            weight = round(256 * (offset + 1) / (clip.transition_in.frames + 1))
            image = _mix(image, outgoing, weight)
        self._release(index, offset)
        title = self.titles[index]
        if title is not None and title.first <= n < title.end:
            image = title.draw(image)
        return image

    def _frame_of(self, index: int, source_frame: int) -> Frame:
        self.opened.add(index)
        return self.sources[index].frame(source_frame)

    def _release(self, index: int, offset: int) -> None:
        """Close the readers the timeline is past (a clip's reader lives on through the
        dissolve out of it, which plays under the next clip's first frames)."""
        keep = {index}
        transition = self.sequence.clips[index].transition_in
        if transition is not None and offset < transition.frames:
            keep.add(index - 1)
        for done in self.opened - keep:
            self.sources[done].close()
        self.opened &= keep

    def close(self) -> None:
        for source in self.sources:
            source.close()
        self.opened.clear()


def _picture(sequence: Sequence, *, root: Path) -> _Picture:
    size = (sequence.width, sequence.height)
    black = np.zeros((sequence.height, sequence.width, 3), dtype=np.uint8)
    sources: list[_Source] = []
    titles: list[_Title | None] = []
    font: Path | None = None
    stills: dict[str, Frame] = {}
    for clip in sequence.clips:
        media = clip.media
        if media is None:
            sources.append(_Constant(black))
        elif media.is_still:
            if media.path not in stills:
                stills[media.path] = _still(source_path(media, root=root), size=size)
            sources.append(_Constant(stills[media.path]))
        else:
            path = source_path(media, root=root)
            sources.append(_Video(path, media=media, fps=sequence.frame_rate.fps, size=size))
        if clip.overlay is not None and clip.overlay.text.strip():
            font = font or font_file()
            titles.append(_title(clip.overlay, clip=clip, size=size, font=font))
        else:
            titles.append(None)
    return _Picture(sequence=sequence, sources=sources, titles=titles, black=black)


# --- sound ------------------------------------------------------------------------------------


@dataclass
class _Sound:
    """One audio event on the sequence's sample clock, its file opened while it plays."""

    event: AudioClip
    path: Path
    first: int
    end: int
    source_s: float
    gain: float
    file: Any = None

    def add_to(self, mix: npt.NDArray[np.float64], *, at: int) -> None:
        """Add the event's samples that fall in ``mix`` (sequence samples from ``at``)."""
        lo, hi = max(at, self.first), min(at + len(mix), self.end)
        if lo >= hi:
            return
        if self.file is None:
            try:
                self.file = AudioFileClip(str(self.path), fps=AUDIO_RATE)
            except (OSError, KeyError) as exc:
                raise RenderFailed(
                    f"{self.event.media.path}: ffmpeg reads no sound from it ({exc})"
                ) from exc
        times = self.source_s + (np.arange(lo, hi, dtype=np.float64) - self.first) / AUDIO_RATE
        times = times[times < float(self.file.duration)]  # a bed shorter than asked: silence
        if len(times) == 0:
            return
        samples = np.asarray(self.file.get_frame(times), dtype=np.float64)
        if samples.ndim == 1:
            samples = samples[:, None]
        mix[lo - at : lo - at + len(times)] += samples[:, :2] * self.gain  # mono: both sides

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def _write_audio(sequence: Sequence, *, root: Path, path: Path, stop: Callable[[], None]) -> None:
    """The sequence's sound (each event at its level) as a 48 kHz stereo 16-bit WAV, mixed a
    second at a time from MoviePy's ``AudioFileClip`` readers (each open only while its event
    plays); ``stop`` is called between seconds (it raises to cancel)."""
    fps = sequence.frame_rate.fps

    def sample(frame: int) -> int:
        return round(Fraction(frame) / fps * AUDIO_RATE)

    sounds = [
        _Sound(
            event=event,
            path=source_path(event.media, root=root),
            first=sample(event.record_in),
            end=sample(event.record_out),
            source_s=float(Fraction(event.source_in) / fps),
            gain=10 ** (event.level_db / 20),
        )
        for event in sequence.audio
    ]
    total = sample(sequence.duration)
    try:
        with wave.open(str(path), "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(AUDIO_RATE)
            for at in range(0, total, _AUDIO_CHUNK):
                stop()
                mix = np.zeros((min(_AUDIO_CHUNK, total - at), 2))
                for sound in sounds:
                    sound.add_to(mix, at=at)
                    if sound.end <= at + len(mix):
                        sound.close()
                out.writeframes((np.clip(mix, -1.0, 1.0) * 32767).astype("<i2").tobytes())
    finally:
        for sound in sounds:
            sound.close()


# --- progress and cancel ----------------------------------------------------------------------


class _Stop(Exception):
    """Raised inside MoviePy's frame loop when the render is canceled."""


class _Progress(ProgressBarLogger):  # type: ignore[misc]
    """MoviePy's progress hook (a proglog logger): each frame checks ``cancel`` and, at most
    every :data:`PROGRESS_INTERVAL_S`, tells ``on_progress`` how far the render is."""

    def __init__(
        self,
        *,
        total: int,
        on_progress: Callable[[RenderProgress], None] | None,
        cancel: threading.Event | None,
    ) -> None:
        super().__init__(min_time_interval=0)
        self.total = total
        self.on_progress = on_progress
        self.cancel = cancel
        self.started = time.monotonic()
        self.last_sent = -math.inf

    def check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise _Stop

    def frames_done(self, done: int, *, force: bool = False) -> None:
        self.check()
        now = time.monotonic()
        if self.on_progress is None or (not force and now - self.last_sent < PROGRESS_INTERVAL_S):
            return
        self.last_sent = now
        elapsed = now - self.started
        eta = elapsed / done * (self.total - done) if done else None
        self.on_progress(RenderProgress(frames_done=done, frames_total=self.total, eta_s=eta))

    def bars_callback(self, bar: str, attr: str, value: Any, old_value: Any = None) -> None:
        if attr == "index":
            self.frames_done(int(value))


# --- the encoder ------------------------------------------------------------------------------


def _rate_text(fps: Fraction) -> str:
    return f"{fps.numerator}/{fps.denominator}"


def _encoder_output(sequence: Sequence, *, preset: str, crf: int, threads: int | None) -> list[str]:
    return [
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        *(["-threads", str(threads)] if threads is not None else []),
        "-r", _rate_text(sequence.frame_rate.fps), "-frames:v", str(sequence.duration),
        "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(AUDIO_RATE), "-ac", "2",
        "-movflags", "+faststart", "-f", "mp4",
    ]  # fmt: skip


@contextlib.contextmanager
def _process(
    command: list[str], *, log: IO[bytes], stdin: int | None, stdout: int | None
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process that is gone when the block ends, however it ends."""
    proc = subprocess.Popen(command, stdin=stdin, stdout=stdout, stderr=log)
    try:
        yield proc
    finally:
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _encoder_error(log: IO[bytes], what: str) -> RenderFailed:
    log.seek(0)
    tail = log.read().decode(errors="replace").strip().splitlines()[-8:]
    return RenderFailed(f"{what}: ffmpeg failed: " + " / ".join(tail))


def _encode_moviepy(
    sequence: Sequence,
    *,
    root: Path,
    temp: Path,
    audio: Path,
    progress: _Progress,
    preset: str,
    crf: int,
    threads: int | None,
    log: IO[bytes],
) -> None:
    fps = sequence.frame_rate.fps
    total = sequence.duration
    picture = _picture(sequence, root=root)
    # Half a frame past the end: MoviePy counts int(duration * fps) frames, and the float of
    # an exact count at 24000/1001 can fall just under it.
    clip = VideoClip(
        frame_function=lambda t: picture.frame(round(t * float(fps))),
        duration=float((Fraction(total) + Fraction(1, 2)) / fps),
    )
    command = [
        FFMPEG_BINARY, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{sequence.width}x{sequence.height}",
        "-framerate", _rate_text(fps), "-i", "pipe:0", "-i", str(audio),
        "-map", "0:v:0", "-map", "1:a:0",
        *_encoder_output(sequence, preset=preset, crf=crf, threads=threads), str(temp),
    ]  # fmt: skip
    try:
        with _process(command, log=log, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL) as proc:
            pipe = cast("IO[bytes]", proc.stdin)
            try:
                for frame in clip.iter_frames(fps=float(fps), logger=progress, dtype="uint8"):
                    pipe.write(np.ascontiguousarray(frame).data)
                pipe.close()
            except BrokenPipeError:
                proc.wait()
                raise _encoder_error(log, sequence.title) from None
            if proc.wait() != 0:
                raise _encoder_error(log, sequence.title)
    finally:
        picture.close()
        clip.close()


def concat_ready(sequence: Sequence, *, root: Path) -> bool:
    """Whether the sequence is cuts only, of videos that already have its size and rate (the
    fast path: ffmpeg trims and concatenates, the frames are the sources')."""
    if not sequence.clips:
        return False
    size = [sequence.width, sequence.height]
    for clip in sequence.clips:
        if clip.transition_in is not None or clip.overlay is not None:
            return False
        media = clip.media
        if media is None:
            continue
        if media.kind != "video" or media.fps != sequence.frame_rate.fps:
            return False
        infos = ffmpeg_parse_infos(str(source_path(media, root=root)), check_duration=False)
        if list(infos.get("video_size") or []) != size or infos.get("video_rotation", 0):
            return False
        frames = media.frames
        if frames is not None and clip.source_out > frames:
            return False  # a hold past the end: the frame path repeats the last frame
    return True


def _encode_concat(
    sequence: Sequence,
    *,
    root: Path,
    temp: Path,
    audio: Path,
    progress: _Progress,
    preset: str,
    crf: int,
    threads: int | None,
    log: IO[bytes],
) -> None:
    rate = _rate_text(sequence.frame_rate.fps)
    inputs: list[str] = []
    chains: list[str] = []
    for number, clip in enumerate(sequence.clips):
        if clip.media is None:
            inputs += [
                "-f",
                "lavfi",
                "-i",
                f"color=black:s={sequence.width}x{sequence.height}:r={rate}",
            ]
            chains.append(
                f"[{number}:v]trim=end_frame={clip.frames},setpts=PTS-STARTPTS,format=yuv420p[v{number}]"
            )
        else:
            inputs += ["-i", str(source_path(clip.media, root=root))]
            chains.append(
                f"[{number}:v]trim=start_frame={clip.source_in}:end_frame={clip.source_out},"
                f"setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v{number}]"
            )
    count = len(sequence.clips)
    graph = (
        ";".join(chains)
        + ";"
        + "".join(f"[v{i}]" for i in range(count))
        + f"concat=n={count}:v=1:a=0[v]"
    )
    command = [
        FFMPEG_BINARY, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        *inputs, "-i", str(audio), "-filter_complex", graph,
        "-map", "[v]", "-map", f"{count}:a:0",
        *_encoder_output(sequence, preset=preset, crf=crf, threads=threads),
        "-progress", "pipe:1", "-stats_period", str(PROGRESS_INTERVAL_S), str(temp),
    ]  # fmt: skip
    with _process(command, log=log, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE) as proc:
        for line in cast("IO[bytes]", proc.stdout):
            key, _, value = line.decode(errors="replace").strip().partition("=")
            if key == "frame" and value.isdigit():
                progress.frames_done(min(int(value), sequence.duration))
            elif key == "progress" and value == "end":
                break
            progress.check()
        if proc.wait() != 0:
            raise _encoder_error(log, sequence.title)


# --- the render -------------------------------------------------------------------------------


def render_sequence(
    sequence: Sequence,
    *,
    root: Path,
    output: Path,
    on_progress: Callable[[RenderProgress], None] | None = None,
    cancel: threading.Event | None = None,
    preset: str = DEFAULT_PRESET,
    crf: int = DEFAULT_CRF,
    threads: int | None = None,
    fast_paths: bool = True,
) -> RenderReport:
    """Render ``sequence`` (its media paths relative to the project ``root``) to ``output``:
    H.264 + AAC 48 kHz, yuv420p, faststart, at the sequence's size and frame rate. Written
    to a temporary name beside ``output`` and renamed when complete; ``cancel`` set stops
    the encoder (:class:`RenderCanceled`, no file at ``output``, no ffmpeg left running).
    A source that is an LFS pointer is refused (:class:`LFSPointerMedia`) before anything
    is encoded.

    ``preset`` / ``crf`` / ``threads`` are libx264's; ``fast_paths=False`` composes every
    frame with MoviePy even when the edit is cuts only (see the module's notes)."""
    if sequence.duration <= 0:
        raise SequenceError(f"{sequence.title}: the sequence is empty", hint="add a clip")
    if sequence.pending:
        names = ", ".join(step.node_id for step in sequence.pending)
        raise SequenceError(
            f"{sequence.title}: post steps are not made yet ({names})",
            hint="run them first (the render job does), then render",
        )
    _check_sources(sequence, root=root)
    started = time.monotonic()
    output.parent.mkdir(parents=True, exist_ok=True)
    progress = _Progress(total=sequence.duration, on_progress=on_progress, cancel=cancel)
    fast = fast_paths and concat_ready(sequence, root=root)
    encode = _encode_concat if fast else _encode_moviepy
    with contextlib.ExitStack() as stack:
        temp = Path(_temp_name(stack, output, ".mp4.partial"))
        audio = Path(_temp_name(stack, output, ".wav.partial"))
        log = stack.enter_context(tempfile.TemporaryFile())
        try:
            progress.frames_done(0, force=True)  # started (the sound is mixed first)
            _write_audio(sequence, root=root, path=audio, stop=progress.check)
            encode(
                sequence, root=root, temp=temp, audio=audio, progress=progress,
                preset=preset, crf=crf, threads=threads, log=log,
            )  # fmt: skip
            progress.frames_done(sequence.duration, force=True)
        except _Stop:
            raise RenderCanceled(
                f"{sequence.title}: the render was canceled", hint="render again to make it"
            ) from None
        with temp.open("rb") as written:
            os.fsync(written.fileno())
        temp.chmod(0o644)  # mkstemp's 0600 is for the scratch file, not the film
        temp.replace(output)
        fsync_dir(output.parent)
    return RenderReport(
        output=output,
        frames=sequence.duration,
        seconds=time.monotonic() - started,
        method="concat" if fast else "moviepy",
    )


def _temp_name(stack: contextlib.ExitStack, beside: Path, suffix: str) -> str:
    """A hidden temp file in ``beside``'s folder (the rename is atomic), removed at the end
    unless it was renamed first."""
    fd, name = tempfile.mkstemp(dir=beside.parent, prefix=f".{beside.stem}.", suffix=suffix)
    os.close(fd)
    stack.callback(lambda: Path(name).unlink(missing_ok=True))
    return name
