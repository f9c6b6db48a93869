"""Caption timing against the style and the picture: shot-change rules and ``lint --fix``.

Two callers share one search:

- the pipeline, after the engine built the captions: :func:`apply_shot_changes` returns new
  cues that obey the style's shot-change rules (the engine itself knows nothing of the picture);
- ``ccgen lint --fix``: :func:`fix_timings` retimes any subtitle file for gaps, minimum and
  maximum durations, reading speed and shot changes.

Each cue with a problem tries start and end times near its own: its free time up to the
neighbours (less the style's gap), the neighbour's boundary, the duration its text needs, the
shot changes near it. Least movement first, it takes the first candidate that removes a problem
and adds none, on it or on the cue after it. So a fix never trades one finding for another,
text and order never change, and what no candidate can fix is left for lint to list.

Times are worked in whole units of the output file (1 ms for SRT, WebVTT and TTML, 10 ms for
ASS), so a rounded time written back still passes; shot changes are frame numbers at the
media's exact rate (29.97 is 30000/1001: no drift, drop-frame lists included).
"""

from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from ccgen.captions.reading import visible_lines
from ccgen.captions.style import Style
from ccgen.cues import Cue, Word
from ccgen.errors import InputError
from ccgen.media.shots import (
    MIN_SHOT,
    SCALE_WIDTH,
    SCENE_THRESHOLD,
    ShotChanges,
    shot_changes_for,
)

if TYPE_CHECKING:
    from ccgen.cache import StageCache
    from ccgen.media.mediainfo import MediaInfo

log = logging.getLogger("ccgen")

TOLERANCE = 1e-3  # seconds, as lint: a time exactly at a limit passes
TIMING_RULES = ("min-duration", "max-duration", "cps", "gap", "close-gap", "overlap",
                "shot-change")


@dataclass(frozen=True)
class Timing:
    """One cue's times and the displayed characters its reading speed counts (0: empty cue,
    left where it is); `speech`, where known, the first word's start and the last word's end."""

    start: float
    end: float
    chars: int
    speech: tuple[float, float] | None = None


def shot_problem(start: float, end: float, style: Style, shots: ShotChanges | None) -> str | None:
    """What breaks the style's shot-change rules for a cue shown from `start` to `end`."""
    if shots is None or not shots.frames:
        return None
    s, e = shots.frame_of(start), shots.frame_of(end)
    cuts = shots.frames
    found: list[str] = []
    window = style.shot_in_frames
    if window:
        for c in _cuts_near(cuts, s, window):
            if c != s and c < e:
                side = "before" if s < c else "after"
                found.append(f"starts {abs(c - s)} frames {side} the shot change at "
                             f"{_where(c, shots)} (move it onto the cut)")
                break
    window, gap = style.shot_out_frames, style.shot_out_gap_frames
    if window:
        for c in _cuts_near(cuts, e, window):
            if c > s and e != c - gap:
                side = "before" if e < c else "after" if e > c else "on"
                distance = f"{abs(c - e)} frames {side}" if e != c else "on"
                found.append(f"ends {distance} the shot change at {_where(c, shots)} "
                             f"(end {gap} frames before it)")
                break
    window = style.shot_straddle_frames
    if window:
        inside = [c for c in _cuts_near(cuts, s, e - s) if s < c < e]
        if inside and (inside[0] - s <= window or e - inside[-1] <= window):
            c = inside[0] if inside[0] - s <= window else inside[-1]
            found.append(f"straddles the shot change at {_where(c, shots)} by "
                         f"{min(c - s, e - c)} frames")
    return "; ".join(found) or None


def _cuts_near(cuts: tuple[int, ...], frame: int, window: int) -> list[int]:
    """Cuts within `window` frames of `frame`, nearest first."""
    lo, hi = bisect.bisect_left(cuts, frame - window), bisect.bisect_right(cuts, frame + window)
    return sorted(cuts[lo:hi], key=lambda c: (abs(c - frame), c))


def _where(frame: int, shots: ShotChanges) -> str:
    ms = round(shots.seconds(frame) * 1000)
    return (f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}."
            f"{ms % 1000:03d} (frame {frame})")


class _Search:
    """The cues in whole time units, in time order, with the problems each one has."""

    def __init__(self, timings: list[Timing], style: Style, rate: Fraction,
                 shots: ShotChanges | None, unit: float, targets: frozenset[str]) -> None:
        self.style, self.shots, self.unit, self.targets = style, shots, unit, targets
        self.rate = shots.rate if shots is not None else rate
        self.s = [round(t.start / unit) for t in timings]
        self.e = [round(t.end / unit) for t in timings]
        self.chars = [t.chars for t in timings]
        self.speech = [(round(t.speech[0] / unit), round(t.speech[1] / unit)) if t.speech
                       else None for t in timings]
        self.order = sorted((i for i, t in enumerate(timings) if t.chars > 0),
                            key=lambda i: (self.s[i], self.e[i], i))
        self.pos = {i: k for k, i in enumerate(self.order)}
        self.min_gap = style.min_gap_frames / float(self.rate)
        self.gap_u = max(0, math.ceil((self.min_gap - TOLERANCE) / unit - 1e-9))
        self.max_u = math.floor(style.max_duration / unit + 1e-6)

    def _allowed(self, i: int, old: dict[tuple[int, str], int]) -> bool:
        """Moves the rules forbid whatever they fix. Under a straddle rule (BBC) a caption
        that hangs over a cut does not grow further over it (that would hide the straddle,
        not remove it). Where the style has no window of its own for a move, a caption may
        not end before its speech ends nor start after it starts: "when the speech allows"."""
        if self.style.shot_straddle_frames and self.shots is not None:
            s0, e0 = old.get((i, "s"), self.s[i]), old.get((i, "e"), self.e[i])
            fs, fe = (self.shots.frame_of(v * self.unit) for v in (s0, e0))
            lo = bisect.bisect_right(self.shots.frames, fs)
            if lo < len(self.shots.frames) and self.shots.frames[lo] < fe and (
                    self.e[i] > e0 or self.s[i] < s0):
                return False
        if self.speech[i] is None:
            return True
        first, last = self.speech[i]
        tol = round(TOLERANCE / self.unit)
        if (i, "e") in old and not self.style.shot_out_frames and \
                self.e[i] < old[(i, "e")] and self.e[i] < last - tol:
            return False
        return not ((i, "s") in old and not self.style.shot_in_frames
                    and self.s[i] > old[(i, "s")] and self.s[i] > first + tol)

    def _units(self, frame: int) -> int:
        return round(float(frame / self.rate) / self.unit)

    def neighbours(self, i: int) -> tuple[int | None, int | None]:
        k = self.pos[i]
        prev = self.order[k - 1] if k > 0 else None
        after = self.order[k + 1] if k + 1 < len(self.order) else None
        return prev, after

    def problems(self, i: int) -> set[str]:
        st, u = self.style, self.unit
        s, e = self.s[i], self.e[i]
        out: set[str] = set()
        if e <= s:
            out.add("order")
        duration = (e - s) * u
        short = duration < st.min_duration - TOLERANCE
        if short:
            out.add("min-duration")
        if duration > st.max_duration + TOLERANCE:
            out.add("max-duration")
        measured = max(duration, st.min_duration) if short else duration
        if measured > 0 and self.chars[i] > st.max_cps * (measured + TOLERANCE):
            out.add("cps")
        prev, _ = self.neighbours(i)
        if prev is not None:
            if s < self.s[prev]:
                out.add("order")
            gap = (s - self.e[prev]) * u
            closed = max(self.min_gap, 2 / float(self.rate))
            if gap < -TOLERANCE:
                out.add("overlap")
            elif gap < self.min_gap - TOLERANCE:
                out.add("gap")
            elif st.close_gap > 0 and closed + TOLERANCE < gap < st.close_gap - TOLERANCE:
                out.add("close-gap")
        if self.shots is not None and shot_problem(s * u, e * u, st, self.shots):
            out.add("shot-change")
        return out

    def _affected(self, changed: list[int]) -> list[int]:
        out = set(changed)
        for i in changed:
            after = self.neighbours(i)[1]
            if after is not None:
                out.add(after)
        return sorted(out)

    def attempt(self, moves: dict[tuple[int, str], int], keep: bool = False) -> int | None:
        """Try `moves` ((cue, "s"|"e") -> units): None when they add a problem or remove none
        that is wanted, else how many wanted problems remain on the cues they touch. Undone
        unless `keep`."""
        changed = sorted({i for i, _ in moves})
        affected = self._affected(changed)
        before = {j: self.problems(j) for j in affected}
        old = {(i, w): (self.s if w == "s" else self.e)[i] for i, w in moves}
        for (i, w), value in moves.items():
            (self.s if w == "s" else self.e)[i] = value
        after = {j: self.problems(j) for j in affected}
        gained = any(after[j] - before[j] for j in affected) or not all(
            self._allowed(i, old) for i in changed)
        fixed = any((before[j] - after[j]) & self.targets for j in affected)
        left = None if gained or not fixed else sum(len(after[j] & self.targets)
                                                    for j in affected)
        if left is None or not keep:
            for (i, w), value in old.items():
                (self.s if w == "s" else self.e)[i] = value
        return left

    def candidates(self, i: int) -> list[dict[tuple[int, str], int]]:
        """Start/end pairs for cue `i` (and its previous cue's end), least movement first."""
        st = self.style
        s, e = self.s[i], self.e[i]
        prev, after = self.neighbours(i)
        need = math.ceil(max(st.min_duration, self.chars[i] / st.max_cps) / self.unit - 1e-6)
        need = min(need, self.max_u)
        lo = self.e[prev] + self.gap_u if prev is not None else 0
        hi = self.s[after] - self.gap_u if after is not None else s + max(need, e - s)
        starts = {s, lo, e - need, min(s, hi) - need}
        ends = {e, s + need, hi, s + self.max_u, max(e, lo) + need}
        if prev is not None:
            starts.add(self.e[prev])
        if after is not None:
            ends.add(self.s[after])
        if self.shots is not None:
            self._shot_candidates(s, e, starts, ends)
        # A caption may appear a little late (onto a cut, past a too-short gap), never seconds
        # after its speech; it may appear earlier into free time, and end later or sooner.
        late = self._units(max(st.shot_in_frames, st.shot_straddle_frames,
                               st.min_gap_frames, 1))
        pairs = [(a, b) for a in starts for b in ends if 0 <= a < b and a - s <= late]
        moves = [{(i, "s"): a, (i, "e"): b} for a, b in pairs if (a, b) != (s, e)]
        if prev is not None and self.problems(i) & {"gap", "overlap", "close-gap"}:
            gap_close = round(st.close_gap / self.unit)
            for end in {s - self.gap_u, s, s - gap_close}:
                if end != self.e[prev]:
                    moves.append({(prev, "e"): end})
        return sorted(moves, key=self._cost)

    def _cost(self, moves: dict[tuple[int, str], int]) -> float:
        """Movement, ends first: a later end costs least, an earlier start more, a later
        start most (the caption then lags its speech)."""
        total = 0.0
        for (c, w), value in moves.items():
            delta = value - (self.s if w == "s" else self.e)[c]
            total += abs(delta) * (1.0 if w == "e" else 3.0 if delta > 0 else 1.5)
        return total

    def _shot_candidates(self, s: int, e: int, starts: set[int], ends: set[int]) -> None:
        st, shots = self.style, self.shots
        assert shots is not None
        fs, fe = shots.frame_of(s * self.unit), shots.frame_of(e * self.unit)
        reach = max(st.shot_in_frames, st.shot_out_frames, st.shot_straddle_frames) + 1
        lo = bisect.bisect_left(shots.frames, fs - reach)
        hi = bisect.bisect_right(shots.frames, fe + reach)
        for c in shots.frames[lo:hi]:
            starts.add(self._units(c))
            ends.add(self._units(c - st.shot_out_gap_frames))
            ends.add(self._units(c + st.shot_out_frames + 1))
            ends.add(self._units(c - st.shot_out_frames - 1))

    def run(self, passes: int = 4) -> None:
        for _ in range(passes):
            changed = False
            for i in list(self.order):
                if not self.problems(i) & self.targets:
                    continue
                best: tuple[int, dict[tuple[int, str], int]] | None = None
                for moves in self.candidates(i):  # cheapest first; the first that fixes all
                    left = self.attempt(moves)
                    if left is not None and (best is None or left < best[0]):
                        best = (left, moves)
                        if left == 0:
                            break
                if best is not None:
                    self.attempt(best[1], keep=True)
                    changed = True
            if not changed:
                return


def fix_timings(timings: list[Timing], style: Style, rate: float | Fraction,
                shots: ShotChanges | None = None, unit: float = 0.001,
                rules: tuple[str, ...] = TIMING_RULES) -> list[Timing]:
    """New timings with the timing `rules` fixed where the surrounding time allows.

    `rate` is the frame rate of the gap rule (the shot changes' own when given); `unit` the
    time resolution of the file the timings go back to (0.01 for ASS).
    """
    search = _Search(timings, style, Fraction(rate).limit_denominator(1001), shots, unit,
                     frozenset(rules))
    search.run()
    return [Timing(round(search.s[i] * unit, 6), round(search.e[i] * unit, 6), t.chars)
            if (search.s[i], search.e[i]) != (round(t.start / unit), round(t.end / unit))
            else t for i, t in enumerate(timings)]


def apply_shot_changes(cues: list[Cue], style: Style, shots: ShotChanges | None,
                       words: list[Word] | None = None) -> list[Cue]:
    """New cues that follow the style's shot-change rules where the text can still be read.

    Nothing else is changed: a cue that cannot move without breaking another rule stays (and
    lint reports it). With the `words`, a style without in/out windows (BBC) moves a caption
    off a cut only where its speech allows: never ending before the last word is said, nor
    starting after the first. No shot changes (audio-only input, ``--shot-changes none``):
    the same cues, as new objects.
    """
    if shots is None or not shots.frames or not cues:
        return [replace(c, speakers=list(c.speakers)) for c in cues]
    said = sorted(((w.start + w.end) / 2, w.start, w.end) for w in words or [])
    mids = [m for m, _, _ in said]
    timings = [Timing(c.start, c.end, sum(len(line) for line in visible_lines(c.text)),
                      _speech(c, said, mids)) for c in cues]
    fixed = fix_timings(timings, style, shots.rate, shots, rules=("shot-change",))
    return [replace(c, start=t.start, end=t.end, speakers=list(c.speakers)) if t is not old
            else replace(c, speakers=list(c.speakers))
            for c, t, old in zip(cues, fixed, timings, strict=True)]


def _speech(cue: Cue, said: list[tuple[float, float, float]],
            mids: list[float]) -> tuple[float, float] | None:
    """First start and last end of the words said during a speech cue (`said`: the words as
    (midpoint, start, end), sorted; `mids` their midpoints)."""
    if cue.kind != "speech":
        return None
    inside = said[bisect.bisect_left(mids, cue.start):bisect.bisect_right(mids, cue.end)]
    return (min(w[1] for w in inside), max(w[2] for w in inside)) if inside else None


def shot_pass(cues: list[Cue], style: Style, option: str | None, media: str | Path,
              info: MediaInfo, step: Callable[..., None] | None = None,
              cache: StageCache | None = None, digest: str = "",
              words: list[Word] | None = None) -> list[Cue]:
    """The pipeline's pass after the engine: `--shot-changes auto|none|FILE` for one input.

    Audio-only media has no shot changes and gets its cues back unchanged. A video whose
    picture cannot be decoded (audio fine) keeps its captions and says so in a warning:
    the captions are right without the snapping, and the run should not fail for it.
    Detected cuts go to the stage cache (decoding a film's picture is the slow part).
    """
    if option in (None, "none") or not info.has_video:
        if option not in (None, "none", "auto"):
            log.warning("--shot-changes %s not used: %s has no video", option, Path(media).name)
        return [replace(c, speakers=list(c.speakers)) for c in cues]
    if step is not None:
        step("finding shot changes")

    def progress(done: float, total: float) -> None:
        if step is not None:
            step("finding shot changes", done, total)

    settings = {"threshold": SCENE_THRESHOLD, "width": SCALE_WIDTH, "min_shot": MIN_SHOT,
                "rate": info.frame_rate}
    found = cache.get(digest, "shots", settings) if cache is not None and option == "auto" \
        else None
    try:
        if found is not None:
            shots = ShotChanges(tuple(found["frames"]),
                                Fraction(found["rate"][0], found["rate"][1]), "detected")
        else:
            shots = shot_changes_for(option, media, info.frame_rate, info.duration, progress)
            if cache is not None and option == "auto" and shots is not None:
                cache.put(digest, "shots", settings, {"frames": list(shots.frames), "rate": [
                    shots.rate.numerator, shots.rate.denominator]})
    except InputError as exc:
        if option != "auto":
            raise
        log.warning("no shot changes for %s: %s", Path(media).name, exc)
        shots = None
    fixed = apply_shot_changes(cues, style, shots, words)
    if shots is not None:
        moved = sum((a.start, a.end) != (b.start, b.end) for a, b in zip(cues, fixed,
                                                                         strict=True))
        log.info("%s: %d shot changes (%s), %d captions retimed to them", Path(media).name,
                 len(shots.frames), shots.source, moved)
    return fixed
