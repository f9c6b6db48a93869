"""The shipped sample, end to end: what `make demo` writes is checked against its reference."""

from __future__ import annotations

import json
from pathlib import Path

import pysubs2
import pytest

from ccgen.captions import load_style
from ccgen.captions.lint import lint_file
from ccgen.evaluation.metrics import word_error_rate

# Every test here runs ccgen, ffmpeg or a model: not in `make check`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory, cli, demo_video) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = cli(demo_video, "-f", "srt,json", "-d", out, "-q")
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.slow
def test_demo_names_its_outputs_by_convention(outputs: Path) -> None:
    assert sorted(p.name for p in outputs.iterdir()) == ["demo.en.sdh.json", "demo.en.sdh.srt"]


@pytest.mark.slow
def test_every_sample_event_is_captioned_in_time(outputs: Path, demo_reference) -> None:
    subs = pysubs2.load(str(outputs / "demo.en.sdh.srt"))
    sounds = [e for e in subs if e.plaintext.startswith("[")]
    events = [r for r in demo_reference if r["kind"] in ("sound", "music")]
    assert len(events) == 4
    for row in events:
        start = float(row["start"])
        hits = [e for e in sounds if row["text"] in e.plaintext
                and abs(e.start / 1000 - start) <= 0.5]
        assert hits, f"no [{row['text']}] caption within 0.5 s of {start}: " + "; ".join(
            f"{e.start / 1000:.2f} {e.plaintext}" for e in sounds)
    # Nothing else was invented: every sound caption matches a reference event.
    assert len(sounds) == len(events)


@pytest.mark.slow
def test_spoken_lines_are_transcribed_and_timed(outputs: Path, demo_reference) -> None:
    timeline = json.loads((outputs / "demo.en.sdh.json").read_text())
    speech = [c for c in timeline["cues"] if c["kind"] == "speech"]
    lines = [r for r in demo_reference if r["kind"] == "speech"]
    said = " ".join(r["text"] for r in lines)
    heard = " ".join(c["text"].replace("\n", " ") for c in speech)
    assert word_error_rate(said, heard).wer <= 0.15, heard
    for row in lines:
        start = float(row["start"])
        assert any(abs(c["start"] - start) <= 0.5 for c in speech), (start, speech)
    # The silent stretch stays silent: no caption starts inside it.
    (silence,) = [r for r in demo_reference if r["kind"] == "silence"]
    quiet = (float(silence["start"]) + 0.5, float(silence["end"]) - 0.5)
    assert not [c for c in timeline["cues"] if quiet[0] < c["start"] < quiet[1]]


@pytest.mark.slow
def test_demo_captions_respect_the_netflix_numbers(outputs: Path) -> None:
    timeline = json.loads((outputs / "demo.en.sdh.json").read_text())
    report = lint_file(outputs / "demo.en.sdh.srt", load_style("netflix"))
    assert report.cues > 0
    assert report.findings == []
    assert timeline["models"]["describer"] == "yamnet"


@pytest.mark.slow
def test_two_voices_become_two_speakers(outputs: Path, demo_reference) -> None:
    """The demo alternates two espeak voices; the diarizer must tell them apart."""
    timeline = json.loads((outputs / "demo.en.sdh.json").read_text())
    speech = [c for c in timeline["cues"] if c["kind"] == "speech"]
    truth = [r["speaker"] for r in demo_reference if r["kind"] == "speech"]
    assert len(speech) == len(truth) and timeline["speakers"] == ["S1", "S2"]
    # Same partition as the reference, whatever the names: S1/S2 alternate as in the script.
    mapping = dict(zip(truth, [c["speaker"] for c in speech], strict=True))
    assert [mapping[t] for t in truth] == [c["speaker"] for c in speech]
    assert len(set(mapping.values())) == 2


@pytest.mark.slow
@pytest.mark.parametrize("style", ["netflix", "bbc", "dcmp", "cea608"])
def test_everything_ccgen_writes_passes_its_own_lint(style: str, tmp_path: Path, cli,
                                                     demo_video) -> None:
    out = tmp_path / f"demo.{style}.srt"
    # Default speaker marks (dashes, no labels): a label adds characters the espeak voices'
    # 150 words a minute leave no time for under DCMP's 13.3 characters a second.
    result = cli(demo_video, "-o", out, "-s", style, "-q")
    assert result.returncode == 0, result.stderr
    lint = cli("lint", out, "--style", style, "--frame-rate", "10", "--json")
    report = json.loads(lint.stdout)
    assert report["violations"] == 0, report["findings"]
    assert lint.returncode == 0 and report["cues"] >= 10
