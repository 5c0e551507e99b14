"""The sequence as an editorial timeline: OpenTimelineIO, CMX 3600, FCP 7 XML (pure).

``Sequence -> otio.Timeline`` (:func:`timeline_from_sequence`) is the one conversion; the
EDL, the ``.otio`` file and the FCP XML are written from the timeline, and the EDL (or a
``.otio``) reads back into a sequence (:func:`sequence_from_edl`,
:func:`sequence_from_timeline`) that the render cuts from. No writer changes the timeline it
is given (OTIO's CMX writer edits its input in place: it is given a copy).

The EDL is OTIO's CMX 3600 writer's (``avid`` style) for the picture track, with what that
writer does not do added around it:

* ``FCM: DROP FRAME`` / ``FCM: NON-DROP FRAME`` after the title; record timecode from the
  sequence's start timecode (01:00:00:00 by default), drop-frame at 29.97 (``;``).
* Reels unique per source file (:func:`reel_names`; the adapter's default, the file name cut
  to 8 characters, makes every take of a shot the same reel), ``* FROM CLIP NAME:`` the take's
  file name and ``* FROM CLIP:`` its path in the project.
* The audio events (A1 = channel ``A``, A2 = ``A2``) after the picture's, each with Avid's
  ``* AUDIO LEVEL AT <tc> IS <level> DB`` comment.
* Studio comments that NLEs ignore and the render reads: ``* STUDIO SEQUENCE: {json}`` on
  event 1 (rate label, frame size) and ``* STUDIO OVERLAY: {json}`` on a clip with text.

Reading, OTIO's CMX reader is corrected where it is wrong for these files: the B side of a
dissolve gets the A side's media (its ``* TO CLIP:`` comment is ignored), record timecode
becomes a negative track offset, and ``;`` drop-frame timecode is needed at 29.97.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from fractions import Fraction
from pathlib import PurePosixPath
from typing import Any, Final

import opentimelineio as otio
from opentimelineio import opentime, schema

from studio.assembly.model import (
    AUDIO_TRACKS,
    AudioClip,
    AudioTrack,
    Clip,
    Media,
    Overlay,
    PostStep,
    Sequence,
    SequenceOrigin,
    Transition,
)
from studio.assembly.timecode import FrameRate, TimecodeError, frame_rate_for
from studio.assembly.timecode import frame_rate as rate_named
from studio.errors import SequenceError

BLACK_REEL: Final = "BL"
REEL_LENGTH: Final = 8
MAX_EVENTS: Final = 999
STUDIO: Final = "studio"
"""The metadata namespace of the studio's facts in the timeline (and its EDL comments)."""
_RESERVED_REELS: Final = frozenset({"AX", "BL", "BLACK", "BARS"})
_TAKE_STEM: Final = re.compile(r"SHOT-(\d{3,})_v(\d{2,})_take(\d{2,})")
_EVENT: Final = re.compile(r"^(\d{3,})\s")
_STUDIO_COMMENT: Final = re.compile(r"^\*?\s*STUDIO (SEQUENCE|OVERLAY):\s*(\{.*\})\s*$")
_LEVEL_COMMENT: Final = re.compile(r"^\*?\s*AUDIO LEVEL AT \S+ IS (-?[0-9.]+|-INF) DB", re.I)
_TO_MEDIA: Final = re.compile(r"^\*?\s*TO (?:CLIP|FILE):\s*(.+?)\s*$")
_SOURCE_COMMENT: Final = re.compile(
    r"^\*\s*(?:(?:FROM|TO) (?:CLIP NAME|CLIP|FILE)|SOURCE FILE):\s*(.+?)\s*$", re.MULTILINE
)
_FCM: Final = re.compile(r"^FCM:\s*(.*)$", re.MULTILINE)
_TIMECODE_COLON: Final = re.compile(r"\b(\d{2}:\d{2}:\d{2}):(\d{2})\b")


# --- reels ------------------------------------------------------------------------------------


def _reel_candidate(path: str) -> str:
    stem = PurePosixPath(path).stem
    take = _TAKE_STEM.fullmatch(stem)
    if take is not None:  # SHOT-010_v01_take03 -> 010V1T3
        shot, version, number = (int(g) for g in take.groups())
        return f"{shot:03d}V{version}T{number}"
    return re.sub(r"[^A-Za-z0-9]", "", stem).upper()[:REEL_LENGTH]


def reel_names(paths: Iterable[str]) -> dict[str, str]:
    """A reel name per source path, unique among them, at most 8 letters and digits: a take's
    shot/version/number (``010V1T3``), else its file name, else ``R001``, ``R002``..."""
    reels: dict[str, str] = {}
    used: set[str] = set()
    counter = 0
    for path in dict.fromkeys(paths):
        reel = _reel_candidate(path)
        if not reel or len(reel) > REEL_LENGTH or reel in used or reel in _RESERVED_REELS:
            while True:
                counter += 1
                reel = f"R{counter:03d}"
                if reel not in used:
                    break
        used.add(reel)
        reels[path] = reel
    return reels


# --- Sequence -> Timeline ----------------------------------------------------------------------


def _rt(frames: int, rate: FrameRate) -> opentime.RationalTime:
    return opentime.RationalTime(frames, rate.rate)


def _range(start: int, frames: int, rate: FrameRate) -> opentime.TimeRange:
    return opentime.TimeRange(_rt(start, rate), _rt(frames, rate))


def _reference(
    media: Media | None, rate: FrameRate, *, covers: int
) -> schema.ExternalReference | schema.GeneratorReference:
    """The media reference; its available range is the whole media (a still: as long as
    the clip uses it), so an NLE knows the handles."""
    if media is None:
        return schema.GeneratorReference(
            name="BLACK", generator_kind="black", available_range=_range(0, covers, rate)
        )
    length = media.length_at(rate)
    return schema.ExternalReference(
        target_url=media.path,
        available_range=_range(0, covers if length is None else max(length, covers), rate),
    )


def _overlay_json(overlay: Overlay) -> dict[str, Any]:
    return {
        "text": overlay.text,
        "style": overlay.style,
        "position": overlay.position,
        "start": overlay.start,
        "frames": overlay.frames,
    }


def timeline_from_sequence(sequence: Sequence) -> schema.Timeline:
    """The sequence as an OTIO timeline: a ``V`` track (dissolves as transitions that start
    at the cut, as in an EDL), ``A1``/``A2`` tracks, the start timecode as the timeline's
    global start time, and the studio's facts in ``metadata["studio"]``."""
    rate = sequence.frame_rate
    timeline = schema.Timeline(name=sequence.title)
    timeline.global_start_time = _rt(sequence.start, rate)
    timeline.metadata[STUDIO] = {
        "frame_rate": rate.label,
        "width": sequence.width,
        "height": sequence.height,
        "start_timecode": sequence.timecode(0),
        "assembler_id": sequence.assembler_id,
        "origin": sequence.origin,
        "warnings": list(sequence.warnings),
    }
    video = schema.Track(name="V", kind=schema.TrackKind.Video)
    clips = sequence.clips
    for index, clip in enumerate(clips):
        if clip.transition_in is not None:
            video.append(
                schema.Transition(
                    name=f"Dissolve into {clip.name}",
                    transition_type=schema.TransitionTypes.SMPTE_Dissolve,
                    in_offset=_rt(0, rate),
                    out_offset=_rt(clip.transition_in.frames, rate),
                )
            )
        following = clips[index + 1].transition_in if index + 1 < len(clips) else None
        tail = max(clip.handles[1], following.frames if following else 0)
        studio: dict[str, Any] = {
            "node_id": clip.node_id,
            "shot_id": clip.shot_id,
            "label": clip.label,
            "handles": list(clip.handles),
        }
        if clip.media is not None:
            studio["media"] = clip.media.to_json()
        if clip.overlay is not None:
            studio["overlay"] = _overlay_json(clip.overlay)
        if clip.pending:
            studio["pending"] = [
                {"node_id": p.node_id, "node_type": p.node_type, "settings": dict(p.settings)}
                for p in clip.pending
            ]
        video.append(
            schema.Clip(
                name=clip.name,
                media_reference=_reference(clip.media, rate, covers=clip.source_out + tail),
                source_range=_range(clip.source_in, clip.frames, rate),
                metadata={"cmx_3600": {"reel": clip.reel}, STUDIO: studio},
            )
        )
    timeline.tracks.append(video)
    for track_name in AUDIO_TRACKS:
        events = sorted(
            (a for a in sequence.audio if a.track == track_name), key=lambda a: a.record_in
        )
        if not events:
            continue
        track = schema.Track(name=track_name, kind=schema.TrackKind.Audio)
        cursor = 0
        for event in events:
            if event.record_in > cursor:
                track.append(schema.Gap(source_range=_range(0, event.record_in - cursor, rate)))
            track.append(
                schema.Clip(
                    name=event.media.name,
                    media_reference=_reference(event.media, rate, covers=event.source_out),
                    source_range=_range(event.source_in, event.frames, rate),
                    metadata={
                        "cmx_3600": {"reel": event.reel},
                        STUDIO: {
                            "node_id": event.node_id,
                            "level_db": event.level_db,
                            "sync": event.sync,
                            "media": event.media.to_json(),
                        },
                    },
                )
            )
            cursor = event.record_out
        timeline.tracks.append(track)
    return timeline


# --- Timeline -> text ------------------------------------------------------------------------


def _rate_of(timeline: schema.Timeline) -> FrameRate:
    label = timeline.metadata.get(STUDIO, {}).get("frame_rate")
    if label is not None:
        try:
            return rate_named(str(label))
        except TimecodeError as exc:
            raise SequenceError(exc.message, hint=exc.hint) from None
    video = _video_track(timeline)
    fps = Fraction(video.duration().rate).limit_denominator(1001)
    return frame_rate_for(fps)


def _video_track(timeline: schema.Timeline) -> schema.Track:
    tracks = [t for t in timeline.tracks if t.kind == schema.TrackKind.Video]
    if not tracks:
        raise SequenceError("the timeline has no picture track")
    if len(tracks) > 1:
        raise SequenceError(
            f"the timeline has {len(tracks)} picture tracks; an EDL holds one",
            hint="flatten it to one video track first",
        )
    result: schema.Track = tracks[0]
    return result


def _frames_of(time: opentime.RationalTime, rate: FrameRate, *, what: str) -> int:
    value = float(time.value_rescaled_to(rate.rate))
    frames = round(value)
    if abs(value - frames) > 1e-6:
        raise SequenceError(f"{what} is not a whole frame at {rate.label} fps ({value:g})")
    return frames


def _clean_title(title: str) -> str:
    return "".join(c if c >= " " else " " for c in title).strip()


def edl_from_timeline(timeline: schema.Timeline) -> str:
    """The CMX 3600 EDL of a timeline made by :func:`timeline_from_sequence` (or read from
    an EDL or ``.otio``); ``timeline`` itself is left as it was."""
    rate = _rate_of(timeline)
    studio = timeline.metadata.get(STUDIO, {})
    start = (
        _frames_of(timeline.global_start_time, rate, what="the start timecode")
        if timeline.global_start_time is not None
        else 0
    )
    video = copy.deepcopy(_video_track(timeline))
    clips = [c for c in video if isinstance(c, schema.Clip) and c.enabled]
    audio = [
        copy.deepcopy(t)
        for t in timeline.tracks
        if t.kind == schema.TrackKind.Audio and t.name in AUDIO_TRACKS
    ]
    events = len(clips) + sum(1 for t in audio for c in t if isinstance(c, schema.Clip))
    if events > MAX_EVENTS:
        raise SequenceError(
            f"the sequence has {events} events; a CMX 3600 EDL holds at most {MAX_EVENTS}",
            hint="export the .otio or the FCP XML instead, or split the film into reels",
        )
    video.source_range = opentime.TimeRange(_rt(-start, rate), video.duration())
    picture = schema.Timeline(name=_clean_title(timeline.name or ""))
    picture.tracks.append(video)
    text = otio.adapters.write_to_string(
        picture, adapter_name="cmx_3600", rate=rate.rate, style="avid", reelname_len=REEL_LENGTH
    )
    extra: dict[int, list[str]] = {}
    for number, clip in enumerate(clips, start=1):
        lines = extra.setdefault(number, [])
        if number == 1:
            facts = {"frame_rate": rate.label}
            facts |= {k: studio[k] for k in ("width", "height") if k in studio}
            lines.append(f"* STUDIO SEQUENCE: {json.dumps(facts, ensure_ascii=False)}")
        overlay = clip.metadata.get(STUDIO, {}).get("overlay")
        if overlay:
            lines.append(f"* STUDIO OVERLAY: {json.dumps(dict(overlay), ensure_ascii=False)}")
    body = _with_comments(text, extra)
    fcm = "FCM: DROP FRAME" if rate.drop_frame else "FCM: NON-DROP FRAME"
    head, _, rest = body.partition("\n\n") if body.startswith("TITLE:") else ("", "", body)
    out = (f"{head}\n{fcm}\n\n" if head else f"{fcm}\n\n") + rest.lstrip("\n")
    number = len(clips)
    for track in audio:
        channel = "A" if track.name == "A1" else track.name
        cursor = start
        for item in track:
            length = _frames_of(item.duration(), rate, what=f"an event on {track.name}")
            if isinstance(item, schema.Clip):
                number += 1
                out += _audio_event(item, number, channel, track.name, cursor, rate) + "\n"
            cursor += length
    return out


def _with_comments(text: str, extra: Mapping[int, list[str]]) -> str:
    """``text`` with ``extra[n]`` added at the end of event ``n``'s block."""
    out: list[str] = []
    current: int | None = None

    def flush() -> None:
        if current is not None:
            out.extend(extra.get(current, []))

    for line in text.splitlines():
        match = _EVENT.match(line)
        if match is not None and int(match.group(1)) != current:
            flush()
            current = int(match.group(1))
        out.append(line)
    flush()
    return "\n".join(out) + "\n"


def _audio_event(
    clip: schema.Clip, number: int, channel: str, track: str, record_in: int, rate: FrameRate
) -> str:
    reel = str(clip.metadata.get("cmx_3600", {}).get("reel") or "AX")
    source = clip.source_range
    src_in = _frames_of(source.start_time, rate, what=f"{clip.name}'s source in")
    frames = _frames_of(source.duration, rate, what=f"{clip.name}'s duration")
    tc = rate.timecode
    level = float(clip.metadata.get(STUDIO, {}).get("level_db", 0.0))
    lines = [
        f"{number:03d}  {reel:8} {channel:5} C        "
        f"{tc(src_in)} {tc(src_in + frames)} {tc(record_in)} {tc(record_in + frames)}",
        f"* FROM CLIP NAME:  {clip.name}",
    ]
    url = getattr(clip.media_reference, "target_url", None)
    if url:
        lines.append(f"* FROM CLIP: {url}")
    lines.append(f"* AUDIO LEVEL AT {tc(record_in)} IS {level:.2f} DB  (REEL {reel} {track})")
    return "\n".join(lines)


def otio_from_timeline(timeline: schema.Timeline) -> str:
    """The timeline as OTIO JSON (the ``.otio`` file), everything kept."""
    return str(otio.adapters.write_to_string(timeline, adapter_name="otio_json"))


def fcp_xml_from_timeline(timeline: schema.Timeline) -> str:
    """The timeline as Final Cut Pro 7 XML (``xmeml``), for Premiere and Resolve."""
    xml = copy.deepcopy(timeline)
    for track in xml.tracks:
        black = [
            index
            for index, item in enumerate(track)
            if isinstance(item, schema.Clip)
            and isinstance(item.media_reference, schema.GeneratorReference)
        ]
        for index in black:  # the FCP writer wants a file: black is a gap there
            track[index] = schema.Gap(source_range=track[index].source_range)
    return str(otio.adapters.write_to_string(xml, adapter_name="fcp_xml"))


# --- text -> Timeline -> Sequence -------------------------------------------------------------


def edl_sources(text: str) -> list[str]:
    """Every source name an EDL's comments give (clip names and paths), in order, once:
    what the resolver looks up in the project before :func:`sequence_from_edl`."""
    return list(dict.fromkeys(m.group(1) for m in _SOURCE_COMMENT.finditer(text)))


def _declared(text: str) -> dict[str, Any]:
    for line in text.splitlines():
        match = _STUDIO_COMMENT.match(line.strip())
        if match is not None and match.group(1) == "SEQUENCE":
            try:
                value = json.loads(match.group(2))
            except json.JSONDecodeError as exc:
                raise SequenceError(f"its STUDIO SEQUENCE comment does not read: {exc}") from None
            if isinstance(value, dict):
                return value
    return {}


def _with_drop_frame_separators(text: str) -> str:
    """Event lines' timecode with ``;`` before the frames (what OTIO reads as drop-frame)."""
    lines = []
    for line in text.splitlines():
        if _EVENT.match(line.strip()):
            line = _TIMECODE_COLON.sub(r"\1;\2", line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def timeline_from_edl(text: str, *, frame_rate: FrameRate) -> schema.Timeline:
    """An EDL as an OTIO timeline shaped like :func:`timeline_from_sequence`'s: the start
    timecode as global start time, tracks from record frame 0, each clip's media reference
    its own, the studio's comments as metadata. ``frame_rate`` is the rate to read at
    unless the EDL's ``STUDIO SEQUENCE`` comment says another."""
    declared = _declared(text)
    rate = frame_rate
    if "frame_rate" in declared:
        try:
            rate = rate_named(str(declared["frame_rate"]))
        except TimecodeError as exc:
            raise SequenceError(exc.message, hint=exc.hint) from None
    fcm = " ".join(m.group(1).upper() for m in _FCM.finditer(text))
    if rate.drop_frame and "NON-DROP" not in fcm:
        text = _with_drop_frame_separators(text)
    text, fade_in = _without_leading_fade(text)
    try:
        timeline = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=rate.rate)
    except (otio.exceptions.OTIOError, ValueError, IndexError) as exc:
        raise SequenceError(f"the EDL does not read: {exc}") from None
    video = _video_track(timeline)
    start = _track_start(video, rate)
    timeline.global_start_time = _rt(start, rate)
    facts: dict[str, Any] = {k: declared[k] for k in ("width", "height") if k in declared}
    timeline.metadata[STUDIO] = {"frame_rate": rate.label, "origin": "edl", **facts}
    for track in timeline.tracks:
        offset = _track_start(track, rate) - start
        track.source_range = None
        if offset < 0:
            raise SequenceError(
                f"its {track.name} events start {-offset} frames before the picture's"
            )
        if offset > 0:
            track.insert(0, schema.Gap(source_range=_range(0, offset, rate)))
        previous: Any = None
        for item in track:
            if isinstance(item, schema.Clip):
                _normalize_clip(item, after_transition=isinstance(previous, schema.Transition))
            previous = item
    if fade_in:
        video.insert(
            0,
            schema.Transition(
                name="Fade in",
                transition_type=schema.TransitionTypes.SMPTE_Dissolve,
                in_offset=_rt(0, rate),
                out_offset=_rt(fade_in, rate),
            ),
        )
    return timeline


def _without_leading_fade(text: str) -> tuple[str, int]:
    """A fade from black as the first event (a zero-length ``BL`` cut, then ``D nnn`` into
    the first clip) made a cut, and the fade's frames: OTIO's reader refuses a dissolve at
    the start of a track, so it is put back after reading."""
    lines = text.splitlines()
    events = [i for i, line in enumerate(lines) if _EVENT.match(line.strip())]
    if len(events) < 2 or events[1] != events[0] + 1:
        return text, 0
    cut, dissolve = lines[events[0]].split(), lines[events[1]].split()
    if not (
        len(cut) == 8
        and cut[1] in ("BL", "BLACK")
        and cut[3] == "C"
        and cut[4] == cut[5]
        and cut[6] == cut[7]
        and len(dissolve) == 9
        and dissolve[0] == cut[0]
        and dissolve[3] == "D"
        and dissolve[4].isdigit()
    ):
        return text, 0
    number, reel, channel, _, frames, *times = dissolve
    lines[events[1]] = f"{number}  {reel:8} {channel:5} C        {' '.join(times)}"
    del lines[events[0]]
    return "\n".join(lines) + "\n", int(frames)


def _track_start(track: schema.Track, rate: FrameRate) -> int:
    """The record frame of a track's first event: OTIO's CMX reader keeps it as a negative
    start of the track's source range."""
    if track.source_range is None:
        return 0
    return -_frames_of(track.source_range.start_time, rate, what=f"{track.name}'s record in")


def _normalize_clip(clip: schema.Clip, *, after_transition: bool) -> None:
    cmx = clip.metadata.setdefault("cmx_3600", {})
    studio: dict[str, Any] = {}
    kept: list[str] = []
    to_media: str | None = None
    for comment in list(cmx.get("comments", [])):
        studio_match = _STUDIO_COMMENT.match(comment)
        level_match = _LEVEL_COMMENT.match(comment)
        to_match = _TO_MEDIA.match(comment)
        if studio_match is not None:
            try:
                value = json.loads(studio_match.group(2))
            except json.JSONDecodeError as exc:
                raise SequenceError(
                    f"clip {clip.name!r}: its STUDIO {studio_match.group(1)} comment does not "
                    f"read: {exc}"
                ) from None
            if studio_match.group(1) == "OVERLAY":
                studio["overlay"] = value
        elif level_match is not None:
            level = level_match.group(1).upper()
            studio["level_db"] = -96.0 if level == "-INF" else float(level)
        elif to_match is not None:
            to_media = to_match.group(1)
        else:
            kept.append(comment)
    if kept:
        cmx["comments"] = kept
    else:
        cmx.pop("comments", None)
    if to_media is not None:  # the B side of a dissolve: OTIO gave it the A side's media
        clip.media_reference = schema.ExternalReference(target_url=to_media)
    elif after_transition and isinstance(clip.media_reference, schema.ExternalReference):
        clip.media_reference = schema.MissingReference()  # found by its clip name instead
    if studio:
        clip.metadata[STUDIO] = studio


def _lookup(clip: schema.Clip, media: Mapping[str, Media], *, what: str) -> Media:
    url = getattr(clip.media_reference, "target_url", None)
    keys = [k for k in (url, clip.name, PurePosixPath(url).name if url else None) if k]
    for key in keys:
        if key in media:
            return media[key]
    recorded = clip.metadata.get(STUDIO, {}).get("media")
    if recorded:
        return Media.from_json(recorded)
    raise SequenceError(
        f"{what} cuts {url or clip.name!r}, which is not in the project",
        hint="copy the file into the project (01_Assets/Source_Media/) under that name",
    )


def _is_black(clip: schema.Clip) -> bool:
    ref = clip.media_reference
    return isinstance(ref, schema.GeneratorReference) or clip.metadata.get("cmx_3600", {}).get(
        "reel"
    ) in ("BL", "BLACK")


def sequence_from_timeline(
    timeline: schema.Timeline,
    *,
    media: Mapping[str, Media] | None = None,
    frame_rate: FrameRate | None = None,
    title: str | None = None,
    size: tuple[int, int] | None = None,
    origin: SequenceOrigin | None = None,
) -> Sequence:
    """The sequence a timeline (from :func:`timeline_from_sequence`, a ``.otio`` file or
    :func:`timeline_from_edl`) describes. ``media`` gives each source's facts by path or
    name (else those recorded in the timeline); ``frame_rate`` and ``size`` are used when
    the timeline does not record its own."""
    media = media or {}
    studio = timeline.metadata.get(STUDIO, {})
    rate = _rate_of(timeline) if studio.get("frame_rate") or frame_rate is None else frame_rate
    width, height = (
        (int(studio["width"]), int(studio["height"]))
        if "width" in studio and "height" in studio
        else size or (0, 0)
    )
    if not width or not height:
        raise SequenceError("the timeline does not say its frame size", hint="pass size=(w, h)")
    start = (
        _frames_of(timeline.global_start_time, rate, what="the start timecode")
        if timeline.global_start_time is not None
        else 0
    )
    clips = _picture(_video_track(timeline), media, rate)
    audio: list[AudioClip] = []
    warnings = [str(w) for w in studio.get("warnings", [])]
    for track in timeline.tracks:
        if track.kind != schema.TrackKind.Audio:
            continue
        if track.name not in AUDIO_TRACKS:
            warnings.append(f"audio track {track.name} is ignored (the studio mixes A1 and A2)")
            continue
        audio += _sound(track, media, rate, clips)
    # An AA event (one stereo source on A1 and A2 at once) is one sound, not two.
    on_a1 = {
        (a.media.path, a.source_in, a.source_out, a.record_in) for a in audio if a.track == "A1"
    }
    audio = [
        a
        for a in audio
        if a.track == "A1" or (a.media.path, a.source_in, a.source_out, a.record_in) not in on_a1
    ]
    sequence_origin: SequenceOrigin = origin or (
        "edl" if studio.get("origin") == "edl" else "graph"
    )
    return Sequence(
        title=title or timeline.name or "Untitled",
        frame_rate=rate,
        width=width,
        height=height,
        clips=tuple(clips),
        audio=tuple(audio),
        start=start,
        assembler_id=studio.get("assembler_id"),
        origin=sequence_origin,
        warnings=tuple(warnings),
    )


def _picture(track: schema.Track, media: Mapping[str, Media], rate: FrameRate) -> list[Clip]:
    clips: list[Clip] = []
    record = 0
    dissolve: Transition | None = None
    for item in track:
        if isinstance(item, schema.Transition):
            if _frames_of(item.in_offset, rate, what="a dissolve's in offset"):
                raise SequenceError(
                    f"{item.name or 'a transition'} starts before its cut; the studio cuts "
                    "dissolves that start at the cut (as an EDL does)",
                    hint="re-export the timeline as an EDL, which moves it to the cut",
                )
            dissolve = Transition(frames=_frames_of(item.out_offset, rate, what="a dissolve"))
            continue
        number = len(clips) + 1
        frames = _frames_of(item.duration(), rate, what=f"event {number:03d}'s duration")
        if frames == 0:  # e.g. the zero-length BL event before a fade from black
            continue
        if isinstance(item, schema.Gap) or (isinstance(item, schema.Clip) and _is_black(item)):
            clips.append(
                Clip(
                    media=None,
                    source_in=0,
                    source_out=frames,
                    record_in=record,
                    reel=BLACK_REEL,
                    transition_in=dissolve,
                    label="black",
                )
            )
        elif isinstance(item, schema.Clip):
            clips.append(_clip(item, media, rate, record=record, number=number, dissolve=dissolve))
        else:
            raise SequenceError(f"event {number:03d} is a {item.schema_name()}, not a clip")
        dissolve = None
        record += frames
    if not clips:
        raise SequenceError("it has no picture events", hint="an edit needs at least one clip")
    return clips


def _clip(
    item: schema.Clip,
    media: Mapping[str, Media],
    rate: FrameRate,
    *,
    record: int,
    number: int,
    dissolve: Transition | None,
) -> Clip:
    what = f"event {number:03d}"
    found = _lookup(item, media, what=what)
    source_in = _frames_of(item.source_range.start_time, rate, what=f"{what}'s source in")
    frames = _frames_of(item.source_range.duration, rate, what=f"{what}'s duration")
    length = found.length_at(rate)
    if length is not None and source_in + frames > length:
        raise SequenceError(
            f"{what} cuts {found.name} up to {rate.timecode(source_in + frames)}, past its end"
            f" ({rate.timecode(length)})",
            hint="fix the event's source out in the EDL",
        )
    studio = item.metadata.get(STUDIO, {})
    overlay = studio.get("overlay")
    handles = studio.get("handles") or (0, 0)
    return Clip(
        media=found,
        source_in=source_in,
        source_out=source_in + frames,
        record_in=record,
        reel=str(item.metadata.get("cmx_3600", {}).get("reel") or "AX"),
        node_id=studio.get("node_id"),
        shot_id=studio.get("shot_id"),
        transition_in=dissolve,
        overlay=_overlay(overlay, what) if overlay else None,
        handles=(int(handles[0]), int(handles[1])),
        pending=tuple(
            PostStep(node_id=p["node_id"], node_type=p["node_type"], settings=p.get("settings", {}))
            for p in studio.get("pending", [])
        ),
        label=str(studio.get("label") or ""),
    )


def _overlay(data: Mapping[str, Any], what: str) -> Overlay:
    try:
        return Overlay(
            text=str(data["text"]),
            style=data.get("style", "title"),
            position=data.get("position", "center"),
            start=int(data.get("start", 0)),
            frames=int(data["frames"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SequenceError(f"{what}: its overlay is incomplete ({exc})") from None


def _sound(
    track: schema.Track, media: Mapping[str, Media], rate: FrameRate, clips: list[Clip]
) -> list[AudioClip]:
    name: AudioTrack = "A1" if track.name == "A1" else "A2"
    events: list[AudioClip] = []
    record = 0
    for item in track:
        frames = _frames_of(item.duration(), rate, what=f"an event on {name}")
        if isinstance(item, schema.Clip) and not _is_black(item):
            found = _lookup(item, media, what=f"an event on {name}")
            source_in = _frames_of(item.source_range.start_time, rate, what="an audio source in")
            studio = item.metadata.get(STUDIO, {})
            sync = studio.get("sync")
            if sync is None:  # read from an EDL: the sound of the picture event it lines up with
                sync = any(
                    c.media is not None
                    and c.media.path == found.path
                    and c.record_in == record
                    and c.source_in == source_in
                    and c.frames == frames
                    for c in clips
                )
            events.append(
                AudioClip(
                    track=name,
                    media=found,
                    source_in=source_in,
                    source_out=source_in + frames,
                    record_in=record,
                    reel=str(item.metadata.get("cmx_3600", {}).get("reel") or "AX"),
                    level_db=float(studio.get("level_db", 0.0)),
                    node_id=studio.get("node_id"),
                    sync=bool(sync),
                )
            )
        record += frames
    return events


def sequence_from_edl(
    text: str,
    *,
    frame_rate: FrameRate,
    media: Mapping[str, Media],
    title: str | None = None,
    size: tuple[int, int] | None = None,
) -> Sequence:
    """The sequence a CMX 3600 EDL describes, as given: its events (cuts, dissolves, black),
    record timecode, audio events and the studio's comments. ``media`` gives the facts of
    each source it names (see :func:`edl_sources`); ``frame_rate`` and ``size`` are used
    unless the EDL's ``STUDIO SEQUENCE`` comment says its own."""
    timeline = timeline_from_edl(text, frame_rate=frame_rate)
    return sequence_from_timeline(
        timeline, media=media, frame_rate=frame_rate, title=title, size=size, origin="edl"
    )
