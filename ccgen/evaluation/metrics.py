"""Scores for the evaluation harness: WER, DER (with RTTM I/O), sound-event naming.

Why our own DER: the usual scorers (md-eval.pl, pyannote.metrics, dscore) are Perl or pull in
heavy dependencies; a frame-grid DER is ~60 lines, easy to audit and test against hand counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ccgen.evaluation.normalize import normalize_text

try:  # optimal speaker mapping; the greedy fallback can be suboptimal with 3+ speakers
    from scipy.optimize import linear_sum_assignment
except ImportError:  # pragma: no cover - exercised only without scipy
    linear_sum_assignment = None

MAPPING_METHOD = "optimal (scipy Hungarian)" if linear_sum_assignment else "greedy"
FRAME_STEP = 0.01
DEFAULT_COLLAR = 0.25

# ----------------------------------------------------------------------------- WER


@dataclass(frozen=True)
class WerResult:
    """Word error counts on normalised text; ``wer`` = (S + D + I) / reference words."""

    wer: float
    substitutions: int
    deletions: int
    insertions: int
    hits: int
    reference_words: int


def word_error_rate(reference: str, hypothesis: str) -> WerResult:
    """WER of ``hypothesis`` against ``reference`` after :func:`normalize_text` on both."""
    import jiwer  # dev/evaluation dependency only; DER works without it

    ref, hyp = normalize_text(reference), normalize_text(hypothesis)
    n_hyp = len(hyp.split())
    if not ref:  # jiwer has no meaningful rate here; every hypothesis word is an insertion
        return WerResult(0.0 if not n_hyp else float("inf"), 0, 0, n_hyp, 0, 0)
    out = jiwer.process_words(ref, hyp)
    return WerResult(
        wer=(out.substitutions + out.deletions + out.insertions) / len(ref.split()),
        substitutions=out.substitutions, deletions=out.deletions,
        insertions=out.insertions, hits=out.hits, reference_words=len(ref.split()),
    )


def pooled_wer(results: Iterable[WerResult]) -> float:
    """Corpus WER: all errors over all reference words (long clips weigh more, as they should)."""
    results = list(results)
    words = sum(r.reference_words for r in results)
    errors = sum(r.substitutions + r.deletions + r.insertions for r in results)
    return errors / words if words else float("nan")

# ----------------------------------------------------------------------------- RTTM


@dataclass(frozen=True)
class Turn:
    """One speaker turn: ``speaker`` talks from ``start`` to ``end`` seconds in ``uri``."""

    start: float
    end: float
    speaker: str
    uri: str = "clip"


def parse_rttm(text: str) -> list[Turn]:
    """Read SPEAKER lines of an RTTM file: ``SPEAKER uri chan onset dur <NA> <NA> spk ...``."""
    turns = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 8 or fields[0] != "SPEAKER":
            continue
        onset, duration = float(fields[3]), float(fields[4])
        turns.append(Turn(onset, onset + duration, fields[7], fields[1]))
    return turns


def read_rttm(path: str | Path) -> list[Turn]:
    """Read an RTTM file from disk (all uris; filter on ``Turn.uri`` when a file has several)."""
    return parse_rttm(Path(path).read_text(encoding="utf-8"))


def format_rttm(turns: Iterable[Turn]) -> str:
    """Write turns as RTTM lines (channel 1, times with millisecond precision)."""
    return "".join(
        f"SPEAKER {t.uri} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.speaker} <NA> <NA>\n"
        for t in sorted(turns, key=lambda t: (t.start, t.speaker))
    )


def write_rttm(turns: Iterable[Turn], path: str | Path) -> None:
    """Write turns to an RTTM file."""
    Path(path).write_text(format_rttm(turns), encoding="utf-8")

# ----------------------------------------------------------------------------- DER


@dataclass(frozen=True)
class DerResult:
    """Diarization error; all durations in seconds of scored (non-collar) time."""

    der: float
    missed: float
    false_alarm: float
    confusion: float
    total: float
    mapping: dict[str, str] = field(default_factory=dict)


def _activity(turns: Sequence[Turn], n_frames: int, step: float) -> tuple[list[str], np.ndarray]:
    speakers = sorted({t.speaker for t in turns})
    grid = np.zeros((n_frames, len(speakers)), dtype=bool)
    for t in turns:
        a, b = int(round(t.start / step)), int(round(t.end / step))
        grid[max(a, 0):max(b, 0), speakers.index(t.speaker)] = True
    return speakers, grid


def _map_speakers(overlap: np.ndarray) -> list[tuple[int, int]]:
    """One-to-one reference→hypothesis pairs maximising the total co-active time."""
    if overlap.size == 0:
        return []
    if linear_sum_assignment is not None:
        rows, cols = linear_sum_assignment(-overlap)
        return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)]
    pairs, work = [], overlap.astype(float).copy()
    for _ in range(min(work.shape)):
        r, c = np.unravel_index(int(np.argmax(work)), work.shape)
        pairs.append((int(r), int(c)))
        work[r, :], work[:, c] = -1, -1
    return pairs


def diarization_error_rate(
    reference: Sequence[Turn], hypothesis: Sequence[Turn],
    collar: float = DEFAULT_COLLAR, step: float = FRAME_STEP,
) -> DerResult:
    """DER = (missed + false alarm + speaker confusion) / total reference speech, on a frame grid.

    Definition (NIST RT, as md-eval.pl scores it):
    - Time is cut into ``step``-second frames (10 ms); a turn covers frames
      round(start/step) .. round(end/step) - 1.
    - Collar: frames within ``collar`` seconds on *each side* of every reference boundary (start
      or end of a speaker's merged turns) are not scored, like ``md-eval -c 0.25``. Note that
      pyannote.metrics' ``collar`` is the total width (half each side).
    - Overlapped speech is scored: a frame with N_ref reference and N_hyp hypothesis speakers adds
      N_ref to the total, max(0, N_ref - N_hyp) to missed, max(0, N_hyp - N_ref) to false alarm
      and min(N_ref, N_hyp) - N_correct to confusion, where N_correct counts mapped pairs that are
      both active.
    - Mapping: one-to-one, chosen to maximise co-active scored time; see ``MAPPING_METHOD``.
    A reference with no scored speech gives DER 0 when nothing is hypothesised, else infinity.
    """
    end = max([t.end for t in [*reference, *hypothesis]] + [0.0])
    n_frames = int(round(end / step)) + 1
    ref_spk, ref = _activity(reference, n_frames, step)
    hyp_spk, hyp = _activity(hypothesis, n_frames, step)
    scored = np.ones(n_frames, dtype=bool)
    if collar > 0 and ref.size:
        edge = np.zeros((1, ref.shape[1]), dtype=bool)
        padded = np.vstack([edge, ref, edge])
        changes = np.flatnonzero(np.any(padded[1:] != padded[:-1], axis=1))  # boundary frames
        width = int(round(collar / step))
        for b in changes:
            scored[max(b - width, 0):b + width] = False
    ref, hyp = ref[scored], hyp[scored]
    n_ref, n_hyp = ref.sum(axis=1), hyp.sum(axis=1)
    overlap = ref.astype(np.int64).T @ hyp.astype(np.int64)
    pairs = _map_speakers(overlap)
    correct = np.zeros(len(ref), dtype=np.int64)
    for r, c in pairs:
        correct += ref[:, r] & hyp[:, c]
    missed = float(np.maximum(n_ref - n_hyp, 0).sum()) * step
    false_alarm = float(np.maximum(n_hyp - n_ref, 0).sum()) * step
    confusion = float((np.minimum(n_ref, n_hyp) - correct).sum()) * step
    total = float(n_ref.sum()) * step
    errors = missed + false_alarm + confusion
    der = errors / total if total > 0 else (0.0 if errors == 0 else float("inf"))
    mapping = {ref_spk[r]: hyp_spk[c] for r, c in pairs if overlap[r, c] > 0}
    return DerResult(der, missed, false_alarm, confusion, total, mapping)

# ----------------------------------------------------------------------------- sound events

SOUND_KINDS = frozenset({"sound", "music"})  # cues that describe non-speech audio
_LABEL = re.compile(r"^\s*(?:[\w-]+(?:\s[\w-]+)?\s+class|label)\s*:\s*([^(,;]+)", re.IGNORECASE)


def load_synonyms(rows: Iterable[Mapping[str, str]] | None = None) -> dict[str, list[str]]:
    """Concept → synonyms from ``ccgen/data/evaluation/synonyms.tsv`` (or given table rows).

    Kept as data so the vocabulary can grow without code changes; the concept name itself always
    counts as a synonym.
    """
    if rows is None:
        from ccgen.resources import read_table

        rows = read_table("evaluation", "synonyms.tsv")
    table: dict[str, list[str]] = {}
    for row in rows:
        concept = _clean_concept(row.get("concept", ""))
        if not concept:
            continue
        words = [w.strip() for w in row.get("synonyms", "").split("|") if w.strip()]
        table[concept] = list(dict.fromkeys([concept, *words]))
    return table


def _clean_concept(name: str) -> str:
    return " ".join(name.replace("_", " ").lower().split())


def concept_from_label(label: str) -> str | None:
    """The labelled concept of a MANIFEST reference, or None when it names no sound class.

    Handles "ESC-50 class: dog (target 0)", "UrbanSound8K class: car_horn (fsID …)" and
    "label: running tap (water)" / "label: bird (English robin), …": the name after the colon,
    up to a bracket, comma or semicolon, with underscores as spaces, lowercased.
    """
    match = _LABEL.match(label)
    return (_clean_concept(match.group(1)) or None) if match else None


def names_concept(text: str, synonyms: Sequence[str]) -> bool:
    """True if any synonym occurs in ``text`` as a whole word (case-insensitive).

    "Whole word" means not glued to other letters/digits, so "cat" does not match "caterpillar"
    while multi-word synonyms and symbols such as "♪" still match.
    """
    return any(
        re.search(rf"(?<!\w){re.escape(s)}(?!\w)", text, re.IGNORECASE) for s in synonyms if s
    )


@dataclass(frozen=True)
class EventMatch:
    """How one event clip's non-speech cues relate to its labelled concept."""

    hit: bool          # some sound/music cue names the concept (counts toward recall)
    sound_cues: int    # sound/music cues produced for the clip (precision denominator)
    naming_cues: int   # of those, cues naming the concept (precision numerator)


def match_events(
    cues: Iterable[Mapping[str, Any]], concept: str, table: Mapping[str, Sequence[str]],
) -> EventMatch:
    """Score one event clip; a concept missing from ``table`` is matched by its own name."""
    synonyms = table.get(concept) or [concept]
    sounds = [c for c in cues if c.get("kind") in SOUND_KINDS]
    naming = sum(names_concept(str(c.get("text", "")), synonyms) for c in sounds)
    return EventMatch(naming > 0, len(sounds), naming)
