"""The captioner's loop: each stage's result from the cache, or computed, in order; a stage
that needs nothing still running starts early, beside the others.

Speaker turns and sound events need only the speech regions, so they can run while Whisper
transcribes, where the machine has cores to spare beside Whisper's threads (each stage
declares its threads in :class:`~ccgen.stages.base.Resources`). The main thread still takes
every result in the stages' order, so progress, errors and the cache read as if the stages
ran one by one: a stage that ran beside the others shows its progress labels when the main
thread reaches it, and its error is raised there. Threads of stages that ran aside are
daemons: a Ctrl-C during transcription does not wait for the diarizer.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from typing import Any

from ccgen import memory
from ccgen.stages.base import Context, Stage


def run_stages(stages: Sequence[Stage], ctx: Context, aside: bool = True,
               cores: int | None = None) -> dict[str, Any]:
    """Each cached stage's result by name: from the cache when an entry for the input and the
    stage's settings is there, else computed (from the results it needs) and stored. A stage
    that is not cached runs only when a stage being computed reads its result, and at most
    once: a fully cached rerun never runs it. With `aside`, a stage to compute whose needs are
    met starts in a thread of its own as the main thread moves on to an earlier one, when the
    CPU threads it declares (:class:`Resources`) are free beside those of the stages running:
    `cores`, default the CPUs this process may use. On 2 cores Whisper's 2 threads leave none,
    so the stages run one by one there (running the diarizer beside Whisper was slower:
    bench/RESULTS.md)."""
    return _Run(stages, ctx).all(aside, cores or _cores())


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class _Run:
    def __init__(self, stages: Sequence[Stage], ctx: Context) -> None:
        self.stages, self.ctx = list(stages), ctx
        self.by_name = {s.name: s for s in stages}
        self.keys = ({s.name: s.settings() for s in stages if s.cached}
                     if ctx.cache.enabled else {})
        self.stored = {name: ctx.cache.get(ctx.digest, name, key)
                       for name, key in self.keys.items()}
        self.futures: dict[str, Future] = {}
        self.labels: dict[str, list[str]] = {}  # progress of the stages running aside
        self.lock = threading.Lock()

    def all(self, aside: bool, cores: int) -> dict[str, Any]:
        order = [s for s in self.stages if s.cached]
        for i, stage in enumerate(order):
            if aside:
                for later in order[i + 1:]:
                    if self._startable(later) and self._busy(stage) + _threads(later) <= cores:
                        self._start(later)
            self._join(stage)
            self._forget(order[i + 1:])
        return {s.name: self.futures[s.name].result() for s in order}

    def _forget(self, left: Sequence[Stage]) -> None:
        """Drop the in-memory results (not cached) that no stage left to take needs, and on
        a long input hand the memory the finished stages freed back (:mod:`ccgen.memory`): a
        2-hour film's tagger frames are ~200 MB, and each stage's peak would stack on the
        last one's."""
        needed: set[str] = set()
        wanted = [n for s in left for n in s.needs]
        while wanted:  # what the stages left need, and what those need in turn
            name = wanted.pop()
            if name not in needed:
                needed.add(name)
                wanted += self.by_name[name].needs
        with self.lock:  # a stage running aside may be adding a result it reads
            for name, future in list(self.futures.items()):
                if not self.by_name[name].cached and name not in needed and future.done():
                    del self.futures[name]
        if self.ctx.long_input():
            memory.trim()

    def _busy(self, main: Stage) -> int:
        """CPU threads in use: the stage the main thread is about to compute and the stages
        running aside."""
        mine = 0 if self.stored.get(main.name) is not None or main.name in self.futures \
            else _threads(main)
        return mine + sum(_threads(self.by_name[n]) for n in self.labels
                          if not self.futures[n].done())

    def result(self, name: str, ctx: Context) -> Any:
        """The result of `name`, computed in this thread unless another has it already."""
        with self.lock:
            future = self.futures.get(name)
            mine = future is None
            if mine:
                future = self.futures[name] = Future()
        if mine:
            self._fill(future, self.by_name[name], ctx)
        return future.result()

    def _fill(self, future: Future, stage: Stage, ctx: Context) -> None:
        try:
            future.set_result(self._compute(stage, ctx))
        except BaseException as exc:  # raised where the result is taken
            future.set_exception(exc)

    def _compute(self, stage: Stage, ctx: Context) -> Any:
        data = self.stored.get(stage.name)
        if data is not None:
            return stage.decode(data)
        value = stage.run(ctx, _Inputs(stage.needs, lambda name: self.result(name, ctx)))
        if stage.cached:
            ctx.cache.put(ctx.digest, stage.name, self.keys.get(stage.name, {}),
                          stage.encode(value))
        return value

    def _ready(self, name: str) -> bool:
        """Whether `name`'s result is there, or can be had without waiting for a stage."""
        stage = self.by_name[name]
        future = self.futures.get(name)
        if future is not None:
            return future.done()
        return self.stored.get(name) is not None or (
            not stage.cached and all(self._ready(n) for n in stage.needs))

    def _startable(self, stage: Stage) -> bool:
        return (stage.name not in self.futures and self.stored.get(stage.name) is None
                and all(self._ready(n) for n in stage.needs))

    def _start(self, stage: Stage) -> None:
        labels: list[str] = []
        ctx = self.ctx.aside(lambda label, *progress: None if progress else labels.append(label))
        future: Future = Future()
        with self.lock:
            if stage.name in self.futures:
                return
            self.futures[stage.name] = future
            self.labels[stage.name] = labels
        threading.Thread(target=self._fill, args=(future, stage, ctx), daemon=True,
                         name=f"ccgen-{stage.name}").start()

    def _join(self, stage: Stage) -> None:
        """Take `stage`'s result in the main thread: compute it here, or wait for the thread
        it runs in, showing the progress labels it reported (before and after waiting)."""
        labels = self.labels.get(stage.name)
        if labels is None:
            self.result(stage.name, self.ctx)
            return
        shown = _replay(labels, 0, self.ctx.step)
        future = self.futures[stage.name]
        future.exception()  # wait; raised below, in the stages' order
        _replay(labels, shown, self.ctx.step)
        future.result()


def _threads(stage: Stage) -> int:
    return max(1, stage.resources().threads)


def _replay(labels: list[str], shown: int, step: Callable[..., None]) -> int:
    now = list(labels)
    for label in now[shown:]:
        step(label)
    return len(now)


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
