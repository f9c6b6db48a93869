"""Batches and loss for supervised fine-tuning of the thinker (shared by train and the bench).

- Text: the same chat frame and prompt inference uses (``render_prompt``), then the example's
  completion and ``<|im_end|>``, so the model learns to stop where generation stops.
- Audio goes through the processor exactly as in :mod:`ccgen.events.audsemthinker` (window
  sized to the batch's longest clip). The processor pads text on the left, as for generation;
  labels follow the attention mask and the rope positions are computed from it, so the side
  does not change the loss.
- Labels: -100 (no loss) up to and including ``<|im_start|>assistant\\n`` and on padding; the
  reference recipe masks the same way, so only the completion is learnt.
- The loss is summed over completion tokens and divided by the token count of the whole
  optimizer step, so gradient accumulation gives the same update as one large batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ccgen.errors import CcgenError
from ccgen.events.audsemthinker import render_prompt
from ccgen.events.clips import prepared

IGNORE = -100
ASSISTANT = "<|im_start|>assistant\n"


class Collator:
    """Turns (audio, completion) pairs into model inputs with completion-only labels."""

    def __init__(self, processor: Any, prompt: str = "caption") -> None:
        self.processor = processor
        tokenizer = processor.tokenizer
        placeholder = (processor.audio_bos_token + processor.audio_token
                       + processor.audio_eos_token)
        self.prompt_text = render_prompt(prompt, placeholder)
        if not self.prompt_text.endswith(ASSISTANT):
            raise CcgenError("the chat template no longer ends with the assistant header")
        self.start_id = tokenizer.convert_tokens_to_ids("<|im_start|>")
        self.header = tokenizer("assistant\n", add_special_tokens=False).input_ids
        self.end = "<|im_end|>"  # closes every turn in the chat frame; generation stops there

    def __call__(self, arrays: Sequence[np.ndarray], completions: Sequence[str]) -> dict:
        import torch

        arrays = [prepared(a) for a in arrays]
        texts = [self.prompt_text + c + self.end for c in completions]
        batch = self.processor(text=texts, audio=arrays, return_tensors="pt", padding=True,
                               audio_kwargs={"max_length": max(a.size for a in arrays)})
        ids = batch["input_ids"]
        labels = torch.full_like(ids, IGNORE)
        for row in range(ids.shape[0]):
            starts = (ids[row] == self.start_id).nonzero().flatten()
            first = int(starts[-1]) + 1 + len(self.header)
            if ids[row, first - len(self.header):first].tolist() != self.header:
                raise CcgenError("cannot find the assistant turn in a training example")
            keep = batch["attention_mask"][row].bool()
            keep[:first] = False
            labels[row, keep] = ids[row, keep]
        batch["labels"] = labels
        return dict(batch)


def tokens(batch: dict) -> int:
    """Completion tokens the loss is computed on (after the one-token shift)."""
    return int((batch["labels"][:, 1:] != IGNORE).sum())


def loss_sum(model: Any, batch: dict) -> Any:
    """Summed cross-entropy over completion tokens (float32), one forward pass."""
    import torch

    inputs = {k: v.to(model.device) for k, v in batch.items() if k != "labels"}
    inputs["input_features"] = inputs["input_features"].to(model.dtype)
    labels = batch["labels"].to(model.device)
    logits = model(**inputs, use_cache=False).logits
    shifted = labels[:, 1:]
    mask = shifted != IGNORE
    picked = logits[:, :-1][mask].float()  # only completion positions are upcast
    return torch.nn.functional.cross_entropy(picked, shifted[mask], reduction="sum")
