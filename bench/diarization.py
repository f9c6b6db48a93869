#!/usr/bin/env python3
"""Old and new diarizer side by side on the shared clips with RTTM, plus leave-one-clip-out.

    python bench/diarization.py [DATA_DIR] [--old embedded] [--new campplus]
        [--thresholds 0.8,0.9,...] [--min-sizes 1,3,5] [--old-thresholds 0.26,0.30,0.34]
        [--step 0.2] [--cap 4] [--long-minutes 10] [--no-write]

DATA_DIR (default ../shared/data/public) holds speech/<clip>.{flac,wav} with <clip>.rttm.
DER from ccgen.evaluation.metrics (0.25 s collar, overlap scored) on the diarizer's own turns,
each backend given the pipeline's own VAD regions.

1. Side by side: each backend runs in its own child process (so peak RSS is its own: clips,
   models and run), with its default settings; speed is diarization wall time per audio
   minute (wall and CPU: the machine is shared, and CPU time says what a run costs
   whatever else is running), model loading excluded (reported apart).
   With --long-minutes, each also runs on the clips looped to that length (time, memory).
2. Held-out fold: for each clip, the settings with the lowest pooled DER on the OTHER clips
   are chosen from the grid and scored on that clip; "held-out pooled" sums those. The new
   backend's grid re-clusters cached embeddings (pyannote's training cache), so a sweep costs
   one embedding pass per clip. The shipped default is the grid point the same rule picks on
   all clips.
Clips are read where they are, never copied.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ccgen.evaluation.metrics import Turn as RefTurn  # noqa: E402
from ccgen.evaluation.metrics import diarization_error_rate, read_rttm  # noqa: E402

CLIPS = ("ami_dev00.flac", "ami_trn04.flac", "pyannote_sample.wav")
SR = 16000


def _load(data: Path) -> list[tuple[str, np.ndarray, list, list]]:
    from ccgen.media import load_audio, probe
    from ccgen.speech import speech_regions

    clips = []
    for name in CLIPS:
        path = data / "speech" / name
        if not path.exists():
            print(f"skipped {name}: not found in {path.parent}", file=sys.stderr)
            continue
        audio = load_audio(path, probe(path))
        clips.append((name, audio, speech_regions(audio), read_rttm(path.with_suffix(".rttm"))))
    if not clips:
        raise SystemExit("no clips found")
    return clips


def _score(ref: list, turns: list) -> dict[str, float]:
    r = diarization_error_rate(ref, [RefTurn(t.start, t.end, t.speaker) for t in turns])
    return {"der": r.der, "missed": r.missed, "false_alarm": r.false_alarm,
            "confusion": r.confusion, "total": r.total,
            "hyp": len({t.speaker for t in turns}), "ref": len({t.speaker for t in ref})}


def child(backend: str, data: Path) -> None:
    """One backend on every clip, in this process: JSON on stdout."""
    warnings.filterwarnings("ignore")
    from ccgen.speakers import create

    clips = _load(data)
    start = time.perf_counter()
    diarizer = create(backend)
    getattr(diarizer, "pipeline", None)  # campplus loads in a thread: wait for it here
    load = time.perf_counter() - start
    rows = []
    for name, audio, regions, ref in clips:
        start, cpu = time.perf_counter(), time.process_time()
        turns = diarizer.diarize(audio, regions)
        wall = time.perf_counter() - start
        rows.append({"clip": name, "minutes": len(audio) / SR / 60, "wall": wall,
                     "cpu": time.process_time() - cpu, **_score(ref, turns)})
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"backend": backend, "load": load, "rss_mib": rss, "rows": rows,
                      "loadavg": os.getloadavg()[0]}))


def child_long(backend: str, data: Path, minutes: float) -> None:
    """One backend on the clips looped to `minutes`: time and peak RSS on a long input."""
    warnings.filterwarnings("ignore")
    from ccgen.speakers import create
    from ccgen.speech import speech_regions

    joined = np.concatenate([c[1] for c in _load(data)])
    audio = np.tile(joined, max(1, int(np.ceil(minutes * 60 * SR / len(joined)))))
    diarizer = create(backend)
    getattr(diarizer, "pipeline", None)  # model loading is not diarization time
    regions = speech_regions(audio)
    start = time.perf_counter()
    turns = diarizer.diarize(audio, regions)
    wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"minutes": len(audio) / SR / 60, "wall": wall, "rss_mib": rss,
                      "speakers": len({t.speaker for t in turns}),
                      "loadavg": os.getloadavg()[0]}))


def _pooled(rows: list[dict]) -> float:
    return sum(r["missed"] + r["false_alarm"] + r["confusion"] for r in rows) / sum(
        r["total"] for r in rows)


def _best(grid: dict[str, list[dict]], skip: str | None = None) -> str:
    """The grid point with the lowest pooled DER on the clips other than `skip`. Several
    thresholds often tie (the same clusters come out); then the middle of the tied run,
    farthest from where the result changes, and of two middles the higher threshold (fewer
    speakers: a false speaker change misleads a deaf viewer more than a missed one). This
    rule was set after the first sweep showed the ties (bench/RESULTS.md says so)."""
    scores = {k: _pooled([r for r in rows if r["clip"] != skip]) for k, rows in grid.items()}
    low = min(scores.values())
    tied = [k for k in grid if scores[k] <= low + 1e-9]
    return tied[len(tied) // 2]


def _held_out(grid: dict[str, list[dict]]) -> tuple[list[tuple[str, str, dict]], str]:
    """For each clip, the grid point best on the others, scored on it; and the point best on
    all clips (the default it would ship)."""
    clips = [r["clip"] for r in next(iter(grid.values()))]
    picks = []
    for held in clips:
        best = _best(grid, held)
        picks.append((held, best, next(r for r in grid[best] if r["clip"] == held)))
    return picks, _best(grid)


def sweep_new(clips: list, thresholds: list[float], sizes: list[int], step: float | None,
              cap: float | None) -> dict[str, list[dict]]:
    import torch

    from ccgen.speakers.segmentation import CampplusDiarizer, CampplusSettings

    settings = CampplusSettings()
    if step is not None:
        settings = replace(settings, step=step)
    if cap is not None:
        settings = replace(settings, max_embed_seconds=cap)
    diarizer = CampplusDiarizer(settings=settings)
    diarizer.pipeline.training = True  # pyannote caches segmentation + embeddings per file
    files = {name: {"waveform": torch.from_numpy(audio)[None], "sample_rate": SR, "uri": name}
             for name, audio, _, _ in clips}
    grid: dict[str, list[dict]] = {}
    for size in sizes:  # grid in threshold order per size: ties resolve along the threshold
        for threshold in thresholds:
            point = replace(settings, threshold=threshold, min_cluster_size=size)
            diarizer.pipeline.instantiate(point.params())
            key = f"threshold {threshold:.2f}, min cluster {size}"
            grid[key] = [{"clip": name, **_score(ref, diarizer.run(audio, files[name]))}
                         for name, audio, _, ref in clips]
    return grid


def sweep_old(clips: list, thresholds: list[float]) -> dict[str, list[dict]]:
    from ccgen.speakers import create

    grid = {}
    for threshold in thresholds:
        diarizer = create("embedded", threshold=threshold)
        grid[f"threshold {threshold:.2f}"] = [
            {"clip": name, **_score(ref, diarizer.diarize(audio, regions))}
            for name, audio, regions, ref in clips]
    return grid


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(ROOT.parent / "shared" / "data"
                                                       / "public"))
    parser.add_argument("--old", default="embedded")
    parser.add_argument("--new", default="campplus")
    parser.add_argument("--thresholds",
                        default="0.70,0.75,0.80,0.85,0.90,0.95,1.00,1.05,1.10")
    parser.add_argument("--min-sizes", default="3")
    parser.add_argument("--old-thresholds", default="0.26,0.28,0.30,0.32,0.34")
    parser.add_argument("--step", type=float, default=None, help="segmentation step (share)")
    parser.add_argument("--cap", type=float, default=None, help="max embedded s per speaker")
    parser.add_argument("--long-minutes", type=float, default=10.0,
                        help="also run each backend on the clips looped to this length (0: no)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--long-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    data = Path(args.data)
    if args.child:
        if args.long_child:
            child_long(args.child, data, args.long_minutes)
        else:
            child(args.child, data)
        return
    warnings.filterwarnings("ignore")
    lines: list[str] = []
    emit = lines.append
    emit("| diarizer | clip | ref spk | hyp spk | DER | missed | false alarm | confusion "
         "| s / audio min | CPU s / audio min |")
    emit("|---|---|---|---|---|---|---|---|---|---|")
    summary = []
    for backend in (args.old, args.new):
        proc = subprocess.run([sys.executable, __file__, str(data), "--child", backend],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{backend} failed: {proc.stderr.strip()[-2000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        rows = result["rows"]
        for r in rows:
            emit(f"| {backend} | {r['clip']} | {r['ref']} | {r['hyp']} | {r['der']:.3f} "
                 f"| {r['missed'] / r['total']:.3f} | {r['false_alarm'] / r['total']:.3f} "
                 f"| {r['confusion'] / r['total']:.3f} | {r['wall'] / r['minutes']:.1f} "
                 f"| {r['cpu'] / r['minutes']:.1f} |")
        minutes = sum(r["minutes"] for r in rows)
        speed = sum(r["wall"] for r in rows) / minutes
        cpu = sum(r["cpu"] for r in rows) / minutes
        emit(f"| {backend} | **pooled** | | | **{_pooled(rows):.3f}** | | | | {speed:.1f} "
             f"| {cpu:.1f} |")
        summary.append((backend, _pooled(rows), speed, result["load"], result["rss_mib"],
                        result["loadavg"]))
    emit("")
    emit("| diarizer | pooled DER (defaults) | s / audio min | model load s | peak RSS MiB "
         "| machine load (1 min avg) |")
    emit("|---|---|---|---|---|---|")
    for backend, der, speed, load, rss, busy in summary:
        emit(f"| {backend} | {der:.3f} | {speed:.1f} | {load:.1f} | {rss:.0f} | {busy:.1f} |")
    (_, old_der, old_speed, _, old_rss, _), (_, new_der, new_speed, _, new_rss, _) = summary
    emit(f"\nNew / old: DER x{new_der / old_der:.2f}, time x{new_speed / old_speed:.1f}, "
         f"peak RSS x{new_rss / old_rss:.1f}.")
    if args.long_minutes > 0:
        emit("\n| diarizer | long input (clips looped) | wall s | s / audio min | speakers "
             "| peak RSS MiB | machine load |")
        emit("|---|---|---|---|---|---|---|")
        for backend in (args.old, args.new):
            proc = subprocess.run([sys.executable, __file__, str(data), "--child", backend,
                                   "--long-child", "--long-minutes", str(args.long_minutes)],
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise SystemExit(f"{backend} failed: {proc.stderr.strip()[-2000:]}")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            emit(f"| {backend} | {r['minutes']:.1f} min | {r['wall']:.1f} "
                 f"| {r['wall'] / r['minutes']:.1f} | {r['speakers']} | {r['rss_mib']:.0f} "
                 f"| {r['loadavg']:.1f} |")

    clips = _load(data)
    for label, grid in (
            (args.new, sweep_new(clips, _floats(args.thresholds),
                                 [int(x) for x in _floats(args.min_sizes)], args.step,
                                 args.cap)),
            (args.old, sweep_old(clips, _floats(args.old_thresholds)))):
        picks, best_all = _held_out(grid)
        emit(f"\nLeave-one-clip-out, {label} (grid: {len(grid)} settings):\n")
        emit("| held-out clip | settings chosen on the other clips | held-out DER |")
        emit("|---|---|---|")
        for held, key, row in picks:
            emit(f"| {held} | {key} | {row['der']:.3f} |")
        emit(f"| **held-out pooled** | | **{_pooled([r for _, _, r in picks]):.3f}** |")
        emit(f"\nChosen on all clips: {best_all} (pooled {_pooled(grid[best_all]):.3f}, "
             "scored on the clips it was chosen on).")
    from datetime import date

    from common import machine, write_section

    body = "\n".join([f"Measured {date.today()} on {machine()}. `python bench/diarization.py"
                      f"{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}`; DER on the "
                      "diarizer's own turns, 0.25 s collar, overlap scored.", "", *lines])
    print(body)
    if not args.no_write:
        write_section(args.out, "diarization", "## Speaker diarization: old vs new "
                      "(`python bench/diarization.py`)\n\n" + body)


if __name__ == "__main__":
    main()
