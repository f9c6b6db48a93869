"""EBU-STL (EBU Tech 3264): the binary subtitle exchange file of European broadcast.

Neither pycaption nor pysubs2 writes it, so it is written here: a 1024-byte GSI block (general
subtitle information, in code page 850) and one 128-byte TTI block (text and timing) per subtitle,
more when a subtitle's text needs extension blocks. The subtitles are Level-1 Teletext (DSC "1"),
the form UK and most European broadcasters ask for: each row is double height in a black box, so
a row spends 3 of Teletext's 40 columns on control codes and carries 37 characters, the BBC's
figure. Text is in the Latin table (CCT "00", ISO 6937), where an accented letter is a
diacritic byte followed by its base letter and ♪ is 0xD5.

Times are SMPTE timecodes at 25 fps (STL25.01) or 30 (STL30.01, also for 29.97 media, counted
non-drop as the tape is); 24 and 23.976 media have no STL rate of their own and are written at 25.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import unicodedata
from pathlib import Path

from ccgen.captions.style import Style
from ccgen.cues import Timeline
from ccgen.errors import InputError
from ccgen.writers import register
from ccgen.writers.screens import screens
from ccgen.writers.timecode import (
    FrameRate,
    frame_rate,
    start_frames,
    timecode_fields,
    to_frames,
)

log = logging.getLogger("ccgen")

COLUMNS, MAX_ROWS, TF_BYTES = 37, 4, 112
ROW_START = bytes([0x0D, 0x0B, 0x0B])  # double height, start box, start box
END_BOX = bytes([0x0A, 0x0A])
NEWLINE, PAD = b"\x8a\x8a", 0x8F  # a double-height row covers two Teletext rows

# ISO 6937 non-spacing diacritics (sent before the letter) by Unicode combining mark.
_DIACRITIC = {"\u0300": 0xC1, "\u0301": 0xC2, "\u0302": 0xC3, "\u0303": 0xC4, "\u0304": 0xC5,
              "\u0306": 0xC6, "\u0307": 0xC7, "\u0308": 0xC8, "\u030a": 0xCA, "\u0327": 0xCB,
              "\u030b": 0xCD, "\u0328": 0xCE, "\u030c": 0xCF}
# The letters each diacritic may sit on in ISO 6937 (Tech 3264 code table 00): other pairs
# (ẽ, ǎ, ẁ…) are not in the repertoire and are transliterated instead of sent as garbage.
_ACCENTED = {0xC1: "AEIOUaeiou", 0xC2: "ACEILNORSUYZaceilnorsuyz",
             0xC3: "ACEGHIJOSUWYaceghijosuwy", 0xC4: "AINOUainou", 0xC5: "AEIOUaeiou",
             0xC6: "AGUagu", 0xC7: "CEGIZcegz", 0xC8: "AEIOUYaeiouy", 0xCA: "AUau",
             0xCB: "CGKLNRSTcklnrst", 0xCD: "OUou", 0xCE: "AEIUaeiu",
             0xCF: "CDELNRSTZcdelnrstz"}
_SYMBOL = {"¡": 0xA1, "¢": 0xA2, "£": 0xA3, "¥": 0xA5, "§": 0xA7, "¤": 0xA8, "‘": 0xA9,
           "“": 0xAA, "«": 0xAB, "°": 0xB0, "±": 0xB1, "²": 0xB2, "³": 0xB3, "×": 0xB4,
           "µ": 0xB5, "¶": 0xB6, "·": 0xB7, "÷": 0xB8, "’": 0xB9, "”": 0xBA, "»": 0xBB,
           "¼": 0xBC, "½": 0xBD, "¾": 0xBE, "¿": 0xBF, "―": 0xD0, "—": 0xD0, "¹": 0xD1,
           "®": 0xD2, "©": 0xD3, "™": 0xD4, "♪": 0xD5, "¬": 0xD6, "¦": 0xD7, "Ω": 0xE0,
           "Æ": 0xE1, "Đ": 0xE2, "ª": 0xE3, "Ħ": 0xE4, "Ĳ": 0xE6, "Ŀ": 0xE7, "Ł": 0xE8,
           "Ø": 0xE9, "Œ": 0xEA, "º": 0xEB, "Þ": 0xEC, "Ŧ": 0xED, "Ŋ": 0xEE, "ŉ": 0xEF,
           "ĸ": 0xF0, "æ": 0xF1, "đ": 0xF2, "ð": 0xF3, "ħ": 0xF4, "ı": 0xF5, "ĳ": 0xF6,
           "ŀ": 0xF7, "ł": 0xF8, "ø": 0xF9, "œ": 0xFA, "ß": 0xFB, "þ": 0xFC, "ŧ": 0xFD,
           "ŋ": 0xFE}

# EBU Tech 3264 Appendix 3 language codes, for the ISO 639-1 codes of Latin-script languages.
LANGUAGES = {"sq": 0x01, "br": 0x02, "ca": 0x03, "hr": 0x04, "cy": 0x05, "cs": 0x06,
             "da": 0x07, "de": 0x08, "en": 0x09, "es": 0x0A, "eo": 0x0B, "et": 0x0C,
             "eu": 0x0D, "fo": 0x0E, "fr": 0x0F, "fy": 0x10, "ga": 0x11, "gd": 0x12,
             "gl": 0x13, "is": 0x14, "it": 0x15, "se": 0x16, "la": 0x17, "lv": 0x18,
             "lb": 0x19, "lt": 0x1A, "hu": 0x1B, "mt": 0x1C, "nl": 0x1D, "no": 0x1E,
             "nb": 0x1E, "nn": 0x1E, "oc": 0x1F, "pl": 0x20, "pt": 0x21, "ro": 0x22,
             "rm": 0x23, "sr": 0x24, "sk": 0x25, "sl": 0x26, "fi": 0x27, "sv": 0x28,
             "tr": 0x29, "id": 0x6A, "ms": 0x61, "sw": 0x4F, "vi": 0x46}
NON_LATIN = {"ru", "uk", "be", "bg", "mk", "el", "ar", "he", "fa", "ur", "hi", "bn", "ta",
             "te", "th", "zh", "ja", "ko", "ka", "hy", "am", "kk", "ky", "mn"}


def encode_6937(ch: str) -> bytes | None:
    """`ch` in the ISO 6937 Latin table of EBU-STL, or None if the table lacks it."""
    if " " <= ch <= "~":
        return ch.encode("ascii")
    if ch in _SYMBOL:
        return bytes([_SYMBOL[ch]])
    parts = unicodedata.normalize("NFD", ch)
    if len(parts) == 2 and parts[1] in _DIACRITIC and parts[0] in _ACCENTED[
            _DIACRITIC[parts[1]]]:
        return bytes([_DIACRITIC[parts[1]], ord(parts[0])])
    return None


def _text_field(lines: list[str]) -> bytes:
    """Rows of boxed text; a box runs to its End Box or to the row's end, so a row with room
    for one is closed (a full 37-character row ends at the edge anyway)."""
    rows = []
    for line in lines:
        row = ROW_START + b"".join(encode_6937(c) or b"?" for c in line)
        rows.append(row + END_BOX if len(ROW_START) + len(line) + len(END_BOX) <= 40 else row)
    return NEWLINE.join(rows)


def _blocks(text: bytes) -> list[bytes]:
    """The 112-byte TF fields that carry `text`: one, or extension blocks when it is longer.

    A diacritic stays in the same block as its letter.
    """
    out = []
    while True:
        cut = TF_BYTES
        if len(text) > cut and 0xC1 <= text[cut - 1] <= 0xCF:
            cut -= 1
        chunk, text = text[:cut], text[cut:]
        out.append(chunk + bytes([PAD]) * (TF_BYTES - len(chunk)))
        if not text:
            return out


def stl_rate(timeline: Timeline, rate: float | str | None) -> tuple[FrameRate, str]:
    """The frame rate the cues are counted at and the disk format code."""
    media = frame_rate(rate if rate is not None else timeline.frame_rate, default=25)
    if media.nominal in (30, 60):
        counted = frame_rate(media.fps / 2 if media.nominal == 60 else media.fps)
        return counted, "STL30.01"
    if media.nominal in (25, 50):
        return frame_rate(25), "STL25.01"
    if rate is not None:
        raise InputError(f"EBU-STL has no {media.label} fps format; choose 25 or 30 "
                         "(STL25.01 or STL30.01)")
    log.warning("EBU-STL has no %s fps format: %s is timed at 25 fps (STL25.01), "
                "within 1/25 s", media.label, timeline.media)
    return frame_rate(25), "STL25.01"


def _gsi(dfc: str, language: int, tnb: int, tns: int, tcp: str,
         tcf: str, title: str) -> bytes:
    today = _dt.datetime.fromtimestamp(int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
                                       or _dt.datetime.now().timestamp(), _dt.UTC)
    date = today.strftime("%y%m%d")
    fields = [("850", 3), (dfc, 8), ("1", 1), ("00", 2), (f"{language:02X}", 2),
              (title, 32), ("", 32), ("", 32), ("", 32), ("", 32), ("", 32), ("", 16),
              (date, 6), (date, 6), ("01", 2), (f"{tnb:05d}", 5), (f"{tns:05d}", 5),
              ("001", 3), ("40", 2), ("23", 2), ("1", 1), (tcp, 8), (tcf, 8), ("1", 1),
              ("1", 1), ("", 3), ("", 32), ("ccgen", 32), ("", 32), ("", 75), ("", 576)]
    return b"".join(v.encode("cp850", "replace")[:n].ljust(n, b" ") for v, n in fields)


def _tc_bytes(frame: int, rate: FrameRate) -> bytes:
    """TCI/TCO: hours, minutes, seconds, frames as one binary byte each."""
    return bytes(timecode_fields(frame, rate))


def _tc_digits(frame: int, rate: FrameRate) -> str:
    """TCP/TCF in the GSI: the same timecode as eight ASCII digits, HHMMSSFF."""
    return "".join(f"{b:02d}" for b in timecode_fields(frame, rate))


def write_stl(timeline: Timeline, style: Style, *, start: str | None = None,
              rate: float | str | None = None, drop_frame: bool = False) -> bytes:
    """The EBU-STL file of `timeline` (bytes).

    `start` is the timecode of the media's first frame (also written as the GSI's TCP);
    `rate` overrides the media's frame rate (25 or 30 families only). EBU-STL timecode is
    non-drop-frame, so `drop_frame=True` is refused in one line, as is a language outside
    the Latin character table.
    """
    if drop_frame or (start and ";" in start):
        raise InputError("EBU-STL timecode is non-drop-frame; give the start timecode with ':' "
                         "and no drop-frame option")
    lang = (timeline.language or "").lower().split("-")[0]
    if lang in NON_LATIN:
        raise InputError(f"EBU-STL is written in the Latin character table; language "
                         f"{timeline.language!r} needs another table: use TTML")
    fr, dfc = stl_rate(timeline, rate)
    offset = start_frames(start, fr)
    blocks: list[bytes] = []
    number = 0
    first_in: int | None = None
    for _, t0, t1, page in screens(timeline, style, lambda ch: encode_6937(ch) is not None,
                                   COLUMNS, MAX_ROWS, "EBU-STL Teletext", "its Latin table"):
        tci = offset + to_frames(t0, fr)
        tco = max(offset + to_frames(t1, fr), tci + 1)
        first_in = tci if first_in is None else first_in
        # Double-height rows are two Teletext rows each; the last sits on rows 22-23.
        vp = 22 - 2 * (len(page) - 1)
        fields = _blocks(_text_field(page))
        for i, tf in enumerate(fields):
            ebn = 0xFF if i == len(fields) - 1 else i
            blocks.append(bytes([0]) + number.to_bytes(2, "little") + bytes([ebn, 0])
                          + _tc_bytes(tci, fr) + _tc_bytes(tco, fr)
                          + bytes([vp, 2, 0]) + tf)
        number += 1
    tcp = _tc_digits(offset, fr)
    tcf = _tc_digits(offset if first_in is None else first_in, fr)
    title = Path(timeline.media).stem
    gsi = _gsi(dfc, LANGUAGES.get(lang, 0), len(blocks), number, tcp, tcf, title)
    return gsi + b"".join(blocks)


register("stl")(write_stl)
