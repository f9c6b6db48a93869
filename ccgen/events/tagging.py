"""From AudioSet window scores to timed sound cues: the sounds that matter, named once.

Scores for other stages: :meth:`TaggerDescriber.window_scores` (or
:func:`window_scores` with a :class:`~ccgen.events.yamnet.YamnetModel`) returns a
:class:`WindowScores`: YAMNet's per-window class probabilities, ``scores[i, k]`` for window
``i`` (``[0.48 i, 0.48 i + 0.96]`` s) and class ``classes[k]``, with ``track(*names)`` for the
best of some classes per window (``track("Speech")``, ``track("Music", "Singing")``). That API
is stable; the caption rules below may change.

The rules, in order (numbers are :class:`TaggerSettings` fields):
1. Each class is looked up in ``ccgen/data/sounds/audioset.tsv``: its caption phrase, its kind
   (``sound``, ``music``, ``speech`` or ``skip``) and its rank (1 specific, 2 generic). Classes
   marked skip ("Silence", "Inside, small room"...) are never captioned; speech is left to ASR.
2. Per phrase, a run of windows starts where its score reaches ``onset`` and lasts while it
   stays above ``sustain``; up to ``bridge`` weaker windows (0.48 s each) may interrupt it.
   Runs only say *where* something is heard; they do not name it.
3. Sounds are named per event, not per window, and by source before phrase. Each phrase
   belongs to a family (ccgen/data/sounds/families.tsv: the AudioSet node above it at the
   level a caption names a source, as Dog for Bark or Liquid for Gush); a family's score per
   window pools its classes (``family_pool``: their sum capped at 1 by default, see
   :mod:`ccgen.events.families`), because YAMNet spreads an unsure source over a family's
   classes. Sound runs at most ``bridge`` windows apart form one event. In an event each
   candidate family is scored per window (one with a specific phrase among the candidates
   counts ``specific_weight`` times), the scores are smoothed over ``smooth`` windows and the
   event is cut only where the best family changes for at least ``min_segment`` windows: a dog
   howling for 30 s with a window that looks like "plopping" stays one event. Neighbouring
   pieces (within ``join_gap`` s) whose mean score vectors over all classes are alike (cosine
   ≥ ``same_source``) are one source heard two ways and join again. Each piece is then named
   by pooling over all its windows (``1 - peak_weight`` of the mean plus ``peak_weight`` of
   the maximum: what lasts and what stands out): first the family, then its best phrase (the
   cue's confidence is that phrase's pooled score). Neighbours with the same name join, so one
   sustained source is one caption. The cost: two sources heard at once are one caption,
   named by the stronger.
4. A specific name is kept only when its family's pooled score reaches ``min_score``, a generic one
   (rank 2: "animal noises", "vehicle passing") only when it reaches ``generic_score``: a
   guess the model is unsure of helps no viewer. (Leave-one-clip-out put the generic bar
   lower: the model spreads its belief over a family's specific classes, so a generic name
   that wins at all is rarely wrong by much; a specific name must be sure.)
5. Music is a bed, not a list of instruments: music runs closer than ``music_bridge`` seconds
   join into one stretch, named by the specific phrase that covers at least half of it
   (``[trumpet playing]``), else by the most present one. A stretch shorter than
   ``min_music`` is dropped. A sound lying mostly inside a music stretch is kept only when
   strong (peak ≥ ``under_music``): bells and chimes inside a piece are the music.
6. An event that lies mostly inside speech is dropped unless it is loud (peak ≥
   ``under_speech``): the "loud events under speech" rule. Others are trimmed to the pause
   they sit in.
7. Onset and offset are refined from the window grid (0.48 s) to 10 ms frames: the span keeps
   the frames within ``energy_db`` of the event's loudest frame.
8. Events shorter than ``min_duration`` after trimming are dropped.

The pooling and thresholds of rules 3-4 were chosen by leave-one-clip-out on the shared event clips
(bench/tagger_loo.py; its held-out numbers are in bench/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ccgen.cues import Cue
from ccgen.events.base import overlap
from ccgen.events.families import Families
from ccgen.events.spans import (
    cosine,
    frame_energy_db,
    gaps,
    overlapping,
    segments,
    smoothed,
)
from ccgen.events.yamnet import (
    HOP,
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
    smooth: int = 3
    min_segment: int = 6
    same_source: float = 0.7
    peak_weight: float = 0.25
    join_gap: float = 3.0
    min_score: float = 0.4
    generic_score: float = 0.3
    music_bridge: float = 3.0
    min_music: float = 2.0
    under_music: float = 0.75
    silence_dbfs: float = -60.0
    family_pool: str = "sum"


@dataclass(frozen=True)
class ClassInfo:
    phrase: str
    kind: str
    rank: int


@lru_cache(maxsize=1)
def sound_table() -> dict[str, ClassInfo]:
    """AudioSet display name -> how SDH captions name it (ccgen/data/sounds/audioset.tsv)."""
    return {
        row["display_name"]: ClassInfo(row["phrase"], row["kind"], int(row["rank"] or 0))
        for row in read_table("sounds", "audioset.tsv")
    }


@dataclass(frozen=True)
class WindowScores:
    """YAMNet's class probabilities per window: row i covers [hop * i, hop * i + length] s."""

    scores: np.ndarray  # (windows, classes) float32 in [0, 1]
    classes: tuple[str, ...]
    hop: float = PATCH_HOP_SECONDS
    length: float = PATCH_SECONDS

    def track(self, *names: str) -> np.ndarray:
        """Per window, the best score of the named AudioSet classes (zeros if none match)."""
        idx = [self.classes.index(n) for n in names if n in self.classes]
        if not idx:
            return np.zeros(self.scores.shape[0], dtype=np.float32)
        return self.scores[:, idx].max(axis=1)

    def times(self) -> np.ndarray:
        """(windows, 2) start and end of each window in seconds."""
        start = np.arange(self.scores.shape[0]) * self.hop
        return np.stack([start, start + self.length], axis=1)


def window_scores(model: YamnetModel, audio: np.ndarray) -> WindowScores:
    """Per-window class scores of `audio` (16 kHz mono float32) from a loaded YAMNet."""
    return WindowScores(model.scores(audio), tuple(model.classes))


@dataclass
class _Run:
    phrase: str
    kind: str
    rank: int
    first: int
    last: int
    scores: list[float]
    pooled: float = 0.0  # the event's family's pooled score: the keep bar (rules 3-4)
    own: float = 0.0  # its phrase's own pooled score: the cue's confidence

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
        self.phrases: dict[str, tuple[str, int, list[int]]] = {}
        for idx, info in enumerate(self.info):
            if info.kind in ("sound", "music") and info.phrase:
                kind, rank, idxs = self.phrases.get(info.phrase, (info.kind, info.rank, []))
                self.phrases[info.phrase] = (kind, min(rank, info.rank), [*idxs, idx])
        self.families = Families(
            self.model.classes, [i.kind == "sound" and bool(i.phrase) for i in self.info],
            {p: idxs for p, (kind, _, idxs) in self.phrases.items() if kind == "sound"})

    def window_scores(self, audio: np.ndarray) -> WindowScores:
        """Per-window AudioSet scores (see :class:`WindowScores`), for other stages."""
        return window_scores(self.model, audio)

    def describe(self, audio: np.ndarray, speech: list[tuple[float, float]]) -> list[Cue]:
        if audio.size == 0:
            return []
        mel = log_mel(audio)  # once: for the model and for the onset refinement
        return self.events_from_scores(self.model.scores(audio, mel), mel, speech)

    def events_from_scores(self, scores: np.ndarray, mel: np.ndarray,
                           speech: list[tuple[float, float]]) -> list[Cue]:
        tracks = {phrase: scores[:, idxs].max(axis=1)
                  for phrase, (_, _, idxs) in self.phrases.items()}
        runs = self._runs(tracks)
        music = self._music([r for r in runs if r.kind == "music"])
        beds = [r.span for r in music]
        sounds = [r for r in self._name_events([r for r in runs if r.kind != "music"], tracks,
                                                 scores)
                  if r.peak >= self.settings.under_music
                  or sum(overlap(r.span, b) for b in beds) <= 0.5 * (r.span[1] - r.span[0])]
        energy = frame_energy_db(mel)
        cues: list[Cue] = []
        for run in sounds + music:
            span = self._place(run, speech)
            if span is None:
                continue
            span = self._refine(span, energy)
            if span is None or span[1] - span[0] < self.settings.min_duration:
                continue
            cues.append(Cue(span[0], span[1], "music" if run.kind == "music" else "sound",
                            run.phrase, source=self.name,
                            confidence=run.own or float(np.mean(run.scores))))
        return sorted(cues, key=lambda c: (c.start, c.end))

    def _runs(self, tracks: dict[str, np.ndarray]) -> list[_Run]:
        """Rule 2: hysteresis runs per phrase (where something is heard)."""
        s = self.settings
        runs: list[_Run] = []
        for phrase, track in tracks.items():
            kind, rank, _ = self.phrases[phrase]
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

    def _name_events(self, runs: list[_Run], tracks: dict[str, np.ndarray],
                     scores: np.ndarray) -> list[_Run]:
        """Rules 3-4: overlapping sound runs are one event, cut where the source changes,
        each piece named once by its pooled scores; vague or unsure names are dropped."""
        s = self.settings
        candidates = sorted({r.phrase for r in runs})
        of = self.families.of_phrase
        families = sorted({of[p] for p in candidates})
        weight = {f: max(self._weight(p) for p in candidates if of[p] == f) for f in families}
        family_tracks = self.families.tracks(scores, families, s.family_pool)
        events: list[_Run] = []
        for windows in self._sources(runs, family_tracks, weight, scores):
            table = np.stack([family_tracks[f][windows] for f in families], axis=1)
            pooled = self._pooled(table)
            best = int((pooled * np.array([weight[f] for f in families])).argmax())
            run = self._phrase_of([p for p in candidates if of[p] == families[best]],
                                  windows, tracks, float(pooled[best]))
            prev = next((e for e in reversed(events) if e.phrase == run.phrase), None)
            if prev is not None and run.span[0] - prev.span[1] <= s.join_gap:
                prev.last = run.last  # one sustained source, one caption
                prev.scores.extend(run.scores)
                prev.pooled, prev.own = max(prev.pooled, run.pooled), max(prev.own, run.own)
            else:
                events.append(run)
        return [e for e in events
                if e.pooled >= (s.min_score if e.rank == 1 else s.generic_score)]

    def _sources(self, runs: list[_Run], family_tracks: dict[str, np.ndarray],
                 weight: dict[str, float], scores: np.ndarray) -> list[np.ndarray]:
        """Rule 3's cutting: window indices of each piece heard as one source, in time order."""
        s = self.settings
        of = self.families.of_phrase
        pieces: list[np.ndarray] = []
        for group in overlapping(runs, s.bridge):
            first, last = min(r.first for r in group), max(r.last for r in group)
            families = sorted({of[r.phrase] for r in group})
            table = np.stack([family_tracks[f][first:last + 1] for f in families], axis=1)
            table = table * np.array([weight[f] for f in families])
            for a, b in segments(smoothed(table, s.smooth).argmax(axis=1), s.min_segment):
                pieces.append(np.arange(first + a, first + b + 1))
        gap = int(round(s.join_gap / PATCH_HOP_SECONDS))
        sources: list[np.ndarray] = []
        for piece in pieces:  # neighbours heard alike are one source heard two ways
            if sources and piece[0] - sources[-1][-1] <= gap and cosine(
                    scores[sources[-1]].mean(axis=0), scores[piece].mean(axis=0)
            ) >= s.same_source:
                sources[-1] = np.concatenate([sources[-1], piece])
            else:
                sources.append(piece)
        return sources

    def _phrase_of(self, phrases: list[str], windows: np.ndarray,
                   tracks: dict[str, np.ndarray], family_score: float) -> _Run:
        """The winning family's best phrase over `windows` (a specific one counts
        ``specific_weight`` times), as an event carrying the family's pooled score (what
        decides) and the phrase's own (what the cue reports: a sum over a family is no
        probability, and the review page must still flag a name the model was unsure of)."""
        table = np.stack([tracks[p][windows] for p in phrases], axis=1)
        pooled = self._pooled(table)
        best = int((pooled * np.array([self._weight(p) for p in phrases])).argmax())
        kind, rank, _ = self.phrases[phrases[best]]
        return _Run(phrases[best], kind, rank, int(windows[0]), int(windows[-1]),
                    [float(x) for x in table[:, best]], family_score, float(pooled[best]))

    def _weight(self, phrase: str) -> float:
        return self.settings.specific_weight if self.phrases[phrase][1] == 1 else 1.0

    def _pooled(self, table: np.ndarray) -> np.ndarray:
        """Scores over an event's windows: a mix of their mean (what lasts) and their
        maximum (what stands out), so a few loud claps count as much as a steady hum."""
        w = self.settings.peak_weight
        return (1.0 - w) * table.mean(axis=0) + w * table.max(axis=0)

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
        free = gaps((start, end), speech)
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
