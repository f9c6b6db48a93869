"""LoRA fine-tuning throughput and peak GPU memory for the AudSemThinker thinker.

    python bench/finetune_gpu.py [--steps 10] [--gradient-checkpointing] [--out bench/RESULTS.md]
    python bench/finetune_gpu.py --tiny --steps 2        # CPU, tiny model; a test runs this

On a GPU the weights are random but the shape is the real Qwen2.5-Omni-7B thinker's (text 3584 x
28 layers, audio encoder 1280 x 32, vision tower included: ~8.9 B parameters), built directly
on the GPU in bf16 (never on the host first), so memory and speed are the real model's. Each
step is ccgen finetune's own: the same collator (prompt, processor, completion-only labels),
LoRA on the language model's q/v projections (r 8, alpha 16, dropout 0.05), AdamW, gradient
clipping; batch 4 clips of 10 s. Target: one H100, peak <= 60 GB.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from describer_gpu import _build, build_tokenizer, make_clips, thinker_config  # noqa: E402

from ccgen.events.qwen_omni import omni_processor  # noqa: E402
from ccgen.finetune.batches import Collator, tokens  # noqa: E402
from ccgen.finetune.dataset import Example  # noqa: E402
from ccgen.finetune.train import lora_model, optimizer_for, optimizer_step  # noqa: E402

TARGET_GIB = 60 * 1e9 / 2**30  # 60 GB


def completion(words: int) -> str:
    """An AudSemThinker-shaped completion with about `words` words of reasoning."""
    think = " ".join(["the clip has a sharp knock and a door"] * max(1, words // 9))
    return Example(Path("clip.flac"), "door slams", think, "1. Physical objects generating sound: "
                   "- Door (slamming)").completion()


def run(tiny: bool, steps: int, batch_size: int, seconds: float, words: int,
        checkpointing: bool) -> dict[str, Any]:
    import torch
    from transformers import Qwen2_5OmniThinkerForConditionalGeneration

    device = "cpu" if tiny else "cuda"
    dtype = torch.float32 if tiny else torch.bfloat16
    torch.manual_seed(0)
    tokenizer = build_tokenizer()
    processor = omni_processor(tokenizer, chunk_length=300)  # the real base model's window
    thinker = _build(Qwen2_5OmniThinkerForConditionalGeneration, thinker_config(tokenizer, tiny),
                     device, dtype)
    params = sum(p.numel() for p in thinker.parameters())
    if checkpointing:
        thinker.gradient_checkpointing_enable(gradient_checkpointing_kwargs={
            "use_reentrant": False})
    model = lora_model(thinker)
    model.train()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    optimizer, scheduler = optimizer_for(model, 2e-4, steps + 1)
    collate = Collator(processor, "caption")
    clips = make_clips(batch_size, low=seconds, high=seconds)
    batch = collate(clips, [completion(words)] * batch_size)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    losses = [optimizer_step(model, [batch], optimizer, scheduler)]  # warm-up, not timed
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        losses.append(optimizer_step(model, [batch], optimizer, scheduler))
    if device == "cuda":
        torch.cuda.synchronize()
    wall = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None
    return {"device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu (tiny)",
            "params_m": round(params / 1e6, 1), "trainable_m": round(trainable / 1e6, 3),
            "batch_size": batch_size, "clip_seconds": seconds,
            "sequence_tokens": int(batch["input_ids"].shape[1]),
            "completion_tokens": tokens(batch) // batch_size,
            "gradient_checkpointing": checkpointing, "steps": steps,
            "seconds": round(wall, 3), "steps_per_s": round(steps / wall, 3),
            "examples_per_s": round(steps * batch_size / wall, 2),
            "peak_gib": None if peak is None else round(peak, 2),
            "fits_target": None if peak is None else peak <= TARGET_GIB,
            "losses": [round(x, 4) for x in losses]}


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| variant | steps/s | examples/s | peak GPU GiB | tokens/example |",
             "|---|---|---|---|---|"]
    for r in rows:
        name = "LoRA q/v" + (" + gradient checkpointing" if r["gradient_checkpointing"] else "")
        lines.append(f"| {name} | {r['steps_per_s']} | {r['examples_per_s']} | {r['peak_gib']} "
                     f"| {r['sequence_tokens']} ({r['completion_tokens']} completion) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny model on the CPU (tests)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps (after 1 warm-up)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of every clip")
    parser.add_argument("--think-words", type=int, default=90,
                        help="reasoning words in the completion (0: the empty-think targets)")
    parser.add_argument("--gradient-checkpointing", action="store_true",
                        help="also measure with gradient checkpointing")
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    parser.add_argument("--out", metavar="FILE", help="write a section of bench/RESULTS.md")
    args = parser.parse_args(argv)
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    if not args.tiny and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run with --tiny for the CPU check")
    rows = []
    for checkpointing in (False, True) if args.gradient_checkpointing else (False,):
        rows.append(run(args.tiny, args.steps, args.batch_size, args.seconds, args.think_words,
                        checkpointing))
        if not args.tiny:
            torch.cuda.empty_cache()
    result = {"rows": rows, "table": table(rows)}
    print(result["table"])
    print(json.dumps(rows, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.out:
        from common import machine, write_section

        first = rows[0]
        lines = [f"## LoRA fine-tuning ({first['device']}; {machine()})", "",
                 f"Thinker of {first['params_m']} M parameters (random weights, real shape), "
                 f"{first['trainable_m']} M trainable; batch {first['batch_size']} clips of "
                 f"{first['clip_seconds']:g} s, {first['steps']} timed steps after 1 warm-up.",
                 "", result["table"], "", "Target: peak <= 60 GB on one H100."]
        write_section(Path(args.out), "finetune-gpu", "\n".join(lines))
    return result


if __name__ == "__main__":
    main()
