"""`ccgen dataset` and `ccgen finetune`: the training commands, attached to the main group.

Kept apart from ccgen/cli.py so the everyday captioning commands stay small; both are thin
layers over :func:`ccgen.finetune.build_dataset` and :func:`ccgen.finetune.finetune`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ccgen.errors import InputError


def attach(cli: click.Group, setup_logging: Callable[[bool, int, bool], None]) -> None:
    """Add the two commands to `cli` (called by ccgen.cli, which owns the logging set-up)."""
    cli.add_command(_dataset_command(setup_logging))
    cli.add_command(_finetune_command(setup_logging))


def _dataset_command(_setup_logging: Callable[[bool, int, bool], None]) -> click.Command:
    @click.command("dataset")
    @click.option("--media", multiple=True, required=True, type=click.Path(path_type=Path),
                  help="Video or audio file; repeat, paired in order with --subtitles.")
    @click.option("--subtitles", multiple=True, required=True, type=click.Path(path_type=Path),
                  help="Its human SDH subtitle file (srt, vtt, ass, ttml, sami...).")
    @click.option("-o", "--output", required=True, type=click.Path(path_type=Path))
    @click.option("--context", default=0.5, show_default=True, type=click.FloatRange(0, 5),
                  help="Seconds of audio kept either side of each cue.")
    @click.option("--val-fraction", default=0.1, show_default=True,
                  type=click.FloatRange(0, 1, max_open=True))
    @click.option("--seed", default=0, show_default=True, type=int)
    @click.option("--force", is_flag=True, help="Write into an output folder that is not empty.")
    @click.option("-q", "--quiet", is_flag=True)
    @click.option("-v", "--verbose", count=True)
    def dataset_cmd(media: tuple[Path, ...], subtitles: tuple[Path, ...], output: Path,
                    quiet: bool, verbose: int, **o: Any) -> None:
        """Training pairs for the sound describer from media and its human SDH subtitles."""
        _setup_logging(quiet, verbose, False)
        if len(media) != len(subtitles):
            raise InputError(f"give one --subtitles per --media ({len(media)} media, "
                             f"{len(subtitles)} subtitle files)")
        from ccgen.finetune import build_dataset

        summary = build_dataset(list(zip(media, subtitles, strict=True)), output, **o)
        if not quiet:
            click.echo(summary.line(), err=True)
            click.echo(output / "train.jsonl")

    return dataset_cmd


def _finetune_command(_setup_logging: Callable[[bool, int, bool], None]) -> click.Command:
    @click.command("finetune")
    @click.option("--data", required=True, type=click.Path(path_type=Path),
                  help="JSONL of examples (ccgen dataset's train.jsonl, or your own).")
    @click.option("-o", "--output", required=True, type=click.Path(path_type=Path))
    @click.option("--base-model", default="gijs/audsemthinker", show_default=True,
                  help="Thinker to adapt: hub id or local folder.")
    @click.option("--val-data", type=click.Path(path_type=Path),
                  help="Default: validation.jsonl beside a train.jsonl.")
    @click.option("--epochs", default=1, show_default=True, type=click.IntRange(1))
    @click.option("--lr", default=2e-4, show_default=True, type=click.FloatRange(0, min_open=True))
    @click.option("--batch-size", default=4, show_default=True, type=click.IntRange(1))
    @click.option("--grad-accum", default=1, show_default=True, type=click.IntRange(1))
    @click.option("--lora-r", default=8, show_default=True, type=click.IntRange(1))
    @click.option("--lora-alpha", default=16, show_default=True, type=click.IntRange(1))
    @click.option("--lora-dropout", default=0.05, show_default=True,
                  type=click.FloatRange(0, 1, max_open=True))
    @click.option("--target-modules", default=None,
                  help="LoRA targets: a regex, or names such as q_proj,v_proj (the reference's "
                       "choice, audio encoder included). Default: the language model's q/v.")
    @click.option("--max-steps", type=click.IntRange(1), help="Overrides --epochs.")
    @click.option("--save-every", default=200, show_default=True, type=click.IntRange(1),
                  help="Checkpoint every N steps (also at each epoch's end and on Ctrl-C).")
    @click.option("--gradient-checkpointing", is_flag=True, help="Less GPU memory, slower.")
    @click.option("--seed", default=0, show_default=True, type=int)
    @click.option("--device", default="auto", show_default=True,
                  type=click.Choice(["auto", "cpu", "cuda"]))
    @click.option("--resume", is_flag=True, help="Continue from the newest checkpoint in --output.")
    @click.option("--force", is_flag=True, help="Start afresh in a folder that is not empty.")
    @click.option("-q", "--quiet", is_flag=True)
    @click.option("-v", "--verbose", count=True)
    def finetune_cmd(data: Path, output: Path, quiet: bool, verbose: int, **o: Any) -> None:
        """LoRA fine-tuning of AudSemThinker on SDH caption pairs (then: --adapter OUTPUT)."""
        _setup_logging(quiet, verbose, False)
        from ccgen.finetune import finetune

        if o["target_modules"] is None:
            del o["target_modules"]
        result = finetune(data, output, quiet=quiet, **o)
        if not quiet:
            click.echo(result.line(), err=True)
            click.echo(output)

    return finetune_cmd
