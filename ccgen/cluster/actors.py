"""The Ray actors: CPU captioners that keep their models loaded, and GPU describers.

A :class:`CaptionWorker` is one process holding a :class:`~ccgen.pipeline.Captioner` (models
load once per actor, not per file) and runs the stage loop for one file per call. It returns
the :class:`~ccgen.cues.Timeline` and writes nothing: the driver writes every output, so an
actor that dies and has its call retried (Ray's at-least-once) cannot leave half a file or
write one twice. Stage-cache entries are written by the actors, atomically and keyed by
content, so a retry or another node only finds or replaces an identical entry.

With ``--describer audsemthinker`` the sounds stage is split where its resources split:
finding the event regions (YAMNet), cutting the clips and placing the cues stay on the CPU
actor (:class:`RemoteDescriber`, the same steps as ``AudSemThinker.describe``), and only the
clips go to a :class:`DescriberWorker` declared with a GPU. That actor serves several CPU
actors at once and generates the clips of every file waiting in one batched call
(:class:`Batcher`), so the GPU is batched across files as well as within one.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ccgen.errors import CcgenError, first_line
from ccgen.pipeline import Captioner, Options

log = logging.getLogger("ccgen")

BATCH_WINDOW_S = 0.05  # how long the describer waits for other files' clips to join a batch


def _portable(exc: BaseException) -> BaseException:
    """The error as the driver will raise it: itself when it survives pickling (Ray's own
    wrapper would add a traceback to the one-line message), else a CcgenError with the
    same line the local engine writes."""
    try:
        back = pickle.loads(pickle.dumps(exc))
        if type(back) is type(exc) and str(back) == str(exc):
            return exc
    except Exception:
        pass
    failure = CcgenError(f"{type(exc).__name__}: {exc}")
    failure.exit_code = getattr(exc, "exit_code", 1)
    return failure


def settle_in(env: dict[str, str], cwd: str, level: int) -> None:
    """A worker process takes the driver's view: its CCGEN_* settings (cache folder,
    ffmpeg), its working folder (relative input names resolve as on the driver; shared
    storage is mounted at the same path on every node) and its log level."""
    os.environ.update(env)
    if not Path(cwd).is_dir():
        raise CcgenError(f"the driver's working folder {cwd} is not on this node; put the "
                         "inputs on storage every node mounts at the same path")
    os.chdir(cwd)
    logging.getLogger("ccgen").setLevel(level)


class CaptionWorker:
    """One CPU actor: a Captioner for the run's options; ``caption`` runs one file."""

    def __init__(self, options: Options, env: dict[str, str], cwd: str, level: int,
                 describers: list[str] | None = None, identity: dict | None = None) -> None:
        self.start_error: BaseException | None = None
        self.captioner: Captioner | None = None
        try:
            settle_in(env, cwd, level)
            if describers:  # the GPU pool describes; this actor keeps the CPU steps
                self.captioner = Captioner(replace(options, describer="none"))
                self.captioner.describer = RemoteDescriber(describers, identity or {})
            else:
                self.captioner = Captioner(options)
        except Exception as exc:  # each file reports it in one line, as the local engine does
            self.start_error = _portable(exc)

    def caption(self, src: str) -> tuple[str, Any, list[str]]:
        """("ok", timeline, stages from the cache) or ("error", the exception, [])."""
        if self.start_error is not None:
            return "error", self.start_error, []
        assert self.captioner is not None
        hits = self.captioner.cache.hits
        before = len(hits)
        try:
            timeline = self.captioner(src)  # stages logged as locally (shown with -v)
        except Exception as exc:
            return "error", _portable(exc), []
        return "ok", timeline, hits[before:]


class RemoteDescriber:
    """The Describer protocol on a CPU actor, with the generation done by the GPU pool.

    It has the describer's ``name`` and ``settings``, so the sounds stage's cache key is the
    one the local engine uses, and follows ``AudSemThinker.describe`` step for step."""

    def __init__(self, describers: list[str], identity: dict) -> None:
        # named actors, looked up on first use: handles in a restartable actor's arguments
        # would live in the object store, and a restart could find them gone
        self.names, self.describers = describers, []
        self.name = identity["name"]
        self.settings = identity["settings"]
        self.calls = 0

    def describe(self, audio: np.ndarray, speech: list[tuple[float, float]]) -> list:
        import ray

        from ccgen.events import clips as cliplib
        from ccgen.media.audio import SAMPLE_RATE

        events, _finder = cliplib.find_events(audio, speech, self.settings.finder)
        plan = cliplib.plan_clips(events, audio.size / SAMPLE_RATE)
        arrays = [np.ascontiguousarray(c.samples(audio), dtype=np.float32) for c in plan]
        if not self.describers:
            self.describers = [ray.get_actor(n) for n in self.names]
        pool = self.describers[self.calls % len(self.describers)]
        self.calls += 1
        try:
            descriptions = ray.get(pool.describe_arrays.remote(arrays)) if arrays else []
        except ray.exceptions.RayError as exc:  # its retries used up: one line, not Ray's
            raise CcgenError("the GPU describer's worker died describing this file "
                             f"({first_line(exc, 200)})") from None
        cues: list = []
        for clip, desc in zip(plan, descriptions, strict=True):
            cues.extend(cliplib.place_cues(clip, desc.phrases, desc.confidence, self.name))
        return cliplib.merge_windows(cues)


class Batcher:
    """Requests from several callers (threads) answered by one batched call: each caller's
    list joins whatever else arrived within `window` seconds, and gets its own slice back."""

    def __init__(self, run: Any, window: float = BATCH_WINDOW_S) -> None:
        self.run, self.window = run, window
        self.lock = threading.Lock()
        self.running = threading.Lock()  # one generation at a time on the device
        self.waiting: list[tuple[list, dict]] = []
        self.leader = False
        self.batches: list[int] = []  # callers per batch (what the GPU was fed at once)

    def __call__(self, items: list) -> list:
        slot: dict = {"done": threading.Event()}
        with self.lock:
            self.waiting.append((items, slot))
            lead = not self.leader
            self.leader = self.leader or lead
        if lead:
            time.sleep(self.window)  # let the clips of files in flight join this batch
            with self.running:  # what arrived while the last batch ran joins this one too
                with self.lock:
                    taken, self.waiting, self.leader = self.waiting, [], False
                self._serve(taken)
        slot["done"].wait()
        if "error" in slot:
            raise slot["error"]
        return slot["result"]

    def _serve(self, taken: list[tuple[list, dict]]) -> None:
        flat = [item for items, _ in taken for item in items]
        self.batches.append(len(taken))
        try:
            results = self.run(flat)
        except Exception as exc:
            for _, slot in taken:
                slot["error"] = exc
                slot["done"].set()
            return
        pos = 0
        for items, slot in taken:
            slot["result"] = results[pos:pos + len(items)]
            pos += len(items)
            slot["done"].set()


class DescriberWorker:
    """One GPU actor (threaded: it takes calls from many CPU actors at once) holding the
    describer model; its calls are batched across files by a :class:`Batcher`."""

    def __init__(self, options: Options, env: dict[str, str], cwd: str, level: int) -> None:
        from ccgen import events

        self.start_error: BaseException | None = None
        try:
            settle_in(env, cwd, level)
            self.model = events.create("audsemthinker", **options.describer_options())
        except Exception as exc:  # the driver raises it: no run can describe without it
            self.start_error = _portable(exc)
            return
        self.batcher = Batcher(self.model.describe_arrays)

    def identity(self) -> dict:
        """What the CPU actors' stand-in needs to key the cache as the local engine does
        (or {"error": why the model did not load})."""
        if self.start_error is not None:
            return {"error": self.start_error}
        return {"name": self.model.name, "settings": self.model.settings}

    def describe_arrays(self, arrays: list[np.ndarray]) -> list:
        return self.batcher(arrays)

    def batches(self) -> list[int]:
        """Callers served by each batched call so far (more than 1: files shared a batch)."""
        return list(self.batcher.batches)
