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
    embedded tagger, and logs which and why. The command line passes every describer's
    options (model, adapter, device, max_new_tokens) whichever runs: each backend gets the
    ones its registry entry says it takes. An option no describer takes is a programming
    error (TypeError), not silently dropped.
    """
    known = set().union(*(e.options for e in REGISTRY.entries()))
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"no describer takes the option(s) {', '.join(unknown)}; "
                        f"describers take {', '.join(sorted(known))}")
    if name == "auto":
        from ccgen.events.audsemthinker import DEFAULT_MODEL, choose_describer

        name, why = choose_describer(str(options.get("device") or "auto"),
                                     str(options.get("model") or DEFAULT_MODEL))
        logging.getLogger("ccgen").info("describer: %s (%s)", name, why)
    taken = REGISTRY.entry(name).options
    return REGISTRY.build(name, **{k: v for k, v in options.items() if k in taken})


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
