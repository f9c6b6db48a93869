"""The review report: self-contained, escaped, and it renders in a real browser."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ccgen.cues import Cue, Timeline
from ccgen.report import render_report


def _timeline() -> Timeline:
    cues = [
        Cue(0.5, 2.0, "speech", "Hello <script>alert(1)</script>", "S1", "whisper", 0.9),
        Cue(2.5, 3.5, "sound", "[door slams]", None, "yamnet", 0.3),
        Cue(4.0, 6.0, "speech", "Two\nlines", "S2", "whisper", 0.8),
    ]
    return Timeline("clip & co.mp4", 8.0, "en", "netflix", cues,
                    {"transcriber": "base", "describer": "yamnet", "diarizer": "none"},
                    ["S1", "S2"])


def test_caption_text_is_escaped_and_low_confidence_marked() -> None:
    import numpy as np

    html = render_report(_timeline(), np.sin(np.arange(16000 * 8) / 50).astype("float32"),
                         [{"start": 2.5, "cue": 2, "rule": "cps", "message": "25 > 20"}])
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "clip &amp; co.mp4" in html
    assert html.count('<tr class="low">') == 1  # the 0.3 door slam
    assert 'data-lane="S1"' in html and 'data-lane="S2"' in html
    assert 'data-lane="sounds"' in html and "25 &gt; 20" in html
    assert "http" not in html.replace("http-equiv", "")  # self-contained: nothing to fetch


def test_dashed_exchange_shows_both_speakers() -> None:
    from ccgen.report import lanes

    timeline = _timeline()
    timeline.cues.append(Cue(6.5, 7.5, "speech", "- Ready?\n- Yes.", "S1", "whisper", 0.9,
                             speakers=["S1", "S2"]))
    lanes = {lane.label: [box["n"] for box in lane.boxes] for lane in lanes(timeline)}
    assert lanes["S1"] == [1, 4] and lanes["S2"] == [3, 4]
    assert "<td>S1 / S2</td>" in render_report(timeline)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("no Chromium here (Debian package chromium); .ci/run installs it")


CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tmp_path: Path, cli, samples_dir) -> None:
    browser = _chromium()
    report = tmp_path / "demo.html"
    result = cli(samples_dir / "demo.mp4", "-d", tmp_path, "--report", report, "-q")
    assert result.returncode == 0, result.stderr
    profile = tmp_path / "profile"
    dom = subprocess.run([browser, *CHROME_FLAGS, f"--user-data-dir={profile}",
                          "--dump-dom", report.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert 'id="timeline"' in dom and 'id="captions"' in dom and 'id="findings"' in dom
    assert "[knocking]" in dom and "[dog barking]" in dom
    shot = tmp_path / "shot.png"
    subprocess.run([browser, *CHROME_FLAGS, f"--user-data-dir={profile}",
                    f"--screenshot={shot}", "--window-size=1200,900", report.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
