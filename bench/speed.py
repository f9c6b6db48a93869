"""ccgen against bare faster-whisper on the same file, model and threads, side by side.

    python bench/speed.py MEDIA [MEDIA ...] [--runs 3] [--out bench/RESULTS.md]

Each run is a fresh child process (model loading included, as a user pays it), alternating
the variants so that machine noise hits them alike; the median wall time, the median CPU time
(user + system, wait4's rusage: what the run cost the machine, which other jobs on a shared
machine do not inflate the way they inflate wall time) and the peak RSS of the child are
reported with the ratio ccgen / bare. "bare" is ``WhisperModel(same model, cpu, int8, same
threads).transcribe(file, word_timestamps=True)`` consumed to the end: what a user of
faster-whisper alone would run.
"one stage at a time" is the same ccgen with its stages run one by one
(``run_stages(..., aside=False)``), to show what running the diarizer and the tagger beside
the recogniser gains.
Run it with the interpreter of the install to measure: the numbers in bench/RESULTS.md come
from `make demo`'s install (no torchvision or transformers; `make test`'s adds both, and
pyannote.audio's torchmetrics then imports them at every start, about 1 CPU s more).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, write_section

BARE = """
import sys
from faster_whisper import WhisperModel
model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8", cpu_threads=int(sys.argv[3]))
segments, info = model.transcribe(sys.argv[2], word_timestamps=True)
print(sum(len(s.words or []) for s in segments))
"""


ONE_BY_ONE = """
import sys
import ccgen.pipeline, ccgen.stages.runner as runner
ccgen.pipeline.run_stages = lambda stages, ctx: runner.run_stages(stages, ctx, aside=False)
from ccgen.cli import run
run()  # as the ccgen command: its quick exit, its OpenMP wait policy
"""


def _run(cmd: list[str], log: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one child process;
    stop on failure."""
    start = time.perf_counter()
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=err, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{log.read_text()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


CCGEN = [sys.executable, "-m", "ccgen"]
VARIANTS = {  # the whole default pipeline: speech, speakers, sounds, SDH engine
    "ccgen": (CCGEN, []),
    "ccgen, one stage at a time": ([sys.executable, "-c", ONE_BY_ONE], []),
    "ccgen, embedded diarizer": (CCGEN, ["--diarizer", "embedded"]),
    "ccgen, no speakers": (CCGEN, ["--diarizer", "none"]),
}


def bench_file(media: Path, runs: int, threads: int) -> dict:
    from ccgen.media import load_audio, probe
    from ccgen.speech import resolve_model

    model, label = resolve_model(None)
    info = probe(media)
    duration = info.duration or load_audio(media, info).size / 16000
    rows: dict[str, list[tuple[float, float, float]]] = {"bare": [], **{v: [] for v in VARIANTS}}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        for _ in range(runs):
            log = Path(tmp) / "run.log"
            rows["bare"].append(_run([sys.executable, "-c", BARE, model, str(media),
                                      str(threads)], log))
            for name, (cmd, extra) in VARIANTS.items():
                rows[name].append(_run([*cmd, str(media), "-f", "json", "-o", str(out),
                                        "--force", "--no-cache", "-q", *extra], log))
                if name == "ccgen":
                    cues = json.loads(out.read_text())["cues"]
    result = {"media": media.name, "duration": duration, "model": label, "threads": threads,
              "speech_cues": sum(c["kind"] == "speech" for c in cues),
              "sound_cues": sum(c["kind"] != "speech" for c in cues)}
    for name, samples in rows.items():
        result[name] = {"wall": statistics.median(w for w, _, _ in samples),
                        "cpu": statistics.median(c for _, c, _ in samples),
                        "rss": max(r for _, _, r in samples),
                        "walls": [round(w, 2) for w, _, _ in samples]}
    return result


def table(results: list[dict]) -> str:
    lines = ["| media | length | run | wall time (median) | ratio to bare | CPU time (median) "
             "| CPU ratio | peak RSS | wall times |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        bare, bare_cpu = r["bare"]["wall"], r["bare"]["cpu"]
        for name in ("bare", *VARIANTS):
            wall, cpu, rss = r[name]["wall"], r[name]["cpu"], r[name]["rss"]
            label = "bare faster-whisper" if name == "bare" else name
            lines.append(f"| {r['media']} | {r['duration']:.1f} s | {label} | {wall:.2f} s "
                         f"| **{wall / bare:.2f}×** | {cpu:.2f} s | {cpu / bare_cpu:.2f}× "
                         f"| {rss:.0f} MiB | {r[name]['walls']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("media", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()
    threads = len(os.sched_getaffinity(0))
    load = os.getloadavg()[1]
    results = [bench_file(m, args.runs, threads) for m in args.media]
    load = (load + os.getloadavg()[1]) / 2
    body = "\n".join([
        f"Measured {date.today()} on {machine()}, Python {platform.python_version()}; "
        f"model {results[0]['model']}, int8, {threads} threads, median of {args.runs} runs "
        "(each a fresh process, model loading included). The machine was shared with other "
        f"jobs (5-minute load average about {load:.1f} on {threads} cores): wall times vary "
        "with that load, CPU times much less; compare CPU ratios first.",
        "",
        table(results),
        "",
        "Ratio = wall time / bare faster-whisper's wall time on the same file "
        "(target ≤ 1.0×); CPU ratio the same for CPU time. ccgen runs with `--no-cache`, so "
        "every stage is computed. Its output: "
        + "; ".join(f"{r['media']}: {r['speech_cues']} speech and {r['sound_cues']} sound "
                    "captions" for r in results) + ".",
    ])
    print(body)
    write_section(args.out, "speed", "## Speed: ccgen vs bare faster-whisper "
                  "(`python bench/speed.py FILE`)\n\n" + body)


if __name__ == "__main__":
    main()
