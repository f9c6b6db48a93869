"""Reading subtitle files for ``ccgen lint``: any format pysubs2 reads, and pop-on SCC.

Kept apart from the rules (:mod:`ccgen.captions.lint`) because reading untrusted files is its
own job: a negative time or a 3-digit hour is refused rather than misread, an empty file is a
valid file with no cues (ccgen's own output for silent media), binary data and formats no
reader here knows are refused in one line that names the file.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ccgen.errors import InputError, one_line

if TYPE_CHECKING:
    import pysubs2

# Formats lint cannot read, with what they are, so the message can say so.
_UNREADABLE = {".stl": "EBU STL binary subtitles", ".cap": "Cheetah CAP captions",
               ".mcc": "MacCaption MCC data", ".sup": "Blu-ray PGS image subtitles",
               ".idx": "VobSub image subtitles"}

_ASS_TAG = re.compile(r"\{\\[^}]*\}")
_MARKUP_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<\d[\d:.]*>")


def visible_lines(text: str) -> list[str]:
    """The lines a viewer sees: tags stripped, entities decoded, blank lines dropped."""
    text = _MARKUP_TAG.sub("", _ASS_TAG.sub("", text))
    text = text.replace("\\N", "\n").replace("\\n", "\n").replace("\\h", " ")
    text = html.unescape(text).replace("\r", "")
    return [line.strip() for line in text.split("\n") if line.strip()]


def read_events(path: Path, fps: float) -> tuple[list[pysubs2.SSAEvent], str]:
    """The cues of a subtitle file in file order (comments left out, SAMI's ends restored) and
    pysubs2's name of its format ("scc" for Scenarist SCC, read by ccgen.captions.sccfile)."""
    if path.suffix.lower() == ".scc" and path.is_file():
        import pysubs2

        from ccgen.captions.sccfile import read_scc, seconds

        scc = read_scc(_decode(path.read_bytes(), path), path)
        return [pysubs2.SSAEvent(start=round(seconds(c.start) * 1000),
                                 end=round(seconds(c.end or c.start) * 1000),
                                 text=c.text.replace("\n", "\\N")) for c in scc.captions], "scc"
    subs = read_subtitle(path, fps)
    events = [e for e in subs.events if not e.is_comment]
    if subs.format == "sami":
        events = sami_events(events)
    return events, subs.format


# Formats whose empty file still says what it is (a header), so 0 cues is a valid file.
_HEADED = ("vtt", "ass", "ssa", "ttml", "sami", "json")
_TIME = re.compile(r"(?<![\d:.])(-?)(\d+):(\d{2}):(\d{2})[.,](\d+)")


def read_subtitle(path: Path, fps: float) -> pysubs2.SSAFile:
    """A subtitle file as pysubs2 reads it, or an InputError naming the file: one reader for
    ``ccgen lint`` and for the fine-tuning data (``ccgen dataset``)."""
    suffix = path.suffix.lower()
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a subtitle file")
    if not path.is_file():
        raise InputError(f"{path}: no such subtitle file")
    if suffix in _UNREADABLE:
        raise InputError(f"{path}: {_UNREADABLE[suffix]} cannot be linted; convert it to "
                         "srt, vtt or ttml first")
    data = path.read_bytes()
    text = _decode(data, path)
    import pysubs2  # here: importing the style checks must not need a subtitle parser
    from pysubs2.formats import FILE_EXTENSION_TO_FORMAT_IDENTIFIER

    fmt = FILE_EXTENSION_TO_FORMAT_IDENTIFIER.get(suffix)
    if not text.strip() and fmt is not None:  # ccgen's SRT of silent media: 0 cues, valid
        subs = pysubs2.SSAFile()
        subs.format = fmt
        return subs
    _check_times(text, path)
    try:
        subs = pysubs2.SSAFile.from_string(text, format_=fmt, fps=fps)
    except Exception as exc:  # a third-party parser on untrusted input: any failure is bad input
        raise InputError(f"{path}: not a readable subtitle file ({one_line(exc)})") from None
    # TMP ("hh:mm:ss:text") matches many other line formats, SCC among them: trust it only
    # when the file says it is one.
    if subs.format == "tmp" and suffix != ".txt":
        raise InputError(f"{path}: not a readable subtitle file (unrecognised format)")
    if not any(not e.is_comment for e in subs.events) and subs.format not in _HEADED:
        raise InputError(f"{path}: no subtitle cues found (read as {subs.format})")
    return subs


def _check_times(text: str, path: Path) -> None:
    """A negative time or an hour of 3+ digits in a timing line is an error: pysubs2 reads
    "-00:00:01,000" as 1 s and "123:00:00,000" as 23 h."""
    for number, line in enumerate(text.splitlines(), 1):
        if "-->" in line:
            timing = line
        elif line.startswith(("Dialogue:", "Comment:")):
            timing = ",".join(line.split(",")[:3])
        else:
            continue
        for found in _TIME.finditer(timing):
            if found[1]:
                raise InputError(f"{path}: line {number}: negative time "
                                 f"{found[0]!r}")
            if len(found[2]) > 2:
                raise InputError(f"{path}: line {number}: time {found[0]!r} has a "
                                 f"{len(found[2])}-digit hour")


def _decode(data: bytes, path: Path) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data[:8192]:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace")
    raise InputError(f"{path}: not a subtitle file (binary data)")


def sami_events(events: list[pysubs2.SSAEvent]) -> list[pysubs2.SSAEvent]:
    """SAMI shows each SYNC until the next one; pysubs2 guesses ends at 15 cps instead.

    Restore the real ends, then drop the empty SYNCs, which are SAMI's way to clear the screen.
    The ends are set on the events given: they are the reader's own fresh records, never
    caption data a stage returned.
    """
    ordered = sorted(events, key=lambda e: e.start)
    for event, after in zip(ordered, ordered[1:], strict=False):
        if after.start > event.start:
            event.end = after.start
    return [e for e in ordered if visible_lines(e.text)]
