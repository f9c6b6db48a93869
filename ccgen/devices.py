"""Which device a backend runs on: one home for the names a user may give (``auto``, ``cpu``,
``cuda``) and for what ``auto`` means, asked of the runtime that will do the work (CTranslate2
for the speech model, torch for the diarizers and the describer), since one can see a GPU the
other cannot use."""

from __future__ import annotations

from typing import Literal

from ccgen.errors import InputError

NAMES = ("auto", "cpu", "cuda")


def check(requested: str, *, indexed: bool = False) -> None:
    """InputError unless `requested` is a device name (``cuda:N`` too where `indexed`)."""
    if requested in NAMES or (indexed and requested.startswith("cuda:")):
        return
    raise InputError(f"unknown device {requested!r}; choose auto, cpu or cuda")


def cuda_available(runtime: Literal["ctranslate2", "torch"]) -> bool:
    """Whether `runtime` can use a CUDA GPU here (a runtime that cannot tell: no)."""
    try:
        if runtime == "ctranslate2":
            import ctranslate2

            return ctranslate2.get_cuda_device_count() > 0
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # a CTranslate2 without CUDA has none
        return False


def resolve(requested: str, runtime: Literal["ctranslate2", "torch"] = "ctranslate2") -> str:
    """``cpu`` or ``cuda`` (as given, or ``cuda:N`` for torch): ``auto`` is the GPU where
    `runtime` has one, else the CPU."""
    check(requested, indexed=runtime == "torch")
    if requested != "auto":
        return requested
    return "cuda" if cuda_available(runtime) else "cpu"
