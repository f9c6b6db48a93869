#!/usr/bin/env python3
"""DER and speed of the ``embedded`` diarizer on the shared multi-speaker clips (Markdown).

    python bench/diarization.py [DATA_DIR] [--thresholds 0.26,0.28,0.30,0.32] [--long-minutes 5]

DATA_DIR (default ../shared/data/public) holds speech/<clip>.{flac,wav} with <clip>.rttm. DER
uses ccgen.evaluation.metrics (0.25 s collar, overlap scored) on the pipeline's own VAD regions.
"floor" is the DER that perfect speaker labels on those regions would get (missed quiet speech
and overlapped speech, which one speaker per frame cannot score): what the VAD costs, not the
diarizer. The speed row diarizes the clips repeated to ``--long-minutes`` minutes, so model
loading and import time do not count. Clips are read where they are, never copied.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

from ccgen.evaluation.metrics import Turn as RefTurn
from ccgen.evaluation.metrics import diarization_error_rate, read_rttm
from ccgen.media import load_audio, probe
from ccgen.speakers import create
from ccgen.speech import speech_regions

CLIPS = ("ami_dev00.flac", "ami_trn04.flac", "pyannote_sample.wav")
SR = 16000


def _floor(ref: list[RefTurn], regions: list[tuple[float, float]]) -> float:
    oracle = [RefTurn(max(a, t.start), min(b, t.end), t.speaker)
              for a, b in regions for t in ref if min(b, t.end) > max(a, t.start)]
    return diarization_error_rate(ref, oracle).der


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(Path(__file__).resolve().parents[2]
                                                       / "shared" / "data" / "public"))
    parser.add_argument("--thresholds", default="", help="comma list: also sweep these")
    parser.add_argument("--long-minutes", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()
    lines: list[str] = []
    emit = lines.append
    speech_dir = Path(args.data) / "speech"
    clips = []
    for name in CLIPS:
        path = speech_dir / name
        if not path.exists():
            print(f"skipped {name}: not found in {speech_dir}")
            continue
        audio = load_audio(path, probe(path))
        clips.append((name, audio, speech_regions(audio), read_rttm(path.with_suffix(".rttm"))))
    if not clips:
        raise SystemExit("no clips found")

    thresholds = [None] + [float(t) for t in args.thresholds.split(",") if t]
    emit("| threshold | clip | minutes | ref spk | hyp spk | DER | missed | false alarm "
         "| confusion | floor (VAD) | s/min |")
    emit("|---|---|---|---|---|---|---|---|---|---|---|")
    for threshold in thresholds:
        diarizer = create("embedded", threshold=threshold)
        label = f"{threshold:.2f}" if threshold else "default"
        errors = total = 0.0
        for name, audio, regions, ref in clips:
            start = time.perf_counter()
            turns = diarizer.diarize(audio, regions)
            wall = time.perf_counter() - start
            r = diarization_error_rate(ref, [RefTurn(t.start, t.end, t.speaker) for t in turns])
            errors += r.missed + r.false_alarm + r.confusion
            total += r.total
            minutes = len(audio) / SR / 60
            emit(f"| {label} | {name} | {minutes:.2f} | {len({t.speaker for t in ref})} "
                 f"| {len({t.speaker for t in turns})} | {r.der:.3f} | {r.missed / r.total:.3f} "
                 f"| {r.false_alarm / r.total:.3f} | {r.confusion / r.total:.3f} "
                 f"| {_floor(ref, regions):.3f} | {wall / minutes:.2f} |")
        emit(f"| {label} | **pooled** | | | | **{errors / total:.3f}** | | | | | |")

    diarizer = create("embedded")
    joined = np.concatenate([c[1] for c in clips])
    reps = max(1, int(np.ceil(args.long_minutes * 60 * SR / len(joined))))
    long_audio = np.tile(joined, reps)
    regions = speech_regions(long_audio)
    start = time.perf_counter()
    turns = diarizer.diarize(long_audio, regions)
    wall = time.perf_counter() - start
    minutes = len(long_audio) / SR / 60
    speech_min = sum(b - a for a, b in regions) / 60
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    emit(f"\nSpeed: {minutes:.1f} min of audio ({speech_min:.1f} min speech) in {wall:.1f} s = "
         f"{wall / minutes:.2f} s per audio minute, {len({t.speaker for t in turns})} speakers, "
         f"peak RSS {rss:.0f} MiB (whole process).")
    import sys
    from datetime import date

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import machine, write_section

    body = "\n".join([f"Measured {date.today()} on {machine()}. DER on the diarizer's own turns "
                      "(the evaluation table scores caption timing instead), 0.25 s collar, "
                      "target ≤ 25 %.", "", *lines])
    print(body)
    write_section(args.out, "diarization", "## Speaker diarization, embedded backend "
                  "(`python bench/diarization.py`)\n\n" + body)


if __name__ == "__main__":
    main()
