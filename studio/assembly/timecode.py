"""Frame rates and SMPTE timecode for the sequence (pure).

Every position in a :class:`~studio.assembly.model.Sequence` is a whole number of frames at
the sequence's rate; timecode is only how a frame number is written. The text form comes
from OpenTimelineIO's ``opentime`` (the same code the CMX 3600 adapter writes EDLs with), so
what the studio shows, parses and exports is one implementation. 29.97 is drop-frame
(``01:00:00;00``, a ``;`` before the frames); 23.976 counts 24 frames a second (non-drop).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from opentimelineio import opentime

from studio.errors import StudioError


class TimecodeError(StudioError):
    """A frame count or timecode that does not exist at the sequence's rate."""


_TIMECODE: Final = re.compile(r"^(\d{2}):(\d{2}):(\d{2})([:;.])(\d{2})$")


@dataclass(frozen=True)
class FrameRate:
    """One of the sequence rates the studio edits at (:data:`FRAME_RATES`)."""

    label: str
    """How the Assembler's ``frame_rate`` field names it: ``"23.976"``, ``"29.97 DF"``..."""
    fps: Fraction
    drop_frame: bool = False

    @property
    def rate(self) -> float:
        """The rate as OpenTimelineIO takes it (``24000/1001`` as a float)."""
        return float(self.fps)

    @property
    def nominal(self) -> int:
        """Frames per timecode second: 24 for 23.976, 30 for 29.97."""
        return round(self.fps)

    def timecode(self, frames: int) -> str:
        """Frame ``frames`` (0 = ``00:00:00:00``) as timecode."""
        if isinstance(frames, bool) or not isinstance(frames, int) or frames < 0:
            raise TimecodeError(f"a frame number is a whole number >= 0, not {frames!r}")
        return str(
            opentime.to_timecode(
                opentime.RationalTime(frames, self.rate), self.rate, self.drop_frame
            )
        )

    def frames(self, value: int | str, *, what: str = "timecode") -> int:
        """A frame count given as frames (``48``) or timecode (``"00:00:02:00"``; at
        29.97 DF ``"00:01:00;02"``, or with ``:`` throughout, which means the same)."""
        if isinstance(value, bool):
            raise TimecodeError(f"{what}: expects frames or timecode, not {value!r}")
        if isinstance(value, int):
            if value < 0:
                raise TimecodeError(f"{what}: frames cannot be negative ({value})")
            return value
        if not isinstance(value, str):
            raise TimecodeError(f"{what}: expects frames or timecode, not {value!r}")
        text = value.strip()
        if text.isdigit():
            return int(text)
        match = _TIMECODE.match(text)
        if match is None:
            raise TimecodeError(
                f"{what}: {value!r} is neither frames nor timecode HH:MM:SS:FF",
                hint=f"for example 48 or {self.timecode(2 * self.nominal)}",
            )
        hh, mm, ss, _, ff = match.groups()
        if int(mm) > 59 or int(ss) > 59 or int(ff) >= self.nominal:
            raise TimecodeError(
                f"{what}: {value!r} does not exist at {self.label} fps "
                f"(minutes and seconds 0-59, frames 0-{self.nominal - 1})"
            )
        canonical = f"{hh}:{mm}:{ss}{';' if self.drop_frame else ':'}{ff}"
        frames = round(float(opentime.from_timecode(canonical, self.rate).value))
        if self.timecode(frames) != canonical:  # drop-frame skips ;00 and ;01 most minutes
            raise TimecodeError(
                f"{what}: {value!r} is a frame number drop-frame timecode skips",
                hint=f"the next one is {hh}:{mm}:{ss};02",
            )
        return frames

    def seconds(self, frames: int) -> Fraction:
        """Where frame ``frames`` starts, in seconds (exact)."""
        return frames / self.fps

    def frames_in(self, seconds: Fraction) -> int:
        """How many whole frames fit in ``seconds``."""
        return int(seconds * self.fps)


def _rate(label: str, fps: Fraction, drop_frame: bool = False) -> tuple[str, FrameRate]:
    return label, FrameRate(label=label, fps=fps, drop_frame=drop_frame)


FRAME_RATES: Final[dict[str, FrameRate]] = dict(
    (
        _rate("23.976", Fraction(24000, 1001)),
        _rate("24", Fraction(24)),
        _rate("25", Fraction(25)),
        _rate("29.97 DF", Fraction(30000, 1001), drop_frame=True),
        _rate("30", Fraction(30)),
    )
)
"""The sequence rates, by the label the Assembler's ``frame_rate`` field uses."""

DEFAULT_START_TIMECODE: Final = "01:00:00:00"


def frame_rate(label: str) -> FrameRate:
    """The rate called ``label``; :class:`TimecodeError` naming the known ones otherwise."""
    try:
        return FRAME_RATES[label]
    except KeyError:
        raise TimecodeError(
            f"unknown frame rate {label!r}", hint=f"use one of {', '.join(FRAME_RATES)}"
        ) from None


def frame_rate_for(fps: Fraction, *, drop_frame: bool | None = None) -> FrameRate:
    """The studio rate with this frames-per-second (for an EDL read at a given rate)."""
    for rate in FRAME_RATES.values():
        if rate.fps == fps and (drop_frame is None or rate.drop_frame == drop_frame):
            return rate
    raise TimecodeError(
        f"{float(fps):g} fps is not a sequence rate", hint=f"use one of {', '.join(FRAME_RATES)}"
    )
