"""How fast the SDH engine formats words into captions (target: 10,000 words in under 1 s).

    python bench/engine_speed.py [--words 10000] [--runs 5] [--out bench/RESULTS.md]

Words are a reproducible pseudo-random stream (3 speakers, sentence punctuation, pauses, one
sound event every ~30 words), formatted under every preset; the median of several runs is
reported per preset, with the caption count.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, write_section

from ccgen.captions import build_captions, load_style, presets
from ccgen.cues import SoundEvent, Word

VOCAB = ("the a we you they house door morning quiet really never always little very "
         "because across window kitchen telephone remember tomorrow yesterday wonderful "
         "somebody everything nothing listen careful").split()


def stream(n: int, seed: int = 0) -> tuple[list[Word], list[SoundEvent]]:
    rng = random.Random(seed)
    words, sounds, t, speaker = [], [], 0.0, "S1"
    for i in range(n):
        if rng.random() < 0.03:
            t += rng.uniform(0.8, 2.5)
            sounds.append(SoundEvent(t - 0.7, t - 0.1, "sound", "door knocking"))
            speaker = rng.choice(["S1", "S2", "S3"])
        text = rng.choice(VOCAB)
        if rng.random() < 0.12:
            text += rng.choice([".", "?", "!", ","])
        length = 0.12 + 0.04 * len(text)
        words.append(Word(t, t + length, text, 0.9, speaker))
        t += length + rng.uniform(0.02, 0.2)
        if i % 40 == 39:
            speaker = rng.choice(["S1", "S2", "S3"])
    return words, sounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()
    words, sounds = stream(args.words)
    rows = ["| style | captions | median time | words/s |", "|---|---|---|---|"]
    for name in presets():
        style = load_style(name)
        times, count = [], 0
        for _ in range(args.runs):
            fresh_words = [Word(**w.__dict__) for w in words]
            fresh_sounds = list(sounds)  # frozen events: nothing to copy
            start = time.perf_counter()
            count = len(build_captions(fresh_words, fresh_sounds, style, 25.0, None))
            times.append(time.perf_counter() - start)
        med = statistics.median(times)
        rows.append(f"| {name} | {count} | {med:.3f} s | {args.words / med:,.0f} |")
    body = "\n".join([f"Measured {date.today()} on {machine()}: {args.words:,} words and "
                      f"{len(sounds)} sound events, median of {args.runs} runs "
                      "(target: under 1 s).", "", *rows])
    print(body)
    write_section(args.out, "engine", "## SDH engine speed (`python bench/engine_speed.py`)"
                  "\n\n" + body)


if __name__ == "__main__":
    main()
