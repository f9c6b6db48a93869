"""``ccgen lint`` and ``ccgen models``: the commands besides captioning, attached to the main
group by :mod:`ccgen.cli` (kept apart so that module stays a thin layer over the captioner)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ccgen.errors import InputError
from ccgen.jobs import known_formats


def attach(cli: click.Group) -> None:
    """Add ``lint`` and ``models`` (with ``models fetch``) to `cli`."""
    cli.add_command(lint_cmd)
    cli.add_command(models_cmd)


@click.command("lint")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-s", "--style", default="netflix", show_default=True,
              help="House style to check against: a preset name or a .toml style file.")
@click.option("--frame-rate", type=float, default=None,
              help="Frame rate for the gap rule (default: the media's, else the style's).")
@click.option("--media", type=click.Path(path_type=Path),
              help="The video: its shot changes are detected and checked (shot-change rule).")
@click.option("--shot-changes", "shot_list", type=click.Path(path_type=Path),
              help="Shot changes from a list (seconds or timecodes per line) or a CMX3600 EDL.")
@click.option("--fix", is_flag=True,
              help="Write a retimed copy (-o OUT): gaps, durations, reading speed, shot "
                   "changes; text and order never change.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Where --fix writes (same format as FILE).")
@click.option("--rewrap", is_flag=True, help="With --fix: re-break lines that are too long.")
@click.option("--force", is_flag=True, help="With --fix: overwrite OUT (or FILE itself).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report on stdout.")
def lint_cmd(file: Path, style: str, frame_rate: float | None, media: Path | None,
             shot_list: Path | None, fix: bool, output: Path | None, rewrap: bool,
             force: bool, as_json: bool) -> None:
    """SDH quality check of any subtitle file; exit 1 when there is any violation (with --fix:
    any left after fixing)."""
    from ccgen.captions import load_style
    from ccgen.captions.lint import check_frame_rate, format_text, lint_file
    from ccgen.media.shots import lint_shot_changes

    if (output is not None or rewrap) and not fix:
        raise InputError("-o and --rewrap go with --fix")
    if fix and output is None and not force:
        raise InputError("--fix writes a copy: give -o OUT (or --force to rewrite FILE)")
    check_frame_rate(frame_rate)
    the_style = load_style(style)
    # an SCC file's times are frames of line 21: 29.97 unless told otherwise
    default_rate = 30000 / 1001 if file.suffix.lower() == ".scc" else the_style.default_frame_rate
    shots, rate = lint_shot_changes(media, shot_list, frame_rate, default_rate)
    if fix:
        from ccgen.captions.lintfix import fix_file

        result = fix_file(file, the_style, output or file, frame_rate=rate, shots=shots,
                          rewrap=rewrap, force=force)
        report = result.after
        click.echo(f"{result.output}: {result.retimed} cues retimed, {result.rewrapped} "
                   f"rewrapped; violations {result.before.violations} -> "
                   f"{report.violations}", err=True)
    else:
        report = lint_file(file, the_style, rate, shots)
    click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if as_json
               else format_text(report))
    if not report.ok:
        raise SystemExit(1)


@click.group("models", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def models_cmd(ctx: click.Context, as_json: bool) -> None:
    """List installed and cached models, and what each backend uses now."""
    if ctx.invoked_subcommand is not None:
        return
    from dataclasses import asdict

    from ccgen.events import REGISTRY as DESCRIBERS
    from ccgen.inventory import active, hf_cache, inventory
    from ccgen.speakers import REGISTRY as DIARIZERS
    from ccgen.speech import TRANSCRIBERS
    from ccgen.writers import REGISTRY as WRITERS

    entries = inventory()
    registries = {"transcriber": TRANSCRIBERS, "diarizer": DIARIZERS,
                  "describer": DESCRIBERS, "format": WRITERS}
    backends = {kind: r.names() for kind, r in registries.items()}  # plug-ins included
    backends["format"] = known_formats()  # the built-in formats first, as -f lists them
    if as_json:
        click.echo(json.dumps({"models": [asdict(e) for e in entries], "active": active(),
                               "backends": backends,
                               "auto": {k: list(r.auto) for k, r in registries.items()},
                               "registries": {k: r.describe() for k, r in registries.items()}},
                              indent=2, default=str))
        return
    for e in entries:
        size = f"{e.size_mb:8.1f} MB" if e.size_mb is not None else "        -   "
        click.echo(f"{e.stage:12} {e.status:9} {size}  {e.name}  [{e.licence}]\n"
                   f"{'':35}{e.where}")
    click.echo("\nin use now: " + ", ".join(f"{k}={v}" for k, v in active().items()))
    click.echo("backends: " + "; ".join(f"{k} {', '.join(v)}" for k, v in backends.items()))
    for kind, registry in registries.items():
        for backend in registry.describe():
            if not backend["available"]:
                click.echo(f"  {kind} {backend['name']} cannot run here: {backend['why_not']}")
    click.echo(f"hub cache: {hf_cache()}  (add models: ccgen models fetch NAME, or "
               "--asr-model /local/folder)")


@models_cmd.command("fetch")
@click.argument("name")
def models_fetch(name: str) -> None:
    """Download NAME (large-v3, distil-large-v3, audsemthinker, pyannote, or owner/repo)."""
    from ccgen.inventory import fetch

    click.echo(str(fetch(name)))
