"""SDH quality control: check any subtitle file, or ccgen's own cues, against a house style.

``ccgen lint`` is the same check a human QC pass makes before delivery, with the style's own
numbers (see :mod:`ccgen.captions.style`), so it judges human files and ccgen output alike.
Text is measured as displayed: formatting tags (``{\\i1}``, ``<i>``, ``<v Name>``) are
stripped, HTML entities decoded, each line trimmed, and blank lines ignored. Limits have a
1 ms tolerance, so a caption exactly at a limit passes.

Rules (one finding per cue and rule; gap rules are reported on the later cue):

- ``empty``: no visible text (the other cue rules skip it).
- ``line-length``: a line longer than ``max_chars``.
- ``line-count``: more lines than ``max_lines``.
- ``min-duration`` / ``max-duration``: on screen shorter than ``min_duration`` / longer than
  ``max_duration``.
- ``cps``: characters per second (spaces counted, line breaks not) above ``max_cps``; a cue
  already too short is measured at ``min_duration``, so each finding points at its own fix.
- ``gap``: starts less than ``min_gap_frames`` frames after the previous cue ends.
- ``close-gap``: a gap the style wants closed up (``close_gap``; BBC: under 1 s); a gap of up
  to 2 frames counts as closed.
- ``overlap``: starts before the previous cue ends.
- ``unbalanced-brackets``: ``[ ]`` or ``( )`` not paired, or an odd number of ``♪`` marks.
- ``charset``: a character the style's display cannot show (``cea608``), or a control or
  replacement character (any style).
- ``shot-change``: only when shot changes are given (``--media``, ``--shot-changes``): the
  style's shot-change rules (:mod:`ccgen.captions.retime`; Netflix: in-cues within 12 frames
  of a cut belong on it, out-cues within 12 frames end 2 frames before it; BBC: no caption
  hanging over a cut by half a second or less).

An empty file (ccgen's own output for silent media: an empty SRT, a bare ``WEBVTT``, ASS or
TTML without events) is valid: 0 cues, 0 findings. A negative time or a 3-digit hour in a
timing line is an error, not read as something else.

JSON shape (``Report.to_dict()``, ``ccgen lint --json``); times in seconds, ``cue`` is the
1-based position in the file, ``text`` the displayed text with ``\\n`` between lines::

    {"file": "movie.en.srt", "format": "srt", "style": "netflix", "frame_rate": 24.0,
     "cues": 1847, "violations": 3,
     "summary": {"line-length": 1, "cps": 2},
     "findings": [{"rule": "cps", "cue": 12, "start": 61.2, "end": 62.0,
                   "text": "What would I see\\nif I rode on a beam?",
                   "message": "45.0 characters/s > 20"}, ...]}

``summary`` lists only rules with findings, in the rule order above; ``file`` and ``format``
are null for cues linted in memory (``format`` is pysubs2's name for what was read).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccgen.captions.reading import read_events, visible_lines
from ccgen.captions.retime import shot_problem
from ccgen.captions.style import Style
from ccgen.cues import Cue
from ccgen.errors import InputError

if TYPE_CHECKING:
    from ccgen.media.shots import ShotChanges

RULES: dict[str, str] = {
    "empty": "no visible text",
    "line-length": "a line longer than the style's max_chars",
    "line-count": "more lines than the style's max_lines",
    "min-duration": "on screen shorter than min_duration",
    "max-duration": "on screen longer than max_duration",
    "cps": "reading speed above max_cps (characters per second, line breaks excluded)",
    "gap": "less than min_gap_frames after the previous cue",
    "close-gap": "a short gap the style wants closed up (close_gap)",
    "overlap": "starts before the previous cue ends",
    "unbalanced-brackets": "[ ] or ( ) not paired, or an odd number of ♪ marks",
    "charset": "a character outside the style's character set",
    "shot-change": "timed against a shot change as the style forbids (given the shot changes)",
}
TOLERANCE = 1e-3  # seconds; a caption exactly at a limit passes

_NOTE_RUN = re.compile(r"♪+")


@dataclass(frozen=True)
class Finding:
    """One broken rule on one cue."""

    rule: str
    cue: int
    start: float
    end: float
    text: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["start"], d["end"] = round(self.start, 3), round(self.end, 3)
        return d


@dataclass
class Report:
    """What lint found; ``cues`` counts every cue read, ``findings`` are in cue order."""

    style: str
    cues: int
    findings: list[Finding] = field(default_factory=list)
    file: str | None = None
    format: str | None = None
    frame_rate: float | None = None

    @property
    def violations(self) -> int:
        return len(self.findings)

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> dict[str, int]:
        """Findings per rule, in rule order, only rules that fired."""
        counts = {rule: 0 for rule in RULES}
        for finding in self.findings:
            counts[finding.rule] += 1
        return {rule: n for rule, n in counts.items() if n}

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "format": self.format, "style": self.style,
                "frame_rate": self.frame_rate, "cues": self.cues,
                "violations": self.violations, "summary": self.summary(),
                "findings": [f.to_dict() for f in self.findings]}


@dataclass
class Item:
    """One cue as lint sees it: its number in the file, its times and its visible lines
    (``lintfix`` retimes these records, which it made itself)."""

    index: int
    start: float
    end: float
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def check_frame_rate(frame_rate: float | None) -> None:
    """A frame rate given by the user: InputError unless it is a real video rate (0, a
    negative or 1e308 must not switch the gap rule off or fall back silently)."""
    if frame_rate is None:
        return
    if not math.isfinite(frame_rate) or not 1.0 <= frame_rate <= 1000.0:
        raise InputError(f"frame rate {frame_rate:g} is not a video frame rate (1-1000 fps)")


def lint_cues(cues: list[Cue], style: Style, frame_rate: float | None = None,
              shots: ShotChanges | None = None) -> Report:
    """Lint ccgen's own display cues (any kind) in list order; `shots` adds the shot-change
    rule."""
    check_frame_rate(frame_rate)
    items = [Item(i, c.start, c.end, visible_lines(c.text)) for i, c in enumerate(cues, 1)]
    return lint_items(items, style, frame_rate, file=None, fmt=None, shots=shots)


def lint_file(path: str | Path, style: Style, frame_rate: float | None = None,
              shots: ShotChanges | None = None) -> Report:
    """Lint a subtitle file in any format pysubs2 reads (srt, vtt, ass/ssa, sami, ttml/dfxp,
    microdvd .sub, mpl2, tmp .txt, pysubs2 json), and pop-on Scenarist SCC.

    `frame_rate` sets the frame grid for the gap rule and for frame-based files (MicroDVD);
    None uses the shot changes' rate when given, else the style's default. `shots` adds the
    shot-change rule. InputError (one line, naming the file) when it cannot be read.
    """
    path = Path(path)
    check_frame_rate(frame_rate)
    if frame_rate is None and shots is not None:
        frame_rate = float(shots.rate)
    if frame_rate is None and path.suffix.lower() == ".scc":
        frame_rate = 30000 / 1001  # line 21's own frame rate
    events, fmt = read_events(path, frame_rate or style.default_frame_rate)
    items = [Item(i, e.start / 1000, e.end / 1000, visible_lines(e.text))
             for i, e in enumerate(events, 1)]
    return lint_items(items, style, frame_rate, file=str(path), fmt=fmt, shots=shots)


def lint_items(items: list[Item], style: Style, frame_rate: float | None, *, file: str | None,
               fmt: str | None, shots: ShotChanges | None = None) -> Report:
    """The report on `items` (cues already read and numbered): per-cue rules, the shot-change
    rule when `shots` is given, then the timing rules between cues, in cue order."""
    rate = frame_rate or style.default_frame_rate
    findings: list[Finding] = []
    for item in items:
        findings.extend(_cue_findings(item, style))
        if shots is not None and item.lines:
            problem = shot_problem(item.start, item.end, style, shots)
            if problem:
                findings.append(Finding("shot-change", item.index, item.start, item.end,
                                        item.text, problem))
    findings.extend(_timing_findings([i for i in items if i.lines], style, rate))
    order = {rule: n for n, rule in enumerate(RULES)}
    findings.sort(key=lambda f: (f.cue, order[f.rule]))
    return Report(style=style.name, cues=len(items), findings=findings, file=file, format=fmt,
                  frame_rate=rate)


def _cue_findings(item: Item, style: Style) -> list[Finding]:
    def hit(rule: str, message: str) -> None:
        out.append(Finding(rule, item.index, item.start, item.end, item.text, message))

    out: list[Finding] = []
    if not item.lines:
        hit("empty", "no visible text")
        return out
    long = [(n, len(line)) for n, line in enumerate(item.lines, 1) if len(line) > style.max_chars]
    if long:
        where = ", ".join(str(n) for n, _ in long)
        sizes = ", ".join(str(size) for _, size in long)
        hit("line-length", f"line {where}: {sizes} characters > {style.max_chars}")
    if len(item.lines) > style.max_lines:
        hit("line-count", f"{len(item.lines)} lines > {style.max_lines}")
    duration = item.end - item.start
    too_short = duration < style.min_duration - TOLERANCE
    if too_short:
        hit("min-duration", f"{duration:.3f} s < {style.min_duration:g} s")
    if duration > style.max_duration + TOLERANCE:
        hit("max-duration", f"{duration:.3f} s > {style.max_duration:g} s")
    chars = sum(len(line) for line in item.lines)
    measured = max(duration, style.min_duration) if too_short else duration
    if measured > 0 and chars > style.max_cps * (measured + TOLERANCE):
        note = f" even at the {style.min_duration:g} s minimum" if too_short else ""
        hit("cps", f"{chars / measured:.1f} characters/s > {style.max_cps:g}{note}")
    problem = _bracket_problem(item.text)
    if problem:
        hit("unbalanced-brackets", problem)
    bad = _bad_chars(item.text, style)
    if bad:
        shown = " ".join(f"{c!r} (U+{ord(c):04X})" for c in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        hit("charset", f"not in the {style.charset} character set: {shown}{more}")
    return out


def _bracket_problem(text: str) -> str | None:
    pairs = {"]": "[", ")": "("}
    stack: list[str] = []
    for char in text:
        if char in "[(":
            stack.append(char)
        elif char in pairs:
            if not stack or stack[-1] != pairs[char]:
                return f"{char!r} without a matching {pairs[char]!r}"
            stack.pop()
    if stack:
        return f"{stack[-1]!r} is never closed"
    # ♪ marks open and close lyrics ("♪ la la ♪", DCMP's last "♪ la ♪♪"): a run of notes is
    # one mark, and a caption that is only notes ("♪♪") is a music cue, not a lyric.
    runs = _NOTE_RUN.findall(text)
    if len(runs) % 2 and _NOTE_RUN.sub("", text).strip():
        return "odd number of ♪ marks (lyrics need one at each end)"
    return None


def _bad_chars(text: str, style: Style) -> list[str]:
    allowed = style.allowed_chars()
    bad: set[str] = set()
    for char in text:
        if char == "\n":
            continue
        if allowed is not None:
            if char not in allowed:
                bad.add(char)
        elif char == "\ufffd" or unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn"):
            bad.add(char)
    return sorted(bad)


def _timing_findings(items: list[Item], style: Style, rate: float) -> list[Finding]:
    """Gap, close-gap and overlap, in time order, against the latest-ending earlier cue."""
    out: list[Finding] = []
    min_gap = style.min_gap(rate)
    closed = max(min_gap, 2 / rate)  # a gap this small counts as closed up
    ordered = sorted(items, key=lambda i: (i.start, i.end, i.index))
    for prev, item in zip(_running_latest(ordered), ordered[1:], strict=False):
        gap = item.start - prev.end
        if gap < -TOLERANCE:
            message = f"starts {-gap:.3f} s before #{prev.index} ends"
            out.append(Finding("overlap", item.index, item.start, item.end, item.text, message))
        elif gap < min_gap - TOLERANCE:
            message = (f"{gap:.3f} s after #{prev.index} < {style.min_gap_frames} frames "
                       f"({min_gap:.3f} s at {rate:g} fps)")
            out.append(Finding("gap", item.index, item.start, item.end, item.text, message))
        elif style.close_gap > 0 and closed + TOLERANCE < gap < style.close_gap - TOLERANCE:
            message = (f"{gap:.3f} s after #{prev.index}: close it up or leave at "
                       f"least {style.close_gap:g} s")
            out.append(Finding("close-gap", item.index, item.start, item.end, item.text,
                               message))
    return out


def _running_latest(ordered: list[Item]) -> list[Item]:
    """For each cue in time order, the earlier-or-same cue that ends last so far."""
    out: list[Item] = []
    for item in ordered:
        out.append(item if not out or item.end > out[-1].end else out[-1])
    return out


def _clock(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _snippet(text: str, width: int = 40) -> str:
    flat = text.replace("\n", " / ")
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def format_text(report: Report) -> str:
    """Human-readable report: one line per finding, then a summary line."""
    lines = [f"{_clock(f.start)}  #{f.cue}  {f.rule}  {f.message} ({_snippet(f.text)})"
             for f in report.findings]
    name = Path(report.file).name if report.file else "captions"
    counts = ", ".join(f"{rule} {n}" for rule, n in report.summary().items())
    verdict = f"{report.violations} violations ({counts})" if counts else "no violations"
    lines.append(f"{name}: {report.cues} cues, {verdict} under style {report.style}")
    return "\n".join(lines)
