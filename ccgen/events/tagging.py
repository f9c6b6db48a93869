"""From AudioSet frame scores to timed sound cues.

The rules, in order (numbers are :class:`TaggerSettings` fields):
1. Each class is looked up in ``templates/sounds/audioset.tsv``: its caption phrase, its kind
   (``sound``, ``music``, ``speech`` or ``skip``) and its rank (1 specific, 2 generic). Classes
   marked skip ("Silence", "Inside, small room"...) are never captioned; speech is left to ASR.
2. Per phrase, a run of patches starts where its score reaches ``onset`` and lasts while it
   stays above ``sustain``; up to ``bridge`` weaker patches (0.48 s each) may interrupt it.
   Hysteresis and bridging keep one knock sequence, or one stretch of music, one caption.
3. Of overlapping sound phrases only the strongest is kept, a specific class (rank 1) counting
   ``specific_weight`` times its score against a generic one, so a knock is ``[knocking]``,
   not also ``[wood]`` and ``[door]``. Music is a bed, not a list of instruments: music runs
   closer than ``music_bridge`` seconds join into one stretch, named by the specific phrase
   that covers at least half of it (``[trumpet playing]``), else by the most present one.
   A music stretch shorter than ``min_music`` is dropped: a second of "music" between other
   sounds is nearly always a resonant sound mistaken for an instrument. A sound lying mostly
   inside a music stretch is kept only when strong (peak ≥ ``under_music``): bells, chimes
   and jingles inside a piece are the music, not events.
4. A run that lies mostly inside speech is dropped unless it is loud (max score ≥
   ``under_speech``): that is the "loud events under speech" rule. Others are trimmed to the
   pause they sit in.
5. Onset and offset are refined from the patch grid (0.48 s) to 10 ms frames: the span keeps
   the frames within ``energy_db`` of the event's loudest frame.
6. Events shorter than ``min_duration`` after trimming are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ccgen.cues import Cue
from ccgen.events.base import overlap
from ccgen.events.yamnet import (
    HOP,
    LOG_OFFSET,
    PATCH_HOP_SECONDS,
    PATCH_SECONDS,
    YamnetModel,
    log_mel,
)
from ccgen.media.audio import SAMPLE_RATE
from ccgen.resources import read_table


@dataclass
class TaggerSettings:
    onset: float = 0.3
    sustain: float = 0.15
    under_speech: float = 0.6
    energy_db: float = 20.0
    min_duration: float = 0.1
    bridge: int = 3
    specific_weight: float = 1.5
    music_bridge: float = 3.0
    min_music: float = 2.0
    under_music: float = 0.75
    silence_dbfs: float = -60.0


@dataclass
class ClassInfo:
    phrase: str
    kind: str
    rank: int


@lru_cache(maxsize=1)
def sound_table() -> dict[str, ClassInfo]:
    """AudioSet display name -> how SDH captions name it (templates/sounds/audioset.tsv)."""
    return {
        row["display_name"]: ClassInfo(row["phrase"], row["kind"], int(row["rank"] or 0))
        for row in read_table("sounds", "audioset.tsv")
    }


@dataclass
class _Run:
    phrase: str
    kind: str
    rank: int
    first: int
    last: int
    scores: list[float]

    @property
    def span(self) -> tuple[float, float]:
        return self.first * PATCH_HOP_SECONDS, self.last * PATCH_HOP_SECONDS + PATCH_SECONDS

    @property
    def peak(self) -> float:
        return max(self.scores)


class TaggerDescriber:
    """Sound and music cues from the embedded YAMNet tagger."""

    name = "yamnet"

    def __init__(self, settings: TaggerSettings | None = None, threads: int = 1) -> None:
        self.settings = settings or TaggerSettings()
        self.model = YamnetModel(threads=threads)
        table = sound_table()
        self.info = [table.get(name, ClassInfo("", "skip", 0)) for name in self.model.classes]

    def describe(self, audio: np.ndarray, speech: list[tuple[float, float]]) -> list[Cue]:
        if audio.size == 0:
            return []
        mel = log_mel(audio)  # once: for the model and for the onset refinement
        return self.events_from_scores(self.model.scores(audio, mel), mel, speech)

    def events_from_scores(self, scores: np.ndarray, mel: np.ndarray,
                           speech: list[tuple[float, float]]) -> list[Cue]:
        runs = self._runs(scores)
        music = self._music([r for r in runs if r.kind == "music"])
        beds = [r.span for r in music]
        sounds = [r for r in self._resolve([r for r in runs if r.kind != "music"])
                  if r.peak >= self.settings.under_music
                  or sum(overlap(r.span, b) for b in beds) <= 0.5 * (r.span[1] - r.span[0])]
        runs = sounds + music
        energy = _frame_energy_db(mel)
        cues: list[Cue] = []
        for run in runs:
            span = self._place(run, speech)
            if span is None:
                continue
            span = self._refine(span, energy)
            if span is None or span[1] - span[0] < self.settings.min_duration:
                continue
            cues.append(Cue(span[0], span[1], "music" if run.kind == "music" else "sound",
                            run.phrase, source=self.name,
                            confidence=float(np.mean(run.scores))))
        return sorted(cues, key=lambda c: (c.start, c.end))

    def _runs(self, scores: np.ndarray) -> list[_Run]:
        s = self.settings
        phrases: dict[str, tuple[str, int, list[int]]] = {}
        for idx, info in enumerate(self.info):
            if info.kind in ("sound", "music") and info.phrase:
                kind, rank, idxs = phrases.get(info.phrase, (info.kind, info.rank, []))
                phrases[info.phrase] = (kind, min(rank, info.rank), [*idxs, idx])
        runs: list[_Run] = []
        for phrase, (kind, rank, idxs) in phrases.items():
            track = scores[:, idxs].max(axis=1)
            if track.max(initial=0.0) < s.onset:
                continue
            current: _Run | None = None
            weak = 0
            for i, value in enumerate(track):
                if current is None:
                    if value >= s.onset:
                        current, weak = _Run(phrase, kind, rank, i, i, [float(value)]), 0
                    continue
                if value >= s.sustain:
                    current.last, weak = i, 0
                    current.scores.append(float(value))
                else:
                    weak += 1
                    if weak > s.bridge:
                        runs.append(current)
                        current = None
            if current is not None:
                runs.append(current)
        return runs

    def _resolve(self, runs: list[_Run]) -> list[_Run]:
        """Rule 3 for sounds: the strongest of overlapping phrases wins."""
        weight = self.settings.specific_weight
        order = sorted(runs, key=lambda r: -r.peak * (weight if r.rank == 1 else 1.0))
        kept: list[_Run] = []
        for run in order:
            length = run.span[1] - run.span[0]
            if not any(overlap(run.span, o.span) > 0.5 * length for o in kept):
                kept.append(run)
        return kept

    def _music(self, runs: list[_Run]) -> list[_Run]:
        """Rule 3 for music: one run per stretch, named by its dominant phrase."""
        bridge = self.settings.music_bridge / PATCH_HOP_SECONDS
        stretches: list[list[_Run]] = []
        for run in sorted(runs, key=lambda r: r.first):
            if stretches and run.first - max(r.last for r in stretches[-1]) <= bridge:
                stretches[-1].append(run)
            else:
                stretches.append([run])
        merged = []
        for group in stretches:
            first, last = min(r.first for r in group), max(r.last for r in group)
            cover: dict[str, float] = {}
            for r in group:
                cover[r.phrase] = cover.get(r.phrase, 0.0) + (r.last - r.first + 1)
            specific = [r for r in group if r.rank == 1
                        and cover[r.phrase] >= 0.5 * (last - first + 1)]
            pool = specific or group
            best = max(pool, key=lambda r: (cover[r.phrase], r.peak))
            scores = [x for r in group if r.phrase == best.phrase for x in r.scores]
            run = _Run(best.phrase, "music", best.rank, first, last, scores)
            if run.span[1] - run.span[0] >= self.settings.min_music:
                merged.append(run)
        return merged

    def _place(self, run: _Run, speech: list[tuple[float, float]]
               ) -> tuple[float, float] | None:
        """Drop runs hidden in speech unless loud; trim the rest to the pause they sit in."""
        start, end = run.span
        covered = sum(overlap((start, end), region) for region in speech)
        if covered <= 0:
            return start, end
        if run.peak >= self.settings.under_speech:
            return start, end
        free = _gaps((start, end), speech)
        if not free:
            return None
        best = max(free, key=lambda g: g[1] - g[0])
        return best if best[1] - best[0] >= 0.5 * (end - start) or covered < 0.5 * (
            end - start) else None

    def _refine(self, span: tuple[float, float], energy: np.ndarray
                ) -> tuple[float, float] | None:
        frame = HOP / SAMPLE_RATE
        lo, hi = int(span[0] / frame), min(int(np.ceil(span[1] / frame)), energy.size)
        if hi <= lo:
            return None
        window = energy[lo:hi]
        loud = np.flatnonzero((window >= window.max() - self.settings.energy_db)
                              & (window > self.settings.silence_dbfs))
        if loud.size == 0:
            return None
        return (lo + loud[0]) * frame, (lo + loud[-1] + 1) * frame + 0.015


def _frame_energy_db(mel: np.ndarray) -> np.ndarray:
    """Energy of each 10 ms frame in dB relative to full scale (from the log-mel front end)."""
    if mel.size == 0:
        return np.zeros(0, dtype=np.float32)
    power = np.exp(mel).sum(axis=1) - LOG_OFFSET * mel.shape[1]
    return (20 * np.log10(np.maximum(power, 1e-9) / 512.0)).astype(np.float32)


def _gaps(span: tuple[float, float], regions: list[tuple[float, float]]
          ) -> list[tuple[float, float]]:
    """Parts of `span` outside every region."""
    pieces = [span]
    for r0, r1 in regions:
        nxt = []
        for a, b in pieces:
            if r1 <= a or r0 >= b:
                nxt.append((a, b))
                continue
            if r0 > a:
                nxt.append((a, r0))
            if r1 < b:
                nxt.append((r1, b))
        pieces = nxt
    return pieces
