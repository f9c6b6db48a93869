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


def test_a_misspelt_writer_option_is_an_error_not_dropped(sample_timeline, netflix) -> None:
    timeline = sample_timeline()
    srt = writers.render(timeline, "srt", netflix, start="10:00:00:00")  # scc's option: left out
    assert srt == writers.render(timeline, "srt", netflix)
    with pytest.raises(TypeError, match="strat"):
        writers.render(timeline, "scc", netflix, strat="10:00:00:00")
    assert writers.accepts("stl") == {"start", "rate", "drop_frame"}


class Loud:
    """A toy describer with one option of its own."""

    name = "loud"

    def __init__(self, loudness: float = 1.0) -> None:
        self.loudness = loudness


def test_a_describer_gets_the_options_it_takes_and_a_misspelt_one_is_an_error() -> None:
    """The command line passes every describer's options whichever runs: a backend gets its
    own (they used to reach AudSemThinker only), the others' are left out, and an option no
    describer takes is refused rather than dropped."""
    from ccgen.events import create

    DESCRIBERS.register("loud")(Loud)
    try:
        built = create("loud", loudness=3.0, model=None, max_new_tokens=8)  # AudSemThinker's
        assert isinstance(built, Loud) and built.loudness == 3.0
        with pytest.raises(TypeError, match="lowdness"):
            create("loud", lowdness=3.0)
    finally:
        DESCRIBERS.unregister("loud")


def test_entries_carry_label_options_and_availability() -> None:
    from ccgen.registry import Registry

    toys: Registry[object] = Registry("toy")

    @toys.register("missing", available=lambda: "pip install it")
    def missing(*, model: str | None = None) -> object:
        return object()

    class Here:
        label = "here (a toy)"

        def __init__(self, device: str = "cpu", **_: object) -> None:
            self.device = device

    toys.register("here")(Here)
    assert toys.choices() == ["auto", "here", "missing", "none"]
    assert toys.entry("missing").options == {"model"} and toys.entry("here").label == "here (a toy)"
    assert toys.first_available(["missing", "here"]) == ("here", ["missing: pip install it"])
    assert toys.build("here", device="cuda").device == "cuda"
    listed = {d["name"]: d for d in toys.describe()}
    assert not listed["missing"]["available"] and listed["missing"]["why_not"] == "pip install it"
    with pytest.raises(ValueError, match="registered already"):
        toys.register("auto")


class Parrot:
    """A transcriber that hears one word in every speech region."""

    name = path = "parrot"

    def __init__(self, **_: object) -> None:
        pass

    def transcribe(self, audio, language=None, on_progress=None, regions=None):
        from ccgen.cues import Word
        from ccgen.speech.transcriber import Segment, Transcript

        words = [Word(a, min(b, a + 0.5), "Polly.") for a, b in regions or []]
        return Transcript(words, "en", 1.0, [Segment(w.start, w.end, 0.0, 0.0, 1.0, i, i + 1)
                                             for i, w in enumerate(words)])


def test_a_toy_transcriber_is_listed_and_used(public_clip) -> None:
    from ccgen.pipeline import Captioner, Options
    from ccgen.speech import TRANSCRIBERS

    TRANSCRIBERS.register("parrot", help="a toy")(Parrot)
    try:
        listing = CliRunner().invoke(ccgen_cli, ["models", "--json"])
        assert "parrot" in json.loads(listing.output)["backends"]["transcriber"]
        timeline = Captioner(Options(transcriber="parrot", diarizer="none", describer="none",
                                     cache=False))(public_clip("speech/jfk.flac"))
    finally:
        TRANSCRIBERS.unregister("parrot")
    speech = [c for c in timeline.cues if c.kind == "speech"]
    assert speech and all(set(c.text.split()) == {"Polly."} for c in speech)
    assert {c.source for c in speech} == {"parrot"}
