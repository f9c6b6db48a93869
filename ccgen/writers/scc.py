"""Scenarist SCC: CEA-608 pop-on captions on channel CC1, as US broadcast delivers them.

Written here rather than through pycaption's SCCWriter because that writer does not do what a
broadcast delivery needs: it has no start timecode, wraps long lines with textwrap (no row
limit, no warning), writes an unmapped character as '£' silently, always erases the screen
(EDM) two frames before the next caption instead of at the cue's end, and backs a load off by
a word count that puts EOC a frame early. pycaption's SCCReader stays the independent reader in
the tests.

How a pop-on caption travels: line 21 carries 2 bytes (one "word") per frame at 29.97 fps. A
caption is loaded into off-screen memory (RCL, ENM, then per row a PAC and text) and shown by
EOC, so every word of the load must be sent *before* the cue's start; the scheduler here puts
the load in the frames just before the start so that EOC falls on the start frame, erases the
screen (EDM) on the cue's end frame, and when two captions are too close to load in time it
shows the later one late and says so. Control codes are sent twice (the decoder ignores a
repeat), so one lost to a transmission error is not lost.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass

from ccgen.captions.style import Style
from ccgen.cues import Timeline
from ccgen.writers import register
from ccgen.writers.screens import TYPOGRAPHY, screens
from ccgen.writers.timecode import (
    FrameRate,
    format_timecode,
    frame_rate,
    start_frames,
    timecode_fields,
    to_frames,
)

log = logging.getLogger("ccgen")

COLUMNS, MAX_ROWS = 32, 4
HEADER = "Scenarist_SCC V1.0"

# -- shared text helpers (also used by the EBU-STL writer) -------------------------------------

# Typographic forms with a plain equivalent: replaced silently when a format lacks them.
# -- CEA-608 character set -----------------------------------------------------------------------

# The basic set is ASCII but for ten positions that hold accented letters instead.
BASIC = {chr(b): b for b in range(0x20, 0x80)}
for _pos, _ch in zip((0x2A, 0x5C, 0x5E, 0x5F, 0x60, 0x7B, 0x7C, 0x7D, 0x7E, 0x7F),
                     "áéíóúç÷Ññ■", strict=True):
    del BASIC[chr(_pos)]
    BASIC[_ch] = _pos
# Special characters (0x11 0x30-0x3F, a 2-byte code each); 0x39 is the transparent space.
SPECIAL = {ch: (0x11, 0x30 + i) for i, ch in enumerate("®°½¿™¢£♪à\0èâêîôû") if ch != "\0"}
# Extended characters: each erases the character before it, so a basic fallback goes first
# for decoders that lack them.
EXTENDED = {ch: (0x12, 0x20 + i) for i, ch in enumerate("ÁÉÓÚÜü‘¡*’—©℠•“”ÀÂÇÈÊËëÎÏïÔÙùÛ«»")}
EXTENDED.update({ch: (0x13, 0x20 + i)
                 for i, ch in enumerate("ÃãÍÌìÒòÕõ{}\\^_¦~ÄäÖöß¥¤|ÅåØø┌┐└┘")})
_FALLBACK = {"‘": "'", "’": "'", "“": '"', "”": '"', "«": '"', "»": '"', "¡": "!", "*": ".",
             "—": "-", "©": "c", "℠": "s", "•": ".", "{": "(", "}": ")", "\\": "/", "^": "'",
             "_": "-", "¦": "!", "|": "!", "~": "-", "ß": "s", "¥": "Y", "¤": "o", "Ø": "O",
             "ø": "o", "┌": "+", "┐": "+", "└": "+", "┘": "+"}


def in_608(ch: str) -> bool:
    """True if the CEA-608 character set has `ch` (basic, special or extended)."""
    return ch in BASIC or ch in SPECIAL or ch in EXTENDED


def _sendable(ch: str) -> bool:
    """In the 608 set, less the typographic quotes: an extended character costs five bytes, so
    “ ” ‘ ’ go as the basic-set " and ' (0x27 is drawn as an apostrophe)."""
    return in_608(ch) and ch not in TYPOGRAPHY


def _odd(byte: int) -> int:
    """`byte` with bit 7 set for odd parity, as line 21 transmits every byte."""
    return byte if bin(byte).count("1") % 2 else byte | 0x80


def _word(b1: int, b2: int) -> str:
    return f"{_odd(b1):02x}{_odd(b2):02x}"


RCL, ENM, EDM, EOC = _word(0x14, 0x20), _word(0x14, 0x2E), _word(0x14, 0x2C), _word(0x14, 0x2F)
_ITALIC_MIDROW = (0x11, 0x2E)
_PAC_ROW = {1: (0x11, 0x40), 2: (0x11, 0x60), 3: (0x12, 0x40), 4: (0x12, 0x60),
            5: (0x15, 0x40), 6: (0x15, 0x60), 7: (0x16, 0x40), 8: (0x16, 0x60),
            9: (0x17, 0x40), 10: (0x17, 0x60), 11: (0x10, 0x40), 12: (0x13, 0x40),
            13: (0x13, 0x60), 14: (0x14, 0x40), 15: (0x14, 0x60)}


class _Words:
    """Builds the words of one caption in units that must travel in consecutive frames: a
    text word alone, a control code with its repeat (never split, or the repeat would act)."""

    def __init__(self) -> None:
        self.units: list[tuple[str, ...]] = []
        self._pending: int | None = None

    def code(self, b1: int, b2: int) -> None:
        self.flush()  # a code must start a word, so a lone text byte is padded with a null
        unit = (_word(b1, b2),) * 2
        if self.units and self.units[-1] == unit:
            # decoders drop a code equal to the one before (the repeat), so "♪♪" would show
            # one note: a null word between the two characters keeps both
            self.units.append((_word(0, 0),))
        self.units.append(unit)

    def char(self, ch: str) -> None:
        if ch in BASIC:
            self._byte(BASIC[ch])
        elif ch in SPECIAL:
            self.code(*SPECIAL[ch])
        else:
            base = unicodedata.normalize("NFKD", ch)[0]
            self._byte(BASIC.get(base) or BASIC[_FALLBACK.get(ch, " ")])
            self.code(*EXTENDED[ch])

    def _byte(self, byte: int) -> None:
        if self._pending is None:
            self._pending = byte
        else:
            self.units.append((_word(self._pending, byte),))
            self._pending = None

    def flush(self) -> None:
        """Pad a lone text byte with a null so that the next code starts a word."""
        if self._pending is not None:
            self.units.append((_word(self._pending, 0),))
            self._pending = None


def _load(lines: list[str], italic: bool) -> list[tuple[str, ...]]:
    """Word units that load `lines` (centred on the bottom rows) into off-screen memory."""
    out = _Words()
    out.units += [(RCL, RCL), (ENM, ENM)]
    for row, line in enumerate(lines, start=16 - len(lines)):
        col = (COLUMNS - len(line)) // 2
        hi, lo = _PAC_ROW[row]
        midrow = italic and col > 0  # a mid-row code takes a column: start one earlier
        if italic and col == 0:
            out.code(hi, lo + 0x0E)  # white italics PAC (column 0 only)
        else:
            pac_col = col - 1 if midrow else col
            out.code(hi, lo + 0x10 + 2 * (pac_col // 4))
            if pac_col % 4:
                out.code(0x17, 0x20 + pac_col % 4)  # Tab Offset 1-3
        if midrow:
            out.code(*_ITALIC_MIDROW)
        for ch in line:
            out.char(ch)
        out.flush()
    return out.units


@dataclass
class _Caption:
    on: int  # frame of EOC (the caption appears)
    off: int  # frame of EDM (it disappears)
    units: list[tuple[str, ...]]


def _schedule(caps: list[_Caption], first: int) -> tuple[dict[int, str], list[int]]:
    """Place every word on a frame (2 bytes per frame); returns {frame: word} and the delays.

    Each load fills the frames right before its EOC, going around the previous caption's EDM;
    a load cannot start before the previous EOC (it would overwrite that caption off-screen),
    so a caption with no room appears late by the frames it lacks.
    """
    slots: dict[int, str] = {}
    busy, delays, prev = first, [], None
    for cap in caps:
        taken: set[int] = set()
        if prev is not None and prev.off + 2 <= cap.on:
            edm = max(prev.off, busy)
            taken = {edm, edm + 1}
            slots[edm] = slots[edm + 1] = EDM
        placed = _fit_before(cap.units, cap.on, busy, taken)
        if placed is None:  # no room: load from the first free frame, show it when loaded
            placed, end = _fit_after(cap.units, busy, taken)
            delays.append(end - cap.on)
            cap.on, cap.off = end, max(cap.off, end + 2)
        slots.update(placed)
        slots[cap.on] = slots[cap.on + 1] = EOC
        busy, prev = cap.on + 2, cap
    if prev is not None:
        edm = max(prev.off, busy)
        slots[edm] = slots[edm + 1] = EDM
    return slots, delays


def _fit_before(units: list[tuple[str, ...]], end: int, first: int,
                taken: set[int]) -> dict[int, str] | None:
    """Units in the latest free frames before `end` (not before `first`), or None."""
    placed: dict[int, str] = {}
    f = end
    for unit in reversed(units):
        f -= len(unit)
        while any(g in taken for g in range(f, f + len(unit))):
            f -= 1
        if f < first:
            return None
        placed.update(zip(range(f, f + len(unit)), unit, strict=True))
    return placed


def _fit_after(units: list[tuple[str, ...]], first: int,
               taken: set[int]) -> tuple[dict[int, str], int]:
    """Units in the earliest free frames from `first`, and the first frame free after them
    (where the EOC goes)."""
    placed: dict[int, str] = {}
    f = first
    for unit in [*units, ("", "")]:
        while any(g in taken for g in range(f, f + len(unit))):
            f += 1
        if unit[0]:
            placed.update(zip(range(f, f + len(unit)), unit, strict=True))
            f += len(unit)
    return placed, f


def _render(slots: dict[int, str], rate: FrameRate) -> str:
    """SCC text: one line per run of consecutive frames (split where drop-frame skips labels,
    so that a reader counting frames from the line's timecode stays exact)."""
    out = [HEADER, ""]
    run: list[str] = []
    last_index = None
    for frame in sorted(slots):
        hh, mm, ss, ff = timecode_fields(frame, rate)
        index = ((hh * 60 + mm) * 60 + ss) * rate.nominal + ff
        if last_index is None or index != last_index + 1:
            if run:
                out += ["\t".join((run[0], " ".join(run[1:]))), ""]
            run = [format_timecode(frame, rate)]
        run.append(slots[frame])
        last_index = index
    if run:
        out += ["\t".join((run[0], " ".join(run[1:]))), ""]
    return "\n".join(out) + "\n"


def write_scc(timeline: Timeline, style: Style, *, start: str | None = None,
              drop_frame: bool = True) -> str:
    """The SCC file of `timeline`: 29.97 fps, drop-frame timecode unless `drop_frame` is False.

    `start` is the timecode of the media's first frame ("10:00:00;00"); every cue is offset by
    it. Cues snap to the 29.97 frame grid. Lines are reflowed to 32 characters (up to 4 rows)
    and characters outside the 608 set transliterated, each with one warning per file.
    """
    rate = frame_rate(30000 / 1001, drop=drop_frame)
    if timeline.frame_rate and round(timeline.frame_rate * 1.001) not in (30, 60):
        log.warning("SCC runs at 29.97 fps but %s is %.3g fps: cue times snap to the "
                    "29.97 frame grid", timeline.media, timeline.frame_rate)
    offset = start_frames(start, rate)
    caps: list[_Caption] = []
    for cue, t0, t1, page in screens(timeline, style, _sendable, COLUMNS, MAX_ROWS, "SCC",
                                     "the CEA-608 set"):
        on, off = offset + to_frames(t0, rate), offset + to_frames(t1, rate)
        caps.append(_Caption(on, max(off, on + 2), _load(page, cue.kind == "lyrics")))
    slots, delays = _schedule(caps, first=0)
    if delays:
        log.warning("SCC: %d caption(s) shown late (by up to %d frames): too close to the one "
                    "before to load at 2 bytes per frame", len(delays), max(delays))
    return _render(slots, rate)


register("scc")(write_scc)
