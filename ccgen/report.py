"""The review report (``--report out.html``): one self-contained page an editor can open.

It shows a timeline picture (the waveform, one speech lane per speaker, sound events, the
captions), the style findings, and every caption with its confidence, low ones highlighted so
the editor knows where to look. The page is rendered from ``templates/report/report.html.j2``
with autoescaping on: caption text comes from models and media and is untrusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ccgen.cues import Timeline
from ccgen.resources import templates_dir

LOW_CONFIDENCE = 0.5
WIDTH = 1000  # SVG user units across the whole media


@dataclass
class Lane:
    label: str
    kind: str
    boxes: list[dict]


def envelope(audio: np.ndarray, columns: int = WIDTH) -> list[float]:
    """Peak level per picture column, 0..1: enough for a waveform, tiny in the page."""
    if audio.size == 0:
        return [0.0] * columns
    edges = np.linspace(0, audio.size, columns + 1).astype(int)
    peaks = [float(np.abs(audio[a:b]).max()) if b > a else 0.0
             for a, b in zip(edges[:-1], edges[1:], strict=True)]
    top = max(peaks) or 1.0
    return [round(p / top, 3) for p in peaks]


def lanes(timeline: Timeline) -> list[Lane]:
    """The review page's timeline strip: a lane per speaker (or one "speech" lane), one for
    sounds and one for every caption, each cue a box scaled to the page's width."""
    scale = WIDTH / max(timeline.duration, 1e-6)
    speakers = timeline.speakers or ["speech"]
    lanes = {s: Lane(s, "speech", []) for s in speakers}
    sounds = Lane("sounds", "sound", [])
    captions = Lane("captions", "caption", [])
    for i, cue in enumerate(timeline.cues, 1):
        box = {"x": round(cue.start * scale, 2),
               "w": round(max((cue.end - cue.start) * scale, 0.5), 2),
               "text": cue.text.replace("\n", " / "), "n": i,
               "low": cue.confidence < LOW_CONFIDENCE}
        if cue.kind == "speech":
            for who in cue.speakers or [cue.speaker or speakers[0]]:  # a dashed pair: both
                lanes.setdefault(who, Lane(who, "speech", [])).boxes.append(box)
        else:
            sounds.boxes.append(box)
        captions.boxes.append(box)
    return [*lanes.values(), sounds, captions]


def render_report(timeline: Timeline, audio: np.ndarray | None = None,
                  findings: list[dict] | None = None) -> str:
    """The report as an HTML string."""
    env = Environment(loader=FileSystemLoader(str(templates_dir() / "report")),
                      autoescape=select_autoescape(["html", "j2"]))
    template = env.get_template("report.html.j2")
    wave = envelope(audio) if audio is not None else []
    return template.render(
        timeline=timeline, lanes=lanes(timeline), wave=wave, width=WIDTH,
        findings=findings or [], low=LOW_CONFIDENCE,
        low_count=sum(c.confidence < LOW_CONFIDENCE for c in timeline.cues),
        fmt=_clock,
    )


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(seconds, 0.0), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours:02d}:{minutes:02d}:{secs:06.3f}"


def write_report(timeline: Timeline, media: Path, dest: Path, force: bool = False,
                 findings: list[dict] | None = None) -> Path:
    """Decode the media's audio again for the waveform and write the report atomically."""
    from ccgen.media import load_audio, probe
    from ccgen.writers.atomic import write_atomic

    audio = load_audio(media, probe(media))
    return write_atomic(dest, render_report(timeline, audio, findings), force=force)
