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

from collections.abc import Callable, Iterator, Mapping, Sequence
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
    """Each cached stage's result by name, in order: from the cache when an entry for the
    input and the stage's settings is there, else computed (from the results it needs) and
    stored. A stage that is not cached runs only when a stage being computed reads its result,
    and at most once: a fully cached rerun never runs it."""
    by_name = {s.name: s for s in stages}
    keys = ({s.name: s.settings() for s in stages if s.cached} if ctx.cache.enabled else {})
    cached = {name: ctx.cache.get(ctx.digest, name, key) for name, key in keys.items()}
    results: dict[str, Any] = {}

    def result(name: str) -> Any:
        if name in results:
            return results[name]
        stage = by_name[name]
        data = cached.get(name)
        if data is not None:
            results[name] = stage.decode(data)
            return results[name]
        value = stage.run(ctx, _Inputs(stage.needs, result))
        if stage.cached:
            ctx.cache.put(ctx.digest, name, keys.get(name, {}), stage.encode(value))
        results[name] = value
        return value

    for stage in stages:
        if stage.cached:
            result(stage.name)
    return {name: value for name, value in results.items() if by_name[name].cached}


class _Inputs(Mapping[str, Any]):
    """The results a stage needs, each computed (or read from the cache) when first read."""

    def __init__(self, names: tuple[str, ...], result: Callable[[str], Any]) -> None:
        self._names, self._result = names, result

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)  # a stage reads only what it declares in `needs`
        return self._result(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)
