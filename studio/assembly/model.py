"""The sequence: what the Assembler's inputs compile to, and what the EDL, the ``.otio`` file
and the render are made from. Plain frozen data, no I/O.

Positions and lengths are whole frames at the sequence's rate (:class:`FrameRate`).
``Clip.record_in`` counts from the sequence's first frame (record timecode
``Sequence.start``); ``Clip.source_in`` / ``source_out`` (exclusive) count from the first
frame of the clip's media, converted by time to the sequence rate (a 12 fps take of 1 s is 24
frames long in a 24 fps sequence). A dissolve sits on the clip it dissolves *into*
(``Clip.transition_in``), as in a CMX 3600 EDL: it starts at that clip's record in and plays
the previous clip's frames after its out point (its tail handle) under it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import PurePosixPath
from typing import Any, Final, Literal

from studio.assembly.timecode import FrameRate
from studio.errors import SequenceError

MediaKind = Literal["video", "image", "audio"]
AudioTrack = Literal["A1", "A2"]
AUDIO_TRACKS: Final[tuple[AudioTrack, ...]] = ("A1", "A2")
OverlayStyle = Literal["title", "lower_third"]
Position = Literal[
    "center", "top", "bottom", "top_left", "top_right", "bottom_left", "bottom_right"
]
DEFAULT_POSITION: Final[dict[OverlayStyle, Position]] = {
    "title": "center",
    "lower_third": "bottom_left",
}


@dataclass(frozen=True)
class Media:
    """The facts about one media file that the sequence needs (found by the resolver)."""

    path: str
    """Relative to the project root, with ``/`` (``03_Renders/SCENE_01/SHOT_010/...``)."""
    kind: MediaKind
    frames: int | None = None
    """A video's frame count at its own rate; None for an image or an audio file."""
    fps: Fraction | None = None
    duration: Fraction | None = None
    """Seconds: ``frames / fps`` for a video, the length of an audio file; None for an image."""
    has_audio: bool = False
    width: int | None = None
    height: int | None = None

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def is_still(self) -> bool:
        return self.kind == "image"

    def length_at(self, rate: FrameRate) -> int | None:
        """How many whole frames of the sequence's rate the media lasts (None: a still,
        which lasts as long as it is asked to)."""
        if self.kind == "image":
            return None
        if self.frames is not None and self.fps:
            return rate.frames_in(Fraction(self.frames) / self.fps)
        if self.duration is not None:
            return rate.frames_in(self.duration)
        raise SequenceError(f"{self.name}: its length is unknown (no frame count or duration)")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "kind": self.kind, "has_audio": self.has_audio}
        for key in ("frames", "width", "height"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        for key in ("fps", "duration"):
            value = getattr(self, key)
            if value is not None:
                out[key] = f"{value.numerator}/{value.denominator}"
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Media:
        def fraction(key: str) -> Fraction | None:
            value = data.get(key)
            return Fraction(str(value)) if value is not None else None

        return cls(
            path=str(data["path"]),
            kind=data["kind"],
            frames=data.get("frames"),
            fps=fraction("fps"),
            duration=fraction("duration"),
            has_audio=bool(data.get("has_audio", False)),
            width=data.get("width"),
            height=data.get("height"),
        )


@dataclass(frozen=True)
class Overlay:
    """Text over a clip, from ``start`` frames after the clip's record in, for ``frames``."""

    text: str
    style: OverlayStyle = "title"
    position: Position = "center"
    start: int = 0
    frames: int = 0


@dataclass(frozen=True)
class Transition:
    """A dissolve of ``frames`` from the previous clip (or from black) into this one."""

    frames: int
    kind: Literal["dissolve"] = "dissolve"


@dataclass(frozen=True)
class PostStep:
    """A post node (Video restoration, Super resolution) between a shot and the Assembler
    whose output is not made yet: the render runs it first (then the clip cuts its output)."""

    node_id: str
    node_type: str
    settings: Mapping[str, Any] = field(default_factory=dict)


class _Event:
    """An event's span: source frames [in, out) placed at ``record_in`` on its track."""

    source_in: int
    source_out: int
    record_in: int

    @property
    def frames(self) -> int:
        return self.source_out - self.source_in

    @property
    def record_out(self) -> int:
        return self.record_in + self.frames


@dataclass(frozen=True)
class Clip(_Event):
    """One event of the picture track."""

    media: Media | None
    """None: black (a ``BL`` event of an EDL, or a gap between its record timecodes)."""
    source_in: int
    source_out: int
    record_in: int
    reel: str
    node_id: str | None = None
    """The node that supplies the clip: the Shot or the last post node after it (None for
    a clip read from an EDL)."""
    shot_id: str | None = None
    transition_in: Transition | None = None
    overlay: Overlay | None = None
    handles: tuple[int, int] = (0, 0)
    """Frames of media available before ``source_in`` and after ``source_out``, up to the
    handles asked for (a conform takes them; a dissolve out of the clip uses the tail)."""
    pending: tuple[PostStep, ...] = ()
    label: str = ""

    @property
    def name(self) -> str:
        return self.media.name if self.media is not None else "BLACK"


@dataclass(frozen=True)
class AudioClip(_Event):
    """One event of an audio track: a shot's own sound (``sync``, cut with its picture) or
    a stretch of an Audio node's file (a music bed, a voice-over) at ``level_db``."""

    track: AudioTrack
    media: Media
    source_in: int
    source_out: int
    record_in: int
    reel: str
    level_db: float = 0.0
    node_id: str | None = None
    sync: bool = False


SequenceOrigin = Literal["graph", "edl"]


@dataclass(frozen=True)
class Sequence:
    """The edit: contiguous picture clips from record frame 0 to :attr:`duration`, audio
    events on A1/A2, and what the render needs to know about the frame."""

    title: str
    frame_rate: FrameRate
    width: int
    height: int
    clips: tuple[Clip, ...]
    audio: tuple[AudioClip, ...] = ()
    start: int = 0
    """The record timecode of the first frame, in frames (01:00:00:00 by default)."""
    assembler_id: str | None = None
    origin: SequenceOrigin = "graph"
    warnings: tuple[str, ...] = ()

    @property
    def duration(self) -> int:
        return self.clips[-1].record_out if self.clips else 0

    @property
    def seconds(self) -> Fraction:
        return self.frame_rate.seconds(self.duration)

    @property
    def pending(self) -> tuple[PostStep, ...]:
        """Post steps the render must run before it can cut (their outputs are not made)."""
        return tuple(step for clip in self.clips for step in clip.pending)

    @property
    def sources(self) -> tuple[Media, ...]:
        """Every media file the sequence cuts from, once each, in order of first use."""
        seen: dict[str, Media] = {}
        for media in [c.media for c in self.clips] + [a.media for a in self.audio]:
            if media is not None:
                seen.setdefault(media.path, media)
        return tuple(seen.values())

    def timecode(self, frame: int) -> str:
        """The record timecode of sequence frame ``frame``."""
        return self.frame_rate.timecode(self.start + frame)

    def __repr__(self) -> str:
        rows = [
            f"<Sequence {self.title!r}: {len(self.clips)} clips, {self.duration} frames "
            f"({float(self.seconds):.2f} s) at {self.frame_rate.label} fps, "
            f"{self.width}x{self.height}, from {self.timecode(0)}>"
        ]
        for number, clip in enumerate(self.clips, start=1):
            into = f" D{clip.transition_in.frames:03d}" if clip.transition_in else ""
            text = f"  {clip.overlay.style}: {clip.overlay.text!r}" if clip.overlay else ""
            rows.append(
                f"  {number:03d} {clip.reel:<8} {self.timecode(clip.record_in)}"
                f"-{self.timecode(clip.record_out)} {clip.name}"
                f" [{clip.source_in}:{clip.source_out}]{into}{text}"
            )
        rows += [
            f"  {a.track} {a.reel:<8} {self.timecode(a.record_in)}-{self.timecode(a.record_out)}"
            f" {a.media.name} {a.level_db:+.1f} dB{' (sync)' if a.sync else ''}"
            for a in self.audio
        ]
        rows += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(rows)

    def _repr_html_(self) -> str:
        e = html.escape

        def row(cells: list[str]) -> str:
            return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"

        head = "".join(
            f"<th>{h}</th>"
            for h in (
                "#",
                "Reel",
                "Record in",
                "Record out",
                "Source",
                "In",
                "Out",
                "Frames",
                "Transition",
                "Overlay",
            )
        )
        body = [
            row(
                [
                    f"{number:03d}",
                    e(clip.reel),
                    self.timecode(clip.record_in),
                    self.timecode(clip.record_out),
                    e(clip.name) + (" <i>(post pending)</i>" if clip.pending else ""),
                    self.frame_rate.timecode(clip.source_in),
                    self.frame_rate.timecode(clip.source_out),
                    str(clip.frames),
                    f"dissolve {clip.transition_in.frames}" if clip.transition_in else "cut",
                    e(f"{clip.overlay.style}: {clip.overlay.text}") if clip.overlay else "",
                ]
            )
            for number, clip in enumerate(self.clips, start=1)
        ]
        body += [
            row(
                [
                    e(a.track),
                    e(a.reel),
                    self.timecode(a.record_in),
                    self.timecode(a.record_out),
                    e(a.media.name),
                    self.frame_rate.timecode(a.source_in),
                    self.frame_rate.timecode(a.source_out),
                    str(a.frames),
                    "sync" if a.sync else "",
                    f"{a.level_db:+.1f} dB",
                ]
            )
            for a in self.audio
        ]
        warnings = "".join(f"<li>{e(w)}</li>" for w in self.warnings)
        return (
            f"<div><b>{e(self.title)}</b> <small>{len(self.clips)} clips · "
            f"{self.duration} frames ({float(self.seconds):.2f} s) · {self.frame_rate.label} fps"
            f" · {self.width}x{self.height} · from {self.timecode(0)}</small>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            + (f"<ul>{warnings}</ul>" if warnings else "")
            + "</div>"
        )


@dataclass(frozen=True)
class SequenceInputs:
    """What the pure compilation needs from the project, found by the resolver
    (:mod:`studio.assembly.resolve`): media facts by node, EDL texts, project settings."""

    title: str = "Untitled"
    aspect_ratio: str = "16:9"
    media: Mapping[str, Media] = field(default_factory=dict)
    """Node id -> its media: a Shot's active take, a post node's current output, an Audio
    node's file. A node missing here has none."""
    problems: Mapping[str, str] = field(default_factory=dict)
    """Node id -> why the resolver found no media for it (said in the refusal)."""
    edls: Mapping[str, str] = field(default_factory=dict)
    """EDL node id -> the text of its file."""
    edl_media: Mapping[str, Media] = field(default_factory=dict)
    """A source as an EDL names it (its path, file name or clip name) -> its media."""


def frame_size(aspect_ratio: str, short_side: int) -> tuple[int, int]:
    """(width, height) with ``short_side`` pixels on the short side, both even (what
    H.264 in yuv420p needs): 16:9 at 1080 -> 1920x1080, 9:16 -> 1080x1920."""
    try:
        w_text, h_text = aspect_ratio.split(":")
        w, h = int(w_text), int(h_text)
    except ValueError:
        raise SequenceError(f"aspect ratio {aspect_ratio!r} is not W:H") from None
    if w <= 0 or h <= 0:
        raise SequenceError(f"aspect ratio {aspect_ratio!r} is not W:H")

    def even(value: Fraction) -> int:
        return max(2, 2 * round(value / 2))

    if w >= h:
        return even(Fraction(short_side * w, h)), even(Fraction(short_side))
    return even(Fraction(short_side)), even(Fraction(short_side * h, w))
