"""Shot-change detection: right and fast enough? ccgen's detector against the alternatives.

    python bench/shots.py [--runs 3] [--scenedetect-python PYTHON] [--out bench/RESULTS.md]

Videos: the shared film clip (Big Buck Bunny, 160x90, 24 fps; its 3 hard cuts were checked
by eye, frames 285, 378, 553) and a 60 s 1280x720 synthetic video made here with ffmpeg, six
lavfi sources with cuts at known frames (one shot fades in from black, one is a cellular
automaton: all motion).

Detectors, each in a fresh process, median wall time of --runs, side by side:
- ccgen: ffmpeg's scene score on frames scaled to 160 px, threshold 0.15 (ccgen.media.shots);
- the same score on full-size frames (why ccgen scales);
- PySceneDetect 0.7.2 ContentDetector and AdaptiveDetector (defaults), when importable by
  --scenedetect-python (it needs OpenCV, which ccgen does not install:
  ``python -m venv /tmp/scd && /tmp/scd/bin/pip install scenedetect opencv-python-headless``).

Also the threshold's margin: the scene scores of the real cuts and of every other frame,
and the threshold chosen on each video alone (geometric middle of its margin) tried on the
other (leave-one-clip-out).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, write_section

from ccgen.media import find_ffmpeg
from ccgen.media.shots import SCENE_THRESHOLD

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = Path(os.environ.get("CCGEN_PUBLIC_DATA", ROOT.parent / "shared" / "data" / "public"))
FILM = PUBLIC / "events" / "caption_inspector_BigBuckBunny_160x90-24fps.mov"
FILM_CUTS = [285, 378, 553]  # checked by eye (frames extracted around each, see RESULTS)
SYNTHETIC = [("testsrc2", 301, ""), ("smptehdbars", 250, ",fade=in:0:48"),
             ("mandelbrot", 317, ""), ("gradients", 200, ""), ("cellauto", 129, ",scale=1280:720"),
             ("testsrc", 243, "")]

CCGEN = ("import json, sys; from ccgen.media.shots import detect; "
         "w = None if sys.argv[3] == 'full' else 160; "
         "print(json.dumps(list(detect(sys.argv[1], float(sys.argv[2]), width=w).frames)))")
SCENEDETECT = ("import json, sys, scenedetect as s; "
               "d = {'content': s.ContentDetector, 'adaptive': s.AdaptiveDetector}[sys.argv[3]]; "
               "print(json.dumps([a.frame_num for a, _ in s.detect(sys.argv[1], d())[1:]]))")


def make_synthetic(path: Path) -> list[int]:
    args, chain, cuts, total = [], [], [], 0
    for n, (source, frames, extra) in enumerate(SYNTHETIC):
        args += ["-f", "lavfi", "-i", f"{source}=size=1280x720:rate=24"]
        chain.append(f"[{n}]trim=end_frame={frames},setpts=PTS-STARTPTS{extra},format=yuv420p"
                     f"[s{n}]")
        total += frames
        cuts.append(total)
    joined = "".join(f"[s{n}]" for n in range(len(SYNTHETIC)))
    graph = ";".join(chain) + f";{joined}concat=n={len(SYNTHETIC)}:v=1:a=0,setsar=1[v]"
    subprocess.run([find_ffmpeg().ffmpeg, "-nostdin", "-loglevel", "error", "-y", *args,
                    "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset",
                    "veryfast", "-g", "48", str(path)], check=True)
    return cuts[:-1]


def startup(python: str, code: str, runs: int) -> float:
    """Median time to start the interpreter and import the detector, without a video."""
    imports = "; ".join(p for p in code.split("; ") if p.startswith(("import", "from")))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([python, "-c", imports], check=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(python: str, code: str, video: Path, *args: str) -> tuple[float, list[int]]:
    start = time.perf_counter()
    out = subprocess.run([python, "-c", code, str(video), *args], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    return time.perf_counter() - start, json.loads(out.stdout.strip().splitlines()[-1])


def scores(video: Path, scale: bool = True) -> dict[int, float]:
    """ffmpeg's scene score of every frame, on the frames ccgen scores (160 px) or full-size."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "scores.txt"
        subprocess.run([find_ffmpeg().ffmpeg, "-nostdin", "-loglevel", "error", "-i",
                        str(video), "-an", "-vf",
                        ("scale='min(160,iw)':-2:flags=area+accurate_rnd+bitexact,"
                         if scale else "") +
                        f"select='gte(scene,0)',metadata=print:file={log}", "-f", "null", "-"],
                       check=True)
        text = log.read_text()
    frames = [int(f) for f in re.findall(r"frame:(\d+)", text)]
    values = [float(v) for v in re.findall(r"scene_score=([\d.]+)", text)]
    return dict(zip(frames, values, strict=True))


def duration(video: Path) -> float:
    out = subprocess.run([find_ffmpeg().ffmpeg, "-hide_banner", "-i", str(video)],
                         capture_output=True, text=True).stderr
    h, m, s = re.search(r"Duration: (\d+):(\d+):([\d.]+)", out).groups()
    return int(h) * 3600 + int(m) * 60 + float(s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenedetect-python", default=sys.executable)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    has_scd = subprocess.run([args.scenedetect_python, "-c", "import scenedetect"],
                             capture_output=True).returncode == 0
    detectors = [("ccgen: ffmpeg scene, 160 px (shipped)", sys.executable, CCGEN, "160"),
                 ("ffmpeg scene, full-size frames", sys.executable, CCGEN, "full")]
    if has_scd:
        detectors += [("PySceneDetect ContentDetector", args.scenedetect_python, SCENEDETECT,
                       "content"),
                      ("PySceneDetect AdaptiveDetector", args.scenedetect_python, SCENEDETECT,
                       "adaptive")]
    rows, margins, full = [], {}, {}
    started = {name: startup(python, code, args.runs) for name, python, code, _ in detectors}
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = Path(tmp) / "synthetic720.mp4"
        videos = [("Big Buck Bunny clip, 160x90", FILM, FILM_CUTS),
                  ("synthetic, 1280x720", synthetic, make_synthetic(synthetic))]
        for label, video, truth in videos:
            minutes = duration(video) / 60
            for name, python, code, arg in detectors:
                times, found = [], []
                for _ in range(args.runs):
                    seconds, found = run(python, code, video, "24", arg)
                    times.append(seconds)
                wall = statistics.median(times)
                missed = sorted(set(truth) - set(found))
                extra = sorted(set(found) - set(truth))
                rows.append((label, name, wall, wall / minutes,
                             (wall - started[name]) / minutes, len(truth) - len(missed),
                             len(truth), missed, extra))
                print(rows[-1], flush=True)
            s = scores(video)
            cut_low = min(s[c] for c in truth)
            other_high = max(v for f, v in s.items() if f not in truth)
            margins[label] = (cut_low, other_high)
            s = scores(video, scale=False)
            full[label] = (min(s[c] for c in truth), max(v for f, v in s.items()
                                                         if f not in truth))
    lines = [f"Measured {date.today()} on {machine()}; median of {args.runs} runs, each a "
             "fresh process (start-up included), side by side in one run.", "",
             "| video | detector | wall | s per minute of video | s per minute, start-up "
             "excluded | cuts found | missed | false |", "|---|---|---|---|---|---|---|---|"]
    for label, name, wall, per_min, alone, hit, total, missed, extra in rows:
        lines.append(f"| {label} | {name} | {wall:.2f} s | {per_min:.2f} | **{alone:.2f}** | "
                     f"{hit}/{total} | {missed or '-'} | {extra or '-'} |")
    base = {label: alone for label, name, _, _, alone, *_ in rows if name.startswith("ccgen")}
    ratios = [f"{name} {alone / base[label]:.2f}x on the {label.split(',')[0]}"
              for label, name, _, _, alone, *_ in rows if not name.startswith("ccgen")]
    lines += ["", "Start-up (interpreter and imports, no video; subtracted above): " + "; ".join(
        f"{name} {sec:.2f} s" for name, sec in started.items()) + ".",
              "Detection time against ccgen's, start-up excluded: " + "; ".join(ratios) + "."]
    (a_low, a_high), (b_low, b_high) = margins.values()
    pick_a, pick_b = math.sqrt(a_low * a_high), math.sqrt(b_low * b_high)
    names = list(margins)
    lines += ["", "Scene scores at 160 px (the real cuts' lowest; the highest of every other "
              "frame): " + "; ".join(f"{k}: {lo:.3f} / {hi:.3f}" for k, (lo, hi) in
                                     margins.items()) + "; on full-size frames: " + "; ".join(
                  f"{k}: {lo:.3f} / {hi:.3f}" for k, (lo, hi) in full.items()) + ".",
              f"Leave-one-clip-out: the threshold from the {names[0]} alone ({pick_a:.3f}) "
              f"{'separates' if b_high < pick_a < b_low else 'does NOT separate'} the "
              f"{names[1]}; from the {names[1]} alone ({pick_b:.3f}) "
              f"{'separates' if a_high < pick_b < a_low else 'does NOT separate'} the "
              f"{names[0]}. Shipped: {SCENE_THRESHOLD} (geometric middle of the pooled "
              f"margin {max(a_high, b_high):.3f}..{min(a_low, b_low):.3f}: "
              f"{math.sqrt(max(a_high, b_high) * min(a_low, b_low)):.3f})."]
    if not has_scd:
        lines += ["", "PySceneDetect was not importable: its rows are missing."]
    block = "## Shot-change detection (`python bench/shots.py`)\n\n" + "\n".join(lines)
    print(block)
    if args.out:
        write_section(args.out, "shots", block)


if __name__ == "__main__":
    main()
