"""Fitting captions to a broadcast screen: the character set, the row width, the row count.

SCC (32 x 4) and EBU-STL Teletext (37 x 2 double-height rows) share the same problem: a
caption made for a wider or taller style must be reflowed (never truncated), split in time
when even that is too tall, and written with only the characters the format carries. Both
writers walk :func:`screens` and get one warning per file for what was changed.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterator

from ccgen.captions.layout import break_lines
from ccgen.captions.style import Style
from ccgen.cues import Cue, Timeline

log = logging.getLogger("ccgen")

TYPOGRAPHY = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ",
              "\u2013": "-", "\u2010": "-", "\u2011": "-", "\u2212": "-", "\u2026": "...",
              "\u201e": '"', "\u201a": "'", "\u2032": "'", "\u2033": '"'}
# Lossy replacements for characters a format lacks and NFKD cannot take apart.
_ASCII = {"€": "EUR", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ø": "o",
          "Ø": "O", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ł": "l", "Ł": "L", "đ": "d",
          "Đ": "D", "ı": "i", "♫": "♪", "♬": "♪", "🎵": "♪", "🎶": "♪", "×": "x", "·": ".",
          "—": "-", "`": "'", "«": '"', "»": '"', "§": "S", "©": "(c)", "®": "(R)", "™": "TM",
          "•": "*", "°": " deg", "¿": "?", "¡": "!", "|": "/", "~": "-", "{": "(", "}": ")",
          "\\": "/", "^": "'", "_": "-"}


def transliterate(text: str, encodable: Callable[[str], bool]) -> tuple[str, dict[str, str]]:
    """`text` with every character a format cannot carry replaced by its nearest equivalent.

    Returns the new text and the lossy replacements made ({char: replacement}), so that the
    writer can warn once per file. Typographic quotes and dashes become plain ones silently:
    nothing a viewer reads is lost. Accents are dropped only when the accented letter is missing
    (NFKD), symbols come from a small table, and anything else becomes '?'.
    """
    out: list[str] = []
    lossy: dict[str, str] = {}
    for ch in unicodedata.normalize("NFC", text):
        if ch == "\n" or encodable(ch):
            out.append(ch)
            continue
        typo = TYPOGRAPHY.get(ch)
        if typo is not None and all(encodable(c) for c in typo):
            out.append(typo)
            continue
        stripped = "".join(c for c in unicodedata.normalize("NFKD", ch)
                           if not unicodedata.combining(c))
        for candidate in (_ASCII.get(ch), stripped, "?"):
            if candidate and all(encodable(c) for c in candidate):
                break
        out.append(candidate)
        lossy[ch] = candidate
    return "".join(out), lossy


def fit_lines(text: str, max_chars: int, max_rows: int, dash: str = "-") -> tuple[list[str], bool]:
    """Lines of `text` at most `max_chars` wide; True in the second place if they were reflowed.

    Reflowed, never truncated: with a dialogue dash on each line every speaker keeps their own
    lines, otherwise the text is broken again by :func:`break_lines` (sense-unit breaks). The
    result may exceed `max_rows` when even that many rows cannot hold the text; the caller then
    splits the caption in time (:func:`pages`).
    """
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if all(len(line) <= max_chars for line in lines) and len(lines) <= max_rows:
        return lines, False
    if len(lines) > 1 and all(line.startswith(dash) for line in lines):
        out = [part for line in lines for part in _wrap(line, max_chars, max_rows)]
        if len(out) <= max_rows:
            return out, True
    return _wrap(" ".join(lines), max_chars, max_rows), True


def _wrap(text: str, max_chars: int, max_rows: int) -> list[str]:
    found = break_lines(text, max_chars, max_rows)
    if found is not None:
        return found
    words = [w[i:i + max_chars] for w in text.split() for i in range(0, len(w), max_chars)]
    lines: list[str] = []
    for word in words:  # greedy fallback: too long for max_rows rows even at best
        if lines and len(lines[-1]) + 1 + len(word) <= max_chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def pages(start: float, end: float, lines: list[str],
          max_rows: int) -> list[tuple[float, float, list[str]]]:
    """Split a caption too tall for the screen into consecutive ones, time shared by length."""
    chunks = [lines[i:i + max_rows] for i in range(0, len(lines), max_rows)]
    if len(chunks) <= 1:
        return [(start, end, lines)]
    total = sum(len(" ".join(c)) for c in chunks)
    out, t = [], start
    for chunk in chunks:
        step = (end - start) * len(" ".join(chunk)) / total
        out.append((t, t + step, chunk))
        t += step
    return out


def screens(timeline: Timeline, style: Style, encodable: Callable[[str], bool], columns: int,
            rows: int, label: str, table: str) -> Iterator[tuple[Cue, float, float, list[str]]]:
    """(cue, start, end, lines) for every screenful of `timeline`, in time order.

    After the last one, warns once for the captions reflowed to `columns` x `rows` and once for
    the characters outside `table` (the format's character set) that were transliterated.
    """
    reflowed, lossy = 0, {}
    for cue in sorted(timeline.cues, key=lambda c: (c.start, c.end)):
        text, lost = transliterate(cue.text, encodable)
        lossy.update(lost)
        lines, changed = fit_lines(text, columns, rows, style.dialogue_dash)
        if not lines:
            continue
        reflowed += changed
        for start, end, page in pages(cue.start, cue.end, lines, rows):
            yield cue, start, end, page
    if reflowed:
        log.warning("%s rows hold %d characters: %d caption(s) reflowed (style %r allows %d)",
                    label, columns, reflowed, style.name, style.max_chars)
    if lossy:
        pairs = ", ".join(f"{k!r}->{v!r}" for k, v in sorted(lossy.items()))
        log.warning("%s: characters outside %s transliterated: %s", label, table, pairs)
