"""AudSemThinker throughput: the model card's pattern against ccgen's batched thinker path.

    python bench/describer_gpu.py [--clips 64] [--new-tokens 64] [--out bench/RESULTS.md]
    python bench/describer_gpu.py --tiny --clips 6 --new-tokens 4     # CPU; a test runs this
    python bench/describer_gpu.py --save-tiny DIR                      # tiny random checkpoint

On a GPU the weights are random but the shapes are the real Qwen2.5-Omni-7B thinker's (text 3584
x 28 layers, 4 KV heads, vocab 152064; audio encoder 1280 x 32; vision 1280 x 32), built directly
on the GPU in bf16, so speed and memory are the real model's. Both variants describe the same
clips (2-10 s) and generate the same number of tokens per clip (min = max new tokens):
(a) seed card: the full ``Qwen2_5OmniForConditionalGeneration`` (talker included), the processor's
    default 300 s audio window, one clip at a time, default generation settings;
(b) ccgen: ``AudSemThinker`` (thinker class, window sized to the batch, length-sorted left-padded
    batches sized from free GPU memory). Target: (b) >= 10x (a) in events/s, peak <= 40 GB.
The tiny build (--tiny, --save-tiny) is the test fixture's: a real byte-level BPE tokenizer
trained here with Qwen's special tokens, WhisperFeatureExtractor(128 mel bins), Qwen2-VL image and
video processors, and a 1-layer thinker whose token ids match the tokenizer.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from ccgen.events.audsemthinker import AudSemThinker, RunSummary, render_prompt  # noqa: E402
from ccgen.events.qwen_omni import OMNI_TOKENS, omni_processor  # noqa: E402

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>",
            "<|audio_eos|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_bos|>",
            "<|vision_eos|>", "<|vision_pad|>", "<|IMAGE|>", "<|VIDEO|>"]
CORPUS = [
    "<think> The clip starts with a sharp sound, then a steady rhythm. </think>",
    "<semantic_elements> 1. Sound-generating animated beings: - Dog (barking) 2. Physical objects"
    " generating sound: - Car (passing) 3. Actions: - Barking </semantic_elements>",
    "<answer> A dog barks repeatedly while a car passes in the distance. </answer>",
    "<answer> Upbeat pop music plays with a steady drum beat. </answer>",
    "A door slams, footsteps echo, rain falls and thunder rumbles; a crowd cheers and applauds.",
]


def build_tokenizer(extra: list[str] | None = None, vocab_size: int = 600) -> Any:
    """A real Qwen2 tokenizer (byte-level BPE trained on a few sentences) with Qwen's specials."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    prompt = render_prompt("caption", "") + render_prompt("sdh", "")
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS,
                                  show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator([prompt, *CORPUS, *(extra or [])] * 4, trainer)
    model = json.loads(bpe.to_str())["model"]
    tok = Qwen2Tokenizer(vocab=model["vocab"], merges=[tuple(m) for m in model["merges"]],
                         eos_token="<|im_end|>", pad_token="<|endoftext|>",
                         extra_special_tokens=OMNI_TOKENS)
    tok.add_tokens(SPECIALS, special_tokens=True)
    return tok


def thinker_config(tokenizer: Any, tiny: bool) -> Any:
    """The thinker config: tiny, or the real 7B shape; token ids follow `tokenizer`."""
    from transformers import Qwen2_5OmniThinkerConfig

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIALS}
    if tiny:
        text = dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                    num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                    rope_parameters={"rope_type": "default", "rope_theta": 1e6,
                                     "mrope_section": [2, 3, 3]})
        audio = dict(encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=64,
                     d_model=32, output_dim=32)
        vision = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2,
                      out_hidden_size=32, fullatt_block_indexes=[0])
    else:  # Qwen/Qwen2.5-Omni-7B's thinker (config.json) where transformers' defaults differ
        text = dict(rope_parameters={"rope_type": "default", "rope_theta": 1e6,
                                     "mrope_section": [16, 24, 24]})
        audio = dict()
        vision = dict(hidden_size=1280, intermediate_size=3420)
    text.update(pad_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"])
    return Qwen2_5OmniThinkerConfig(
        text_config=text, audio_config=dict(num_mel_bins=128, **audio), vision_config=vision,
        audio_token_index=ids["<|AUDIO|>"], image_token_index=ids["<|IMAGE|>"],
        video_token_index=ids["<|VIDEO|>"], audio_start_token_id=ids["<|audio_bos|>"],
        audio_end_token_id=ids["<|audio_eos|>"], vision_start_token_id=ids["<|vision_bos|>"],
        vision_end_token_id=ids["<|vision_eos|>"])


def _generation_config(tokenizer: Any) -> Any:
    from transformers import GenerationConfig

    ids = [tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")]
    return GenerationConfig(eos_token_id=ids, pad_token_id=ids[1])


def save_tiny(folder: str | Path, seed: int = 0, chunk_length: int = 30, std: float = 0.5,
              extra_text: list[str] | None = None) -> Path:
    """Write a tiny random thinker checkpoint laid out like gijs/audsemthinker's folder.

    `std` > the default init makes the random model's output depend on its input audio."""
    import torch
    from transformers import Qwen2_5OmniThinkerForConditionalGeneration

    tokenizer = build_tokenizer(extra_text)
    torch.manual_seed(seed)
    model = Qwen2_5OmniThinkerForConditionalGeneration(thinker_config(tokenizer, tiny=True))
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() > 1:
                param.normal_(0.0, std)
    model.generation_config = _generation_config(tokenizer)
    folder = Path(folder)
    model.save_pretrained(folder)
    omni_processor(tokenizer, chunk_length).save_pretrained(folder)
    return folder


def make_clips(n: int, seed: int = 0, low: float = 2.0, high: float = 10.0) -> list[np.ndarray]:
    """`n` clips of `low`-`high` s: a tone and noise bursts, 16 kHz float32."""
    rng = np.random.default_rng(seed)
    clips = []
    for _ in range(n):
        t = np.arange(int(rng.uniform(low, high) * 16000)) / 16000
        tone = 0.2 * np.sin(2 * np.pi * rng.uniform(200, 2000) * t)
        clips.append((tone + 0.05 * rng.standard_normal(t.size)).astype(np.float32))
    return clips


def _build(cls: Any, config: Any, device: str, dtype: Any) -> Any:
    """Random weights straight on `device` (never a 7B model on the host first)."""
    import warnings

    import torch

    with torch.device(device), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
        return cls._from_config(config, dtype=dtype).eval()


def _measure(device: str, fn: Any) -> tuple[float, float | None]:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
        return time.perf_counter() - start, torch.cuda.max_memory_allocated() / 2**30
    return time.perf_counter() - start, None


def seed_card(tokenizer: Any, clips: list[np.ndarray], new_tokens: int, device: str,
              tiny: bool) -> dict:
    """(a): the full Omni class, default processor window, one clip at a time."""
    import torch
    from transformers import Qwen2_5OmniConfig, Qwen2_5OmniForConditionalGeneration

    thinker = thinker_config(tokenizer, tiny).to_dict()
    talker = (dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                   num_attention_heads=2, num_key_value_heads=1, head_dim=16,
                   embedding_size=32, rope_parameters={"rope_type": "default",
                   "mrope_section": [2, 3, 3]}) if tiny else
              dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                   num_attention_heads=12, num_key_value_heads=4, head_dim=64,
                   embedding_size=3584, rope_parameters={"rope_type": "default",
                   "mrope_section": [16, 16, 0]}))
    token2wav = (dict(dit_config=dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                      head_dim=16, emb_dim=16, enc_emb_dim=16, enc_dim=16,
                                      enc_channels=[16, 16, 16, 16, 48], enc_attention_channels=8,
                                      enc_se_channels=8),
                      bigvgan_config=dict(upsample_initial_channel=32)) if tiny else None)
    config = Qwen2_5OmniConfig(thinker_config=thinker, talker_config=talker,
                               token2wav_config=token2wav)
    dtype = torch.float32 if device == "cpu" else torch.bfloat16
    model = _build(Qwen2_5OmniForConditionalGeneration, config, device, dtype)
    model.speaker_map = {"Chelsie": {}}  # random weights ship no spk_dict.pt; text output only
    processor = omni_processor(tokenizer, chunk_length=300)  # the base model's default
    placeholder = "<|audio_bos|><|AUDIO|><|audio_eos|>"
    text = render_prompt("caption", placeholder)
    generated = 0
    older = "return_audio" in inspect.signature(model.generate).parameters  # transformers < 5.2x
    text_only = {"return_audio": False} if older else {"generation_mode": "text"}

    def one(clip: np.ndarray) -> int:
        inputs = processor(text=[text], audio=[clip], return_tensors="pt", padding=True)
        inputs = inputs.to(model.device)
        inputs["input_features"] = inputs["input_features"].to(dtype)
        out = model.generate(**inputs, **text_only, thinker_max_new_tokens=new_tokens,
                             thinker_min_new_tokens=new_tokens)
        return out.shape[1] - inputs["input_ids"].shape[1]

    one(clips[0])  # warm-up (CUDA context, kernels), not timed

    def run() -> None:
        nonlocal generated
        generated = sum(one(c) for c in clips)

    wall, peak = _measure(device, run)
    return _row("seed card: full Omni class, 300 s window, batch 1", clips, generated, wall, peak)


def ccgen_path(tokenizer: Any, clips: list[np.ndarray], new_tokens: int, device: str,
               tiny: bool) -> dict:
    """(b): ccgen's AudSemThinker backend on the same clips."""
    import torch
    from transformers import Qwen2_5OmniThinkerForConditionalGeneration

    dtype = torch.float32 if device == "cpu" else torch.bfloat16
    model = _build(Qwen2_5OmniThinkerForConditionalGeneration, thinker_config(tokenizer, tiny),
                   device, dtype)
    model.generation_config = _generation_config(tokenizer)
    describer = AudSemThinker(device=device, max_new_tokens=new_tokens,
                              min_new_tokens=new_tokens,
                              loaded=(model, omni_processor(tokenizer, chunk_length=300)))
    describer.describe_arrays(clips[:1])  # warm-up, not timed
    describer.summary = RunSummary()
    wall, peak = _measure(device, lambda: describer.describe_arrays(clips))
    summary = describer.summary
    row = _row(f"ccgen: thinker, batched (batch {summary.batch_size})", clips,
               summary.tokens, wall, peak)
    row["batch_size"] = summary.batch_size
    return row


def _free(device: str) -> None:
    import torch

    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()


def _row(name: str, clips: list[np.ndarray], tokens: int, wall: float, peak: float | None
         ) -> dict:
    return {"variant": name, "clips": len(clips), "tokens": tokens, "seconds": round(wall, 3),
            "events_per_s": round(len(clips) / wall, 3), "tokens_per_s": round(tokens / wall, 1),
            "peak_gib": None if peak is None else round(peak, 2)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny model on the CPU (tests)")
    parser.add_argument("--save-tiny", metavar="DIR", help="write the tiny checkpoint and stop")
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    parser.add_argument("--out", metavar="FILE", help="write a section of bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.save_tiny:
        print(save_tiny(args.save_tiny))
        return {}
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    device = "cpu" if args.tiny else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run with --tiny for the CPU check")
    torch.manual_seed(0)
    tokenizer = build_tokenizer()
    clips = make_clips(args.clips)
    rows = []
    for variant in (seed_card, ccgen_path):  # one model on the GPU at a time
        rows.append(variant(tokenizer, clips, args.new_tokens, device, args.tiny))
        _free(device)
    result = {"device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu (tiny)",
              "new_tokens": args.new_tokens, "rows": rows,
              "speedup": round(rows[1]["events_per_s"] / rows[0]["events_per_s"], 2)}
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    if args.out:
        from common import machine, write_section

        lines = [f"## AudSemThinker describer ({result['device']}; {machine()})", "",
                 f"{args.clips} clips of 2-10 s, {args.new_tokens} generated tokens each.", "",
                 "| variant | events/s | tokens/s | peak GPU GiB |", "|---|---|---|---|"]
        lines += [f"| {r['variant']} | {r['events_per_s']} | {r['tokens_per_s']} | "
                  f"{r['peak_gib']} |" for r in rows]
        lines += ["", f"Speed-up: {result['speedup']}x (target >= 10x, peak <= 40 GB)."]
        write_section(Path(args.out), "describer-gpu", "\n".join(lines))
    return result


if __name__ == "__main__":
    main()
