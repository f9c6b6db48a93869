"""The driver of a Ray batch: the local engine's batch, with the captioning done by actors.

The driver keeps everything that decides what a user sees: the checks before any work, the
``--skip-existing`` test, writing every output atomically, lint, the review page, the
``--mux``/``--burn-in`` copies, the results in input order and the manifest. It does so by
running the local engine's own :func:`ccgen.batch.caption_file` for each input, with a
stand-in captioner (:class:`RemoteCaptioner`) whose call is a call to a CPU actor; so the
outputs are the local engine's, byte for byte, and a file fails (or is skipped) for the same
reasons with the same line and exit code.

One driver thread per CPU actor hands that actor the next input; the main thread only
collects results, so Ctrl-C and SIGTERM reach it at once: it stops handing out files, kills
the actors (the cluster's work for this run stops), and the command line writes the manifest
with the unfinished files ``interrupted``, exit 130/143, as the local engine does.

Faults: an actor whose process dies (killed, out of memory, its node lost) is restarted by
Ray and its call retried (``max_restarts``, ``max_task_retries``); the actor only returns the
timeline, so a retry writes nothing twice. A file that still kills its worker after the
retries fails alone: "a worker process died on this file", exit 1, as with ``-j``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ccgen.batch import FileResult, caption_file, check_batch
from ccgen.captions import load_style
from ccgen.cluster.actors import CaptionWorker, DescriberWorker
from ccgen.cluster.connect import connected, require_ray, resolve_address
from ccgen.errors import CcgenError, InputError
from ccgen.jobs import Job
from ccgen.pipeline import Options

log = logging.getLogger("ccgen")

RETRIES = 2  # a call is tried 1 + RETRIES times when its actor's process dies
GPU_RESOURCE_ENV = "CCGEN_RAY_GPU_RESOURCE"  # a custom resource standing in for "GPU"
JOIN_SECONDS = 30.0  # how long a stopped run waits for its driver threads to see the stop
LOST = "a worker process died on this file (out of memory?)"  # the local engine's words


class RemoteCaptioner:
    """What :func:`ccgen.batch.caption_file` needs of a captioner, with the captioning done
    by one CPU actor: ``options``, ``style``, ``cache.hits`` and the call."""

    class _Hits:
        def __init__(self) -> None:
            self.hits: list[str] = []

    def __init__(self, actor: Any, options: Options) -> None:
        self.actor, self.options = actor, options
        self.style = load_style(options.style)
        self.cache = self._Hits()

    def __call__(self, src: Path, progress: Callable[..., None] | None = None) -> Any:
        import ray

        try:
            status, value, hits = ray.get(self.actor.caption.remote(str(src)))
        except ray.exceptions.RayError as exc:  # retries used up: the worker died each time
            log.debug("ray: %s lost its worker: %s", src, exc)
            raise CcgenError(LOST) from None
        if status == "error":
            raise value
        self.cache.hits.extend(hits)
        return value


FORWARDED = ("HF_HOME", "HF_HUB_OFFLINE", "HF_ENDPOINT")  # not HF_TOKEN: no secret travels


def _environment() -> dict[str, str]:
    """The driver's settings every actor takes: CCGEN_* (cache folder, ffmpeg) and where
    the hub is (a worker needing a token has it in its own environment)."""
    return {k: v for k, v in os.environ.items() if k.startswith("CCGEN_") or k in FORWARDED}


def gpu_resource() -> str:
    """The Ray resource a GPU stage asks for: "GPU", or $CCGEN_RAY_GPU_RESOURCE (a custom
    resource some clusters label their accelerators with; the tests' stand-in for a GPU)."""
    return os.environ.get(GPU_RESOURCE_ENV) or "GPU"


def pin_describer(options: Options, gpus: int) -> Options:
    """--describer auto, decided once for the cluster (each actor deciding on its own node
    would describe files differently by where they ran): AudSemThinker when the cluster has
    a GPU and its registry entry says it can run (transformers installed) and its weights are
    found, else the actors' own choice (YAMNet on CPU nodes). The entry's own auto check
    cannot decide here: it asks for a GPU on this node, the driver, which may have none."""
    if options.describer != "auto" or gpus < 1 or options.device == "cpu":
        return options
    from ccgen import events
    from ccgen.events.audsemthinker import weights_missing

    entry = events.REGISTRY.entry("audsemthinker")
    why = entry.available() or weights_missing(options.describer_options())
    if why is not None:
        log.info("describer: yamnet (%s: %s)", entry.name, why)
        return replace(options, describer="yamnet")
    log.info("describer: %s (%d GPUs in the cluster, its weights found)", entry.name, gpus)
    return replace(options, describer=entry.name)


def start_describers(options: Options, level: int) -> tuple[list, list[str], dict | None]:
    """The GPU actor pool for --describer audsemthinker: one actor per GPU in the cluster
    (or per unit of $CCGEN_RAY_GPU_RESOURCE), their names, and the describer's name and
    settings (None: the CPU actors describe, as locally)."""
    import ray

    if options.describer != "audsemthinker":
        return [], [], None
    resource = gpu_resource()
    count = int(ray.cluster_resources().get(resource, 0))
    if count < 1:
        raise InputError(f"--describer audsemthinker with --engine ray needs a GPU in the "
                         f"cluster, and Ray counts no {resource!r} resource; add a GPU node "
                         "or use --describer yamnet")
    wants = {"num_gpus": 1} if resource == "GPU" else {"resources": {resource: 1}}
    actor = ray.remote(DescriberWorker)
    run = uuid.uuid4().hex[:12]
    names = [f"describer-{run}-{i}" for i in range(count)]
    pool = [actor.options(name=name, num_cpus=0, max_concurrency=64, max_restarts=-1,
                          max_task_retries=RETRIES, **wants).remote(
        options, _environment(), os.getcwd(), level) for name in names]
    identity = ray.get(pool[0].identity.remote())
    if "error" in identity:  # the model could not load: the run cannot describe, as locally
        raise identity["error"]
    return pool, names, identity


def start_workers(options: Options, jobs: int | None, describers: list[str],
                  identity: dict | None, level: int) -> list:
    """The CPU actor pool: `jobs` actors (default: one per CPU the cluster has), one logical
    CPU each, spread over the nodes."""
    import ray

    cpus = int(ray.cluster_resources().get("CPU", 1))
    count = jobs or cpus
    if count > cpus:
        log.warning("ray: the cluster has %d CPUs; running %d CPU actors, not %d", cpus,
                    cpus, count)
        count = max(1, cpus)
    actor = ray.remote(CaptionWorker).options(
        num_cpus=1, scheduling_strategy="SPREAD", max_restarts=-1, max_task_retries=RETRIES)
    return [actor.remote(options, _environment(), os.getcwd(), level, describers, identity)
            for _ in range(count)]


def _feed(worker: RemoteCaptioner, todo: queue.Queue, done: queue.Queue, job: Job,
          stop: threading.Event) -> None:
    """One driver thread: the next input to this thread's actor, until none is left."""
    while not stop.is_set():
        try:
            src = todo.get_nowait()
        except queue.Empty:
            return
        try:
            done.put((src, caption_file(worker, src, job)))
        except BaseException:  # the run was stopped (caption_file says so by raising)
            return


def collect(workers: list[RemoteCaptioner], inputs: list[Path], job: Job,
            on_result: Callable[[FileResult], None] | None,
            halt: Callable[[], None]) -> list[FileResult]:
    """Run every input through the actors; results in input order. The main thread waits in
    short steps, so a stop signal is handled at once: `halt` ends the actors, and the driver
    threads are joined before Ray shuts down (a thread still waiting on Ray then would make
    Ray end the process, exit 1, before the manifest is written)."""
    todo: queue.Queue = queue.Queue()
    for src in inputs:
        todo.put(src)
    done: queue.Queue = queue.Queue()
    stop = threading.Event()
    threads = [threading.Thread(target=_feed, args=(w, todo, done, job, stop), daemon=True,
                                name="ccgen-ray-feed") for w in workers]
    for thread in threads:
        thread.start()
    results: dict[Path, FileResult] = {}
    try:
        while len(results) < len(inputs):
            try:
                src, result = done.get(timeout=0.2)
            except queue.Empty:
                continue
            results[src] = result
            if on_result:
                on_result(result)
    except BaseException:
        stop.set()
        halt()  # the calls in flight fail at once; each thread sees the stop and returns
        for thread in threads:
            thread.join(timeout=JOIN_SECONDS)
        raise
    return [results[src] for src in inputs]


def run_ray_batch(inputs: list[Path], options: Options, job: Job, jobs: int | None = None,
                  on_result: Callable[[FileResult], None] | None = None,
                  address: str | None = None) -> list[FileResult]:
    """:func:`ccgen.batch.run_batch` on Ray: the same checks, outputs and results; `jobs`
    CPU actors (None: one per cluster CPU), on the cluster at `address` (else $RAY_ADDRESS,
    else a Ray instance started here for this run)."""
    require_ray()
    check_batch(inputs, options, job)
    import ray

    level = logging.getLogger("ccgen").getEffectiveLevel()
    actors: list = []
    with connected(resolve_address(address), local_cpus=max(os.cpu_count() or 1, jobs or 1)):
        try:
            options = pin_describer(options, int(ray.cluster_resources().get(gpu_resource(),
                                                                              0)))
            describers, names, identity = start_describers(options, level)
            actors += describers
            actors += start_workers(options, jobs, names, identity, level)
            workers = [RemoteCaptioner(a, options) for a in actors[len(describers):]]
            results = collect(workers, inputs, job, on_result, lambda: _kill(actors))
            _log_batches(describers)
            return results
        except BaseException:  # Ctrl-C, SIGTERM, a start that failed: this run's work stops
            _kill(actors)
            raise


def _log_batches(describers: list) -> None:
    """With -v: how the GPU pool was fed (calls from files, and batches that several files
    shared), the measure of whether the CPU actors keep it busy."""
    import ray

    sizes: list[int] = []
    for actor in describers:
        with contextlib.suppress(Exception):  # a count is not worth failing a finished run
            sizes += ray.get(actor.batches.remote(), timeout=10)
    if describers:
        log.info("ray: the describer pool took %d calls in %d batches, %d shared by several "
                 "files", sum(sizes), len(sizes), sum(n > 1 for n in sizes))


def _kill(actors: list) -> None:
    """End this run's actors for good (no restart): a stopped run leaves no work behind."""
    import ray

    for actor in actors:
        with contextlib.suppress(Exception):  # already gone
            ray.kill(actor, no_restart=True)
