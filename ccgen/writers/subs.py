"""SubRip, WebVTT and ASS through pysubs2, with the text kept exactly as the captions say.

pysubs2 reads ``{…}`` as ASS override tags and ``\\N``/``\\h`` as ASS escapes in every format,
and escapes nothing for WebVTT; caption text ("R&D", "{laughs}", a path with a backslash) must
reach the viewer unchanged. So the text is shielded from pysubs2 and escaped per format here:
WebVTT gets ``&amp; &lt; &gt;`` (its spec forbids a raw ``&`` or ``<`` in cue text); ASS
gets ``\\{ \\}`` (libass's literal braces); SubRip has no escapes and is written as it is.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from ccgen.captions.style import Style
from ccgen.cues import Timeline
from ccgen.registry import needs
from ccgen.writers import register

if TYPE_CHECKING:
    import pysubs2

_SHIELD = {"\\": "\ue000", "{": "\ue001", "}": "\ue002"}  # private-use stand-ins


def _text(text: str, fmt: str) -> str:
    if fmt == "vtt":
        text = html.escape(text, quote=False)
    elif fmt == "ass":
        text = text.replace("{", "\\{").replace("}", "\\}")
        return text.replace("\n", "\\N")
    for char, stand_in in _SHIELD.items():
        text = text.replace(char, stand_in)
    return text.replace("\n", "\\N")  # pysubs2's line break in every format


def _ssafile(timeline: Timeline, fmt: str) -> pysubs2.SSAFile:
    import pysubs2  # here: ccgen's writers load where no subtitle library is installed

    subs = pysubs2.SSAFile()
    subs.info["Title"] = f"{timeline.media} ({timeline.language}, SDH)"
    base = subs.styles["Default"]
    base.fontsize = 20
    base.outline = 2
    base.marginv = 24
    for cue in sorted(timeline.cues, key=lambda c: (c.start, c.end)):
        event = pysubs2.SSAEvent(start=round(cue.start * 1000), end=round(cue.end * 1000),
                                 text=_text(cue.text, fmt))
        if cue.speaker:
            event.name = cue.speaker
        subs.append(event)
    return subs


def _writer(fmt: str):
    def write(timeline: Timeline, style: Style) -> str:
        out = _ssafile(timeline, fmt).to_string(fmt)
        for char, stand_in in _SHIELD.items():
            out = out.replace(stand_in, char)
        return out

    write.__name__ = f"to_{fmt}"
    return write


for _fmt in ("srt", "vtt", "ass"):
    register(_fmt, available=lambda: needs({"pysubs2": "pysubs2"}, "pip install pysubs2"))(
        _writer(_fmt))
