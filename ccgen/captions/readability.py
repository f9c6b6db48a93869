"""Readable captions: words move between neighbouring captions when that lets each be read.

The engine first cuts speech at units of sense (:mod:`layout`). A cut that reads well on paper
can still leave a caption that cannot be read in the time it has: on a film clip (DCMP style)
``and he's`` stood alone before a pause, held for its 2 s minimum, and the 57 characters after
it were squeezed into 0.86 s before the next caption (66 cps). Time is what the viewer lacks,
so :func:`rebalance` takes each run of captions of one speaker (no silence over ``MAX_PAUSE``
between them) and, when one of them cannot be followed in the engine's timing, finds the best
way to cut the run's words again (moving words between neighbours, joining or splitting
captions) by a shortest path over cut positions. Best means, in order: no caption ending on an
article or preposition where avoidable, the fewest captions a viewer cannot follow (short of
reading time, or more than ``MAX_DELAY`` behind their words), then the least time missing,
then the fewest cuts moved and the best cuts for sense. A run whose captions can all be
followed keeps the cuts made for sense, and so does one no other cut improves. A caption may
now hold a silence of up to ``MAX_PAUSE`` (its later words are shown a little early).

:func:`overruns` lists the captions over a style's reading speed, each ``forced`` when it lies
in a stretch of captions that no timing could make readable; ``bench/evaluate.py`` reports
both per preset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ccgen.captions.layout import BINDING, SENTENCE_END, break_cost
from ccgen.captions.style import Style
from ccgen.cues import Cue, Word

# How late a caption may start to give the one before it reading time (minimum durations
# still win beyond this: a caption nobody can read is worse than one that is late).
MAX_DELAY = 0.5
# The longest silence a caption may hold when that is what makes its neighbours readable
# (seconds); any longer silence starts a new caption, as the style's pause_split says.
MAX_PAUSE = 2.0
TOLERANCE = 0.001  # seconds: lint's tolerance, so a caption at its limit passes

Draft = tuple[Word, ...]


def fits(words: Sequence[Word], style: Style) -> bool:
    """Whether the words make one caption: their lines fit and they last at most the maximum
    duration."""
    if words[-1].end - words[0].start > style.max_duration:
        return False
    return fill_lines([len(w.text) for w in words], style.max_chars) <= style.max_lines


def fill_lines(sizes: Sequence[int], width: int) -> float:
    """How many lines of `width` words of these sizes need at the fewest (filling each line
    greedily needs the fewest, so this says exactly whether the line breaker can fit them);
    inf when a word is longer than a line."""
    lines, used = 1, -1
    for size in sizes:
        if size > width:
            return float("inf")
        if used + 1 + size <= width:
            used += 1 + size
        else:
            lines, used = lines + 1, size
    return lines


# What a way of cutting costs: (captions ending on a word that binds to the next one, such
# as an article or preposition; captions a viewer cannot follow; a score) compared in that
# order. A caption cannot be followed when it is short of its reading time or starts more
# than MAX_DELAY after its words. The score is seconds of reading time missing and of delay
# beyond MAX_DELAY, plus small prices for cuts moved (MOVED s each), for a poor cut (SENSE s
# per point of the line breaker's penalty) and for a sentence ending inside a caption.
Label = tuple[int, int, float]
MOVED = 0.25
SENSE = 0.004
INNER_SENTENCE = 0.04


def _runs(drafts: list[Draft]) -> list[list[Draft]]:
    """Neighbouring captions of one speaker with no silence over MAX_PAUSE between them:
    the words that may move between captions."""
    runs: list[list[Draft]] = []
    for draft in drafts:
        if runs and (runs[-1][-1][-1].speaker == draft[0].speaker
                     and draft[0].start - runs[-1][-1][-1].end <= MAX_PAUSE):
            runs[-1].append(draft)
        else:
            runs.append([draft])
    return runs


class _Run:
    """One run's words and the numbers every way of cutting it needs."""

    def __init__(self, drafts: list[Draft], style: Style, gap: float, limit: float,
                 after: float) -> None:
        self.words = [w for d in drafts for w in d]
        self.style, self.gap, self.limit, self.after = style, gap, limit, after
        self.cuts, at = set(), 0
        for draft in drafts[:-1]:
            at += len(draft)
            self.cuts.add(at)
        n = len(self.words)
        self.chars, self.stops, self.kept = [0], [0], [0]
        for k, word in enumerate(self.words, 1):
            self.chars.append(self.chars[-1] + len(word.text))
            self.stops.append(self.stops[-1] + word.text.endswith(SENTENCE_END))
            self.kept.append(self.kept[-1] + (k in self.cuts))
        # what cutting before word j costs, whoever cuts there (the end of the run: nothing)
        self.spoken = [w.start for w in self.words] + [after]
        self.price = [0.0] * (n + 1)
        self.binds = [0] * (n + 1)
        for j in range(1, n):
            before = self.words[j - 1].text
            self.price[j] = SENSE * break_cost(before, self.words[j].text) + (
                0.0 if j in self.cuts else MOVED)
            self.binds[j] = before.lower().strip("\"'()") in BINDING

    def step(self, label: Label, start: float, i: int, j: int) -> tuple[Label, float]:
        """The label, and when the next caption appears, after words[i:j] shown from `start`.

        The engine's timing: the next caption appears with its first word, or later while
        this one has less than the minimum duration, or up to MAX_DELAY later while it has
        less than its reading time; this one may stay until then (less the gap), at most
        the maximum duration and not past the end of the media."""
        style, gap = self.style, self.gap
        chars = self.chars[j] - self.chars[i] + (j - i - 1)
        need_s = min(max(style.min_duration, chars / style.max_cps), style.max_duration)
        spoken = self.spoken[j]
        following = max(spoken, start + style.min_duration + gap,
                        min(start + need_s + gap, spoken + MAX_DELAY))
        slot = min(following - gap, start + style.max_duration, self.limit) - start
        lack = need_s - slot if need_s > slot else 0.0
        late = max(0.0, following - spoken - MAX_DELAY)
        # original cuts skipped inside this caption are moved cuts too
        skipped = self.kept[j - 1] - self.kept[i]
        inner = self.stops[j - 1] - self.stops[i]
        bad = (lack > TOLERANCE) + (late > TOLERANCE)
        score = (lack + late + self.price[j] + MOVED * skipped + INNER_SENTENCE * inner)
        return (label[0] + self.binds[j], label[1] + bad, label[2] + score), following

    def ends(self, i: int) -> list[int]:
        """Every j such that words[i:j] makes one caption (lines fit with the greedy fill,
        which needs the fewest lines; within the maximum duration; no long silence)."""
        style, words, out = self.style, self.words, []
        lines, width = 1, -1
        for j in range(i, len(words)):
            size = len(words[j].text)
            if width + 1 + size <= style.max_chars:
                width += 1 + size
            else:
                lines, width = lines + 1, size
            if j > i and (size > style.max_chars or lines > style.max_lines
                          or words[j].end - words[i].start > style.max_duration
                          or words[j].start - words[j - 1].end > MAX_PAUSE):
                break
            out.append(j + 1)  # one word always makes a caption, even one too long
            if size > style.max_chars:
                break
        return out

    def as_cut(self, start: float) -> tuple[Label, float]:
        """The label of the run as it was cut, and when the caption after it appears."""
        label: Label = (0, 0, 0.0)
        bounds = [0, *sorted(self.cuts), len(self.words)]
        for i, j in zip(bounds, bounds[1:], strict=False):
            label, start = self.step(label, start, i, j)
        return label, start

    def best(self, start: float) -> tuple[Label, float, list[int]]:
        """The best cut of the run (label, when the caption after it appears, cut positions):
        a shortest path over cut positions, keeping at each position the ways not beaten on
        both label and how soon the next caption can appear."""
        n = len(self.words)
        states: list[list[tuple[Label, float, int, int]]] = [[] for _ in range(n + 1)]
        states[0] = [((0, 0, 0.0), start, -1, -1)]
        for i in range(n):
            for k, (label, at, _, _) in enumerate(states[i]):
                for j in self.ends(i):
                    new, following = self.step(label, at, i, j)
                    _keep(states[j], (new, following, i, k))
        final = min(states[n])
        cuts, j, entry = [], n, states[n].index(final)
        while j > 0:
            _, _, i, entry = states[j][entry]
            cuts.append(j)
            j = i
        return final[0], final[1], sorted(cuts)[:-1]


KEEP = 4  # ways kept per cut position


def _keep(states: list[tuple[Label, float, int, int]], new: tuple[Label, float, int, int]
          ) -> None:
    label, at = new[0], new[1]
    if any(old[0] <= label and old[1] <= at + 1e-9 for old in states):
        return
    states[:] = [old for old in states if not (label <= old[0] and at <= old[1] + 1e-9)]
    states.append(new)
    if len(states) > KEEP:
        states.sort()
        del states[KEEP:]


def rebalance(drafts: Sequence[Sequence[Word]], style: Style, gap: float,
              duration: float | None = None) -> list[Draft]:
    """The same words in the same order, cut into captions that can be read in their time
    wherever moving words between neighbouring captions of one speaker (or joining them)
    allows. A run whose captions all have their reading time keeps its cuts. Returns new
    drafts; the input is not changed."""
    limit = duration if duration and duration > 0 else float("inf")
    runs = _runs([tuple(d) for d in drafts if d])
    out: list[Draft] = []
    start = runs[0][0][0].start if runs else 0.0
    for n, run in enumerate(runs):
        after = runs[n + 1][0][0].start if n + 1 < len(runs) else limit
        start = max(start, run[0][0].start)
        cut = _Run(run, style, gap, limit, after)
        label, following = cut.as_cut(start)
        if label[1]:
            better, ends, cuts = cut.best(start)
            if better < label:
                words = cut.words
                bounds = [0, *cuts, len(words)]
                run = [tuple(words[i:j]) for i, j in zip(bounds, bounds[1:], strict=False)]
                following = ends
        out.extend(run)
        start = following
    return out


@dataclass(frozen=True)
class Overrun:
    """A caption over the style's reading speed (`cps` as ``ccgen lint`` measures it);
    `forced` when it lies in a run of captions that no timing could make all readable;
    `alone` when no timing could make it readable even at the others' expense (its words
    need more time than from its first word to the latest the next caption may appear)."""

    cue: Cue
    cps: float
    forced: bool
    alone: bool = False


def overruns(cues: Sequence[Cue], style: Style, gap: float, duration: float | None = None,
             spoken: Sequence[float] | None = None) -> list[Overrun]:
    """Captions over the style's reading speed (measured at the minimum duration when shorter,
    as ``ccgen lint`` does), each classified as forced or retimable.

    Forced: some run of consecutive captions holding it, shown one after the other from the
    first one's start, needs more time (each its reading time, at least the minimum duration,
    with the gaps) than there is before the caption after the run must appear, at most
    MAX_DELAY after it does now (or the end of the media). Since a caption shows words already
    spoken, it cannot start earlier; so some caption of that run is too fast however the run
    is timed. `spoken`: when each cue's first word is heard (in `cues` order, which must be
    time order); without it (a JSON timeline has no words) display times stand in, so a
    caption that starts late is taken as starting in time."""
    limit = duration if duration and duration > 0 else float("inf")
    ordered = list(cues)
    heard = list(spoken) if spoken is not None else [c.start for c in ordered]
    needs = [min(max(style.min_duration, _chars(c) / style.max_cps), style.max_duration)
             for c in ordered]
    bound = [min(at + MAX_DELAY, limit + gap) - gap for at in heard[1:]] + [limit]
    forced = [False] * len(ordered)
    for i in range(len(ordered)):
        total = 0.0
        for j in range(i, len(ordered)):
            total += needs[j] + (gap if j > i else 0.0)
            if total > bound[j] - heard[i] + TOLERANCE:
                for k in range(i, j + 1):
                    forced[k] = True
            if ordered[j].end + gap + 0.05 < (ordered[j + 1].start if j + 1 < len(ordered)
                                              else float("inf")):
                break  # free time after it: no caption after waits for this run
    out = []
    for k, (cue, flag) in enumerate(zip(ordered, forced, strict=True)):
        shown = max(cue.end - cue.start, style.min_duration) if (
            cue.end - cue.start < style.min_duration - 1e-3) else cue.end - cue.start
        if shown > 0 and _chars(cue) > style.max_cps * (shown + 1e-3):
            room = min(bound[k] - heard[k], style.max_duration)
            out.append(Overrun(cue, _chars(cue) / shown, flag,
                               alone=needs[k] > room + TOLERANCE))
    return out


def _chars(cue: Cue) -> int:
    """Characters as ``ccgen lint`` counts them: spaces counted, line breaks not."""
    return sum(len(line.strip()) for line in cue.text.split("\n"))
