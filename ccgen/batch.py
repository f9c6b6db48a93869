"""Batches: many inputs, one failure never stops the others, a record of what happened.

The command line and pipelines both use :func:`run_batch`: given the inputs and the
:class:`~ccgen.jobs.Job` (what to write where, from :mod:`ccgen.jobs`), it captions each
file (in worker processes with ``jobs > 1``, each keeping its models loaded), writes every
output atomically, and returns one :class:`FileResult` per input, which becomes
the summary table and the ``--manifest`` JSON.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ccgen.cues import Timeline
from ccgen.errors import CcgenError, InputError
from ccgen.jobs import ANY_LANGUAGE, MEDIA_SUFFIXES, Job, expand_inputs  # noqa: F401 - API
from ccgen.pipeline import Captioner, Options
from ccgen.stopping import Interrupted, die_with_parent, stopped_by, watch_parent

log = logging.getLogger("ccgen")


@dataclass
class FileResult:
    input: str
    status: str  # "done", "failed" or "skipped"
    exit_code: int = 0
    error: str | None = None
    outputs: list[str] = field(default_factory=list)
    seconds: float = 0.0
    language: str | None = None
    duration: float | None = None
    cues: dict[str, int] = field(default_factory=dict)
    cached_stages: list[str] = field(default_factory=list)
    lint: dict[str, int] = field(default_factory=dict)  # findings per rule, as ccgen lint

    def to_dict(self) -> dict:
        return asdict(self)


def caption_file(captioner: Captioner, src: Path, job: Job,
                 progress: Callable[..., None] | None = None) -> FileResult:
    """Caption one input and write its outputs; failures become a FileResult, not an raise."""
    started = time.perf_counter()
    result = FileResult(str(src), "failed")
    try:
        language = captioner.options.language
        existing = job.done(src, language) if job.skip_existing else None
        if existing is not None:
            result.status, result.outputs = "skipped", [str(d) for d in existing]
            return result
        _check_targets(src, job, language)
        before = len(captioner.cache.hits)
        timeline = captioner(src, progress)
        report = _write_outputs(timeline, src, job, captioner, result)
        _lint_and_report(timeline, src, job, captioner, report, result)
        result.status = "done"
        result.language, result.duration = timeline.language, round(timeline.duration, 3)
        for cue in timeline.cues:
            result.cues[cue.kind] = result.cues.get(cue.kind, 0) + 1
        result.cached_stages = captioner.cache.hits[before:]
    except CcgenError as exc:
        _still_running()
        result.error, result.exit_code = str(exc), exc.exit_code
    except Exception as exc:  # one file's crash must not stop a batch
        _still_running()
        log.debug("failure on %s", src, exc_info=True)
        result.error, result.exit_code = f"{type(exc).__name__}: {exc}", 1
    finally:
        result.seconds = round(time.perf_counter() - started, 3)
    return result


def _check_targets(src: Path, job: Job, language: str | None) -> None:
    """Before any work: the input is media and every output folder is writable; with the
    language known (or one -o file), the outputs must be free too."""
    from ccgen.writers.atomic import check_free, check_writable

    job.precheck(src)
    for _, dest in job.targets(src, language or "en"):
        check_writable(dest.parent if str(dest.parent) else Path("."))
        if (language or job.output is not None) and not job.skip_existing:
            check_free(dest, job.force)


def _write_outputs(timeline: Timeline, src: Path, job: Job, captioner: Captioner,
                   result: FileResult) -> Path | None:
    """Write every caption file (all rendered before any is written) and the video copies;
    returns where the review page goes (None: not asked for, or kept by --skip-existing)."""
    from ccgen.writers import render
    from ccgen.writers.atomic import check_free, write_atomic

    # --skip-existing resumes: what exists stays, only the missing outputs are written
    targets = [(fmt, dest) for fmt, dest in job.targets(src, timeline.language)
               if not (job.skip_existing and dest.exists())]
    job.check_not_inputs([src], timeline.language)
    for _, dest in targets:
        check_free(dest, job.force)
    report = job.report_path(src, timeline.language)
    if report is not None and job.skip_existing and report.exists():
        report = None
    if report is not None:
        check_free(report, job.force)
    contents = [(dest, render(timeline, fmt, captioner.style, **job.writer_options))
                for fmt, dest in targets]
    for dest, content in contents:
        write_atomic(dest, content, force=job.force)
        result.outputs.append(str(dest))
    result.outputs += _into_video(timeline, src, job, captioner)
    return report


def _lint_and_report(timeline: Timeline, src: Path, job: Job, captioner: Captioner,
                     report: Path | None, result: FileResult) -> None:
    """Lint what was written (findings per rule in the result, one warning line) and write the
    review page when asked."""
    from ccgen.captions.lint import lint_cues

    checked = lint_cues(timeline.cues, captioner.style, timeline.frame_rate)
    result.lint = checked.summary()
    if result.lint:  # dense speech can beat the style's numbers: say so, do not hide it
        log.warning("%s: %d style findings under %s (%s); review them (--report, "
                    "ccgen lint)", src.name, len(checked.findings), captioner.style.name,
                    ", ".join(f"{rule} {n}" for rule, n in result.lint.items()))
    if report is not None:
        from ccgen.report import write_report

        write_report(timeline, src, report, job.force, [f.to_dict() for f in checked.findings])
        result.outputs.append(str(report))


def _still_running() -> None:
    """A library that turns Ctrl-C into its own error (an import that fails on it) must not
    make the stop a failed file: the run is interrupted, and says so."""
    signum = stopped_by()
    if signum is not None:
        raise Interrupted(signum) from None


def _into_video(timeline, src: Path, job: Job, captioner: Captioner) -> list[str]:
    """--mux / --burn-in: the captions as a track of, or drawn into, a copy of the video."""
    import tempfile

    from ccgen.writers import render
    from ccgen.writers.mux import burn_in, mux

    made = []
    for target, tag, action in ((job.mux, "sdh", "mux"), (job.burn_in, "open-captions", "burn")):
        dest = Job.video_path(target, src, tag)
        if dest is None or (job.skip_existing and dest.exists()):
            continue
        fmt = "ass" if action == "burn" or dest.suffix.lower() == ".mkv" else "srt"
        with tempfile.TemporaryDirectory(prefix="ccgen-") as tmp:
            subs = Path(tmp) / f"captions.{fmt}"
            subs.write_text(str(render(timeline, fmt, captioner.style)), encoding="utf-8")
            if action == "mux":
                mux(src, subs, dest, timeline.language, job.force)
            else:
                burn_in(src, subs, dest, job.force)
        made.append(str(dest))
    return made


_WORKER: Captioner | None = None
_START_ERROR: CcgenError | None = None


def _init_worker(options: Options, main: int) -> None:
    global _WORKER, _START_ERROR
    # A worker dies with ccgen's main process, however that one ends (SIGKILL too): a
    # parent-death signal, and a watch on the parent for where there is none, or for a
    # parent that died before this line. An orphan would go on captioning and writing.
    die_with_parent()
    watch_parent(main)
    # Ctrl-C is the parent's to handle: it stops the pool; a worker that caught it itself
    # would report the file as interrupted and carry on with the next one. (Workers stay in
    # the parent's process group, so a supervisor that kills the group stops them too.)
    # SIGTERM to a worker ends it at once, not through the handler it inherited.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        _WORKER = Captioner(options)
    except CcgenError as exc:  # each file reports it, in one line, as with -j 1
        _START_ERROR = exc
    except Exception as exc:
        _START_ERROR = CcgenError(f"{type(exc).__name__}: {exc}")


def _work(src: Path, job: Job) -> FileResult:
    if _START_ERROR is not None:
        return FileResult(str(src), "failed", _START_ERROR.exit_code, str(_START_ERROR))
    assert _WORKER is not None
    return caption_file(_WORKER, src, job)


def check_batch(inputs: list[Path], options: Options, job: Job) -> None:
    """What every engine checks before any work (the local pool, and Ray's driver)."""
    if job.output is not None and len(inputs) != 1:
        raise InputError("-o/--output takes one input; use -d/--output-dir for several")
    if job.report is not None and job.report.suffix.lower() in (".html", ".htm") and len(
            inputs) != 1:
        raise InputError("--report FILE.html takes one input; give a folder for several")
    for flag, target in (("--mux", job.mux), ("--burn-in", job.burn_in)):
        if target is not None and target.suffix and len(inputs) != 1:
            raise InputError(f"{flag} FILE takes one input; give a folder for several")
    options.check()
    job.check_collisions(inputs, options.language)
    job.check_not_inputs(inputs, options.language)


def run_batch(inputs: list[Path], options: Options, job: Job, jobs: int = 1,
              on_result: Callable[[FileResult], None] | None = None,
              progress: Callable[..., None] | None = None) -> list[FileResult]:
    """Caption every input; results come back in input order."""
    check_batch(inputs, options, job)
    results: dict[Path, FileResult] = {}
    if jobs <= 1 or len(inputs) <= 1:
        captioner = Captioner(options)
        for src in inputs:
            step = (lambda stage, *more, s=src: progress(s, stage, *more)) if progress else None
            results[src] = caption_file(captioner, src, job, step)
            if on_result:
                on_result(results[src])
    else:
        # A worker killed by the system (out of memory) breaks the whole pool, and every file
        # in it fails with it. Those files are run again one at a time, each in a fresh
        # worker, so only the file that kills a worker is reported failed.
        started = time.time()
        lost = _pool_round(inputs, options, job, jobs, results, on_result)
        if lost:  # outputs a lost file already wrote in this run are kept, not refused
            log.warning("a worker process died (out of memory?); running the %d unfinished "
                        "file(s) again", len(lost))
            # with --force an output from before the run may still be there: write it again
            again = job if job.force else replace(job, skip_existing=True)
            lost = _pool_round(lost, options, again, jobs, results, on_result, started)
        for src in lost:  # they broke a pool twice: one at a time, to find the culprit
            if _pool_round([src], options, again, 1, results, on_result, started):
                results[src] = FileResult(str(src), "failed", 1, "a worker process died on "
                                          "this file (out of memory?)")
                if on_result:
                    on_result(results[src])
    return [results[src] for src in inputs]


def _pool_round(inputs: list[Path], options: Options, job: Job, jobs: int,
                results: dict[Path, FileResult],
                on_result: Callable[[FileResult], None] | None,
                rerun_since: float | None = None) -> list[Path]:
    """Caption `inputs` in a pool of `jobs` workers; return those lost to a broken pool.
    `rerun_since`: this is a rerun of files a broken pool lost, in a batch started then; a
    file whose outputs were all written since was finished by this run (its result was lost
    with the pool, not its files) and is ``done``, not ``skipped``."""
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker,
                               initargs=(options, os.getpid()))
    broken: list[Path] = []
    try:
        futures = {pool.submit(_work, src, job): src for src in inputs}
        workers = set()
        for future in as_completed(futures):
            workers |= set(getattr(pool, "_processes", None) or {})
            src = futures[future]
            try:
                result = future.result()
            except BrokenProcessPool:
                broken.append(src)
                continue
            if result.status == "skipped" and rerun_since is not None and _written_since(
                    result.outputs, rerun_since):
                result.status = "done"  # a rerun after a broken pool found its outputs
            results[src] = result
            if on_result:
                on_result(result)
    except BaseException:  # Ctrl-C: queued files never start, running ones stop now
        workers = set(getattr(pool, "_processes", None) or {})
        pool.shutdown(wait=False, cancel_futures=True)
        _stop(workers)
        raise
    pool.shutdown(wait=not broken)
    if broken:
        _stop(workers)  # the broken pool's surviving workers
    return sorted(broken, key=inputs.index)


def _written_since(paths: list[str], since: float) -> bool:
    """Whether every file in `paths` was written at or after `since` (a second's slack for
    file systems that keep coarse times)."""
    try:
        return bool(paths) and all(os.stat(p).st_mtime >= since - 1.0 for p in paths)
    except OSError:
        return False


def _stop(pids: set[int]) -> None:
    """Stop worker processes now (their ffmpeg, reading into a closed pipe, stops too)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def check_manifest(path: Path, inputs: list[Path], job: Job) -> None:
    """--manifest is checked before any work: a .json name, in a folder that takes files,
    never one of the inputs, and an existing record kept unless --force (or --skip-existing,
    which resumes the batch the record describes)."""
    from ccgen.writers.atomic import check_free, check_writable

    if path.suffix.lower() != ".json":
        raise InputError(f"--manifest {path}: the name must end in .json")
    from ccgen.writers.mux import same_file

    if any(same_file(path, src) for src in inputs):
        raise InputError(f"--manifest {path} is one of the inputs")
    check_writable(path.parent if str(path.parent) else Path("."))
    check_free(path, job.force or job.skip_existing)


def write_manifest(path: Path, options: Options, job: Job, inputs: list[Path],
                   results: list[FileResult]) -> None:
    """The record of the run, also when it was interrupted: files not finished are listed as
    "interrupted", so a pipeline sees every input. ASCII JSON: any file name survives."""
    import json

    from ccgen import __version__
    from ccgen.writers.atomic import write_atomic

    finished = {r.input: r for r in results}
    code = 128 + (stopped_by() or signal.SIGINT)  # 143 when SIGTERM stopped the run
    files = [finished.get(str(src)) or FileResult(str(src), "interrupted", code, "not finished")
             for src in inputs]
    record = {"ccgen": __version__, "options": {k: str(v) if isinstance(v, Path) else v
                                               for k, v in options.__dict__.items()},
              "formats": job.formats, "files": [f.to_dict() for f in files]}
    write_atomic(path, json.dumps(record, indent=2) + "\n", force=True)
