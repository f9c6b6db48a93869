"""Fine-tuning the sound describer on human SDH captions.

``ccgen dataset`` (:func:`build_dataset`) turns media plus its SDH subtitles into clip/caption
pairs; ``ccgen finetune`` (:func:`finetune`) trains a LoRA adapter for AudSemThinker on them.
The training side imports torch, transformers and peft only when it is used, so building a
dataset needs none of them.
"""

from __future__ import annotations

from typing import Any

from ccgen.finetune.dataset import DatasetSummary, Example, build_dataset, read_examples

__all__ = ["DatasetSummary", "Example", "TrainResult", "TrainSettings", "build_dataset",
           "finetune", "read_examples"]


def __getattr__(name: str) -> Any:
    if name in ("finetune", "TrainResult"):
        from ccgen.finetune import train

        return getattr(train, name)
    if name == "TrainSettings":
        from ccgen.finetune.settings import TrainSettings

        return TrainSettings
    raise AttributeError(name)
