"""Frame rates and timecode: one implementation (OTIO's opentime), frame-exact at every rate."""

from __future__ import annotations

from fractions import Fraction

import pytest
from opentimelineio import opentime

from studio.assembly.timecode import FRAME_RATES, TimecodeError, frame_rate, frame_rate_for
from studio.graph.builtin_types import FRAME_RATE_CHOICES, VSE_ASSEMBLER
from studio.graph.registry import registry

RATES = list(FRAME_RATES.values())


def test_the_assembler_offers_exactly_the_sequence_rates() -> None:
    assert tuple(FRAME_RATES) == FRAME_RATE_CHOICES
    field = registry.get(VSE_ASSEMBLER).field("frame_rate")
    assert field is not None and field.choices == FRAME_RATE_CHOICES
    assert frame_rate("23.976").fps == Fraction(24000, 1001)
    assert frame_rate("29.97 DF").fps == Fraction(30000, 1001)
    assert frame_rate("29.97 DF").drop_frame and not frame_rate("23.976").drop_frame
    with pytest.raises(TimecodeError, match=r"unknown frame rate '29.97'") as raised:
        frame_rate("29.97")
    assert "29.97 DF" in (raised.value.hint or "")
    assert frame_rate_for(Fraction(25)).label == "25"


@pytest.mark.parametrize("rate", RATES, ids=lambda r: r.label)
def test_frames_and_timecode_round_trip_at_every_rate(rate) -> None:
    hour = 3600 * rate.nominal - (108 if rate.drop_frame else 0)
    samples = [
        0,
        1,
        rate.nominal - 1,
        rate.nominal,
        1799,
        1800,
        1801,
        17982,
        hour - 1,
        hour,
        hour + 1,
        10 * hour + 12345,
    ]
    for frames in samples:
        text = rate.timecode(frames)
        assert rate.frames(text) == frames, text
        # the same text as OTIO writes it in EDLs
        assert text == opentime.to_timecode(opentime.RationalTime(frames, rate.rate), rate.rate)
    assert rate.timecode(hour) == ("01:00:00;00" if rate.drop_frame else "01:00:00:00")


def test_drop_frame_skips_two_frame_numbers_a_minute_except_every_tenth() -> None:
    df = frame_rate("29.97 DF")
    assert df.timecode(1799) == "00:00:59;29"
    assert df.timecode(1800) == "00:01:00;02"
    assert df.timecode(17982) == "00:10:00;00"
    assert df.frames("00:01:00:02") == df.frames("00:01:00;02") == 1800  # ':' means the same
    with pytest.raises(TimecodeError, match=r"skips") as raised:
        df.frames("00:01:00;00")
    assert raised.value.hint == "the next one is 00:01:00;02"
    assert df.frames("00:10:00;00") == 17982  # every tenth minute keeps ;00


def test_23_976_counts_24_frames_a_timecode_second() -> None:
    rate = frame_rate("23.976")
    assert rate.frames("00:00:01:00") == 24
    assert rate.seconds(24) == Fraction(1001, 1000)
    assert rate.frames_in(Fraction(4)) == 95  # 4 s of a 24 fps take is 95 frames here


def test_frames_or_timecode_values() -> None:
    rate = frame_rate("25")
    assert rate.frames(48) == 48
    assert rate.frames("48") == 48
    assert rate.frames(" 00:00:02:00 ") == 50
    for bad, match in (
        (-1, "negative"),
        (True, "frames or timecode"),
        (1.5, "frames or timecode"),
        ("2s", "neither frames nor timecode"),
        ("00:00:01:25", "does not exist at 25 fps"),
        ("00:61:00:00", "does not exist"),
    ):
        with pytest.raises(TimecodeError, match=match):
            rate.frames(bad)  # type: ignore[arg-type]
    with pytest.raises(TimecodeError):
        rate.timecode(-1)
