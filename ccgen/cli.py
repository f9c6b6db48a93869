"""The command line: a thin layer over :mod:`ccgen.pipeline` and :mod:`ccgen.writers`.

Exit codes (design.md): 0 done, 1 failed while running, 2 bad usage or bad input, with a
one-line reason on stderr and no traceback (``-v`` shows one for failures while running).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from ccgen import __version__
from ccgen.errors import CcgenError, InputError

FORMATS = ("srt", "vtt", "ass", "json")
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


def _formats(value: str) -> list[str]:
    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in FORMATS]
    if bad or not names:
        raise InputError(f"unknown format {', '.join(bad) or value!r}; "
                         f"choose from {','.join(FORMATS)}")
    return list(dict.fromkeys(names))


def _targets(inputs: list[Path], output: Path | None, outdir: Path | None,
             formats: list[str], language: str) -> dict[Path, list[tuple[str, Path]]]:
    plan: dict[Path, list[tuple[str, Path]]] = {}
    for src in inputs:
        if output is not None:
            fmt = output.suffix.lower().lstrip(".")
            if fmt not in FORMATS:
                raise InputError(f"-o {output}: the suffix must be one of .{', .'.join(FORMATS)}")
            plan[src] = [(fmt, output)]
            continue
        folder = outdir if outdir is not None else src.parent
        plan[src] = [(f, folder / f"{src.stem}.{language}.sdh.{f}") for f in formats]
    return plan


@cli.command("caption")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output file (one input only); the format follows the suffix.")
@click.option("-d", "--output-dir", type=click.Path(path_type=Path),
              help="Folder for the outputs (default: next to each input).")
@click.option("-f", "--format", "fmt", default="srt", show_default=True,
              help=f"Comma-separated list of {','.join(FORMATS)}.")
@click.option("-s", "--style", default="netflix", show_default=True,
              help="House style: netflix, or a .toml style file.")
@click.option("-l", "--language", default=None, help="Spoken language code (default: detect).")
@click.option("--asr-model", default=None,
              help="faster-whisper model name or local CTranslate2 folder "
                   "(default: the bundled offline model).")
@click.option("--diarizer", default="auto", show_default=True,
              type=click.Choice(["auto", "pyannote", "embedded", "none"]),
              help="Speaker diarization. Not available yet: pyannote and embedded are planned; "
                   "auto means none for now.")
@click.option("--describer", default="auto", show_default=True,
              type=click.Choice(["auto", "audsemthinker", "yamnet", "none"]),
              help="Sound describer. auto = yamnet (the embedded AudioSet tagger) for now; "
                   "audsemthinker (GPU) is planned.")
@click.option("--describer-model", default=None, help="AudSemThinker id or folder (planned).")
@click.option("--adapter", default=None, help="LoRA adapter folder for AudSemThinker (planned).")
@click.option("--audio-stream", default=0, show_default=True, type=int,
              help="Which audio stream to caption (0 = first).")
@click.option("--device", default="auto", show_default=True,
              type=click.Choice(["auto", "cpu", "cuda"]))
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.option("--report", default=None, help="HTML review report (planned).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("-v", "--verbose", count=True, help="More detail (-vv: debug).")
def caption_cmd(inputs: tuple[Path, ...], output: Path | None, output_dir: Path | None,
                fmt: str, style: str, language: str | None, asr_model: str | None,
                diarizer: str, describer: str, describer_model: str | None,
                adapter: str | None, audio_stream: int, device: str, force: bool,
                report: str | None, quiet: bool, verbose: int) -> None:
    """Caption INPUT files (video or audio) as SDH subtitles."""
    logging.basicConfig(level=logging.ERROR if quiet else (
        logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING),
        format="ccgen: %(message)s")
    for flag, value in (("--describer-model", describer_model), ("--adapter", adapter),
                        ("--report", report)):
        if value is not None:
            raise InputError(f"{flag} is not available yet (planned)")
    if output is not None and len(inputs) > 1:
        raise InputError("-o/--output takes one input; use -d/--output-dir for several")
    formats = _formats(fmt)
    from ccgen.captions import load_style
    from ccgen.media import probe
    from ccgen.pipeline import Captioner, Options
    from ccgen.writers import render
    from ccgen.writers.atomic import check_free, check_writable, write_atomic

    load_style(style)  # a bad style is bad usage: say so before loading any model
    for src in inputs:
        probe(src)
    if output_dir is not None:
        check_writable(output_dir)
    plan = _targets(list(inputs), output, output_dir, formats, language or "en")
    for targets in plan.values():
        for _, dest in targets:
            check_writable(dest.parent if str(dest.parent) else Path("."))
    captioner = Captioner(Options(language=language, style=style, asr_model=asr_model,
                                  describer=describer, diarizer=diarizer, device=device,
                                  audio_stream=audio_stream))
    for src in inputs:
        timeline = captioner(src, progress=None if quiet else
                             (lambda stage, s=src: log.info("%s: %s", s.name, stage)))
        targets = plan[src] if output is not None or language else _targets(
            [src], None, output_dir, formats, timeline.language)[src]
        for _, dest in targets:
            check_free(dest, force)
        for name, dest in targets:
            write_atomic(dest, render(timeline, name, captioner.style), force=force)
            if not quiet:
                click.echo(str(dest))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: maps ccgen's errors to exit codes without tracebacks."""
    try:
        cli.main(args=argv, prog_name="ccgen", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("ccgen: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"ccgen: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except CcgenError as exc:
        click.echo(f"ccgen: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("ccgen: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, exit 1
        if "-v" in (argv or sys.argv) or "-vv" in (argv or sys.argv):
            raise
        click.echo(f"ccgen: failed: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)


__all__ = ["cli", "main", "InputError"]
