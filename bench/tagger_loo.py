#!/usr/bin/env python3
"""Choose the sound tagger's naming thresholds by leave-one-clip-out; report held-out scores.

    python bench/tagger_loo.py DATA_DIR [--out bench/RESULTS.md]

For each labelled clip of DATA_DIR/events (MANIFEST.tsv labels, as bench/evaluate.py reads
them), the thresholds of :class:`ccgen.events.tagging.TaggerSettings` that decide how events
are named and which names are kept (``family_pool``: how a family's classes add up,
``peak_weight``, ``min_score``, ``generic_score``) are chosen on the OTHER clips (best F1 of
event recall and precision, ties to the higher precision, then to the setting nearest the
shipped thresholds with families pooled by ``max``, the naming before families existed, so
a fold that cannot tell the pools apart keeps the old behaviour), then applied to the
held-out clip. The
pooled held-out recall and precision are what unseen media can expect; the numbers with the
shipped defaults on all clips (tuned on themselves) are printed beside them for comparison.
YAMNet runs once per clip; each setting only re-runs the naming rules on its scores.

``--why`` adds, for every clip, what YAMNet itself gives the classes whose caption would
name the clip's concept (their phrase matches the concept's synonyms in
ccgen/data/evaluation/synonyms.tsv): their best mean and best single window, beside the
classes YAMNet favours. A clip whose own classes stay near zero cannot be named by any rule
over these scores; one where they rise but lose is a naming-rule question.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import machine, write_section  # noqa: E402

from ccgen.evaluation import metrics as M  # noqa: E402
from ccgen.events.families import POOLS  # noqa: E402
from ccgen.events.tagging import TaggerDescriber, TaggerSettings, sound_table  # noqa: E402
from ccgen.events.yamnet import log_mel  # noqa: E402
from ccgen.media import load_audio, probe  # noqa: E402
from ccgen.speech import speech_regions  # noqa: E402

GRID = {"family_pool": ["max", "noisyor", "sum"], "peak_weight": [0.0, 0.25, 0.5, 0.75],
        "min_score": [0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
        "generic_score": [0.2, 0.3, 0.4, 0.5, 0.6, 0.7]}
# Ties between settings go to the one nearest this: the shipped thresholds, families by max.
REFERENCE = replace(TaggerSettings(), family_pool="max")


def labelled_clips(data: Path) -> list[tuple[Path, str]]:
    with (data / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    out = []
    for row in rows:
        concept = M.concept_from_label(row.get("reference") or "")
        if row["file"].startswith("events/") and concept and (data / row["file"]).exists():
            out.append((data / row["file"], concept))
    return out


def score(counts: list[tuple[int, int, int]]) -> tuple[float, float, float]:
    """(recall, precision, F1) of per-clip (hit, naming cues, sound cues)."""
    hits = sum(c[0] for c in counts)
    named, sounds = sum(c[1] for c in counts), sum(c[2] for c in counts)
    recall = hits / len(counts) if counts else 0.0
    precision = named / sounds if sounds else 0.0
    f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    return recall, precision, f1


def why(clips: list[tuple[Path, str]], scores: list, classes: list[str],
        synonyms: dict[str, list[str]]) -> list[str]:
    """Per clip: YAMNet's scores for the classes that would name its concept, and its
    favourites (class mean over the clip's windows, and the best single window)."""
    table = sound_table()
    rows = ["| clip | concept | its classes: best mean / best window | YAMNet's top classes "
            "(mean / best window) |", "|---|---|---|---|"]
    for (path, concept), s in zip(clips, scores, strict=True):
        words = synonyms.get(concept) or [concept]
        own = [k for k, name in enumerate(classes) if name in table and table[name].kind
               in ("sound", "music") and M.names_concept(table[name].phrase, words)]
        mean, peak = s.mean(axis=0), s.max(axis=0)
        best = max(own, key=lambda k: mean[k]) if own else None
        mine = (f"{classes[best]} {mean[best]:.3f} / {max(peak[k] for k in own):.3f} "
                f"({len(own)} classes)" if best is not None else "none")
        top = ", ".join(f"{classes[k]} {mean[k]:.2f} / {peak[k]:.2f}"
                        for k in mean.argsort()[::-1][:3])
        rows.append(f"| {path.name} | {concept} | {mine} | {top} |")
    return rows


def why_families(clips: list[tuple[Path, str]], scores: list, tagger: TaggerDescriber
                 ) -> list[str]:
    """Per clip: the sound families that pool best over the whole clip (¾ mean + ¼ peak of
    the per-window family score), by each pool: what rule 3 weighs before any phrase."""
    families = tagger.families
    rows = ["| clip | concept | top families by sum (max / noisy-or / sum) |", "|---|---|---|"]
    for (path, concept), s in zip(clips, scores, strict=True):
        pooled = {how: {f: float(0.75 * t.mean() + 0.25 * t.max()) for f, t in
                        families.tracks(s, families.members, how).items()} for how in POOLS}
        top = sorted(pooled["sum"], key=pooled["sum"].get, reverse=True)[:3]
        cells = ", ".join(f"{f.lstrip('=')} {pooled['max'][f]:.2f} / {pooled['noisyor'][f]:.2f}"
                          f" / {pooled['sum'][f]:.2f}" for f in top)
        rows.append(f"| {path.name} | {concept} | {cells} |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS.md")
    ap.add_argument("--why", action="store_true",
                    help="also list what YAMNet gives each clip's own classes")
    args = ap.parse_args()
    clips = labelled_clips(args.data)
    synonyms = M.load_synonyms()
    tagger = TaggerDescriber()
    inputs = []
    for path, concept in clips:
        audio = load_audio(path, probe(path))
        mel = log_mel(audio)
        speech = [(a, b) for a, b in speech_regions(audio)]
        inputs.append((tagger.model.scores(audio, mel), mel, speech, concept))
    settings = [replace(TaggerSettings(), **dict(zip(GRID, values, strict=True)))
                for values in itertools.product(*GRID.values())]
    # counts[s][c]: (hit, naming, sounds) of clip c under setting s
    counts, texts = [], []
    for setting in settings:
        tagger.settings = setting
        row, words = [], []
        for scores, mel, speech, concept in inputs:
            cues = tagger.events_from_scores(scores, mel, speech)
            m = M.match_events([{"kind": c.kind, "text": c.text} for c in cues], concept,
                               synonyms)
            row.append((int(m.hit), m.naming_cues, m.sound_cues))
            words.append("; ".join(c.text for c in cues))
        counts.append(row)
        texts.append(words)
    # ties go to the setting nearest REFERENCE (distance in grid steps)
    prior = [sum(abs(GRID[k].index(getattr(x, k)) - GRID[k].index(getattr(REFERENCE, k)))
                 for k in GRID) for x in settings]
    held, rows = [], []
    for c, (path, concept) in enumerate(clips):
        others = [i for i in range(len(clips)) if i != c]

        def quality(s: int, others: list[int] = others) -> tuple[float, float]:
            _, precision, f1 = score([counts[s][i] for i in others])
            return f1, precision

        best = max(range(len(settings)), key=lambda s: (quality(s), -prior[s]))
        held.append(counts[best][c])
        chosen = ", ".join(f"{k}={getattr(settings[best], k)}" for k in GRID)
        hit, named, sounds = counts[best][c]
        rows.append(f"| {path.name} | {concept} | {'yes' if hit else 'no'} | {named}/{sounds} "
                    f"| {chosen} | {texts[best][c]} |")
    everything = list(range(len(clips)))
    # on all clips (tuned on themselves) ties go to the shipped setting: is it among the best?
    shipped = [sum(abs(GRID[k].index(getattr(x, k)) - GRID[k].index(getattr(TaggerSettings(), k)))
                   for k in GRID) for x in settings]
    on_all = max(range(len(settings)),
                 key=lambda s: (score([counts[s][i] for i in everything])[2:0:-1], -shipped[s]))
    default = next(i for i, s in enumerate(settings)
                   if all(getattr(s, k) == getattr(TaggerSettings(), k) for k in GRID))
    r_held, p_held, _ = score(held)
    r_all, p_all, _ = score(counts[default])
    lines = [f"### Sound tagger thresholds, leave-one-clip-out ({date.today()})", "",
             f"Machine: {machine()}, shared with other runs. Command: "
             f"`python bench/tagger_loo.py {args.data}`. "
             f"Grid: {GRID}.", "",
             "| held-out clip | concept | named | naming/sound cues | chosen on the other clips "
             "| cues |", "|---|---|---|---|---|---|", *rows, "",
             f"**Held-out** (each clip judged with thresholds chosen without it): recall "
             f"{sum(h[0] for h in held)}/{len(held)} = {100 * r_held:.1f} %, precision "
             f"{sum(h[1] for h in held)}/{sum(h[2] for h in held)} = {100 * p_held:.1f} %.",
             f"Shipped defaults on all clips (tuned on themselves, for comparison): recall "
             f"{100 * r_all:.1f} %, precision {100 * p_all:.1f} %. Chosen on all clips: "
             + ", ".join(f"{k}={getattr(settings[on_all], k)}" for k in GRID) + "."]
    if args.why:
        lines += ["", "What YAMNet gives each clip (class mean over its windows / best window):",
                  "", *why(clips, [x[0] for x in inputs], list(tagger.model.classes), synonyms),
                  "", "The sound families each clip pools to (clip-wide, ¾ mean + ¼ peak):", "",
                  *why_families(clips, [x[0] for x in inputs], tagger)]
    block = "\n".join(lines)
    print(block)
    write_section(args.out, "tagger-loo", block)


if __name__ == "__main__":
    main()
