"""SubRip, WebVTT and ASS through pysubs2 (its writers know each format's escaping rules)."""

from __future__ import annotations

import pysubs2

from ccgen.captions.style import Style
from ccgen.cues import Timeline
from ccgen.writers import register


def _ssafile(timeline: Timeline, style: Style) -> pysubs2.SSAFile:
    subs = pysubs2.SSAFile()
    subs.info["Title"] = f"{timeline.media} ({timeline.language}, SDH)"
    base = subs.styles["Default"]
    base.fontsize = 20
    base.outline = 2
    base.marginv = 24
    for cue in timeline.cues:
        # pysubs2 escapes nothing in plaintext; \N is its line break in every format.
        event = pysubs2.SSAEvent(start=round(cue.start * 1000), end=round(cue.end * 1000))
        event.plaintext = cue.text
        if cue.speaker:
            event.name = cue.speaker
        subs.append(event)
    return subs


def _writer(fmt: str):  # noqa: ANN202
    def write(timeline: Timeline, style: Style) -> str:
        return _ssafile(timeline, style).to_string(fmt)

    write.__name__ = f"to_{fmt}"
    return write


for _fmt in ("srt", "vtt", "ass"):
    register(_fmt)(_writer(_fmt))
