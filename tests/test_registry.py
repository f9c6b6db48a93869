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
from ccgen.errors import InputError
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
    from ccgen.registry import Choice, Registry

    toys: Registry[object] = Registry("toy", auto=("missing", "here"))

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
    # below the first choice: a warning naming what to install
    assert toys.resolve("auto") == Choice("here", "missing: pip install it", warn=True)
    assert toys.build("here", device="cuda").device == "cuda"
    listed = {d["name"]: d for d in toys.describe()}
    assert not listed["missing"]["available"] and listed["missing"]["why_not"] == "pip install it"
    assert listed["here"]["auto_rank"] == 1
    with pytest.raises(ValueError, match="registered already"):
        toys.register("auto")
    upgrades: Registry[object] = Registry("toy", auto=("missing", "here"), baseline="here")
    upgrades.register("missing", available=lambda: "no GPU")(missing)
    upgrades.register("here")(Here)
    assert upgrades.resolve("auto") == Choice("here", "missing: no GPU")  # said quietly
    nothing: Registry[object] = Registry("toy", auto=("missing",), without="no toys")
    nothing.register("missing", available=lambda: "pip install it")(missing)
    assert nothing.resolve("auto") == Choice("none", "no toys (missing: pip install it)", True)
    assert nothing.create("auto") is None
    with pytest.raises(InputError, match="^toy 'missing' cannot run here: pip install it$"):
        nothing.create("missing")


NOT_HERE = "needs toylib (pip install toylib)"


class Nobody:
    """A diarizer that hears one speaker throughout."""

    name = label = "nobody"

    def diarize(self, audio: np.ndarray, speech: list[tuple[float, float]]) -> list:
        from ccgen.speakers import Turn

        return [Turn(s, e, "S1") for s, e in speech]


@pytest.fixture
def absent(monkeypatch: pytest.MonkeyPatch):
    """A toy writer, describer and diarizer whose availability check says no; the describer
    and the diarizer first in their registry's auto order."""
    from ccgen.speakers import REGISTRY as DIARIZERS

    writers.register("gone", available=lambda: NOT_HERE)(upper)
    DESCRIBERS.register("hush", available=lambda: NOT_HERE)(Beep)
    DIARIZERS.register("nobody", available=lambda: NOT_HERE)(Nobody)
    monkeypatch.setattr(DESCRIBERS, "auto", ("hush", *DESCRIBERS.auto))
    monkeypatch.setattr(DIARIZERS, "auto", ("nobody", *DIARIZERS.auto))
    yield DIARIZERS
    writers.unregister("gone")
    DESCRIBERS.unregister("hush")
    DIARIZERS.unregister("nobody")


def test_a_backend_that_cannot_run_is_listed_with_why_skipped_by_auto_and_refused(
        absent, make_media, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Each kind's toy is a choice with its reason in --help and `ccgen models`; auto passes
    it over; asked for by name it is one line of bad usage (exit 2), before any model loads."""
    from ccgen.cli import main

    runner = CliRunner()
    shown = " ".join(runner.invoke(ccgen_cli, ["caption", "--help"]).output.split())
    for toy in ("gone", "hush", "nobody"):
        assert f"{toy} [not here: {NOT_HERE}]" in shown
    assert "auto|audsemthinker|hush|yamnet|none" in shown and "|nobody|" in shown
    listing = json.loads(runner.invoke(ccgen_cli, ["models", "--json"]).output)
    for kind, toy in (("format", "gone"), ("describer", "hush"), ("diarizer", "nobody")):
        (entry,) = [e for e in listing["registries"][kind] if e["name"] == toy]
        assert not entry["available"] and entry["why_not"] == NOT_HERE
    text = runner.invoke(ccgen_cli, ["models"]).output
    assert f"describer hush cannot run here: {NOT_HERE}" in text
    assert f"format gone cannot run here: {NOT_HERE}" in text
    for registry, toy in ((DESCRIBERS, "hush"), (absent, "nobody")):
        choice = registry.resolve("auto", {"device": "cpu"})
        assert choice.name not in (toy, "none") and f"{toy}: {NOT_HERE}" in choice.why
    clip = make_media.silence(tmp_path / "quiet.wav", 1.0)
    for flags, what in ((["-f", "gone"], "format 'gone'"), (["--describer", "hush"],
                        "describer 'hush'"), (["--diarizer", "nobody"], "diarizer 'nobody'")):
        with pytest.raises(SystemExit) as stop:
            main(["caption", str(clip), "-d", str(tmp_path), "-q", *flags])
        err = capsys.readouterr().err
        assert stop.value.code == 2 and err == f"ccgen: error: {what} cannot run here: {NOT_HERE}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quiet.wav"]


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


class Echo(Nobody):
    """An available toy diarizer with a label of its own."""

    name, label = "echo", "echo (a toy)"

    def __init__(self, **_: object) -> None:
        pass


def test_auto_runs_a_toy_diarizer_first_in_its_order_under_its_own_label(
        public_clip, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in the pipeline names a backend: what auto picks is built through the
    registry, and its own label is what the timeline and the turns' cache key say."""
    from ccgen.pipeline import Captioner, Options
    from ccgen.speakers import REGISTRY as DIARIZERS

    DIARIZERS.register("echo")(Echo)
    monkeypatch.setattr(DIARIZERS, "auto", ("echo", *DIARIZERS.auto))
    try:
        captioner = Captioner(Options(describer="none", cache=False))
        assert isinstance(captioner.diarizer, Echo)
        assert captioner.settings()["turns"]["diarizer"] == "echo (a toy)"
        timeline = captioner(public_clip("speech/jfk.flac"))
    finally:
        DIARIZERS.unregister("echo")
    assert timeline.models["diarizer"] == "echo (a toy)" and timeline.speakers == ["S1"]
