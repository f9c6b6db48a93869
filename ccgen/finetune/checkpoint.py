"""Resumable training checkpoints: a resumed run ends with the same adapter as an unbroken one.

A checkpoint is a folder ``checkpoints/step-NNNNNN/`` holding everything the next step depends
on: the adapter weights (peft's own files), the optimizer and scheduler states, the random
number generators (LoRA dropout draws from them) and ``state.json`` (step, losses, settings).
The data order needs no state: each epoch's order is a function of (seed, epoch). A checkpoint
is written to a temporary folder and renamed into place, so an interrupted save never leaves a
half checkpoint that ``--resume`` would pick; the newest :data:`KEEP` are kept.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ccgen import devices
from ccgen.errors import InputError

CHECKPOINTS = "checkpoints"
KEEP = 2
TRAINER_STATE = "trainer.pt"


def rng_state() -> dict[str, Any]:
    """The torch generators (CPU and every CUDA device) as they are now."""
    import torch

    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if devices.cuda_available("torch") and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    import torch

    torch.set_rng_state(state["cpu"])
    if "cuda" in state and devices.cuda_available("torch"):
        torch.cuda.set_rng_state_all(state["cuda"])


def save(output: Path, model: Any, optimizer: Any, scheduler: Any, rng: dict[str, Any],
         state: dict[str, Any]) -> Path:
    """Write checkpoint ``step-<state['step']>`` atomically and prune older ones.

    Not :mod:`ccgen.writers.atomic`: that publishes one file, a checkpoint is a folder that
    peft's ``save_pretrained`` fills, so it is built under a fixed temporary name per step
    and renamed whole. A killed save's ``.step-N.part`` is cleared when step N is saved
    again, as a ``--resume`` from the checkpoint before it does."""
    import torch

    root = output / CHECKPOINTS
    root.mkdir(exist_ok=True)
    final = root / f"step-{state['step']:06d}"
    tmp = root / f".{final.name}.part"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, save_embedding_layers=False)
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "rng": rng}, tmp / TRAINER_STATE)
    (tmp / "state.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in sorted(root.glob("step-*"))[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest(output: Path) -> Path | None:
    """The newest complete checkpoint under `output`, if any."""
    found = sorted(p for p in (output / CHECKPOINTS).glob("step-*")
                   if (p / "state.json").is_file() and (p / TRAINER_STATE).is_file())
    return found[-1] if found else None


def load(folder: Path, model: Any, optimizer: Any, scheduler: Any,
         settings: dict[str, Any]) -> dict[str, Any]:
    """Restore a checkpoint into the freshly built run; refuse one made with other settings
    (its optimizer and schedule would not match, and the result would silently differ)."""
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    differ = [f"{k} {state['settings'].get(k)!r} → {v!r}" for k, v in settings.items()
              if state["settings"].get(k) != v]
    if differ:
        raise InputError(f"--resume: {folder} was made with other settings "
                         f"({'; '.join(differ)}); use the same ones, or start afresh with "
                         "--force")
    set_peft_model_state_dict(model, load_file(str(folder / "adapter_model.safetensors")))
    trainer = torch.load(folder / TRAINER_STATE, weights_only=True)
    optimizer.load_state_dict(trainer["optimizer"])
    scheduler.load_state_dict(trainer["scheduler"])
    set_rng_state(trainer["rng"])
    return state
