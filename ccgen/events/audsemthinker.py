"""The GPU describer: AudSemThinker (a Qwen2.5-Omni-7B thinker fine-tuned to reason about sound).

Why it is built this way (measurements in bench/RESULTS.md):
- The checkpoints are thinker-only, so they load with ``Qwen2_5OmniThinkerForConditionalGeneration``
  (``trust_remote_code`` off): the full Omni class would add the speech talker, ignore
  ``max_new_tokens`` and silently build a random model from a thinker checkpoint.
- The processor pads audio to its window (300 s by default); ccgen sizes the window to each batch's
  longest clip, which is at most 30 s (:mod:`ccgen.events.clips` cuts event clips).
- Clips are generated in batches sorted longest first (left padding, greedy decoding); the batch
  size follows free GPU memory, and an out-of-memory error halves it and retries the same clips.
- The output is parsed and condensed into SDH phrases by :mod:`ccgen.events.condense`;
  malformed or truncated answers fall back and are counted in :attr:`AudSemThinker.summary`.
- Confidence: the mean probability of the answer span's tokens (recorded while decoding, not
  from stored scores); of all generated tokens without an answer span; halved if malformed.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np

from ccgen import devices
from ccgen.cues import Cue
from ccgen.errors import CcgenError, InputError
from ccgen.events import clips as cliplib
from ccgen.events.base import register
from ccgen.events.condense import Phrase, condense, parse_output
from ccgen.events.qwen_omni import (  # noqa: F401  (re-exported: the backend's public helpers)
    BASE_PROCESSOR,
    DEFAULT_MODEL,
    GET_WEIGHTS,
    load,
    out_of_memory,
    resolve_device,
    weights_status,
)
from ccgen.media.audio import SAMPLE_RATE
from ccgen.registry import keyword_options, needs
from ccgen.resources import templates_dir

log = logging.getLogger("ccgen")

PROMPTS = ("caption", "sdh")
MAX_BATCH = 64
AUDIO_TOKENS_PER_SECOND = 25
MIN_GPU_BYTES = 20 * 2**30
@dataclass
class Description:
    """What the model said about one clip, and the SDH phrases made from it."""

    think: str
    semantic_elements: str
    answer: str
    caption: str
    confidence: float
    malformed: bool
    problem: str = ""
    truncated: bool = False
    tokens: int = 0
    phrases: list[Phrase] = field(default_factory=list)
    raw: str = ""

    @property
    def kind(self) -> str:
        return self.phrases[0].kind if self.phrases else "sound"


@dataclass(frozen=True)
class ThinkerSettings:
    """Everything the sound cues depend on besides the audio: the stage cache's key."""

    model: str
    adapter: str | None
    prompt: str
    max_new_tokens: int
    min_new_tokens: int
    max_phrases: int
    finder: str


@dataclass
class RunSummary:
    """Counters for the run summary and the review report."""

    clips: int = 0
    batches: int = 0
    batch_size: int = 0
    oom_retries: int = 0
    malformed: int = 0
    truncated: int = 0
    tokens: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        return (f"audsemthinker: {self.clips} clips in {self.batches} batches (batch "
                f"{self.batch_size}, {self.oom_retries} out-of-memory retries), "
                f"{self.malformed} malformed answers ({self.truncated} cut by the token limit), "
                f"{self.tokens} tokens in {self.seconds:.1f} s")


def weights_missing(options: Mapping[str, object]) -> str | None:
    """Why AudSemThinker has nothing to load for these options (``model``, or an adapter's
    base, not found offline), or None. The part of :func:`unsuited` that does not depend on
    this machine's GPU: Ray's driver asks it when deciding for a whole cluster."""
    found, where = weights_status(str(options.get("model") or DEFAULT_MODEL))
    return None if found else f"AudSemThinker weights not found ({where})"


def unsuited(options: Mapping[str, object]) -> str | None:
    """Why ``--describer auto`` should not run AudSemThinker for these options although
    transformers is installed: its weights (``model``) not found, ``device`` cpu, no CUDA
    device, or one too small. Cheapest first: torch is imported only once the weights are
    found, and only ``auto`` asks (asked for by name, it runs on the CPU too)."""
    missing = weights_missing(options)
    if missing is not None:
        return missing
    if options.get("device") == "cpu":
        return "--device cpu (AudSemThinker runs on a GPU)"
    if not devices.cuda_available("torch"):
        return "no CUDA device"
    import torch

    name, memory = torch.cuda.get_device_name(0), torch.cuda.get_device_properties(0).total_memory
    if memory < MIN_GPU_BYTES:  # the bf16 weights alone are 16.6 GiB
        return f"CUDA device {name} has {memory / 2**30:.0f} GiB (AudSemThinker needs 20)"
    return None


def render_prompt(prompt: str, audio_placeholder: str) -> str:
    """The full chat text for one clip, from templates/prompts/*.j2."""
    if prompt not in PROMPTS:
        raise InputError(f"unknown AudSemThinker prompt {prompt!r}; choose {', '.join(PROMPTS)}")
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(templates_dir() / "prompts")),
                      keep_trailing_newline=True, undefined=StrictUndefined, autoescape=False)
    instruction = env.get_template(f"audsemthinker_{prompt}.j2").render().strip()
    system = env.get_template("audsemthinker_system.j2").render().strip()
    return env.get_template("audsemthinker_chat.j2").render(
        system=system, audio=audio_placeholder, instruction=instruction)


def batch_size_for(free_bytes: int, text_config: Any, prompt_tokens: int, new_tokens: int,
                   dtype_bytes: int = 2) -> int:
    """How many clips fit in `free_bytes`: the KV cache of the whole sequence, plus the prefill's
    transient logits (generate computes them for every prompt position) and MLP activations,
    with a 1.5x margin and 1 GiB kept free; between 1 and MAX_BATCH."""
    c = text_config
    head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    kv = 2 * c.num_hidden_layers * c.num_key_value_heads * head_dim * dtype_bytes
    per_clip = ((prompt_tokens + new_tokens) * kv
                + prompt_tokens * (c.vocab_size * (dtype_bytes + 4) + 3 * c.intermediate_size
                                   * dtype_bytes))
    usable = free_bytes - (1 << 30)
    return int(max(1, min(MAX_BATCH, usable // int(per_clip * 1.5))))


class AudSemThinker:
    """The loaded model and processor; describes clips in batches (the Describer protocol)."""

    name = "audsemthinker"

    def __init__(self, model: str | None = None, adapter: str | None = None,
                 device: str = "auto", max_new_tokens: int = 768, batch_size: int | None = None,
                 prompt: str = "caption", max_phrases: int = 2, finder: str = "auto",
                 min_new_tokens: int = 0, loaded: tuple[Any, Any] | None = None) -> None:
        """`loaded` = (thinker, processor) already in memory (benchmarks build random weights
        straight on the GPU); otherwise `model` (id or folder) and `adapter` are loaded."""
        self.model_id = model or DEFAULT_MODEL
        self.device = resolve_device(device)
        self.max_new_tokens = max_new_tokens
        self.min_new_tokens = min_new_tokens  # benchmarks fix the generated length with it
        self.batch_size = batch_size
        self.max_phrases = max_phrases
        self.finder = finder
        self.summary = RunSummary()
        self.settings = ThinkerSettings(self.model_id, adapter, prompt, max_new_tokens,
                                        min_new_tokens, max_phrases, finder)
        self.model, self.processor = loaded or load(self.model_id, adapter, self.device)
        tokens = self.processor.tokenizer
        tokens.padding_side = "left"  # batched generation continues every row at the right end
        placeholder = (self.processor.audio_bos_token + self.processor.audio_token
                       + self.processor.audio_eos_token)
        self.prompt_text = render_prompt(prompt, placeholder)
        self.prompt_tokens = len(tokens(self.prompt_text).input_ids)
        eos = self.model.generation_config.eos_token_id or tokens.eos_token_id
        self.eos = set(eos if isinstance(eos, list) else [eos])
        # the uploaded generation_config names no eos: a turn ends at <|im_end|> either way
        vocab = tokens.get_vocab()
        self.eos |= {vocab[t] for t in ("<|im_end|>", "<|endoftext|>") if t in vocab}
        self.eos.discard(None)
        self.pad_id = tokens.pad_token_id if tokens.pad_token_id is not None else min(self.eos)

    # --- the Describer protocol -----------------------------------------------------------
    def describe(self, audio: np.ndarray, speech: list[tuple[float, float]]) -> list[Cue]:
        """Sound and music cues for a whole soundtrack (16 kHz mono float32)."""
        events, finder = cliplib.find_events(audio, speech, self.finder)
        plan = cliplib.plan_clips(events, audio.size / SAMPLE_RATE)
        log.info("audsemthinker: %d event regions (%s) in %d clips", len(events), finder,
                 len(plan))
        descriptions = self.describe_clips(audio, plan)
        cues: list[Cue] = []
        for clip, desc in zip(plan, descriptions, strict=True):
            cues.extend(cliplib.place_cues(clip, desc.phrases, desc.confidence, self.name))
        log.info(self.summary.line())
        return cliplib.merge_windows(cues)

    # --- batched generation ----------------------------------------------------------------
    def describe_clips(self, audio: np.ndarray, plan: list[cliplib.Clip]) -> list[Description]:
        """Describe planned clips of `audio`; samples are cut one batch at a time."""
        return self._run([lambda c=c: c.samples(audio) for c in plan],
                         [c.seconds for c in plan])

    def describe_arrays(self, arrays: list[np.ndarray]) -> list[Description]:
        """Describe clips given as arrays (each at most 30 s, 16 kHz mono float32)."""
        return self._run([lambda a=a: a for a in arrays], [a.size / SAMPLE_RATE for a in arrays])

    def _run(self, getters: list, seconds: list[float]) -> list[Description]:
        import torch

        started = time.perf_counter()
        order = sorted(range(len(getters)), key=lambda i: -seconds[i])  # longest first
        results: list[Description | None] = [None] * len(getters)
        size = self.batch_size or (self.auto_batch_size(seconds[order[0]]) if order else 1)
        pos = 0
        while pos < len(order):
            idx = order[pos:pos + size]
            arrays = [cliplib.prepared(getters[i]()) for i in idx]
            try:
                outputs = self._generate(arrays)
            except RuntimeError as exc:  # torch.cuda.OutOfMemoryError, or cuBLAS/flash's own
                if not out_of_memory(exc):
                    raise
                outputs = None
            if outputs is None:
                # outside the except block, so the failed step's tensors are gone before retry
                if size == 1:
                    raise CcgenError("out of GPU memory describing a single clip; free the GPU "
                                     "or lower --max-new-tokens")
                size = max(1, size // 2)
                self.summary.oom_retries += 1
                log.warning("audsemthinker: out of GPU memory; retrying with batch size %d", size)
                gc.collect()
                if devices.cuda_available("torch"):
                    torch.cuda.empty_cache()
                continue
            for i, out in zip(idx, outputs, strict=True):
                results[i] = out
            pos += len(idx)
            self.summary.batches += 1
        self.summary.batch_size = size
        self.summary.clips += len(getters)
        self.summary.seconds += time.perf_counter() - started
        done = [r for r in results if r is not None]
        self.summary.malformed += sum(r.malformed for r in done)
        self.summary.truncated += sum(r.truncated for r in done)
        self.summary.tokens += sum(r.tokens for r in done)
        return done

    def auto_batch_size(self, longest_seconds: float) -> int:
        """Batch size from free GPU memory for clips up to `longest_seconds` (8 on a CPU)."""
        import torch

        if self.device == "cpu":
            return 8
        device = torch.device(self.device)
        free, _ = torch.cuda.mem_get_info(device)
        # memory torch keeps reserved from earlier files is free to this run too
        free += torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        prompt = self.prompt_tokens + int(longest_seconds * AUDIO_TOKENS_PER_SECOND) + 2
        return batch_size_for(free, self.model.config.text_config, prompt, self.max_new_tokens)

    def _generate(self, arrays: list[np.ndarray]) -> list[Description]:
        import torch
        from transformers import LogitsProcessorList

        inputs = self.processor(
            text=[self.prompt_text] * len(arrays), audio=arrays, return_tensors="pt",
            padding=True, audio_kwargs={"max_length": max(a.size for a in arrays)})
        inputs = inputs.to(self.model.device)
        inputs["input_features"] = inputs["input_features"].to(self.model.dtype)
        recorder = _ChosenProbability()
        with torch.inference_mode():
            out = self.model.generate(
                **inputs, max_new_tokens=self.max_new_tokens, min_new_tokens=self.min_new_tokens,
                do_sample=False, logits_processor=LogitsProcessorList([recorder]),
                pad_token_id=self.pad_id, eos_token_id=sorted(self.eos))
        new = out[:, inputs["input_ids"].shape[1]:].cpu()
        probs = torch.stack(recorder.steps, dim=1).cpu()
        return [self._describe_row(new[r].tolist(), probs[r].tolist()) for r in range(len(arrays))]

    def _describe_row(self, ids: list[int], probs: list[float]) -> Description:
        """Parse one generation; confidence from the answer span's token probabilities."""
        end = next((k for k, t in enumerate(ids) if t in self.eos), None)
        truncated = end is None
        ids = ids[:end] if end is not None else ids
        probs = probs[:len(ids)]
        tokenizer = self.processor.tokenizer
        text = tokenizer.decode(ids, skip_special_tokens=True)
        parsed = parse_output(text)
        pieces = tokenizer.batch_decode([[t] for t in ids], skip_special_tokens=True)
        starts = [0, *accumulate(len(p) for p in pieces)][:-1]  # each token's offset
        joined = "".join(pieces)
        lo = joined.rfind("<answer>")  # the last one: a thought may quote the tag
        hi = joined.find("</answer>", max(lo, 0))
        hi = hi if hi > lo else len(joined)
        span = [p for s, p in zip(starts, probs, strict=False) if lo >= 0 and lo + 8 <= s < hi]
        span = span or probs
        confidence = float(np.mean(span)) if span else 0.0
        problem = "; ".join(x for x in (parsed.problem, "token limit" if truncated else "") if x)
        if problem:
            confidence *= 0.5
        phrases = condense(parsed.answer, parsed.semantic_elements, parsed.think,
                           self.max_phrases)
        return Description(parsed.think, parsed.semantic_elements, parsed.answer,
                           phrases[0].text if phrases else "", confidence, bool(problem),
                           problem, truncated, len(ids), phrases, text)


class _ChosenProbability:
    """A logits processor (last in the chain) that records, per step, the probability of the
    token greedy decoding picks: a (batch,) vector per step instead of full score tensors."""

    def __init__(self) -> None:
        self.steps: list[Any] = []

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        self.steps.append(scores.float().softmax(dim=-1).max(dim=-1).values)
        return scores


_LOADED: dict[tuple, AudSemThinker] = {}


def describe_audio(audio: np.ndarray | str | Path, model: str | None = None,
                   adapter: str | None = None, device: str = "auto", max_new_tokens: int = 768,
                   prompt: str = "caption") -> Description:
    """Describe one clip (an array at 16 kHz mono, or a media file) of at most 30 s.

    The model stays loaded for further calls with the same settings.
    """
    if not isinstance(audio, np.ndarray):
        from ccgen.media import load_audio, probe

        audio = load_audio(audio, probe(audio))
    seconds = audio.size / SAMPLE_RATE
    if seconds > cliplib.MAX_SECONDS:
        raise InputError(f"the audio is {seconds:.1f} s; AudSemThinker hears at most 30 s at a "
                         "time: pass a shorter clip (ccgen caption cuts long files itself)")
    key = (model, adapter, device, max_new_tokens, prompt)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = AudSemThinker(model, adapter, device, max_new_tokens, prompt=prompt)
    return _LOADED[key].describe_arrays([np.asarray(audio, dtype=np.float32)])[0]


@register("audsemthinker", options=keyword_options(AudSemThinker), auto_check=unsuited,
          available=lambda: needs({"transformers": "transformers"},
                                  "pip install 'ccgen[audsemthinker]'"),
          help="Qwen2.5-Omni thinker + LoRA, needs a GPU with 20 GiB")
def _create(**options: object) -> AudSemThinker:
    return AudSemThinker(**options)  # type: ignore[arg-type]
