"""What a fine-tuning run learns with: the recipe's numbers, in one checked record.

:class:`TrainSettings` holds every hyperparameter of ``ccgen finetune`` (the defaults follow
the reference recipe, :mod:`ccgen.finetune.train`); ``finetune()`` takes one instead of a
score of keyword arguments, and checks it before any data or model is read, so a wrong number
fails in a second, not after the model has loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from ccgen.errors import InputError
from ccgen.events.audsemthinker import DEFAULT_MODEL, PROMPTS

# The language model's q/v, named model.language_model.layers.N (transformers >= 5.2x) or
# model.layers.N (5.17): the audio tower's layers (audio_tower.…) never match.
DEFAULT_TARGETS = r"(model\.)?(language_model\.)?layers\.\d+\.self_attn\.(q|v)_proj"


@dataclass(frozen=True)
class TrainSettings:
    """The recipe: model, schedule, LoRA shape, prompt and checkpoints."""

    base_model: str = DEFAULT_MODEL
    epochs: int = 1
    lr: float = 2e-4
    batch_size: int = 4
    grad_accum: int = 1
    max_steps: int | None = None  # overrides epochs
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    target_modules: str = DEFAULT_TARGETS
    seed: int = 0
    prompt: str = "caption"
    gradient_checkpointing: bool = False
    save_every: int = 200  # optimizer steps between checkpoints

    @classmethod
    def of(cls, **options: Any) -> TrainSettings:
        """Settings from keyword options; a name that is no setting is an error (a misspelt
        option must not fall back to a default unnoticed)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown fine-tuning setting(s): {', '.join(unknown)}")
        return cls(**options)

    def check(self) -> None:
        """The numbers a person can get wrong: InputError naming them."""
        counts = {"epochs": self.epochs, "batch size": self.batch_size, "lora r": self.lora_r,
                  "lora alpha": self.lora_alpha, "grad accum": self.grad_accum,
                  "save every": self.save_every}
        bad = [k for k, v in counts.items() if v < 1] + (["lr"] if not self.lr > 0 else [])
        bad += ["lora dropout"] if not 0 <= self.lora_dropout < 1 else []
        bad += ["max steps"] if self.max_steps is not None and self.max_steps < 1 else []
        if bad:
            raise InputError(f"out of range: {', '.join(bad)} (counts >= 1, lr > 0, "
                             "dropout in [0, 1))")
        if self.prompt not in PROMPTS:
            raise InputError(f"unknown prompt {self.prompt!r}; choose {', '.join(PROMPTS)}")

    def steps(self, examples: int) -> tuple[int, int]:
        """Optimizer steps per epoch and in all for `examples` training examples."""
        per_epoch = math.ceil(math.ceil(examples / self.batch_size) / self.grad_accum)
        return per_epoch, self.max_steps or self.epochs * per_epoch
