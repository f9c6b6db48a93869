"""A long input end to end: wall time, real-time factor and peak memory of one ccgen run.

    python bench/long_input.py [--hours 2] [--out bench/RESULTS.md] [-- extra ccgen options]

The input is made here, not shipped: the demo's soundtrack looped to the requested length
(speech, sounds, music and silence in the demo's proportions), encoded as Opus so the file
stays small. Peak RSS is the child's ru_maxrss (os.wait4), the number a pipeline operator
sizes machines by.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from common import machine, measured, write_section  # noqa: E402

from ccgen.media import find_ffmpeg  # noqa: E402


def make_input(dest: Path, seconds: float) -> None:
    import subprocess

    subprocess.run([find_ffmpeg().ffmpeg, "-nostdin", "-v", "error", "-y", "-stream_loop",
                    "-1", "-i", str(ROOT / "samples" / "demo.mp4"), "-t", str(seconds), "-vn",
                    "-ac", "1", "-ar", "16000", "-c:a", "libopus", "-b:a", "24k", str(dest)],
                   check=True)


def sample_rss(pid: int, samples: list[tuple[float, float]]) -> None:
    """Append (epoch s, MiB) of `pid`'s resident memory every 0.5 s until it exits: ccgen's
    own process (the overall peak, ru_maxrss, also covers the ffmpeg it waited for; ffmpeg
    decoding Opus holds a few MiB). On more than 2 cores a stage run beside another shows its
    label when the main thread reaches it, so a peak may be credited to the stage before."""
    status = Path(f"/proc/{pid}/status")
    while True:
        try:
            text = status.read_text()
        except OSError:
            return
        kib = next((int(line.split()[1]) for line in text.splitlines()
                    if line.startswith("VmRSS:")), None)
        if kib is None:  # a zombie: it has exited
            return
        samples.append((time.time(), kib / 1024))
        time.sleep(0.5)


def stage_peaks(log: Path, samples: list[tuple[float, float]]
                ) -> list[tuple[str, float, float]]:
    """(stage, seconds from the start, peak MiB while it ran), from ccgen's --log-json stage
    events and the RSS samples."""
    events = [(0.0, "start-up")]
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if item.get("event") == "stage":
            events.append((float(item["time"]), str(item["stage"])))
    if not samples:
        return []
    begin = samples[0][0]
    events[0] = (begin, events[0][1])
    out = []
    for k, (at, name) in enumerate(events):
        until = events[k + 1][0] if k + 1 < len(events) else float("inf")
        inside = [mib for t, mib in samples if at <= t < until]
        if inside:
            out.append((name, at - begin, max(inside)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("extra", nargs="*", help="options passed to ccgen (after --)")
    args = parser.parse_args()
    seconds = args.hours * 3600
    with tempfile.TemporaryDirectory(prefix="ccgen-long-") as tmp:
        media = Path(tmp) / "long.opus"
        make_input(media, seconds)
        out = Path(tmp) / "long.json"
        cmd = [sys.executable, "-m", "ccgen", str(media), "-f", "json", "-o", str(out),
               "--no-cache", "--log-json", *args.extra]
        samples: list[tuple[float, float]] = []
        log = Path(tmp) / "log.txt"
        code, wall, rss_kib, tail = measured(cmd, log, timeout=6 * 3600,
                                             watch=lambda pid: sample_rss(pid, samples))
        if code != 0:
            raise SystemExit(f"ccgen failed ({code}): {tail}")
        timeline = json.loads(out.read_text())
        stages = stage_peaks(log, samples)
    kinds: dict[str, int] = {}
    for cue in timeline["cues"]:
        kinds[cue["kind"]] = kinds.get(cue["kind"], 0) + 1
    body = "\n".join([
        f"Measured {date.today()} on {machine()}: the demo soundtrack looped to "
        f"{args.hours:g} h (Opus), one `ccgen` run, options `{' '.join(args.extra) or '-'}`, "
        f"models {timeline['models']}.",
        "",
        "| length | wall time | real-time factor | peak RSS | cues | speakers |",
        "|---|---|---|---|---|---|",
        f"| {seconds / 3600:g} h | {wall / 60:.1f} min | {wall / seconds:.3f} "
        f"| {rss_kib / 1024:.0f} MiB | {', '.join(f'{k} {v}' for k, v in kinds.items())} "
        f"| {len(timeline['speakers'])} |",
    ])
    body += "\n\nPeak RSS while each stage ran (sampled every 0.5 s from /proc):\n\n" + "\n".join(
        ["| stage | from (s) | peak RSS |", "|---|---|---|"]
        + [f"| {name} | {at:.0f} | {peak:.0f} MiB |" for name, at, peak in stages])
    print(body)
    write_section(args.out, "long", "## Long input (`python bench/long_input.py`)\n\n" + body)


if __name__ == "__main__":
    main()
