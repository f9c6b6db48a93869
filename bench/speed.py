"""ccgen against bare faster-whisper on the same file, model and threads, side by side.

    python bench/speed.py MEDIA [MEDIA ...] [--runs 3] [--out bench/RESULTS.md]

Each run is a fresh child process (model loading included, as a user pays it), alternating
the two so that machine noise hits both alike; the median wall time and the peak RSS of the
child (wait4's ru_maxrss) are reported with the ratio ccgen / bare. "bare" is
``WhisperModel(same model, cpu, int8, same threads).transcribe(file, word_timestamps=True)``
consumed to the end: what a user of faster-whisper alone would run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, measured, write_section

BARE = """
import sys
from faster_whisper import WhisperModel
model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8", cpu_threads=int(sys.argv[3]))
segments, info = model.transcribe(sys.argv[2], word_timestamps=True)
print(sum(len(s.words or []) for s in segments))
"""


def _run(cmd: list[str], log: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process; stop on failure."""
    code, wall, rss_kib, tail = measured(cmd, log, timeout=3600)
    if code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{tail}")
    return wall, rss_kib / 1024


VARIANTS = {
    "ccgen": [],  # the whole default pipeline: speech, speakers, sounds, SDH engine
    "ccgen, no speakers": ["--diarizer", "none"],
}


def bench_file(media: Path, runs: int, threads: int) -> dict:
    from ccgen.media import load_audio, probe
    from ccgen.speech import resolve_model

    model, label = resolve_model(None)
    info = probe(media)
    duration = info.duration or load_audio(media, info).size / 16000
    rows: dict[str, list[tuple[float, float]]] = {"bare": [], **{v: [] for v in VARIANTS}}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        for _ in range(runs):
            log = Path(tmp) / "run.log"
            rows["bare"].append(_run([sys.executable, "-c", BARE, model, str(media),
                                      str(threads)], log))
            for name, extra in VARIANTS.items():
                rows[name].append(_run([sys.executable, "-m", "ccgen", str(media), "-f", "json",
                                        "-o", str(out), "--force", "--no-cache", "-q", *extra],
                                       log))
        cues = json.loads(out.read_text())["cues"]
    result = {"media": media.name, "duration": duration, "model": label, "threads": threads,
              "speech_cues": sum(c["kind"] == "speech" for c in cues),
              "sound_cues": sum(c["kind"] != "speech" for c in cues)}
    for name, samples in rows.items():
        result[name] = {"wall": statistics.median(w for w, _ in samples),
                        "rss": max(r for _, r in samples)}
    return result


def table(results: list[dict]) -> str:
    lines = ["| media | length | run | wall time (median) | ratio to bare | RTF | peak RSS |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        bare = r["bare"]["wall"]
        for name in ("bare", *VARIANTS):
            wall, rss = r[name]["wall"], r[name]["rss"]
            label = "bare faster-whisper" if name == "bare" else name
            lines.append(f"| {r['media']} | {r['duration']:.1f} s | {label} | {wall:.2f} s "
                         f"| **{wall / bare:.2f}×** | {wall / r['duration']:.3f} "
                         f"| {rss:.0f} MiB |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("media", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()
    threads = len(os.sched_getaffinity(0))
    results = [bench_file(m, args.runs, threads) for m in args.media]
    body = "\n".join([
        f"Measured {date.today()} on {machine()}, Python {platform.python_version()}; "
        f"model {results[0]['model']}, int8, {threads} threads, median of {args.runs} runs "
        "(each a fresh process, model loading included).",
        "",
        table(results),
        "",
        "Ratio = wall time / bare faster-whisper's wall time on the same file "
        "(target ≤ 1.3×, peak RSS ≤ 2 GB); RTF = wall time / media length. ccgen runs with "
        "`--no-cache`, so every stage is computed. Its output: "
        + "; ".join(f"{r['media']}: {r['speech_cues']} speech and {r['sound_cues']} sound "
                    "captions" for r in results) + ".",
    ])
    print(body)
    write_section(args.out, "speed", "## Speed: ccgen vs bare faster-whisper "
                  "(`python bench/speed.py FILE`)\n\n" + body)


if __name__ == "__main__":
    main()
