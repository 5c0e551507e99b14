"""The sequence as an OTIO timeline, a CMX 3600 EDL, a .otio file and FCP 7 XML: round trips
at every rate, the EDL's conventions, an NLE's own EDL, and writers that leave their input."""

from __future__ import annotations

import itertools
import re
from fractions import Fraction

import opentimelineio as otio
import pytest

from studio.assembly import edl
from studio.assembly.model import Clip, Media, Sequence
from studio.assembly.timecode import FRAME_RATES, frame_rate
from studio.errors import SequenceError
from tests.assembly.builders import Film, sound, still, take_path, video

EVENT = re.compile(
    r"^(\d{3})  (\S+)\s+(V|A|A2)\s+(C|D \d{3})\s+"
    r"(\d\d:\d\d:\d\d[:;]\d\d) (\d\d:\d\d:\d\d[:;]\d\d) (\d\d:\d\d:\d\d[:;]\d\d) "
    r"(\d\d:\d\d:\d\d[:;]\d\d)$"
)


def edit(rate: str = "24", **assembler) -> Sequence:
    """Four clips (a still among them), a dissolve, two overlays, sync sound and a bed."""
    film = Film(frame_rate=rate, **assembler)
    film.shot("a", shot=10, media=video(take_path(1, 10), frames=96, audio=True))
    film.shot("b", shot=20, media=video(take_path(1, 20, take=3), frames=120, fps=30))
    film.shot("card", shot=30, media=still(take_path(1, 30, ext="png")))
    film.shot("c", shot=40, media=video(take_path(1, 40), frames=72, fps=Fraction(24000, 1001)))
    film.clip(
        "a",
        trim_in=6,
        overlay={"text": "Night Market"},
        transition={"kind": "dissolve", "frames": 12},
    )
    film.clip("b", trim_in="00:00:00:10", duration=40)
    film.clip(
        "card",
        overlay={"text": "Ana, 34", "style": "lower_third", "duration": 20},
        transition={"kind": "dissolve", "frames": 8},
    )
    film.music("score", media=sound("01_Assets/Source_Media/score.wav", 60), level_db=-9.5)
    return film.compile()


def media_of(sequence: Sequence) -> dict[str, Media]:
    return {m.path: m for m in sequence.sources}


def events(sequence: Sequence) -> list[tuple[object, ...]]:
    """What an EDL carries: picture and audio events (not node ids, handles, labels)."""
    picture: list[tuple[object, ...]] = [
        (c.name, c.reel, c.source_in, c.source_out, c.record_in, c.transition_in, c.overlay)
        for c in sequence.clips
    ]
    sound_: list[tuple[object, ...]] = [
        (a.track, a.media.path, a.reel, a.source_in, a.source_out, a.record_in, a.level_db, a.sync)
        for a in sequence.audio
    ]
    return picture + sound_


@pytest.mark.parametrize("label", list(FRAME_RATES))
def test_round_trip_at_every_rate(label: str) -> None:
    sequence = edit(label)
    text = edl.edl_from_timeline(edl.timeline_from_sequence(sequence))
    back = edl.sequence_from_edl(text, frame_rate=frame_rate("24"), media=media_of(sequence))
    assert back.frame_rate == sequence.frame_rate  # the EDL says its rate (STUDIO SEQUENCE)
    assert events(back) == events(sequence)
    assert (back.duration, back.start, back.width, back.height, back.title) == (
        sequence.duration,
        sequence.start,
        sequence.width,
        sequence.height,
        sequence.title,
    )
    # OTIO's own reader sees the same events, durations and reels
    timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=sequence.frame_rate.rate)
    tracks = {t.name: t for t in timeline.tracks}
    video_items = [c for c in tracks["V"] if isinstance(c, otio.schema.Clip)]
    assert [c.duration().to_frames() for c in video_items] == [c.frames for c in sequence.clips]
    assert [c.metadata["cmx_3600"]["reel"] for c in video_items] == [c.reel for c in sequence.clips]
    assert [c.name for c in video_items] == [c.name for c in sequence.clips]
    dissolves = [t for t in tracks["V"] if isinstance(t, otio.schema.Transition)]
    assert [t.out_offset.to_frames() for t in dissolves] == [12, 8]
    assert set(tracks) == {"V", "A1", "A2"}


@pytest.mark.parametrize("label", list(FRAME_RATES))
def test_the_edl_is_frame_exact_with_continuous_record_timecode(label: str) -> None:
    sequence = edit(label, start_timecode="00:59:50:00")
    rate = sequence.frame_rate
    text = edl.edl_from_timeline(edl.timeline_from_sequence(sequence))
    lines = text.splitlines()
    assert lines[0] == "TITLE: Night Market"
    assert lines[1] == ("FCM: DROP FRAME" if rate.drop_frame else "FCM: NON-DROP FRAME")
    rows = [m.groups() for line in lines if (m := EVENT.match(line))]
    picture = [r for r in rows if r[2] == "V" and not (r[3] == "C" and r[6] == r[7])]
    assert picture[0][6] == sequence.timecode(0) == rate.timecode(sequence.start)
    for before, after in itertools.pairwise(picture):
        assert before[7] == after[6]  # each event starts where the last ended
    assert rate.frames(picture[-1][7]) - rate.frames(picture[0][6]) == sequence.duration
    for row, clip in zip(picture, sequence.clips, strict=True):
        assert rate.frames(row[5]) - rate.frames(row[4]) == clip.frames
        assert rate.frames(row[4]) == clip.source_in
    separator = ";" if rate.drop_frame else ":"
    assert all(tc[8] == separator for row in rows for tc in row[4:])
    assert [r[3] for r in rows if r[3].startswith("D")] == ["D 012", "D 008"]
    assert [r[2] for r in rows if r[2] != "V"] == ["A", "A2"]
    assert "* FROM CLIP NAME:  SHOT-010_v01_take01.mp4" in lines
    assert "* TO CLIP NAME:  SHOT-020_v01_take03.mp4" in lines
    assert f"* FROM CLIP: {take_path(1, 10)}" in lines
    assert f"* AUDIO LEVEL AT {sequence.timecode(0)} IS -9.50 DB  (REEL SCORE A2)" in lines
    assert not any("TRUNCATED REEL" in line for line in lines)


def test_reel_names_are_unique_where_the_adapters_default_collides() -> None:
    paths = [take_path(1, 10, take=n) for n in (1, 2, 12)] + [take_path(1, 10, take=1, version=10)]
    paths += [take_path(1, 10, take=1, version=12) + "", "01_Assets/Source_Media/Score (final).wav"]
    paths += [take_path(1, 10, take=12, version=12), "bl.mov", "ax.wav", "R001.mov"]
    reels = edl.reel_names(paths)
    assert list(reels.values()) == [
        "010V1T1",
        "010V1T2",
        "010V1T12",
        "010V10T1",
        "010V12T1",
        "SCOREFIN",
        "R001",
        "R002",
        "R003",
        "R004",
    ]
    assert len(set(reels.values())) == len(paths)
    assert all(re.fullmatch(r"[A-Z0-9]{1,8}", reel) for reel in reels.values())
    # what the adapter would have made of the takes: one reel for all
    clips = [otio.schema.Clip(name=p.rsplit("/", 1)[-1]) for p in paths[:4]]
    from otio_cmx3600_adapter.cmx_3600 import _reel_from_clip

    assert {_reel_from_clip(c, 8) for c in clips} == {"SHOT010v"}


def test_the_writers_do_not_change_the_timeline_they_are_given() -> None:
    timeline = edl.timeline_from_sequence(edit("29.97 DF"))
    before = otio.adapters.write_to_string(timeline, "otio_json")
    edl.edl_from_timeline(timeline)
    edl.fcp_xml_from_timeline(timeline)
    edl.otio_from_timeline(timeline)
    assert otio.adapters.write_to_string(timeline, "otio_json") == before
    # OTIO's CMX writer moves a centred dissolve to the cut in the timeline it is handed
    centred = otio.adapters.read_from_string(before, "otio_json")
    dissolve = next(t for t in centred.tracks[0] if isinstance(t, otio.schema.Transition))
    dissolve.in_offset = dissolve.out_offset = otio.opentime.RationalTime(
        6, dissolve.in_offset.rate
    )
    centred_json = otio.adapters.write_to_string(centred, "otio_json")
    text = edl.edl_from_timeline(centred)
    assert otio.adapters.write_to_string(centred, "otio_json") == centred_json
    assert "D 012" in text  # 6 + 6 frames, from the cut


def test_the_otio_file_keeps_everything() -> None:
    sequence = edit("23.976")
    text = edl.otio_from_timeline(edl.timeline_from_sequence(sequence))
    back = edl.sequence_from_timeline(otio.adapters.read_from_string(text, "otio_json"))
    assert back == sequence  # node ids, handles, labels, media facts included


def test_the_fcp_xml_reads_back_with_the_same_cut() -> None:
    sequence = edit("25")
    xml = edl.fcp_xml_from_timeline(edl.timeline_from_sequence(sequence))
    assert xml.startswith("<?xml") and "<xmeml" in xml
    timeline = otio.adapters.read_from_string(xml, "fcp_xml")
    video_track = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
    clips = [c for c in video_track if isinstance(c, otio.schema.Clip)]
    assert [c.name for c in clips] == [c.name for c in sequence.clips]
    assert [c.source_range.duration.to_frames() for c in clips] == [
        c.frames for c in sequence.clips
    ]
    assert video_track.duration().to_frames() == sequence.duration


# A DaVinci Resolve style CMX 3600 export: every reel AX (media found by clip name), two-space
# padded fields, a fade from black, a dissolve, a gap in record timecode, stereo audio (AA).
RESOLVE_EDL = """TITLE: Timeline 1
FCM: NON-DROP FRAME

001  BL       V     C        00:00:00:00 00:00:00:00 01:00:00:00 01:00:00:00
001  AX       V     D    024 00:00:00:00 00:00:04:00 01:00:00:00 01:00:04:00
* TO CLIP NAME: SHOT-010_v01_take01.mp4

002  AX       V     C        00:00:01:00 00:00:03:12 01:00:04:00 01:00:06:12
* FROM CLIP NAME: SHOT-020_v01_take03.mp4
* SOURCE FILE: /Volumes/Media/SHOT-020_v01_take03.mp4

003  AX       V     C        00:00:03:12 00:00:03:12 01:00:06:12 01:00:06:12
003  AX       V     D    012 00:00:00:00 00:00:02:00 01:00:06:12 01:00:08:12
* FROM CLIP NAME: SHOT-020_v01_take03.mp4
* TO CLIP NAME: SHOT-040_v01_take01.mp4

004  AX       V     C        00:00:00:00 00:00:01:00 01:00:09:12 01:00:10:12
* FROM CLIP NAME: SHOT-010_v01_take01.mp4

005  AX       AA    C        00:00:00:00 00:00:10:12 01:00:00:00 01:00:10:12
* FROM CLIP NAME: score.wav
"""


def test_an_edl_written_by_an_nle_reads_into_a_sequence_the_render_can_cut() -> None:
    media = {
        "SHOT-010_v01_take01.mp4": video(take_path(1, 10), frames=96),
        "SHOT-020_v01_take03.mp4": video(take_path(1, 20, take=3), frames=120),
        "SHOT-040_v01_take01.mp4": video(take_path(1, 40), frames=72),
        "score.wav": sound("01_Assets/Source_Media/score.wav", 60),
    }
    assert edl.edl_sources(RESOLVE_EDL) == [
        "SHOT-010_v01_take01.mp4",
        "SHOT-020_v01_take03.mp4",
        "/Volumes/Media/SHOT-020_v01_take03.mp4",
        "SHOT-040_v01_take01.mp4",
        "score.wav",
    ]
    sequence = edl.sequence_from_edl(
        RESOLVE_EDL, frame_rate=frame_rate("24"), media=media, size=(1920, 1080)
    )
    assert (sequence.title, sequence.origin, sequence.timecode(0)) == (
        "Timeline 1",
        "edl",
        "01:00:00:00",
    )
    summary = [
        (c.name, c.source_in, c.source_out, c.record_in, c.transition_in) for c in sequence.clips
    ]
    assert [(n, i, o, r, t.frames if t else None) for n, i, o, r, t in summary] == [
        ("SHOT-010_v01_take01.mp4", 0, 96, 0, 24),  # a fade in from black
        ("SHOT-020_v01_take03.mp4", 24, 84, 96, None),
        ("SHOT-040_v01_take01.mp4", 0, 48, 156, 12),  # its own media, not the A side's
        ("BLACK", 0, 24, 204, None),  # the gap in record timecode
        ("SHOT-010_v01_take01.mp4", 0, 24, 228, None),
    ]
    assert sequence.clips[3].media is None and sequence.duration == 252
    assert [(a.track, a.media.name, a.record_in, a.frames, a.sync) for a in sequence.audio] == [
        ("A1", "score.wav", 0, 252, False)
    ]  # AA: one stereo sound on A1 and A2, mixed once
    # what the studio writes from it is the same edit, with its own reels
    again = edl.edl_from_timeline(edl.timeline_from_sequence(sequence))
    reread = edl.sequence_from_edl(again, frame_rate=frame_rate("24"), media=media_of(sequence))
    assert [(c.name, c.frames, c.record_in, c.transition_in) for c in reread.clips] == [
        (c.name, c.frames, c.record_in, c.transition_in) for c in sequence.clips
    ]
    assert "<xmeml" in edl.fcp_xml_from_timeline(edl.timeline_from_sequence(sequence))


def test_a_drop_frame_edl_with_colons_throughout() -> None:
    text = """TITLE: DF
FCM: DROP FRAME

001  AX       V     C        00:00:00:00 00:01:00:02 01:00:00:00 01:01:00:02
* FROM CLIP NAME: long.mov
"""
    media = {
        "long.mov": video("01_Assets/Source_Media/long.mov", frames=2000, fps=Fraction(30000, 1001))
    }
    sequence = edl.sequence_from_edl(
        text, frame_rate=frame_rate("29.97 DF"), media=media, size=(1280, 720)
    )
    assert sequence.clips[0].frames == 1800  # one DF minute and two frames
    assert sequence.timecode(0) == "01:00:00;00"


def test_edls_that_do_not_make_a_sequence() -> None:
    rate = frame_rate("24")
    with pytest.raises(SequenceError, match=r"event 001 cuts 'missing.mov', which is not in"):
        edl.sequence_from_edl(
            RESOLVE_EDL.replace(
                "TO CLIP NAME: SHOT-010_v01_take01.mp4", "TO CLIP NAME: missing.mov"
            ),
            frame_rate=rate,
            media={},
            size=(640, 360),
        )
    with pytest.raises(SequenceError, match=r"the EDL does not read"):
        edl.sequence_from_edl("001  AX  V  X  nonsense", frame_rate=rate, media={}, size=(64, 36))
    short = {"SHOT-010_v01_take01.mp4": video(take_path(1, 10), frames=24)}
    cut = "001  AX       V     C        00:00:00:00 00:00:02:00 01:00:00:00 01:00:02:00\n"
    with pytest.raises(SequenceError, match=r"past its end"):
        edl.sequence_from_edl(
            cut + "* FROM CLIP NAME: SHOT-010_v01_take01.mp4\n",
            frame_rate=rate,
            media=short,
            size=(64, 36),
        )


def test_an_edl_holds_at_most_999_events() -> None:
    rate = frame_rate("24")
    clip = Clip(media=video(take_path(1, 10)), source_in=0, source_out=1, record_in=0, reel="A")
    clips = tuple(
        Clip(media=clip.media, source_in=0, source_out=1, record_in=n, reel="010V1T1")
        for n in range(1000)
    )
    sequence = Sequence(title="Long", frame_rate=rate, width=64, height=36, clips=clips)
    with pytest.raises(SequenceError, match=r"1000 events; a CMX 3600 EDL holds at most 999"):
        edl.edl_from_timeline(edl.timeline_from_sequence(sequence))
