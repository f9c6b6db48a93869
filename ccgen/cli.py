"""The command line: a thin layer over :mod:`ccgen.pipeline` and :mod:`ccgen.writers`.

Exit codes (README, "Exit codes and errors"): 0 done, 1 failed while running, 2 bad usage or
bad input, with a one-line reason on stderr and no traceback (``-v`` shows one for failures while
running); 130 stopped by Ctrl-C (SIGINT), 143 by SIGTERM, in both cases with the manifest written.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Loaded as the `ccgen` program (its script, or `python -m ccgen`), not imported by another:
# a Ctrl-C in the half second of imports below is held for main(), never a traceback.
_program = sys.argv[0] if sys.argv and sys.argv[0] else "-"
if Path(_program).name == "ccgen" or (
        Path(_program).name == "__main__.py"
        and Path(_program).resolve().parent == Path(__file__).resolve().parent):
    from ccgen import stopping as _stopping

    _stopping.early()

import json  # noqa: E402 - after early(), on purpose
import logging  # noqa: E402
from typing import Any  # noqa: E402

import click  # noqa: E402

from ccgen import __version__  # noqa: E402
from ccgen.errors import CcgenError, InputError  # noqa: E402


def _registry(kind: str) -> Any:
    """The backend registry of package ``ccgen.<kind>`` (speakers, events, writers), imported
    only when a choice is checked or the help shown."""
    import importlib

    return importlib.import_module(f"ccgen.{kind}").REGISTRY


class RegistryChoice(click.Choice):
    """A click choice read from a backend registry when the command line is parsed or its
    help shown, not when ccgen is imported: a backend registered later is a choice too."""

    def __init__(self, registry: str) -> None:
        self.registry = registry
        self.case_sensitive = True

    @property
    def choices(self) -> list[str]:  # type: ignore[override]
        return _registry(self.registry).choices()


class RegistryOption(click.Option):
    """An option whose help ends with its registry's backends as they stand on this machine:
    each one's help, why it cannot run here, and what ``auto`` tries (read when the help is
    shown, so it never goes stale and a plug-in is listed too)."""

    def __init__(self, *args: Any, registry: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.registry = registry

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        intro = self.help
        order = None
        if self.registry == "writers":
            from ccgen.jobs import known_formats

            order = known_formats()  # built-in formats first, as -f lists them
        self.help = f"{intro} {_registry(self.registry).summary(order)}"
        try:
            return super().get_help_record(ctx)
        finally:
            self.help = intro


log = logging.getLogger("ccgen")


class DefaultGroup(click.Group):
    """`ccgen INPUT...` means `ccgen caption INPUT...`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h",
                                                                      "--version"):
            args = ["caption", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ccgen")
def cli() -> None:
    """SDH closed captions for deaf and hard-of-hearing viewers: speech, speakers and sounds.

    \b
    ccgen video.mp4                 writes video.en.sdh.srt beside the video
    ccgen clip.flac -f srt,vtt,json several formats at once
    """


class JsonFormatter(logging.Formatter):
    """--log-json: one JSON object per line on stderr, for pipelines that parse logs."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": round(record.created, 3), "level": record.levelname.lower(),
                 "message": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, ensure_ascii=False)


def _setup_logging(quiet: bool, verbose: int, log_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_json else logging.Formatter("ccgen: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO
                                         if verbose or log_json else logging.WARNING)
    root.setLevel(level)
    logging.getLogger("faster_whisper").setLevel(max(level, logging.WARNING))


def _load_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    """Eager --config: read ccgen.toml before the other options take their defaults."""
    from ccgen.config import load_config

    allowed = {}  # long option name (as written in the file) -> click's parameter name
    for param in ctx.command.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and param.name not in ("config", "inputs"):
                allowed[opt[2:].replace("-", "_")] = param.name
    defaults = load_config(value, allowed)
    if defaults:
        ctx.default_map = {**(ctx.default_map or {}), **defaults}


def _summary(results: list) -> str:
    rows = [f"{'status':8} {'time':>7}  input / outputs or error"]
    for r in results:
        detail = ", ".join(r.outputs) if r.status != "failed" else r.error
        rows.append(f"{r.status:8} {r.seconds:6.1f}s  {r.input}: {detail}")
    done = sum(r.status == "done" for r in results)
    failed = sum(r.status == "failed" for r in results)
    skipped = len(results) - done - failed
    rows.append(f"{done} done, {failed} failed, {skipped} skipped")
    return "\n".join(rows)


class _Reporter:
    """What a person or a pipeline sees of a run: each file's outputs or its one-line error,
    stage progress (bars on a terminal, else log lines) and the files finished so far (the
    manifest's record). Its `on_stage` is the pipeline's one progress hook, per file."""

    def __init__(self, files: int, quiet: bool, log_json: bool, verbose: int) -> None:
        self.quiet, self.log_json = quiet, log_json
        self.finished: list = []
        self.bars = None
        if (sys.stderr is not None and sys.stderr.isatty() and not quiet and not log_json
                and verbose == 0):
            from ccgen.progress import TerminalProgress

            self.bars = TerminalProgress(files)

    def on_stage(self, src: Path, stage: str, done: float | None = None,
                 total: float | None = None) -> None:
        if self.bars is not None:
            self.bars.step(src, stage, done, total)
        elif done is None:
            log.info("%s: %s", src.name, stage,
                     extra={"fields": {"event": "stage", "file": str(src), "stage": stage}})

    def on_file(self, result) -> None:  # a batch.FileResult
        self.finished.append(result)
        if self.bars is not None:
            self.bars.file_done()
        fields = {"event": "file", **result.to_dict()}
        if result.status == "failed":
            log.error("error: %s", result.error, extra={"fields": fields})
            return
        log.info("%s %s", result.status, result.input, extra={"fields": fields})
        if not self.quiet and not self.log_json:
            try:
                for out in result.outputs if result.status == "done" else []:
                    click.echo(out)
            except BrokenPipeError:  # `| head`: the reader left; the batch goes on
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115

    def close(self) -> None:
        if self.bars is not None:
            self.bars.close()


def _engine(engine: str, address: str | None) -> Any:
    """The batch runner --engine asks for; Ray's absence is bad usage, found here."""
    if engine == "local":
        if address is not None:
            raise InputError("--ray-address applies to --engine ray")
        from ccgen.batch import run_batch

        return run_batch
    from ccgen.cluster import require_ray, run_ray_batch

    require_ray()
    given = (click.get_current_context().get_parameter_source("jobs")
             != click.core.ParameterSource.DEFAULT)  # else one actor per cluster CPU
    return lambda files, options, job, jobs, on_file, _stage: run_ray_batch(
        files, options, job, jobs if given else None, on_file, address)


@cli.command("caption")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--config", type=click.Path(path_type=Path), is_eager=True, expose_value=False,
              callback=_load_config,
              help="Option defaults from a TOML file (default: ./ccgen.toml if present).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output file (one input only); the format follows the suffix.")
@click.option("-d", "--output-dir", type=click.Path(path_type=Path),
              help="Folder for the outputs (default: next to each input).")
@click.option("-f", "--format", "fmt", default="srt", show_default=True, cls=RegistryOption,
              registry="writers", help="Comma-separated list of formats:")
@click.option("-s", "--style", default="netflix", show_default=True,
              help="House style: netflix, bbc, dcmp, cea608, or a .toml style file.")
@click.option("-l", "--language", default=None, help="Spoken language code (default: detect).")
@click.option("--asr-model", default=None,
              help="faster-whisper model name or local CTranslate2 folder "
                   "(default: the bundled offline model).")
@click.option("--diarizer", default="auto", show_default=True, cls=RegistryOption,
              type=RegistryChoice("speakers"), registry="speakers",
              help="Speaker diarization (none: off):")
@click.option("--diarizer-model", default=None,
              help="pyannote pipeline: hub id (token from HF_TOKEN) or local folder "
                   "(default pyannote/speaker-diarization-community-1).")
@click.option("--num-speakers", type=click.IntRange(1, 50), default=None,
              help="Exact number of speakers, when known.")
@click.option("--min-speakers", type=click.IntRange(1, 50), default=None)
@click.option("--max-speakers", type=click.IntRange(1, 50), default=None)
@click.option("--describer", default="auto", show_default=True, cls=RegistryOption,
              type=RegistryChoice("events"), registry="events",
              help="Sound describer (none: off):")
@click.option("--describer-model", default=None,
              help="AudSemThinker hub id or local folder (default gijs/audsemthinker).")
@click.option("--adapter", default=None, help="LoRA adapter folder applied over AudSemThinker.")
@click.option("--max-new-tokens", default=768, show_default=True, type=click.IntRange(16, 4096),
              help="AudSemThinker's generation budget per clip.")
@click.option("--speaker-labels", default="auto", show_default=True,
              type=click.Choice(["auto", "always", "never"]),
              help="Name speakers in captions: auto = only when --speaker-names is given.")
@click.option("--speaker-names", default=None, metavar="S1=ANNA,S2=BEN",
              help="Names for the diarizer's speaker ids, used in labels.")
@click.option("--shot-changes", default="auto", show_default=True, metavar="auto|none|FILE",
              help="Time captions to the video's shot changes per the style: detect them "
                   "(auto; nothing for audio-only input), none, or a list / CMX3600 EDL.")
@click.option("--audio-stream", default=0, show_default=True, type=int,
              help="Which audio stream to caption (0 = first).")
@click.option("--device", default="auto", show_default=True,
              type=click.Choice(["auto", "cpu", "cuda"]))
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.option("--skip-existing", is_flag=True,
              help="Skip inputs whose outputs all exist (resume a stopped batch).")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Files captioned in parallel (each worker loads its own models).")
@click.option("--engine", default="local", show_default=True,
              type=click.Choice(["local", "ray"]),
              help="Where the batch runs: local (this machine's process pool) or ray "
                   "(a Ray cluster; `pip install 'ccgen[cluster]'`).")
@click.option("--ray-address", default=None, metavar="ADDR",
              help="Ray cluster to join (HOST:PORT); default $RAY_ADDRESS, else a Ray "
                   "instance started on this machine.")
@click.option("--manifest", type=click.Path(path_type=Path),
              help="Write a JSON record of the run: per-file status, outputs, timings, models.")
@click.option("--no-cache", is_flag=True, help="Recompute every stage (ignore the stage cache).")
@click.option("--report", type=click.Path(path_type=Path),
              help="HTML review report: FILE.html (one input) or a folder (one per input).")
@click.option("--start-timecode", default=None, metavar="HH:MM:SS:FF",
              help="Offset broadcast formats (scc, ttml, stl) to a master's start, e.g. "
                   "10:00:00:00 (';' before the frames means drop-frame).")
@click.option("--drop-frame/--non-drop-frame", default=None,
              help="Timecode counting at 29.97 fps (default: drop-frame for SCC).")
@click.option("--frame-rate", type=float, default=None,
              help="Frame rate for ttml/stl when the media has none (audio-only input).")
@click.option("--mux", type=click.Path(path_type=Path),
              help="Also write a copy of the video with the captions as a subtitle track "
                   "(stream copy; FILE for one input or a folder).")
@click.option("--burn-in", type=click.Path(path_type=Path),
              help="Also write a copy with open captions drawn in (re-encodes the video).")
@click.option("--log-json", is_flag=True, help="Structured JSON log lines on stderr.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("-v", "--verbose", count=True, help="More detail (-vv: debug).")
def caption_cmd(inputs: tuple[str, ...], **o: Any) -> None:
    """Caption INPUT files, folders or globs (video or audio) as SDH subtitles.

    Exit codes: 0 done; 1 failed while running (in a batch: any file failed);
    2 bad usage or bad input.
    """
    quiet, log_json = o["quiet"], o["log_json"]
    _setup_logging(quiet, o["verbose"], log_json)
    ray = o["engine"] == "ray"
    run = _engine(o.pop("engine"), o.pop("ray_address"))
    from ccgen import stopping

    if o["manifest"] is not None:  # a stop while starting ends with the record too
        stopping.hold()
    from dataclasses import fields

    from ccgen.batch import write_manifest
    from ccgen.jobs import plan_caption
    from ccgen.pipeline import Options

    fmt_given = (click.get_current_context().get_parameter_source("fmt")
                 == click.core.ParameterSource.COMMANDLINE)
    # on Ray the driver needs no GPU: the device is the actors' to find where they run
    job, files = plan_caption(inputs, {**o, "device": "cpu"} if ray else o, fmt_given)
    manifest = o["manifest"]
    options = Options(cache=not o["no_cache"],
                      **{f.name: o[f.name] for f in fields(Options) if f.name in o})
    single = len(files) == 1
    shown = _Reporter(len(files), quiet, log_json, o["verbose"])
    finished = shown.finished
    ran = False
    try:
        stopping.release()
        results = run(files, options, job, o["jobs"], shown.on_file, shown.on_stage)
        ran = True
        # a stop that some library swallowed (turned into an error it handled) still ends
        # the run as interrupted: exit 130/143, never a silent 0
        stopping.release()
    except KeyboardInterrupt:
        ran = True  # the record says which files were finished and which were not
        raise
    finally:
        shown.close()
        if manifest is not None and (ran or finished):
            write_manifest(manifest, options, job, files, finished)
    if not single and not quiet and not log_json:
        click.echo(_summary(results), err=True)
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise SystemExit(failed[0].exit_code if single else 1)


from ccgen.cli_tools import attach as _attach_tools  # noqa: E402

_attach_tools(cli)
from ccgen.finetune.commands import attach as _attach_training  # noqa: E402

_attach_training(cli, _setup_logging)


def run() -> None:
    """The ``ccgen`` command: :func:`main`, then :func:`ccgen.stopping.exit_now` (the API and
    tests call :func:`main`, which exits the ordinary way)."""
    from ccgen.stopping import exit_now

    # Whisper (CTranslate2) and the diarizer (torch) bring an OpenMP pool each; by default
    # their idle workers spin for a while after every parallel region, stealing the core the
    # other pool needs. Sleeping at once, with the same results byte for byte: 10.20 -> 9.54 s
    # on the 60 s meeting (no change without the diarizer). Set before either loads; a user's
    # own value wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        main()
    except SystemExit as exc:
        exit_now(exc.code)
    exit_now(0)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: maps ccgen's errors to exit codes without tracebacks."""
    from ccgen.stopping import signals_stop_the_run

    try:
        args = sys.argv[1:] if argv is None else argv
        record = any(a == "--manifest" or a.startswith("--manifest=") for a in args)
        with signals_stop_the_run(keep_held=record):  # SIGTERM too: stop, record, exit 143
            cli.main(args=argv, prog_name="ccgen", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort as exc:
        click.echo("ccgen: interrupted", err=True)
        sys.exit(getattr(exc.__cause__, "exit_code", 130))
    except click.ClickException as exc:
        click.echo(f"ccgen: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except CcgenError as exc:
        click.echo(f"ccgen: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt as exc:
        click.echo("ccgen: interrupted", err=True)
        sys.exit(getattr(exc, "exit_code", 130))
    except Exception as exc:  # last line of defence: one line, exit 1
        if "-v" in (argv or sys.argv) or "-vv" in (argv or sys.argv):
            raise
        click.echo(f"ccgen: failed: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)


__all__ = ["cli", "main", "InputError"]
