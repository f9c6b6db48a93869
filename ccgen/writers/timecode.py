"""SMPTE timecode and frame rates for the broadcast writers (SCC, TTML, EBU-STL).

Broadcast files address frames, not milliseconds: a caption that lands between two frames is
shown on one of them by the playout system, so ccgen snaps cue times to the frame grid itself
and says which frame. Rates are exact fractions (29.97 is 30000/1001), because a float drifts a
frame every few minutes at NTSC rates.

Drop-frame (DF) timecode exists only at 29.97 and 59.94: it skips the labels ;00 and ;01 (;00-;03
at 59.94) at the start of every minute except each tenth, so the label stays within ~2 frames of
wall-clock time. No frames are dropped, only labels: frame 1800 is labelled 00:01:00;02.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from ccgen.errors import InputError

# Rates broadcast formats know, as exact fractions; 23.976 and friends are n*1000/1001.
_KNOWN = (Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
          Fraction(50), Fraction(60000, 1001), Fraction(60))
_TC_RE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})([:;.,])(\d{2})$")


@dataclass(frozen=True)
class FrameRate:
    """A frame rate as an exact fraction plus how its timecode is counted (DF or NDF)."""

    rate: Fraction
    drop: bool = False

    def __post_init__(self) -> None:
        if self.drop and self.rate not in (Fraction(30000, 1001), Fraction(60000, 1001)):
            raise InputError(f"drop-frame timecode exists only at 29.97 and 59.94 fps, "
                             f"not {self.label}; use non-drop-frame")

    @property
    def fps(self) -> float:
        return float(self.rate)

    @property
    def nominal(self) -> int:
        """Frames per timecode second: 30 for 29.97, 24 for 23.976."""
        return math.ceil(self.rate)

    @property
    def ntsc(self) -> bool:
        """True for the 1000/1001 rates (23.976, 29.97, 59.94)."""
        return self.rate.denominator == 1001

    @property
    def dropped(self) -> int:
        """Labels skipped per minute in drop-frame: 2 at 29.97, 4 at 59.94."""
        return self.nominal // 15 if self.drop else 0

    @property
    def label(self) -> str:
        text = f"{self.fps:.3f}".rstrip("0").rstrip(".")
        return f"{text} DF" if self.drop else text

    def __str__(self) -> str:
        return self.label


MAX_RATE = 240  # the highest rate any subtitle timecode is counted in (high frame rate video)


def frame_rate(value: float | str | Fraction | None, drop: bool = False,
               default: float | None = None) -> FrameRate:
    """The exact rate nearest `value` (29.97, 29.97002997 and "30000/1001" are all NTSC 30).

    `default` is used where `value` is None (audio-only media). An unusual rate that is neither a
    whole number nor n*1000/1001 is refused in one line: no broadcast format can carry it.
    """
    if value is None:
        value = default
    if value is None:
        raise InputError("no frame rate: the media has no video; pass a frame rate")
    try:
        wanted = Fraction(value) if isinstance(value, str) and "/" in value else float(value)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"frame rate {value!r} is not a number") from None
    if not math.isfinite(wanted):
        raise InputError(f"frame rate {value!r} is not a number")
    if not 1 <= wanted <= MAX_RATE:  # 1e308 would overflow the arithmetic below
        raise InputError(f"frame rate {value} fps is outside 1..{MAX_RATE}")
    for known in _KNOWN:
        if abs(float(known) - float(wanted)) < 0.01:
            return FrameRate(known, drop)
    whole = round(float(wanted))
    if whole > 0 and abs(whole - float(wanted)) < 0.01:
        return FrameRate(Fraction(whole), drop)
    if whole > 0 and abs(whole * 1000 / 1001 - float(wanted)) < 0.01:
        return FrameRate(Fraction(whole * 1000, 1001), drop)
    raise InputError(f"frame rate {value} fps is not a broadcast rate "
                     "(23.976, 24, 25, 29.97, 30, 50, 59.94, 60)")


def to_frames(seconds: float, rate: FrameRate) -> int:
    """The frame nearest `seconds` (half a frame rounds up, as a playout system would show it)."""
    return math.floor(seconds * rate.rate.numerator / rate.rate.denominator + 0.5 + 1e-9)


def to_seconds(frames: int, rate: FrameRate) -> float:
    return float(Fraction(frames) / rate.rate)


def snap(seconds: float, rate: FrameRate) -> float:
    """`seconds` moved to the start of its nearest frame."""
    return to_seconds(to_frames(seconds, rate), rate)


def _label_fields(frames: int, rate: FrameRate) -> tuple[int, int, int, int]:
    """(hours, minutes, seconds, frames) of the label of frame number `frames`."""
    fps, drop = rate.nominal, rate.dropped
    if drop:
        per_minute = fps * 60 - drop
        per_ten = fps * 600 - 9 * drop
        tens, rest = divmod(frames, per_ten)
        frames += 9 * drop * tens
        if rest >= drop:
            frames += drop * ((rest - drop) // per_minute)
    frames %= fps * 86400  # timecode wraps at 24 hours
    hours, rest = divmod(frames, fps * 3600)
    minutes, rest = divmod(rest, fps * 60)
    secs, ff = divmod(rest, fps)
    return hours, minutes, secs, ff


def format_timecode(frames: int, rate: FrameRate, sep: str | None = None) -> str:
    """SMPTE label of frame number `frames`: HH:MM:SS:FF, or HH:MM:SS;FF in drop-frame."""
    if frames < 0:
        raise InputError(f"timecode before 00:00:00:00 (frame {frames}); "
                         "use a later start timecode")
    hh, mm, ss, ff = _label_fields(frames, rate)
    return f"{hh:02d}:{mm:02d}:{ss:02d}{sep or (';' if rate.drop else ':')}{ff:02d}"


def timecode_fields(frames: int, rate: FrameRate) -> tuple[int, int, int, int]:
    """(HH, MM, SS, FF) of frame `frames`, for binary formats such as EBU-STL."""
    return _label_fields(frames, rate)


def parse_timecode(text: str, rate: FrameRate) -> int:
    """Frame number of the label `text` ("10:00:00:00", "01:00:00;00") at `rate`.

    A ';' (or '.') separator means drop-frame, so it is refused for a non-drop rate: the user
    asked for two different things. A ':' is accepted for either, as people type it for both.
    Labels that drop-frame skips (00:01:00;00) do not exist and are refused too.
    """
    m = _TC_RE.match(text.strip())
    if not m:
        raise InputError(f"timecode {text!r} is not HH:MM:SS:FF (or HH:MM:SS;FF for drop-frame)")
    hh, mm, ss, sep, ff = int(m[1]), int(m[2]), int(m[3]), m[4], int(m[5])
    if sep in ";.," and not rate.drop:
        raise InputError(f"timecode {text} is drop-frame (';') but the timecode is "
                         f"non-drop-frame at {rate.label} fps; write it with ':'")
    if mm > 59 or ss > 59 or ff >= rate.nominal or hh > 23:
        raise InputError(f"timecode {text} is out of range at {rate.label} fps "
                         f"(frames 00-{rate.nominal - 1})")
    if rate.drop and ss == 0 and mm % 10 and ff < rate.dropped:
        raise InputError(f"timecode {text} does not exist in drop-frame (labels ;00-;"
                         f"{rate.dropped - 1:02d} are skipped each minute but every tenth)")
    total_minutes = hh * 60 + mm
    nominal = (total_minutes * 60 + ss) * rate.nominal + ff
    return nominal - rate.dropped * (total_minutes - total_minutes // 10)


def check_timecode(text: str) -> None:
    """The label's form and field ranges, before the media (and so the rate) is known: a typo
    is reported at once, not after every file of a batch has been transcribed."""
    m = _TC_RE.match(text.strip())
    if not m:
        raise InputError(f"timecode {text!r} is not HH:MM:SS:FF (or HH:MM:SS;FF for drop-frame)")
    if int(m[1]) > 23 or int(m[2]) > 59 or int(m[3]) > 59 or int(m[5]) > 59:
        raise InputError(f"timecode {text} is out of range")


def start_frames(start: str | None, rate: FrameRate) -> int:
    """Frame offset of a start timecode (None: 00:00:00:00)."""
    return 0 if start is None else parse_timecode(start, rate)
