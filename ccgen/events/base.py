"""The describer interface and its registry: a new sound model is one new file.

A describer gets the whole soundtrack and the speech regions and returns sound/music cues
(text without brackets: the SDH engine renders brackets, capitals or ♪ per style).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from ccgen.cues import Cue
from ccgen.errors import InputError


class Describer(Protocol):
    name: str

    def describe(self, audio: np.ndarray, speech: list[tuple[float, float]]) -> list[Cue]: ...


_REGISTRY: dict[str, Callable[..., Describer]] = {}


def register(name: str) -> Callable[[Callable[..., Describer]], Callable[..., Describer]]:
    def deco(factory: Callable[..., Describer]) -> Callable[..., Describer]:
        _REGISTRY[name] = factory
        return factory

    return deco


def available() -> list[str]:
    return sorted(_REGISTRY)


def create(name: str, **options: object) -> Describer:
    """Build the describer called `name` ("auto" picks the best one this machine can run)."""
    if name == "auto":
        name = "yamnet"
    if name == "audsemthinker":
        raise InputError("--describer audsemthinker is not available yet (GPU describer, "
                         "planned); use --describer yamnet or auto")
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise InputError(f"unknown describer {name!r}; choose from auto, "
                         f"{', '.join(available())}, none") from None
    return factory(**options)


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
