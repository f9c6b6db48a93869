"""Speech the diarizer hears and Whisper does not transcribe: captioned as ``[indistinct]``.

On far-field meetings Whisper writes nothing for some stretches where a person clearly talks
(two voices at once, a mumble, a reply across the room). Without a caption a deaf viewer does
not know that anyone spoke; a hearing one hears a voice. SDH guides caption it as
unintelligible speech (``[indistinct]``, BBC ``(INDISTINCT)``), under its speaker's mark. On the
shared meetings these stretches were most of the caption-level diarization error (7.6 of
9.7 s, bench/RESULTS.md).

Two independent detectors must agree that it is speech, so a bark, a song or a door is never
captioned as a voice:
1. the diarizer puts one speaker there (a turn of its exclusive view, not overlap), with no
   transcribed word, sung line or sound caption within ``margin`` seconds, for
   ``min_length`` s or more;
2. the tagger hears speech there: in at least ``voiced_share`` of the stretch, a window whose
   speech classes score ``speech_floor`` or more and no less than its singing classes
   (:func:`voiced_spans`, computed with the speech check and cached with it).

The numbers are chosen by leave-one-clip-out on the shared clips (bench/unheard.py).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ccgen.cues import Word
from ccgen.speech.vocals import ClassGroups, window_spans

if TYPE_CHECKING:
    from ccgen.speakers.base import Turn

Span = tuple[float, float]


@dataclass(frozen=True)
class UnheardSettings:
    # chosen by leave-one-clip-out (bench/unheard.py): each fold's pick on the other clips,
    # then the same rule on all of them for what ships
    margin: float = 0.2  # s around each word (or sung line) that counts as captioned
    min_length: float = 1.0  # s of untranscribed speech, at least (a caption's least time)
    # YAMNet speech-class score of a voiced window: the speech guard's floor (GuardSettings);
    # the shared clips give the same held-out DER from 0.1 to 0.9
    speech_floor: float = 0.5
    voiced_share: float = 0.5  # of the stretch inside voiced windows


def voiced_spans(scores: np.ndarray, classes: Sequence[str], floor: float) -> list[Span]:
    """Where the tagger hears speech (its speech classes at `floor` or more, and not below its
    singing classes), as merged spans of its 0.96 s windows."""
    groups = ClassGroups(classes)
    if scores.size == 0 or not groups.speech:
        return []
    speech = scores[:, groups.speech].max(axis=1)
    sung = scores[:, groups.singing].max(axis=1) if groups.singing else np.zeros_like(speech)
    return window_spans(np.flatnonzero((speech >= floor) & (speech >= sung)))


def _union(spans: Sequence[Span], widen: float = 0.0) -> list[Span]:
    """`spans` widened by `widen` each side, as sorted disjoint spans."""
    out: list[list[float]] = []
    for a, b in sorted((a - widen, b + widen) for a, b in spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _minus(span: Span, cuts: list[Span], starts: list[float]) -> list[Span]:
    """`span` less the disjoint sorted `cuts` (`starts` their starts, for bisect)."""
    lo, hi = span
    pieces, at = [], lo
    for a, b in cuts[max(bisect.bisect_right(starts, lo) - 1, 0):]:
        if a >= hi:
            break
        if b <= at:
            continue
        if a > at:
            pieces.append((at, a))
        at = max(at, b)
    if at < hi:
        pieces.append((at, hi))
    return pieces


def _inside(span: Span, spans: list[Span], starts: list[float]) -> float:
    """Seconds of `span` inside the disjoint sorted `spans`."""
    total = 0.0
    for a, b in spans[max(bisect.bisect_right(starts, span[0]) - 1, 0):]:
        if a >= span[1]:
            break
        total += max(0.0, min(span[1], b) - max(span[0], a))
    return total


def unheard_speech(turns: Sequence[Turn], captioned: Sequence[Span], voiced: Sequence[Span],
                   settings: UnheardSettings | None = None) -> list[Span]:
    """The stretches to caption as indistinct speech (module docstring): parts of the
    diarizer's single-speaker turns that no captioned span (words, sung lines, sounds) comes
    within ``margin`` of, one speaker's pieces less than ``margin`` apart joined (a diarizer
    cuts one voice at short pauses), ``min_length`` or longer, mostly inside `voiced`."""
    s = settings or UnheardSettings()
    cuts = _union(captioned, s.margin)
    starts = [a for a, _ in cuts]
    mine: dict[str, list[Span]] = {}
    for turn in turns:
        if not turn.overlap and turn.end > turn.start:
            mine.setdefault(turn.speaker, []).extend(
                _minus((turn.start, turn.end), cuts, starts))
    joined = [(a + s.margin / 2, b - s.margin / 2)
              for pieces in mine.values() for a, b in _union(pieces, s.margin / 2)]
    heard = _union(voiced)
    heard_starts = [a for a, _ in heard]
    return sorted(p for p in joined if p[1] - p[0] >= s.min_length
                  and _inside(p, heard, heard_starts) >= s.voiced_share * (p[1] - p[0]))


def indistinct_words(spans: Sequence[Span], text: str) -> list[Word]:
    """One word per stretch, `text` as the style renders it (``[indistinct]``), its speaker
    left to :func:`ccgen.speakers.assign_speakers` like any word's. Its probability is 1: it
    guesses at no word (it says a voice was heard, which two detectors agree on), so a caption
    that holds it keeps the confidence of its recognised words."""
    return [Word(round(a, 3), round(b, 3), text, 1.0) for a, b in spans] if text else []
