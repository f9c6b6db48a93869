"""The describer interface and its registry: a new sound model is one new file.

A describer gets the whole soundtrack and the speech regions and returns sound/music cues
(text without brackets: the SDH engine renders brackets, capitals or ♪ per style).
"""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from ccgen.cues import Cue
from ccgen.registry import Registry


class Describer(Protocol):
    name: str

    def describe(self, audio: np.ndarray, speech: list[tuple[float, float]]) -> list[Cue]: ...


REGISTRY: Registry[Describer] = Registry("describer")
register = REGISTRY.register
available = REGISTRY.names


def create(name: str, **options: object) -> Describer:
    """Build the describer called `name`.

    "auto" picks AudSemThinker where a CUDA device and its weights are available, else the
    embedded tagger, and logs which and why. Options not meant for a backend (model, adapter,
    device, max_new_tokens belong to AudSemThinker) are dropped for the others.
    """
    if name == "auto":
        from ccgen.events.audsemthinker import DEFAULT_MODEL, choose_describer

        name, why = choose_describer(str(options.get("device") or "auto"),
                                     str(options.get("model") or DEFAULT_MODEL))
        logging.getLogger("ccgen").info("describer: %s (%s)", name, why)
    if name != "audsemthinker":
        options = {}
    return REGISTRY.build(name, **options)


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
