"""Scenarist SCC for ``ccgen lint`` and ``lint --fix``: pop-on CEA-608 captions, read and
retimed in place.

An SCC file is a list of timecoded lines of 608 byte pairs ("words"), one word per frame at
29.97 fps (``;`` before the frames: drop-frame labels). A pop-on caption is loaded off screen
and shown by EOC, so it starts on the frame of its EOC word and ends on the frame of the next
EDM (erase displayed memory) or of the next EOC that replaces it. Roll-up and paint-on
captions have no such boundaries and are refused.

The fix moves words, never changes them: a caption that starts later or earlier moves its
EOC (with its repeat and the control codes just before it), or where that cannot be, its
whole load (from the word after the previous caption's EOC up to its own EOC, less an EDM
that ends the caption before) by the same number of frames; a new end
moves its EDM pair, or adds one (``942c 942c``) where the next caption's EOC used to end it.
A move that would make two words share a frame, or change their order, is not made (that cue
keeps its times and lint lists what is left). Lines whose words did not move are written back
byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from ccgen.errors import InputError
from ccgen.writers.scc import BASIC, EXTENDED, SPECIAL  # the 608 tables ccgen writes with
from ccgen.writers.timecode import FrameRate, format_timecode, parse_timecode

RATE = Fraction(30000, 1001)
_LINE = re.compile(r"^(\d{2}:\d{2}:\d{2}[:;]\d{2})\s+((?:[0-9a-fA-F]{4}\s*)*)$")
_FROM_BASIC = {code: ch for ch, code in BASIC.items()}
_FROM_SPECIAL = {codes: ch for ch, codes in SPECIAL.items()}
_FROM_EXTENDED = {codes: ch for ch, codes in EXTENDED.items()}
EDM_WORD = "942c"
_PAC_ROWS = {(0x11, 0): 1, (0x11, 1): 2, (0x12, 0): 3, (0x12, 1): 4, (0x15, 0): 5, (0x15, 1): 6,
             (0x16, 0): 7, (0x16, 1): 8, (0x17, 0): 9, (0x17, 1): 10, (0x10, 0): 11,
             (0x13, 0): 12, (0x13, 1): 13, (0x14, 0): 14, (0x14, 1): 15}


@dataclass
class SccCaption:
    start: int  # frame of its EOC
    end: int | None  # frame of the EDM or EOC that removes it
    text: str
    first: int  # index of the first word of its load
    eoc: int  # index of its EOC word
    edm: int | None = None  # index of the EDM word that ends it, if one does


@dataclass
class SccFile:
    header: str
    drop: bool
    frames: list[int]  # frame of each word
    words: list[str]  # the words, lower-case hex
    line_of: list[int]  # which source line each word came from
    lines: list[str]  # the source lines (for those written back unchanged)
    text_sample: str = ""  # the start of the source, for its line endings
    captions: list[SccCaption] = field(default_factory=list)

    @property
    def rate(self) -> FrameRate:
        return FrameRate(RATE, self.drop)


def read_scc(text: str, path: Path) -> SccFile:
    """Parse an SCC file's pop-on captions; InputError (one line) when it cannot be read."""
    rows = text.splitlines()
    if not rows or not rows[0].strip().startswith("Scenarist_SCC"):
        raise InputError(f"{path}: not an SCC file (no Scenarist_SCC header)")
    drop = any(";" in r[:12] for r in rows[1:] if r.strip())
    scc = SccFile(rows[0], drop, [], [], [], rows, text_sample=text[:4096])
    last = -1
    for number, row in enumerate(rows[1:], 2):
        if not row.strip():
            continue
        found = _LINE.match(row.strip())
        if not found:
            raise InputError(f"{path}: line {number}: not an SCC caption line")
        try:
            frame = parse_timecode(found[1], scc.rate)
        except InputError as exc:
            raise InputError(f"{path}: line {number}: {exc}") from None
        for offset, word in enumerate(found[2].split()):
            if frame + offset <= last:
                raise InputError(f"{path}: line {number}: starts before the line above ends")
            scc.frames.append(frame + offset)
            scc.words.append(word.lower())
            scc.line_of.append(number - 1)
            last = frame + offset
    _decode(scc, path)
    return scc


def _decode(scc: SccFile, path: Path) -> None:
    buffer: dict[int, str] = {}
    shown: SccCaption | None = None
    row, previous, channel_one, load_from = 15, "", True, 0
    for index, (frame, word) in enumerate(zip(scc.frames, scc.words, strict=True)):
        b1, b2 = int(word[:2], 16) & 0x7F, int(word[2:], 16) & 0x7F
        if 0x10 <= b1 <= 0x1F:
            repeat = word == previous
            previous = "" if repeat else word
            if repeat:
                continue
            channel_one = not b1 & 0x08
            if not channel_one:
                continue
            if b1 in (0x14, 0x15) and 0x20 <= b2 <= 0x2F:
                if b2 in (0x25, 0x26, 0x27, 0x29):
                    raise InputError(f"{path}: roll-up or paint-on captions; lint reads "
                                     "pop-on SCC only")
                if b2 == 0x2E:  # ENM
                    buffer = {}
                elif b2 == 0x21 and buffer.get(row):  # backspace
                    buffer[row] = buffer[row][:-1]
                elif b2 == 0x2C:  # EDM: the shown caption ends here
                    if shown is not None and shown.end is None:
                        shown.end, shown.edm = frame, index
                elif b2 == 0x2F:  # EOC: swap the memories
                    if shown is not None and shown.end is None:
                        shown.end = frame
                    text = "\n".join(line.strip() for _, line in sorted(buffer.items())
                                     if line.strip())
                    shown = SccCaption(frame, None, text, load_from, index) if text else None
                    if shown is not None:
                        scc.captions.append(shown)
                    # the next load starts after this EOC's repeat, which belongs to it
                    buffer, load_from = {}, _pair(scc, index)[-1] + 1
            elif b1 <= 0x17 and b2 >= 0x40:  # preamble address code: a new row
                row = _PAC_ROWS.get((b1 & 0x17, 1 if b2 & 0x20 else 0), row)
                buffer.setdefault(row, "")
            elif b1 == 0x11 and 0x20 <= b2 <= 0x2F:  # mid-row code: shown as a space
                buffer[row] = buffer.get(row, "") + " "
            elif b1 == 0x11 and 0x30 <= b2 <= 0x3F:
                buffer[row] = buffer.get(row, "") + _FROM_SPECIAL.get((0x11, b2), " ")
            elif b1 in (0x12, 0x13) and 0x20 <= b2 <= 0x3F:  # replaces the character before
                buffer[row] = buffer.get(row, "")[:-1] + _FROM_EXTENDED.get((b1, b2), "")
            continue
        previous = ""
        if channel_one:
            for byte in (b1, b2):
                if byte >= 0x20:
                    buffer[row] = buffer.get(row, "") + _FROM_BASIC.get(byte, "")
    if shown is not None and shown.end is None:  # never erased: up until the last word
        shown.end = max(scc.frames[-1] + 1, shown.start + 1)


def seconds(frame: int) -> float:
    return float(frame / RATE)


def frame_of(seconds_: float) -> int:
    return round(Fraction(seconds_).limit_denominator(10**6) * RATE)


def retime(scc: SccFile, times: list[tuple[float, float]]) -> tuple[str, list[tuple[int, int]]]:
    """The file with each caption moved to `times` (seconds) where its words can move; returns
    the text and the frames each caption really got (start and end are moved apart, so one
    that cannot move leaves the other)."""
    frames = list(scc.frames)
    inserted: list[tuple[int, int]] = []  # (after word index, frame) of new EDM pairs
    got: list[tuple[int, int]] = []
    events = {c.edm for c in scc.captions if c.edm is not None} | {c.eoc for c in scc.captions}
    for n, (cap, (start, end)) in enumerate(zip(scc.captions, times, strict=True)):
        s, e = frame_of(start), frame_of(end)
        assert cap.end is not None
        eoc = _pair(scc, cap.eoc)
        got_start = cap.start
        if s != cap.start:
            load = [i for i in range(cap.first, eoc[-1] + 1) if i not in events or i in eoc]
            for moving in (eoc, _with_codes(scc, eoc, cap.first, events), load):
                trial = _moved(frames, moving, s - cap.start)
                if _ordered(trial, inserted):
                    frames, got_start = trial, s
                    break
        got_end = cap.end
        if e != cap.end and cap.edm is not None:
            edm = _pair(scc, cap.edm)
            for moving in (edm, _with_codes(scc, edm, eoc[-1] + 1, events)):
                trial = _moved(frames, moving, e - cap.end)
                if _ordered(trial, inserted):
                    frames, got_end = trial, e
                    break
        elif e != cap.end:
            nxt = scc.captions[n + 1] if n + 1 < len(scc.captions) else None
            if (nxt is None or e < nxt.start) and _ordered(frames, [*inserted, (eoc[-1], e)]):
                inserted, got_end = [*inserted, (eoc[-1], e)], e
        got.append((got_start, got_end))
    return _write(scc, frames, inserted), got


def _pair(scc: SccFile, index: int) -> list[int]:
    """A control code and its repeat (the next word, when it is the same)."""
    repeat = index + 1 < len(scc.words) and scc.words[index + 1] == scc.words[index]
    return [index, index + 1] if repeat else [index]


def _with_codes(scc: SccFile, pair: list[int], floor: int, events: set[int]) -> list[int]:
    """`pair` with the control codes right before it (an RCL, a spare EDM), none of them the
    start or end of a caption."""
    first = pair[0]
    while (first - 1 >= floor and first - 1 not in events
           and 0x10 <= int(scc.words[first - 1][:2], 16) & 0x7F <= 0x1F):
        first -= 1
    return [*range(first, pair[0]), *pair]


def _moved(frames: list[int], indices: list[int], shift: int) -> list[int]:
    trial = list(frames)
    for i in indices:
        trial[i] += shift
    return trial


def _ordered(frames: list[int], inserted: list[tuple[int, int]]) -> bool:
    events = sorted([(i, 0, f) for i, f in enumerate(frames)]
                    + [(i, 1, f) for i, f in inserted] + [(i, 2, f + 1) for i, f in inserted])
    order = [f for _, _, f in events]
    return all(a < b for a, b in zip(order, order[1:], strict=False))


def _write(scc: SccFile, frames: list[int], inserted: list[tuple[int, int]]) -> str:
    words: list[tuple[int, str, int | None]] = [
        (f, w, scc.line_of[i] if f == scc.frames[i] else None)
        for i, (f, w) in enumerate(zip(frames, scc.words, strict=True))]
    for _, frame in inserted:
        words += [(frame, EDM_WORD, None), (frame + 1, EDM_WORD, None)]
    words.sort(key=lambda t: t[0])
    groups: list[list[tuple[int, str, int | None]]] = []
    for item in words:
        if groups and item[0] == groups[-1][-1][0] + 1 and item[2] == groups[-1][-1][2]:
            groups[-1].append(item)
        else:
            groups.append([item])
    out = [scc.header, ""]
    for group in groups:
        source = group[0][2]
        whole = source is not None and sum(1 for s in scc.line_of if s == source) == len(group)
        if whole:
            out.append(scc.lines[source].rstrip("\r\n"))
        else:
            label = format_timecode(group[0][0], scc.rate)
            out.append(f"{label}\t{' '.join(w for _, w, _ in group)}")
        out.append("")
    newline = "\r\n" if "\r\n" in scc.text_sample else "\n"
    return newline.join(out[:-1]) + newline
