"""``ccgen lint --fix``: a retimed copy of a subtitle file, in its own format, text untouched.

The file is not rewritten by a subtitle library (which would re-encode entities, drop styles,
notes and comments): only the times of the cues that move are replaced in the file's own text,
so every other byte, the words above all, stays as it was. With ``--rewrap`` (SRT, WebVTT,
ASS) the lines of a cue that breaks ``line-length`` or ``line-count`` are re-broken with the
engine's line breaker; the words and their order stay.

Formats: SRT, WebVTT, ASS/SSA (10 ms resolution, so times are worked in 10 ms units),
TTML (``<p begin end|dur>``; times written as ``HH:MM:SS.mmm``) and pop-on SCC (whole frames
of line 21; its words are moved, see :mod:`ccgen.captions.sccfile`). The cues found in the
text must be exactly those the reader found, time for time, or the file is refused in one line
rather than patched in the wrong place. Other formats are refused with a reason.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ccgen.captions.layout import break_lines
from ccgen.captions.lint import Item, Report, check_frame_rate, lint_items
from ccgen.captions.reading import read_events, visible_lines
from ccgen.captions.retime import Timing, fix_timings
from ccgen.captions.style import Style
from ccgen.errors import InputError
from ccgen.media.shots import ShotChanges
from ccgen.writers.atomic import write_atomic

_CLOCK = r"\d+:\d{2}:\d{2}[,.]\d{1,3}|\d{2}:\d{2}\.\d{3}"
_ARROW = re.compile(rf"^[ \t]*({_CLOCK})[ \t]*-->[ \t]*({_CLOCK})", re.M)
_P_TAG = re.compile(r"<(?:\w+:)?p\b[^>]*>", re.S)
_ATTR = r'\b{}\s*=\s*(["\'])([^"\']*)\1'


@dataclass(frozen=True)
class _Slot:
    """Where one cue's times (and, for rewrap, its text) sit in the file's text."""

    start: tuple[int, int]  # character span of the start time (or of `begin`)
    end: tuple[int, int]  # of the end time (or of `end` / `dur`)
    dur: bool = False  # TTML `dur` instead of `end`
    text: tuple[int, int] | None = None


@dataclass(frozen=True)
class FixResult:
    output: Path
    before: Report
    after: Report
    retimed: int  # cues whose times changed
    rewrapped: int


def fix_file(path: str | Path, style: Style, output: str | Path, *,
             frame_rate: float | None = None, shots: ShotChanges | None = None,
             rewrap: bool = False, force: bool = False) -> FixResult:
    """Write a copy of `path` to `output` with the timing findings fixed where the time
    around each cue allows. Refuses to write over the input without `force`."""
    path, output = Path(path), Path(output)
    check_frame_rate(frame_rate)
    if path.suffix.lower() == ".scc":
        frame_rate = frame_rate or 30000 / 1001
    rate = frame_rate or (float(shots.rate) if shots is not None else style.default_frame_rate)
    events, fmt = read_events(path, rate)
    if fmt not in ("srt", "vtt", "ass", "ssa", "ttml", "scc"):
        raise InputError(f"{path}: lint --fix writes srt, vtt, ass, ttml and scc, not {fmt}; "
                         "convert it first")
    if rewrap and fmt in ("ttml", "scc"):
        raise InputError(f"{path}: --rewrap works on srt, vtt and ass, not {fmt}")
    if output.suffix.lower() != path.suffix.lower():
        raise InputError(f"-o {output}: --fix writes the input's own format; name it "
                         f"*{path.suffix or ' (no suffix)'}")
    if _same_file(path, output) and not force:
        raise InputError(f"{output}: is the input; use --force to rewrite it in place")
    if fmt == "scc":
        return _fix_scc(path, style, output, rate, shots, force)
    raw = path.read_bytes()
    encoding = _encoding(raw, path)
    text = raw.decode(encoding)
    slots = _slots(text, fmt, path)
    _match(slots, events, text, fmt, path)
    items = [Item(i, e.start / 1000, e.end / 1000, visible_lines(e.text))
             for i, e in enumerate(events, 1)]
    before = lint_items(items, style, frame_rate or rate, file=str(path), fmt=fmt, shots=shots)
    unit = 0.01 if fmt in ("ass", "ssa") else 0.001
    timings = [Timing(it.start, it.end, sum(map(len, it.lines))) for it in items]
    fixed = fix_timings(timings, style, rate, shots, unit)
    edits: list[tuple[tuple[int, int], str]] = []
    retimed = rewrapped = 0
    for item, old, new, slot in zip(items, timings, fixed, slots, strict=True):
        if new is not old:
            retimed += 1
            item.start, item.end = new.start, new.end
            edits.append((slot.start, _stamp(new.start, fmt, text[slot.start[0]:slot.start[1]])))
            value = new.end - new.start if slot.dur else new.end
            edits.append((slot.end, _stamp(value, fmt, text[slot.end[0]:slot.end[1]], slot.dur)))
        if rewrap and slot.text is not None and _too_wide(item.lines, style):
            lines = _rewrap(text[slot.text[0]:slot.text[1]], fmt, style)
            if lines is not None:
                rewrapped += 1
                item.lines = [ln.strip() for ln in lines]
                joiner = "\\N" if fmt in ("ass", "ssa") else _newline(text)
                edits.append((slot.text, joiner.join(lines)))
    for (a, b), value in sorted(edits, reverse=True):
        text = text[:a] + value + text[b:]
    write_atomic(output, text.encode(encoding), force=force)
    after = lint_items(items, style, frame_rate or rate, file=str(output), fmt=fmt, shots=shots)
    return FixResult(output, before, after, retimed, rewrapped)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _encoding(raw: bytes, path: Path) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _slots(text: str, fmt: str, path: Path) -> list[_Slot]:
    if fmt in ("srt", "vtt"):
        out = []
        for found in _ARROW.finditer(text):
            body_start = text.find("\n", found.end())
            body_start = len(text) if body_start < 0 else body_start + 1
            blank = re.compile(r"\r?\n[ \t]*\r?\n|\Z").search(text, body_start)
            body_end = blank.start() if blank else len(text)
            if body_end > body_start and text[body_end - 1] == "\r":
                body_end -= 1
            out.append(_Slot(found.span(1), found.span(2), text=(body_start, body_end)))
        return out
    if fmt in ("ass", "ssa"):
        return _ass_slots(text, path)
    return _ttml_slots(text)


def _ass_slots(text: str, path: Path) -> list[_Slot]:
    fields: list[str] = []
    out = []
    for line in re.finditer(r"^[^\r\n]*", text, re.M):
        body = line.group()
        if body.startswith("Format:") and "Start" in body:
            fields = [f.strip().lower() for f in body[7:].split(",")]
        if not body.startswith("Dialogue:"):
            continue
        if not fields or "start" not in fields or "end" not in fields:
            raise InputError(f"{path}: no [Events] Format line before the first Dialogue")
        spans, pos = [], line.start() + len("Dialogue:")
        for k in range(len(fields)):
            stop = text.find(",", pos, line.end()) if k < len(fields) - 1 else line.end()
            stop = line.end() if stop < 0 else stop
            spans.append(_trimmed(text, pos, stop))
            pos = stop + 1
        out.append(_Slot(spans[fields.index("start")], spans[fields.index("end")],
                         text=spans[-1] if fields[-1] == "text" else None))
    return out


def _trimmed(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a] == " ":
        a += 1
    while b > a and text[b - 1] == " ":
        b -= 1
    return a, b


def _ttml_slots(text: str) -> list[_Slot]:
    out = []
    for tag in _P_TAG.finditer(text):
        begin = re.search(_ATTR.format("begin"), tag.group())
        end = re.search(_ATTR.format("end"), tag.group())
        dur = re.search(_ATTR.format("dur"), tag.group())
        if begin is None or (end is None and dur is None):
            continue
        off = tag.start()
        stop = end or dur
        assert stop is not None
        out.append(_Slot((off + begin.start(2), off + begin.end(2)),
                         (off + stop.start(2), off + stop.end(2)), dur=end is None))
    return out


def _seconds(stamp: str, fmt: str, dur: bool = False) -> float:
    if fmt == "ttml":
        import pysubs2

        return pysubs2.formats.ttml.TTMLFormat.timestamp_to_ms(stamp.strip()) / 1000
    parts = re.split(r"[:,.]", stamp)
    if len(parts) == 3:  # WebVTT MM:SS.mmm
        parts = ["0", *parts]
    h, m, s, frac = parts
    return int(h) * 3600 + int(m) * 60 + int(s) + int(frac) / 10 ** len(frac)


def _match(slots: list[_Slot], events: list, text: str, fmt: str, path: Path) -> None:
    """The cues found in the text are the reader's cues, time for time."""
    problem = None
    if len(slots) != len(events):
        problem = f"{len(slots)} timing lines for {len(events)} cues"
    else:
        for n, (slot, event) in enumerate(zip(slots, events, strict=True), 1):
            try:
                start = _seconds(text[slot.start[0]:slot.start[1]], fmt)
                end = _seconds(text[slot.end[0]:slot.end[1]], fmt)
            except (NotImplementedError, ValueError):
                problem = f"cue {n}: a time it cannot write back"
                break
            end = start + end if slot.dur else end
            if abs(start - event.start / 1000) > 0.011 or abs(end - event.end / 1000) > 0.011:
                problem = f"cue {n}: its times depend on more than its own timing line"
                break
    if problem:
        raise InputError(f"{path}: cannot be fixed in place ({problem})")


def _stamp(seconds: float, fmt: str, old: str, dur: bool = False) -> str:
    """`seconds` written as the file writes times (`old` is the time it replaces)."""
    if fmt in ("ass", "ssa"):
        cs = round(seconds * 100)
        return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"
    ms = round(seconds * 1000)
    if fmt == "ttml" and dur:
        return f"{ms / 1000:.3f}s"
    hh, mm, ss, mmm = ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000
    sep = "," if fmt == "srt" and "." not in old else "."
    if fmt == "vtt" and old.count(":") == 1 and hh == 0:
        return f"{mm:02d}:{ss:02d}.{mmm:03d}"
    return f"{hh:02d}:{mm:02d}:{ss:02d}{sep}{mmm:03d}"


def _too_wide(lines: list[str], style: Style) -> bool:
    return len(lines) > style.max_lines or any(len(ln) > style.max_chars for ln in lines)


def _rewrap(body: str, fmt: str, style: Style) -> list[str] | None:
    """New lines for a cue's text, or None when it holds markup (tags are left alone) or
    cannot fit the style at all."""
    if re.search(r"[<{]", body) or re.search(r"^\s*-", body, re.M):
        return None  # markup, or a dashed exchange whose lines are its speakers
    words = body.replace("\\N", " ").replace("\\n", " ").split()
    lines = break_lines(" ".join(words), style.max_chars, style.max_lines)
    return lines or None


def _fix_scc(path: Path, style: Style, output: Path, rate: float,
             shots: ShotChanges | None, force: bool) -> FixResult:
    """SCC: times are frames of line 21 (29.97), so the search works in whole frames, and
    the words of each caption move as :mod:`ccgen.captions.sccfile` allows."""
    from ccgen.captions.sccfile import read_scc, retime, seconds

    scc = read_scc(path.read_bytes().decode("utf-8-sig", errors="replace"), path)
    items = [Item(i, seconds(c.start), seconds(c.end or c.start), visible_lines(c.text))
             for i, c in enumerate(scc.captions, 1)]
    before = lint_items(items, style, rate, file=str(path), fmt="scc", shots=shots)
    timings = [Timing(it.start, it.end, sum(map(len, it.lines))) for it in items]
    fixed = fix_timings(timings, style, rate, shots, unit=1001 / 30000)
    text, _ = retime(scc, [(t.start, t.end) for t in fixed])
    # the report is of the file as written: read it back (a caption without its own end
    # ends when the next one shows, so moving one caption can move its neighbour's end)
    written = read_scc(text, output)
    retimed = 0
    for item, old, new in zip(items, scc.captions, written.captions, strict=True):
        retimed += (new.start, new.end) != (old.start, old.end)
        item.start, item.end = seconds(new.start), seconds(new.end or new.start)
    try:
        data = text.encode("ascii", errors="strict")
    except UnicodeEncodeError as exc:  # SCC is ASCII: a stray byte is the file's, not ours
        line = text.count("\n", 0, exc.start) + 1
        raise InputError(f"{path}: line {line} is not ASCII; --fix writes SCC as ASCII "
                         "and changes no other byte, so it cannot copy it") from None
    write_atomic(output, data, force=force)
    after = lint_items(items, style, rate, file=str(output), fmt="scc", shots=shots)
    return FixResult(output, before, after, retimed, 0)
