"""Shared fixtures: real media made with ffmpeg, the shared public clips, the CLI runner,
the sample timeline and the demo's reference. Tests ask for fixtures; they import nothing from
here or from each other (a test module is not a library)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from ccgen.media import find_ffmpeg

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
PUBLIC = Path(os.environ.get("CCGEN_PUBLIC_DATA", ROOT.parent / "shared" / "data" / "public"))


def public(rel: str) -> Path:
    """A clip from ../shared/data/public, or skip the test saying why."""
    path = PUBLIC / rel
    if not path.exists():
        pytest.skip(f"shared public data not found at {path} (set CCGEN_PUBLIC_DATA)")
    return path


def ffmpeg(*args: str) -> None:
    """Run the ffmpeg ccgen uses (system or imageio-ffmpeg) to make test media."""
    cmd = [find_ffmpeg().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args]
    subprocess.run(cmd, check=True)


def make_tone(path: Path, seconds: float = 2.0, freq: int = 440, rate: int = 16000,
              channels: int = 1) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency={freq}:duration={seconds}:sample_rate={rate}",
           "-ac", str(channels), str(path))
    return path


def make_silence(path: Path, seconds: float = 3.0) -> Path:
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", str(seconds), str(path))
    return path


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real console entry point in a child process (real exit codes and stderr)."""
    return subprocess.run([sys.executable, "-m", "ccgen", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


# Fixtures that make a test slow: a child process, ffmpeg, real media or a model. A test that
# asks for one (directly or through another fixture) is marked `slow`, so `make check`
# (-m "not slow") keeps to the unit tests without anyone keeping a list.
HEAVY_FIXTURES = frozenset({
    "cli", "make_media", "public_clip", "demo_video", "samples_dir",  # processes, media
    "embedded", "campplus", "tagger", "random_dir", "scripted_dir", "adapter_dir",  # models
    "tiny", "trained", "dataset",
})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HEAVY_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def public_clip():  # public_clip("speech/jfk.flac"): the path, or skip saying why
    return public


@pytest.fixture(scope="session")
def clip_audio(public_clip):
    """clip_audio("speech/jfk.flac"): a shared clip decoded as ccgen decodes it (16 kHz mono)."""
    from ccgen.media import load_audio, probe

    def decoded(rel: str):
        path = public_clip(rel)
        return load_audio(path, probe(path))

    return decoded


@pytest.fixture(scope="session")
def bench_script():
    """bench_script("evaluate"): a bench/ script imported as a module (they are scripts, not
    a package), afresh on each call."""
    import importlib.util

    def load(name: str):
        spec = importlib.util.spec_from_file_location(
            f"ccgen_bench_{name}", Path(__file__).resolve().parent.parent / "bench" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses in the script look their module up
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def cli():  # cli("caption", ...): the real console entry point in a child process
    return run_cli


@pytest.fixture(scope="session")
def make_media() -> SimpleNamespace:
    """Real media made with ffmpeg: ``.tone(path, ...)``, ``.silence(path, ...)`` and
    ``.ffmpeg(*args)``."""
    return SimpleNamespace(tone=make_tone, silence=make_silence, ffmpeg=ffmpeg)


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def demo_video() -> Path:
    return SAMPLES / "demo.mp4"


@pytest.fixture(scope="session")
def demo_reference() -> list[dict[str, str]]:
    """The demo's hand-made reference rows (kind, start, end, text), from demo.reference.tsv."""
    with (SAMPLES / "demo.reference.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="session")
def netflix():  # the Style, imported lazily like the rest of ccgen here
    from ccgen.captions.style import load_style

    return load_style("netflix")


def _sample_timeline(rate: float | None = 29.97, language: str = "en"):
    """Six cues that exercise every writer: a speaker, a sound, lyrics, accents, a 42-character
    line and a dialogue pair with curly quotes and a euro sign."""
    from ccgen.cues import Cue, Timeline

    long = "This line is exactly forty-two chars long!"
    cues = [
        Cue(1.0, 3.5, "speech", "Hello there, how are you?", speaker="SPEAKER_00"),
        Cue(4.0, 6.0, "sound", "[door slams]"),
        Cue(6.5, 9.0, "lyrics", "♪ Sing me a song tonight ♪"),
        Cue(9.5, 12.0, "speech", "Le café est très bon.\nÜber naïve façade!", speaker="Ann"),
        Cue(12.5, 16.0, "speech", f"{long}\nand a second line with some words"),
        Cue(16.5, 19.0, "speech", "- Who’s there?\n- “Me”, with €5."),
    ]
    return Timeline("show.mp4", 20.0, language, "netflix", cues, frame_rate=rate)


@pytest.fixture(scope="session")
def sample_timeline():  # a builder: sample_timeline(rate=25.0, language="fr")
    """Builds the six-cue sample timeline at a frame rate and language."""
    return _sample_timeline


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test run starts from an empty ccgen cache: stages are really computed."""
    path = tmp_path_factory.mktemp("ccgen-cache")
    os.environ["CCGEN_CACHE_DIR"] = str(path)
    # No test reaches beyond this machine: any hub access fails at once, on loopback.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"
    return path
