"""Throughput of --engine ray against the local engine, and the stage costs behind the
README's archive estimate.

    python bench/cluster.py [--data ../shared/data/public] [--out bench/RESULTS.md]

On one folder of real clips (linked into a temporary folder, never copied into the repo),
side by side in one run: ``--engine local`` with ``-j 1`` and ``-j 2``, and ``--engine ray``
(a Ray instance started for the run, as without ``--ray-address``) with 1 and 2 CPU actors.
Each run is a fresh ``ccgen`` process with ``--no-cache`` (model loading, and Ray's start,
included): files per minute and the ratio to local ``-j 1``. Then, in this process, one
Captioner's time per stage (from its progress hook) per minute of audio, and how many clips
per minute of audio the GPU describer would get (its event finder and clip planner, which
run on the CPU actors): the measured inputs to the README's scaling estimate.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, measured, write_section

CLIPS = ["speech/jfk.flac", "speech/pocketsphinx_goforward.flac",
         "speech/cmu_arctic_us_aew_a0003.flac", "speech/cmu_arctic_us_axb_a0005.flac",
         "speech/librivox_sense_and_sensibility_0880.flac",
         "speech/librivox_sense_and_sensibility_0930.flac", "speech/ami_dev00.flac",
         "speech/pyannote_sample.wav", "events/esc50_1-100032-A-0_dog.flac",
         "events/esc50_clapping.flac", "events/esc50_5-156999-C-19_thunderstorm.flac",
         "events/speechcommands_running_tap_15s.flac"]
RUNS = [("local", 1), ("local", 2), ("ray", 1), ("ray", 2)]
LOADS: list[float] = []


def folder_of(data: Path, where: Path) -> tuple[Path, float]:
    """Links to the clips in `where`; the audio's total length in seconds."""
    from ccgen.media import probe

    total = 0.0
    for rel in CLIPS:
        (where / Path(rel).name).symlink_to(data / rel)
        total += probe(data / rel).duration or 0.0
    return where, total


def throughput(folder: Path, work: Path, rounds: int) -> dict[tuple[str, int], list[float]]:
    """Wall seconds of each run in RUNS, `rounds` times (every other round in reverse
    order, so a burst of load elsewhere does not always hit the same engine)."""
    walls: dict[tuple[str, int], list[float]] = {run: [] for run in RUNS}
    for r in range(rounds):
        for engine, jobs in RUNS if r % 2 == 0 else RUNS[::-1]:
            out = work / f"{engine}-{jobs}-{r}"
            out.mkdir()
            cmd = [sys.executable, "-m", "ccgen", str(folder), "-d", str(out), "--no-cache",
                   "-q", "--engine", engine, "-j", str(jobs)]
            code, wall, _rss, tail = measured(cmd, work / f"{engine}-{jobs}-{r}.log",
                                              timeout=1800)
            LOADS.append(os.getloadavg()[0])  # the machine's 1-min load as each run ends
            print(f"{engine} x{jobs}: {wall:.1f} s, exit {code} {tail if code else ''}",
                  flush=True)
            if code != 0:
                raise SystemExit(f"{engine} -j {jobs} failed: {tail}")
            walls[(engine, jobs)].append(wall)
    return walls


def stage_costs(folder: Path) -> tuple[dict[str, float], float, int]:
    """Seconds per stage label over the folder (one Captioner, models loaded first), the
    audio's seconds, and the describer's clips for all of it."""
    from ccgen.events import clips as cliplib
    from ccgen.media import load_audio, probe
    from ccgen.pipeline import Captioner, Options
    from ccgen.speech import VadSettings, speech_regions

    captioner = Captioner(Options(cache=False))
    captioner.transcriber  # noqa: B018 - loaded before the clock starts, as in a warm actor
    spent: dict[str, float] = {}
    audio_s, clips = 0.0, 0
    for src in sorted(folder.iterdir()):
        marks: list[tuple[str, float]] = []

        def step(stage: str, *more: float, marks: list = marks) -> None:
            if not more and (not marks or marks[-1][0] != stage):
                marks.append((stage, time.perf_counter()))

        captioner(src, step)
        marks.append(("end", time.perf_counter()))
        for (stage, t0), (_, t1) in zip(marks, marks[1:], strict=False):
            spent[stage] = spent.get(stage, 0.0) + t1 - t0
        info = probe(src)
        audio = load_audio(src, info)
        audio_s += audio.size / 16000
        regions = [tuple(r) for r in speech_regions(audio, VadSettings())]
        events, _ = cliplib.find_events(audio, regions)
        clips += len(cliplib.plan_clips(events, audio.size / 16000))
    return spent, audio_s, clips


def report(walls: dict[tuple[str, int], list[float]], total_s: float,
           spent: dict[str, float], audio_s: float, clips: int) -> str:
    best = {run: min(w) for run, w in walls.items()}
    base = best[("local", 1)]
    rounds = len(walls[("local", 1)])
    lines = [
        "## Ray engine throughput (`python bench/cluster.py`)", "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, **shared with other "
        f"engineers' tests and benchmarks while it ran (1-min load average "
        f"{min(LOADS):.1f}-{max(LOADS):.1f} on 2 cores as the runs ended)**: "
        "read the ratios, measured side by side in one run, not the absolute times. "
        f"{len(CLIPS)} shared clips, {total_s:.0f} s of audio; each run a fresh `ccgen` "
        "with `--no-cache` (model loading and, for ray, starting a local Ray instance "
        f"included); {rounds} rounds, every other one in reverse order; the best wall time "
        "of each is used.", "",
        "| engine | workers | wall s (best) | all runs, s | files / min | vs local -j 1 |",
        "|---|---|---|---|---|---|"]
    for (engine, jobs), wall in best.items():
        runs = ", ".join(f"{w:.0f}" for w in walls[(engine, jobs)])
        lines.append(f"| {engine} | {jobs} | {wall:.1f} | {runs} | "
                     f"{60 * len(CLIPS) / wall:.1f} | {base / wall:.2f}x |")
    lines += ["", f"Stage costs, one warm Captioner in one process (as in an actor), "
              f"{audio_s:.0f} s of audio: seconds of compute per minute of audio.", "",
              "| stage | s per audio minute |", "|---|---|"]
    for stage, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {stage} | {60 * seconds / audio_s:.2f} |")
    lines.append(f"| **all** | **{60 * sum(spent.values()) / audio_s:.2f}** |")
    lines += ["", f"The GPU describer's input: {clips} clips (at most 30 s each) for these "
              f"{audio_s:.0f} s, {60 * clips / audio_s:.1f} clips per audio minute (YAMNet "
              "event finder and clip planner, as the CPU actors run them)."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get(
        "CCGEN_PUBLIC_DATA", Path(__file__).resolve().parents[2] / "shared/data/public")))
    parser.add_argument("--out", type=Path, help="write the section into this RESULTS.md")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ccgen-cluster-bench-") as tmp:
        work = Path(tmp)
        (work / "clips").mkdir()
        folder, total_s = folder_of(args.data, work / "clips")
        walls = throughput(folder, work, args.rounds)
        spent, audio_s, clips = stage_costs(folder)
    text = report(walls, total_s, spent, audio_s, clips)
    print(text)
    if args.out:
        write_section(args.out, "cluster", text)


if __name__ == "__main__":
    main()
