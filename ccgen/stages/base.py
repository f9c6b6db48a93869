"""What a stage is, and the loop that runs them.

A stage is an object with a ``name`` (its cache entry), a ``label`` (what progress shows),
the names of the stages whose results it ``needs``, its ``settings()`` (everything besides the
input's bytes that its result depends on: the cache key), the ``resources()`` it wants (what a
distributed run schedules on) and a typed result, turned into JSON by ``encode`` and back by
``decode`` only at the cache boundary. :func:`ccgen.stages.runner.run_stages` is the
captioner: a loop that takes each result from the cache or computes it, like pyannote's
``SpeakerDiarization.apply`` with its named steps and one progress hook.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from ccgen.cache import StageCache, file_digest
from ccgen.media import load_audio
from ccgen.media.mediainfo import MediaInfo
from ccgen.memory import LONG_INPUT

R = TypeVar("R")

# The one progress hook: step(label) as a stage starts, step(label, done, total) as a long
# one advances (seconds of audio). The CLI's bars, the batch's JSON log and the Python API's
# `progress=` all take this shape.
Step = Callable[..., None]


@dataclass(frozen=True)
class Resources:
    """What one run of a stage occupies: CPU threads and whether it wants the GPU."""

    threads: int = 1
    gpu: bool = False


class Stage(Protocol[R]):
    name: str
    label: str
    needs: tuple[str, ...]
    # False: the result is shared in memory only, computed when a stage reads it and never
    # stored (the tagger's window scores: cheap to recompute, large to store).
    cached: bool

    def settings(self) -> dict[str, Any]: ...

    def resources(self) -> Resources: ...

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> R: ...

    def encode(self, result: R) -> Any: ...

    def decode(self, data: Any) -> R: ...


class Context:
    """One input as the stages see it: its path, probe, cache key and audio, decoded on first
    use only (a fully cached rerun never decodes), and the progress hook. Stages running at
    the same time share one decoding (:meth:`aside`)."""

    def __init__(self, path: str | Path, info: MediaInfo, audio_stream: int, cache: StageCache,
                 step: Step) -> None:
        self.path, self.info, self.cache, self.step = path, info, cache, step
        self.audio_stream = audio_stream
        self.digest = file_digest(path) if cache.enabled else ""
        self._audio: list[np.ndarray] = []  # shared with the contexts made by aside()
        self._lock = threading.Lock()

    def audio(self) -> np.ndarray:
        with self._lock:
            if not self._audio:
                self.step("decoding audio")
                self._audio.append(load_audio(self.path, self.info, self.audio_stream))
            return self._audio[0]

    def long_input(self) -> bool:
        """Whether stages should hand freed memory back as they finish
        (:data:`ccgen.memory.LONG_INPUT`); by the probe's duration, so it decodes nothing."""
        return (self.info.duration or 0.0) > LONG_INPUT

    def aside(self, step: Step) -> Context:
        """The same input for a stage running beside the others, with its own progress hook
        (one progress display cannot show two stages at once)."""
        other = copy.copy(self)
        other.step = step
        return other
