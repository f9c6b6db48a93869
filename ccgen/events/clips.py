"""Which parts of a soundtrack a clip-level describer hears, and how they are cut.

AudSemThinker describes one clip of at most 30 s at a time, so the soundtrack is not fed whole:
1. Event regions come from the embedded YAMNet tagger when it is installed (its onsets, offsets
   and the "loud events under speech" rule, see :mod:`ccgen.events.tagging`), else from the
   non-silent stretches outside speech (the VAD's complement).
2. Regions that overlap or nearly touch (``merge_gap``) are described together, so "a dog barks
   while a car passes" is one clip and one description; a group stops growing at ``max_seconds``
   and a longer region (a music bed) is cut into consecutive windows.
3. Each clip gets ``context`` seconds of audio either side, is at least ``min_seconds`` long (the
   reference inference pads shorter clips to 1 s; real surrounding audio is better than zeros)
   and at most ``max_seconds`` long.

A plan is only numbers (:class:`Clip`); samples are sliced per batch by the describer, so a
two-hour input streams through in memory bounded by the batch, not by the number of events.
4. Each caption phrase is timed to the tagger event it names (shared words) when there is one,
   else to the clip's events; with nothing usable said, the tagger's most confident phrase is
   kept at half its confidence; consecutive windows of a long event with one caption are joined.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from ccgen.cues import Cue
from ccgen.errors import CcgenError
from ccgen.media.audio import SAMPLE_RATE

log = logging.getLogger("ccgen")

MAX_SECONDS = 30.0
MIN_SAMPLES = SAMPLE_RATE  # the reference inference pads clips shorter than 1 s


@dataclass(frozen=True)
class Event:
    """A region worth describing; `hint` is the tagger's phrase (the fallback caption)."""

    start: float
    end: float
    hint: str = ""
    kind: str = "sound"
    confidence: float = 0.0


@dataclass(frozen=True)
class Clip:
    """One model input: the events it covers (`start`-`end`) and the audio cut (with context)."""

    start: float
    end: float
    cut_start: float
    cut_end: float
    events: tuple[Event, ...] = ()

    @property
    def seconds(self) -> float:
        return self.cut_end - self.cut_start

    def samples(self, audio: np.ndarray) -> np.ndarray:
        """The clip's samples: a view of `audio` (no copy)."""
        return audio[int(self.cut_start * SAMPLE_RATE):int(round(self.cut_end * SAMPLE_RATE))]


def tagger_events(audio: np.ndarray, speech: list[tuple[float, float]]) -> list[Event]:
    """Sound and music regions found by the embedded YAMNet tagger."""
    from ccgen.events.tagging import TaggerDescriber

    cues = TaggerDescriber().describe(audio, speech)
    return [Event(c.start, c.end, c.text, c.kind, c.confidence) for c in cues]


def gap_events(audio: np.ndarray, speech: list[tuple[float, float]], min_seconds: float = 0.3,
               silence_dbfs: float = -50.0, frame: float = 0.1, bridge: float = 0.5
               ) -> list[Event]:
    """Non-silent stretches outside speech: frames of `frame` s louder than `silence_dbfs`,
    joined across quieter gaps up to `bridge` s, at least `min_seconds` long."""
    hop = int(frame * SAMPLE_RATE)
    n = audio.size // hop
    if n == 0:
        return []
    loud = np.zeros(n, dtype=bool)
    for first in range(0, n, 3000):  # 5 minutes at a time: bounded scratch memory
        block = audio[first * hop:min(n, first + 3000) * hop].reshape(-1, hop)
        rms = np.sqrt(np.einsum("ij,ij->i", block, block) / hop)
        loud[first:first + block.shape[0]] = 20 * np.log10(np.maximum(rms, 1e-10)) > silence_dbfs
    for start, end in speech:
        loud[int(start / frame):int(np.ceil(end / frame))] = False
    events: list[Event] = []
    idx = np.flatnonzero(loud)
    if idx.size == 0:
        return []
    runs = np.split(idx, np.flatnonzero(np.diff(idx) > bridge / frame) + 1)
    for run in runs:
        start, end = run[0] * frame, (run[-1] + 1) * frame
        if end - start >= min_seconds:
            events.append(Event(start, end))
    return events


def find_events(audio: np.ndarray, speech: list[tuple[float, float]], finder: str = "auto"
                ) -> tuple[list[Event], str]:
    """(events, which finder ran): ``tagger``, ``gaps``, or ``auto`` = tagger if installed."""
    if finder not in ("auto", "tagger", "gaps"):
        raise ValueError(f"unknown event finder {finder!r}")
    if finder in ("auto", "tagger"):
        try:
            return tagger_events(audio, speech), "tagger"
        except (ImportError, CcgenError) as exc:
            if finder == "tagger":
                raise
            log.info("event regions: the YAMNet tagger is unavailable (%s); using the "
                     "non-speech regions instead", exc)
    return gap_events(audio, speech), "gaps"


def plan_clips(events: list[Event], duration: float, context: float = 0.5,
               max_seconds: float = MAX_SECONDS, min_seconds: float = 1.0,
               merge_gap: float = 0.5) -> list[Clip]:
    """Group overlapping events, cut long groups into windows, add context (rules 2-3)."""
    span = max_seconds - 2 * context
    groups: list[list[Event]] = []
    for ev in sorted(events, key=lambda e: (e.start, e.end)):
        if ev.end <= ev.start:
            continue
        if groups:
            last = groups[-1]
            g_start, g_end = last[0].start, max(e.end for e in last)
            if ev.start <= g_end + merge_gap and max(g_end, ev.end) - g_start <= span:
                last.append(ev)
                continue
        groups.append([ev])
    clips: list[Clip] = []
    for group in groups:
        start, end = group[0].start, max(e.end for e in group)
        pieces = max(1, int(np.ceil((end - start) / span - 1e-9)))
        step = (end - start) / pieces
        for k in range(pieces):
            a, b = start + k * step, start + (k + 1) * step
            inside = tuple(e for e in group if e.start < b and e.end > a)
            cut_a, cut_b = max(0.0, a - context), min(duration, b + context)
            if cut_b - cut_a < min_seconds:
                pad = (min_seconds - (cut_b - cut_a)) / 2
                cut_a, cut_b = max(0.0, cut_a - pad), min(duration, cut_b + pad)
            clips.append(Clip(a, b, cut_a, min(cut_b, cut_a + max_seconds), inside))
    return clips


def prepared(samples: np.ndarray) -> np.ndarray:
    """A contiguous float32 copy of a clip, zero-padded to 1 s, cut at 30 s."""
    clip = np.array(samples[:int(MAX_SECONDS * SAMPLE_RATE)], dtype=np.float32)
    if clip.size < MIN_SAMPLES:
        clip = np.pad(clip, (0, MIN_SAMPLES - clip.size))
    return clip


def place_cues(clip: Clip, phrases: list, confidence: float, source: str) -> list[Cue]:
    """Cues for one described clip (rule 4); `phrases` are condense.Phrase items."""
    if not phrases:
        hints = sorted((e for e in clip.events if e.hint), key=lambda e: -e.confidence)[:1]
        phrases = [_Hint(e.hint, e.kind) for e in hints]
        confidence = 0.5 * max((e.confidence for e in hints), default=0.0)
    cues = []
    for phrase in phrases:
        words = set(phrase.text.split())
        match = next((e for e in clip.events if words & set(e.hint.split())), None)
        start, end = (max(match.start, clip.start), min(match.end, clip.end)) if match else (
            clip.start, clip.end)
        cues.append(Cue(start, end, phrase.kind, phrase.text, source=source,
                        confidence=confidence * (0.8 if phrase.secondary else 1.0)))
    return cues


@dataclass(frozen=True)
class _Hint:
    text: str
    kind: str
    secondary: bool = False


def merge_windows(cues: list[Cue]) -> list[Cue]:
    """Sort cues; join consecutive windows of one long event that got the same caption."""
    merged: list[Cue] = []
    for cue in sorted(cues, key=lambda c: (c.start, c.end)):
        at = next((k for k in range(len(merged) - 1, max(len(merged) - 4, -1), -1)
                   if merged[k].text == cue.text and merged[k].kind == cue.kind
                   and cue.start - merged[k].end <= 0.05), None)
        if at is None:
            merged.append(cue)
        else:
            prev = merged[at]
            merged[at] = replace(prev, end=max(prev.end, cue.end),
                                 confidence=max(prev.confidence, cue.confidence))
    return merged
