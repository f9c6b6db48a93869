"""Shared fixtures: real media made with ffmpeg, the shared public clips, the CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


@pytest.fixture(scope="session")
def demo_video() -> Path:
    return SAMPLES / "demo.mp4"


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test run starts from an empty ccgen cache: stages are really computed."""
    path = tmp_path_factory.mktemp("ccgen-cache")
    os.environ["CCGEN_CACHE_DIR"] = str(path)
    # No test reaches beyond this machine: any hub access fails at once, on loopback.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"
    return path
