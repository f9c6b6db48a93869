"""A new backend is one module plus its registration: a toy writer and a toy describer,
registered in-process, are choices of the command line, listed by `ccgen models` and used by
a real run; a name taken twice is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ccgen import writers
from ccgen.cli import cli as ccgen_cli
from ccgen.cues import Cue
from ccgen.events.base import REGISTRY as DESCRIBERS


class Beep:
    """A describer that hears one beep at 0.5-1.5 s, whatever the audio."""

    name = "beep"

    def describe(self, audio: np.ndarray, speech: list[tuple[float, float]]) -> list[Cue]:
        return [Cue(0.5, 1.5, "sound", "beep", source="beep")]


def upper(timeline, style) -> str:  # a writer: (timeline, style) -> text
    return "".join(f"{c.start:.1f} {c.text.upper()}\n" for c in timeline.cues)


@pytest.fixture
def toys():
    DESCRIBERS.register("beep", help="a toy")(Beep)
    writers.register("upper")(upper)
    yield
    DESCRIBERS.unregister("beep")
    writers.unregister("upper")


def test_toys_are_choices_listed_and_refused_twice(toys) -> None:
    runner = CliRunner()
    help_text = runner.invoke(ccgen_cli, ["caption", "--help"]).output
    assert "beep" in help_text
    listing = runner.invoke(ccgen_cli, ["models", "--json"])
    backends = json.loads(listing.output)["backends"]
    assert "beep" in backends["describer"] and "upper" in backends["format"]
    with pytest.raises(ValueError, match="registered already"):
        writers.register("srt")
    with pytest.raises(ValueError, match="registered already"):
        DESCRIBERS.register("beep")


def test_a_run_uses_the_toy_describer_and_writer(toys, make_media, tmp_path: Path) -> None:
    clip = make_media.silence(tmp_path / "quiet.wav", 3.0)
    result = CliRunner().invoke(ccgen_cli, [
        "caption", str(clip), "--describer", "beep", "--diarizer", "none", "-f", "upper,json",
        "-d", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    (written,) = tmp_path.glob("quiet*.upper")
    assert written.read_text() == "0.5 [BEEP]\n"
    (timeline,) = tmp_path.glob("quiet*.json")
    assert json.loads(timeline.read_text())["models"]["describer"] == "beep"
