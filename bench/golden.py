"""Golden outputs: every shared clip captioned in every format and style, one file each.

A refactor that only restructures must leave these files byte-identical, which `diff -r`
proves. Run it on the commit before the change and after it, twice after (cold, then warm):
the cold run checks the computed path, the warm run the stage cache's decode path.

    rm -rf /tmp/golden-cache/stages
    CCGEN_CACHE_DIR=/tmp/golden-cache OMP_NUM_THREADS=1 python bench/golden.py /tmp/g-base [--quick]
    diff -r /tmp/g-base /tmp/g-new

Keep ``CCGEN_CACHE_DIR`` fixed across runs: the timeline names the bundled speech model by
its path, which lies under that folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = Path(os.environ.get("CCGEN_PUBLIC_DATA", ROOT.parent / "shared" / "data" / "public"))
MEDIA = (".flac", ".wav", ".mp3", ".ogg", ".mov", ".mp4")
QUICK = ("speech/jfk.flac", "speech/pyannote_sample.wav", "speech/ami_trn04.flac",
         "events/esc50_1-100032-A-0_dog.flac", "demo.mp4")
# netflix runs cold; the others rerun only the engine from the warm stage cache and together
# cover close_gap, speaker marks and the CEA-608 lines.
STYLES = ("netflix", "bbc", "dcmp", "cea608")


def media(quick: bool) -> list[tuple[str, Path]]:
    """(name in the output folder, path) for each medium, shared clips first, then the demo."""
    found = [(str(p.relative_to(PUBLIC)), p) for p in sorted(PUBLIC.rglob("*"))
             if p.suffix.lower() in MEDIA]
    found.append(("demo.mp4", ROOT / "samples" / "demo.mp4"))
    return [(rel, p) for rel, p in found if not quick or rel in QUICK]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--quick", action="store_true", help="jfk, meeting, AMI, dog, demo only")
    args = ap.parse_args()
    if not PUBLIC.is_dir():
        print(f"golden: shared data not found at {PUBLIC} (set CCGEN_PUBLIC_DATA)", file=sys.stderr)
        return 2
    import ctranslate2

    from ccgen.pipeline import Captioner, Options
    from ccgen.writers import formats, render

    # Whisper's temperature fallback samples (the guard's second pass over songs does): without
    # a fixed seed two cold runs of the same code give different lyrics. CTranslate2 seeds each
    # worker thread's generator once, so this must come before any model loads.
    ctranslate2.set_random_seed(0)
    captioners = [Captioner(Options(style=s)) for s in STYLES]
    for rel, path in media(args.quick):
        t0 = time.perf_counter()
        for cap in captioners:
            base = args.out / f"{rel}.{cap.style.name}"
            base.parent.mkdir(parents=True, exist_ok=True)
            try:
                tl = cap(path, progress=lambda *_: None)
            except Exception as exc:  # a failure is an output too
                Path(f"{base}.error").write_text(f"{type(exc).__name__}: {exc}\n")
                continue
            for fmt in formats():
                data = render(tl, fmt, cap.style)
                Path(f"{base}.{fmt}").write_bytes(data if isinstance(data, bytes)
                                                  else data.encode("utf-8"))
        print(f"{rel}: {time.perf_counter() - t0:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
