"""What a stage is, and the loop that runs them.

A stage is an object with a ``name`` (its cache entry), a ``label`` (what progress shows),
the names of the stages whose results it ``needs``, its ``settings()`` (everything besides the
input's bytes that its result depends on: the cache key), the ``resources()`` it wants (what a
distributed run schedules on) and a typed result, turned into JSON by ``encode`` and back by
``decode`` only at the cache boundary. :func:`run_stages` is the captioner: a loop that takes
each result from the cache or computes it, like pyannote's ``SpeakerDiarization.apply`` with
its named steps and one progress hook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from ccgen.cache import StageCache, file_digest
from ccgen.media import load_audio
from ccgen.media.mediainfo import MediaInfo

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

    def settings(self) -> dict[str, Any]: ...

    def resources(self) -> Resources: ...

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> R: ...

    def encode(self, result: R) -> Any: ...

    def decode(self, data: Any) -> R: ...


class Context:
    """One input as the stages see it: its path, probe, cache key and audio, decoded on first
    use only (a fully cached rerun never decodes), and the progress hook."""

    def __init__(self, path: str | Path, info: MediaInfo, audio_stream: int, cache: StageCache,
                 step: Step) -> None:
        self.path, self.info, self.cache, self.step = path, info, cache, step
        self.audio_stream = audio_stream
        self.digest = file_digest(path) if cache.enabled else ""
        self._audio: np.ndarray | None = None

    def audio(self) -> np.ndarray:
        if self._audio is None:
            self.step("decoding audio")
            self._audio = load_audio(self.path, self.info, self.audio_stream)
        return self._audio


def run_stages(stages: Sequence[Stage], ctx: Context) -> dict[str, Any]:
    """Each stage's result by name, in order: from the cache when an entry for the input and
    the stage's settings is there, else computed (from the results it needs) and stored."""
    keys = {s.name: s.settings() for s in stages} if ctx.cache.enabled else {}
    cached = {name: ctx.cache.get(ctx.digest, name, key) for name, key in keys.items()}
    results: dict[str, Any] = {}
    for stage in stages:
        data = cached.get(stage.name)
        if data is not None:
            results[stage.name] = stage.decode(data)
            continue
        result = stage.run(ctx, {name: results[name] for name in stage.needs})
        ctx.cache.put(ctx.digest, stage.name, keys.get(stage.name, {}), stage.encode(result))
        results[stage.name] = result
    return results
