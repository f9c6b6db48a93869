"""``ccgen lint --fix`` on the human SDH files: findings before and after, words untouched.

    python bench/lint_fix.py [--styles netflix,bbc] [--out bench/RESULTS.md]

For every subtitle file of ../shared/data/public/captions that --fix can write back (SRT,
WebVTT, TTML, SCC), under each style: the lint findings per timing rule before and after, what is
left of them that the surrounding free time could have allowed (should be 0), and whether
every byte but the times is unchanged (SCC: every caption's text). Output files go to a
temporary folder.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, write_section

from ccgen.captions import load_style
from ccgen.captions.lint import read_events, visible_lines
from ccgen.captions.lintfix import fix_file

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = Path(os.environ.get("CCGEN_PUBLIC_DATA", ROOT.parent / "shared" / "data" / "public"))
TIMING = ("gap", "overlap", "close-gap", "min-duration", "max-duration", "cps")
_TIMES = re.compile(r"\d+:\d{2}:\d{2}[,.]\d{1,3}|\d{2}:\d{2}\.\d{3}")


def without_times(path: Path) -> bytes:
    """Every byte but the times; for SCC (whose times are line labels, and whose words move
    between lines) the decoded text of each caption."""
    if path.suffix == ".scc":
        return "\0".join(e.text for e in read_events(path, 29.97)[0]).encode("utf-8")
    return _TIMES.sub("T", path.read_bytes().decode("utf-8-sig")).encode("utf-8")


def allowed_left(path: Path, report, style) -> int:
    """Remaining duration/reading-speed findings whose free time would have been enough."""
    events, _ = read_events(path, 24.0)
    gap = style.min_gap(24.0)
    order = sorted(range(len(events)), key=lambda i: (events[i].start, events[i].end, i))
    where = {i: k for k, i in enumerate(order)}
    count = 0
    for f in report.findings:
        if f.rule not in ("min-duration", "cps", "max-duration"):
            continue
        k = where[f.cue - 1]
        prev = events[order[k - 1]] if k else None
        after = events[order[k + 1]] if k + 1 < len(order) else None
        lo = prev.end / 1000 + gap if prev else 0.0
        hi = after.start / 1000 - gap if after else float("inf")
        chars = sum(len(ln) for ln in visible_lines(events[f.cue - 1].text))
        need = max(style.min_duration, chars / style.max_cps)
        count += f.rule == "max-duration" or hi - lo >= need + 0.01
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--styles", default="netflix,bbc")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    files = sorted(p for p in (PUBLIC / "captions").iterdir()
                   if p.suffix in (".srt", ".vtt", ".xml", ".scc"))
    head = ("| file | style | cues | timing findings before | after | of which the free time "
            "allowed | all findings before -> after | other bytes identical | time |")
    lines = [f"Measured {date.today()} on {machine()}.", "",
             "Timing findings: " + ", ".join(TIMING) + " (per rule: before/after).", "",
             head, "|" + "---|" * 9]
    with tempfile.TemporaryDirectory() as tmp:
        for style_name in args.styles.split(","):
            style = load_style(style_name)
            for path in files:
                out = Path(tmp) / f"{style_name}.{path.name}"
                start = time.perf_counter()
                result = fix_file(path, style, out)
                seconds = time.perf_counter() - start
                b, a = result.before.summary(), result.after.summary()
                per = ", ".join(f"{r} {b.get(r, 0)}/{a.get(r, 0)}" for r in TIMING
                                if b.get(r, 0) or a.get(r, 0))
                tb, ta = sum(b.get(r, 0) for r in TIMING), sum(a.get(r, 0) for r in TIMING)
                same = without_times(out) == without_times(path)
                lines.append(f"| {path.name} | {style_name} | {result.before.cues} | {tb} "
                             f"({per or '-'}) | **{ta}** | {allowed_left(out, result.after, style)}"
                             f" | {result.before.violations} -> {result.after.violations} | "
                             f"{'yes' if same else 'NO'} | {seconds:.2f} s |")
                print(lines[-1], flush=True)
    lines += ["", "What remains is a caption with no free time around it: chained tightly to "
              "both neighbours (the fix takes no time from a neighbour that would then break a "
              "rule itself, and starts a caption at most 12 frames late), and the line-length "
              "and line-count findings, which only `--rewrap` touches."]
    block = "## `ccgen lint --fix` on the human SDH files (`python bench/lint_fix.py`)\n\n" + \
        "\n".join(lines)
    print(block)
    if args.out:
        write_section(args.out, "lintfix", block)


if __name__ == "__main__":
    main()
