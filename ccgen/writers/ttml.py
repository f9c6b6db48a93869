"""TTML in the IMSC1 Text profile: the delivery format of streaming services (Netflix, EBU-TT-D).

Written with ElementTree rather than pycaption's DFXPWriter, which has no IMSC1 profile
designator, no ttp:timeBase/ttp:frameRate and no way to carry SDH semantics; pycaption's
DFXPReader stays the independent reader in the tests.

What a viewer's SDH caption keeps here: each cue says what it is with ttm:role (dialog, sound,
music, lyrics), speakers are declared as ttm:agent and referenced from their lines, lyrics are
italic, and the text keeps its brackets, dashes and ♪ as the style wrote them. Times are media
time (IMSC1 allows no other time base) written as clock time to the millisecond, each on an exact
frame of the declared rate, so a reader that snaps to frames lands on the frame ccgen meant.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

from ccgen.captions.style import Style
from ccgen.cues import Timeline
from ccgen.writers import register
from ccgen.writers.timecode import FrameRate, frame_rate, start_frames, to_frames, to_seconds

TT = "http://www.w3.org/ns/ttml"
NS = {"ttp": f"{TT}#parameter", "tts": f"{TT}#styling", "ttm": f"{TT}#metadata"}
XML_NS = "http://www.w3.org/XML/1998/namespace"
PROFILE = f"{TT}/profile/imsc1/text"
ROLES = {"speech": "dialog", "sound": "sound", "music": "music", "lyrics": "lyrics"}

for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)
ET.register_namespace("", TT)


def _q(name: str) -> str:
    """Clark name of 'tts:color' / 'xml:id' / 'p'."""
    prefix, _, local = name.rpartition(":")
    if prefix == "xml":
        return f"{{{XML_NS}}}{local}"
    return f"{{{NS[prefix]}}}{local}" if prefix else f"{{{TT}}}{local}"


def _el(parent: ET.Element | None, name: str, **attrs: str) -> ET.Element:
    attrib = {_q(k.replace("__", ":")): v for k, v in attrs.items()}
    return ET.Element(_q(name), attrib) if parent is None else ET.SubElement(parent, _q(name),
                                                                             attrib)


def media_clock(seconds: float) -> str:
    """Milliseconds rounded up (times are frame-snapped): a reader that truncates to frames
    lands on the intended frame, never one before it (0.0333 s at 29.97 is frame 0.999)."""
    ms = math.ceil(round(seconds * 1000, 6))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def _agent_id(name: str, taken: dict[str, str]) -> str:
    if name not in taken:
        slug = re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "speaker"
        taken[name] = f"agent_{len(taken) + 1}_{slug}"
    return taken[name]


def write_ttml(timeline: Timeline, style: Style, *, start: str | None = None,
               rate: float | str | None = None, drop_frame: bool | None = None) -> str:
    """The IMSC1 Text profile document of `timeline`.

    `rate` overrides the media's frame rate (audio-only media uses the style's default);
    `start` is the timecode of the media's first frame, and `drop_frame` says how to count it
    (None: drop-frame if `start` is written with ';'). Every cue is offset by the media time of
    that frame, so it lines up frame for frame with the SCC and EBU-STL of the same options.
    """
    fps = rate if rate is not None else timeline.frame_rate
    drop = drop_frame if drop_frame is not None else bool(start and ";" in start)
    fr: FrameRate = frame_rate(fps, drop=drop, default=style.default_frame_rate)
    offset = start_frames(start, fr)
    lang = timeline.language or "und"

    tt = _el(None, "tt", xml__lang=lang, ttp__timeBase="media",
             ttp__frameRate=str(fr.nominal), ttp__profile=PROFILE)
    if fr.ntsc:
        tt.set(_q("ttp:frameRateMultiplier"), "1000 1001")
    agents = _head(tt, timeline)
    body = _el(tt, "body", style="base", region="bottom")
    _body(_el(body, "div"), timeline, fr, offset, agents)
    ET.indent(tt, space="  ")
    for p in tt.iter(_q("p")):  # no layout whitespace inside a caption's text
        p.text = None
        for child in p:
            child.tail = None
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(tt, encoding="unicode") + "\n")


def _head(tt: ET.Element, timeline: Timeline) -> dict[str, str]:
    """Title, one agent per speaker, the styles and the title-safe bottom region; returns the
    agent id of each speaker."""
    head = _el(tt, "head")
    meta = _el(head, "metadata")
    _el(meta, "ttm:title").text = f"{timeline.media} (SDH)"
    agents: dict[str, str] = {}
    for name in [*timeline.speakers, *(c.speaker for c in timeline.cues if c.speaker)]:
        if name and name not in agents:
            agent = _el(meta, "ttm:agent", xml__id=_agent_id(name, agents), type="person")
            _el(agent, "ttm:name", type="full").text = name
    styling = _el(head, "styling")
    _el(styling, "style", xml__id="base", tts__fontFamily="proportionalSansSerif",
        tts__fontSize="100%", tts__lineHeight="125%", tts__color="white",
        tts__textAlign="center")
    _el(styling, "style", xml__id="box", tts__backgroundColor="black")
    _el(styling, "style", xml__id="italic", tts__fontStyle="italic")
    layout = _el(head, "layout")
    # The IMSC1 title-safe area (10% in from each edge); captions sit at its bottom.
    _el(layout, "region", xml__id="bottom", tts__origin="10% 10%", tts__extent="80% 80%",
        tts__displayAlign="after", tts__textAlign="center", tts__showBackground="whenActive")
    return agents


def _body(div: ET.Element, timeline: Timeline, fr: FrameRate, offset: int,
          agents: dict[str, str]) -> None:
    """One <p> per cue with text, timed on the frame grid from `offset`, lines as <br/>."""
    for cue in sorted(timeline.cues, key=lambda c: (c.start, c.end)):
        if not cue.text.strip():
            continue
        begin = to_frames(cue.start, fr)
        end = max(to_frames(cue.end, fr), begin + 1)
        attrs = {"begin": media_clock(to_seconds(offset + begin, fr)),
                 "end": media_clock(to_seconds(offset + end, fr)),
                 "ttm__role": ROLES.get(cue.kind, "caption")}
        if cue.speaker:
            attrs["ttm__agent"] = agents[cue.speaker]
        p = _el(div, "p", **attrs)
        span = _el(p, "span", style="box italic" if cue.kind == "lyrics" else "box")
        lines = [line.strip() for line in cue.text.split("\n") if line.strip()]
        span.text = lines[0]
        for line in lines[1:]:
            _el(span, "br").tail = line


register("ttml")(write_ttml)
