"""``ccgen finetune``: LoRA supervised fine-tuning of the AudSemThinker thinker on SDH pairs.

Defaults follow the reference recipe (GLJS/AudSemThinker ``training/main_omni.py``;
README, "Models"): LoRA r 8, alpha 16, dropout 0.05 on q/v projections, lr 2e-4 with linear decay,
batch 4, 1 epoch, loss only on the assistant completion, clips under 1000 samples dropped; bf16
weights on the GPU (the LoRA weights and optimizer stay float32, peft's default). One choice
differs on purpose: the reference's plain ``["q_proj", "v_proj"]`` also adapts the audio
encoder's 32 layers; ccgen's default regex keeps LoRA to the language model, so a house style
changes how the model words a sound, not how it hears (``--target-modules q_proj,v_proj``
restores theirs).

A plain torch loop rather than transformers' Trainer: the model loads through the same code as
captioning (:func:`ccgen.events.audsemthinker.load`), batches are built by the same processor
call, and resuming is exact (:mod:`ccgen.finetune.checkpoint`). The output folder is an adapter
that ``ccgen VIDEO --describer audsemthinker --adapter DIR`` loads (its config names the base),
with ``training.json`` (settings, losses, data) and a model card (``README.md``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import re
import shutil
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ccgen.errors import CcgenError, InputError, first_line
from ccgen.events.qwen_omni import adapter_base, out_of_memory
from ccgen.finetune import checkpoint
from ccgen.finetune.batches import Collator, loss_sum, tokens
from ccgen.finetune.dataset import MIN_SAMPLES, Example, prepare_output, read_clip, read_examples
from ccgen.finetune.settings import DEFAULT_TARGETS, TrainSettings

log = logging.getLogger("ccgen")

MAX_GRAD_NORM = 1.0  # transformers' Trainer default (the reference clips at 0.5 only when asked)


@dataclass
class TrainResult:
    """What a run did; `model` is the trained peft model still in memory (for callers and
    tests; the CLI only reports the rest)."""

    output: Path
    steps: int
    total_steps: int
    train_losses: list[float]
    val_losses: list[dict[str, float]]
    examples: int
    val_examples: int
    dropped: int
    seconds: float
    resumed_from: int = 0
    model: Any = field(default=None, repr=False, compare=False)

    def line(self) -> str:
        last = f"{self.train_losses[-1]:.3f}" if self.train_losses else "-"
        val = f", validation loss {self.val_losses[-1]['loss']:.3f}" if self.val_losses else ""
        return (f"finetune: {self.steps}/{self.total_steps} steps on {self.examples} examples "
                f"in {self.seconds:.0f} s, last loss {last}{val}; adapter in {self.output}")


def lora_model(thinker: Any, r: int = 8, alpha: int = 16, dropout: float = 0.05,
               targets: str = DEFAULT_TARGETS) -> Any:
    """Wrap the thinker in a peft LoRA model (only the adapter weights train)."""
    from peft import LoraConfig, get_peft_model

    # a regex matches whole module paths; plain names (q_proj,v_proj) match every such layer
    names = targets.split(",") if re.fullmatch(r"[\w,]+", targets) else targets
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=names,
                        bias="none")
    try:
        with warnings.catch_warnings():  # peft probes a transformers property renamed in 5.x
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing",
                                    category=FutureWarning)
            return get_peft_model(thinker, config)
    except ValueError as exc:
        raise InputError(f"LoRA targets {targets!r}: {first_line(exc, 160)}") from None


def optimizer_for(model: Any, lr: float, total_steps: int) -> tuple[Any, Any]:
    """AdamW on the trainable weights with a linear decay to 0 (the Trainer's default)."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: max(0.0, 1.0 - step / max(1, total_steps)))
    return optimizer, scheduler


def optimizer_step(model: Any, batches: list[dict], optimizer: Any, scheduler: Any) -> float:
    """Accumulate gradients over `batches`, clip, step; return the step's loss: the mean per
    completion token over all of them (so accumulation equals one big batch)."""
    import torch

    count = sum(tokens(b) for b in batches)
    total = 0.0
    for b in batches:
        loss = loss_sum(model, b) / max(1, count)
        loss.backward()
        total += float(loss.detach())
    params = [p for p in model.parameters() if p.requires_grad]
    torch.nn.utils.clip_grad_norm_(params, MAX_GRAD_NORM)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return total


def resolve_device(device: str) -> str:
    """'cuda' where there is one; 'cpu' only when asked (a 7B model trains for days there)."""
    from ccgen.events.audsemthinker import resolve_device as resolve

    return resolve(device, "ccgen finetune", "--device cpu forces the CPU (only sensible for "
                   "tiny test models)")


def finetune(data: str | Path, output: str | Path, settings: TrainSettings | None = None, *,
             device: str = "auto", resume: bool = False, force: bool = False,
             val_data: str | Path | None = None, quiet: bool = False,
             on_step: Callable[[int, float], None] | None = None, **options: Any) -> TrainResult:
    """Fine-tune a LoRA adapter on a JSONL of examples and write it to `output`.

    The recipe is `settings` (or :meth:`TrainSettings.of` the keyword `options`, e.g.
    ``lr=1e-3``); the rest says where and how this run goes. `val_data` defaults to
    ``validation.jsonl`` beside a ``train.jsonl`` (``ccgen dataset``'s layout). Checkpoints go
    to ``output/checkpoints`` every ``save_every`` optimizer steps, at each epoch's end and on
    Ctrl-C; `resume` continues from the newest with the same settings. `on_step(step, loss)`
    is called after every step.
    """
    s = settings if settings is not None else TrainSettings.of(**options)
    if settings is not None and options:
        raise TypeError("pass the settings or keyword options, not both")
    s.check()
    data, out = Path(data), Path(output)
    examples = read_examples(data)  # bad data is named before the device is questioned
    base_model = s.base_model
    if adapter_base(base_model) is not None:
        raise InputError(f"--base-model {base_model} is a LoRA adapter: a new adapter would "
                         "name only its base and lose it at captioning time; fine-tune from "
                         "the base model (or merge the adapter into a full checkpoint)")
    where = resolve_device(device)
    validation, found = _validation_and_start(data, val_data, out, resume, force)
    if Path(base_model).expanduser().is_dir():  # the adapter config must find it from anywhere
        s = replace(s, base_model=str(Path(base_model).expanduser().resolve()))
    per_epoch, total = s.steps(len(examples))
    record = {"base_model": s.base_model, "data_sha1": _sha1(data), "examples": len(examples),
              "epochs": s.epochs, "max_steps": s.max_steps, "total_steps": total,
              "steps_per_epoch": per_epoch, "lr": s.lr, "batch_size": s.batch_size,
              "grad_accum": s.grad_accum, "lora_r": s.lora_r, "lora_alpha": s.lora_alpha,
              "lora_dropout": s.lora_dropout, "target_modules": s.target_modules,
              "prompt": s.prompt, "seed": s.seed,
              "gradient_checkpointing": s.gradient_checkpointing}
    model, processor = _lora_on(s, where)
    optimizer, scheduler = optimizer_for(model, s.lr, total)
    state: dict[str, Any] = {"step": 0, "losses": [], "val_losses": [], "dropped": 0,
                             "settings": record}
    if found is not None:
        state = checkpoint.load(found, model, optimizer, scheduler, record)
        log.info("finetune: resuming from %s (step %d of %d)", found, state["step"], total)
    run = _Run(model, Collator(processor, s.prompt), examples, validation, s.batch_size,
               s.grad_accum, per_epoch, s.seed, state)
    started, first = time.perf_counter(), state["step"]
    _loop(run, out, optimizer, scheduler, total, s.save_every, _bar(total, first, quiet),
          on_step)
    model.eval()
    result = TrainResult(out, state["step"], total, state["losses"], state["val_losses"],
                         len(examples), len(validation), state["dropped"],
                         time.perf_counter() - started, first, model)
    _write_outputs(out, model, record, result, data)
    log.info(result.line())
    return result


def _lora_on(s: TrainSettings, where: str) -> tuple[Any, Any]:
    """The base thinker on `where` with fresh LoRA weights (seeded), and its processor."""
    import torch

    from ccgen.events.audsemthinker import load

    thinker, processor = load(s.base_model, None, where)
    if s.gradient_checkpointing:
        thinker.gradient_checkpointing_enable(gradient_checkpointing_kwargs={
            "use_reentrant": False})
    torch.manual_seed(s.seed)  # LoRA's A matrices start random
    return lora_model(thinker, s.lora_r, s.lora_alpha, s.lora_dropout,
                      s.target_modules), processor


def _validation_and_start(data: Path, val_data: str | Path | None, out: Path, resume: bool,
                          force: bool) -> tuple[list[Example], Path | None]:
    """The validation examples (``validation.jsonl`` beside a ``train.jsonl`` unless given)
    and the checkpoint to resume from; a fresh run empties `out` (with `force`) first."""
    beside = data.parent / "validation.jsonl"
    if val_data is None and data.name == "train.jsonl" and beside.is_file() and \
            beside.read_text(encoding="utf-8").strip():  # --val-fraction 0 leaves it empty
        val_data = beside
    validation = read_examples(val_data) if val_data is not None else []
    found = checkpoint.latest(out) if resume else None
    if resume and found is None:
        raise InputError(f"--resume: no checkpoint in {out / checkpoint.CHECKPOINTS}")
    if not resume:
        prepare_output(out, force, "adapter")
        shutil.rmtree(out / checkpoint.CHECKPOINTS, ignore_errors=True)
    return validation, found


def _loop(run: _Run, out: Path, optimizer: Any, scheduler: Any, total: int, save_every: int,
          bar: Any, on_step: Callable[[int, float], None] | None) -> None:
    """Train from ``run.state["step"]`` to `total`: validation and a checkpoint at each epoch's
    end, a checkpoint every `save_every` steps, and on Ctrl-C or running out of GPU memory a
    last checkpoint (steps are whole) before the stop is raised."""
    model, state, validation, per_epoch = run.model, run.state, run.validation, run.per_epoch
    started, first = time.perf_counter(), state["step"]
    boundary = checkpoint.rng_state()
    saved = state["step"]
    model.train()
    try:
        with _interrupts_between_steps() as interrupted:
            while state["step"] < total:
                step = state["step"]
                try:
                    loss = run.step(step, optimizer, scheduler)
                except RuntimeError as exc:
                    if not out_of_memory(exc):
                        raise
                    optimizer.zero_grad(set_to_none=True)
                    raise _OutOfMemory(step + 1) from None
                state["step"] = step + 1
                state["losses"].append(round(loss, 6))
                boundary = checkpoint.rng_state()
                epoch_end = (step + 1) % per_epoch == 0 or step + 1 == total
                if epoch_end and validation:
                    value = run.validate()
                    state["val_losses"].append({"epoch": round((step + 1) / per_epoch, 3),
                                                "step": step + 1, "loss": round(value, 6)})
                    log.info("finetune: step %d, validation loss %.4f", step + 1, value)
                if epoch_end or (step + 1) % save_every == 0:
                    checkpoint.save(out, model, optimizer, scheduler, boundary, state)
                    saved = state["step"]
                _progress(bar, state, total, first, started)
                if on_step is not None:
                    on_step(step + 1, loss)
                if interrupted():
                    raise KeyboardInterrupt
    except (KeyboardInterrupt, _OutOfMemory) as stop:
        kept = ""
        if state["step"] > saved:  # the weights are those of state["step"]: steps are whole
            kept = str(checkpoint.save(out, model, optimizer, scheduler, boundary, state))
            log.warning("finetune: stopped; saved %s (continue with --resume)", kept)
        if isinstance(stop, _OutOfMemory):
            raise CcgenError(f"finetune: out of GPU memory at step {stop.step}: lower "
                             "--batch-size (raise --grad-accum to keep the update) or add "
                             "--gradient-checkpointing"
                             + (f"; saved {kept}, continue with --resume" if kept else "")
                             ) from None
        raise
    finally:
        run.pool.shutdown()
        if bar is not None:
            bar.close()


class _OutOfMemory(Exception):
    def __init__(self, step: int) -> None:
        super().__init__(step)
        self.step = step


@contextmanager
def _interrupts_between_steps() -> Iterator[Callable[[], bool]]:
    """Hold a Ctrl-C until the running optimizer step ends, so the checkpoint saved on the way
    out holds exactly the weights of its step count (resuming is then exact); a second Ctrl-C
    stops at once."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    hits: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        if hits:
            raise KeyboardInterrupt
        hits.append(signum)
        log.warning("finetune: stopping after this step (Ctrl-C again to stop now)")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: bool(hits)
    finally:
        signal.signal(signal.SIGINT, previous)


class _Run:
    """The data side of the loop: which examples each step sees, and their loss."""

    def __init__(self, model: Any, collate: Collator, examples: list[Example],
                 validation: list[Example], batch_size: int, grad_accum: int, per_epoch: int,
                 seed: int, state: dict[str, Any]) -> None:
        self.model, self.collate, self.examples = model, collate, examples
        self.validation, self.batch_size, self.grad_accum = validation, batch_size, grad_accum
        self.per_epoch, self.seed, self.state = per_epoch, seed, state
        self.pool = ThreadPoolExecutor(4)  # ffmpeg decodes in parallel, outside the GIL

    def micro_batches(self, step: int) -> list[list[Example]]:
        """The micro-batches of optimizer step `step`: each epoch's order is a function of
        (seed, epoch), so a resumed run sees the same data without any sampler state."""
        epoch, k = divmod(step, self.per_epoch)
        order = random.Random(f"{self.seed}-{epoch}").sample(self.examples, len(self.examples))
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        return batches[k * self.grad_accum:(k + 1) * self.grad_accum]

    def batch(self, examples: list[Example]) -> dict | None:
        arrays = list(self.pool.map(lambda e: read_clip(e.audio), examples))
        kept = [(a, e) for a, e in zip(arrays, examples, strict=True) if a.size >= MIN_SAMPLES]
        self.state["dropped"] += len(examples) - len(kept)
        if not kept:
            return None
        return self.collate([a for a, _ in kept], [e.completion() for _, e in kept])

    def step(self, step: int, optimizer: Any, scheduler: Any) -> float:
        """One optimizer step over the micro-batches of step `step`."""
        batches = [b for b in map(self.batch, self.micro_batches(step)) if b is not None]
        loss = optimizer_step(self.model, batches, optimizer, scheduler)
        if not math.isfinite(loss):
            raise CcgenError(f"finetune: the loss became {loss} at step {step + 1}; lower --lr")
        return loss

    def validate(self) -> float:
        """Mean completion-token loss over the validation examples (dropout off)."""
        import torch

        self.model.eval()
        loss, count = 0.0, 0
        with torch.no_grad():
            for i in range(0, len(self.validation), self.batch_size):
                b = self.batch(self.validation[i:i + self.batch_size])
                if b is not None:
                    loss += float(loss_sum(self.model, b))
                    count += tokens(b)
        self.model.train()
        return loss / max(1, count)


def _bar(total: int, initial: int, quiet: bool) -> Any:
    """tqdm on a terminal (loss in the postfix; ETA is tqdm's own); None when piped or quiet."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="step", desc="finetune", dynamic_ncols=True)


def _progress(bar: Any, state: dict[str, Any], total: int, first: int, started: float) -> None:
    step, loss = state["step"], state["losses"][-1]
    if bar is not None:
        bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        bar.update(1)
    elif step == total or (step - first) % max(1, total // 20) == 0:
        per = (time.perf_counter() - started) / max(1, step - first)
        log.info("finetune: step %d/%d, loss %.4f, %.2f s/step, ETA %.0f s", step, total, loss,
                 per, per * (total - step))


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def _write_outputs(out: Path, model: Any, settings: dict[str, Any], result: TrainResult,
                   data: Path) -> None:
    """The adapter (peft files), training.json and the model card."""
    from ccgen import __version__
    from ccgen.finetune.card import data_summary, render_card
    from ccgen.writers.atomic import write_atomic

    model.save_pretrained(out, save_embedding_layers=False)  # and no hub lookup offline
    record = {"ccgen": __version__, "settings": settings, "data": data_summary(data),
              "steps": result.steps, "train_losses": result.train_losses,
              "val_losses": result.val_losses, "dropped_short_clips": result.dropped,
              "examples": result.examples, "validation_examples": result.val_examples}
    write_atomic(out / "training.json", json.dumps(record, indent=2, ensure_ascii=False) + "\n",
                 force=True)
    write_atomic(out / "README.md", render_card(record, str(out)), force=True)
