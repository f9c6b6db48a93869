"""The command line as users and scripts meet it: exit codes, one-line errors, no lost files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pysubs2
import pytest

from ccgen.media import find_ffmpeg

# Every test here runs ccgen, ffmpeg or a model: not in `make check`.
pytestmark = pytest.mark.slow


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ccgen: error:")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture(scope="module")
def speech_clip(tmp_path_factory: pytest.TempPathFactory, make_media, samples_dir) -> Path:
    """The demo's soundtrack as an audio-only FLAC (real speech and sounds)."""
    dest = tmp_path_factory.mktemp("clip") / "clip.flac"
    make_media.ffmpeg("-i", str(samples_dir / "demo.mp4"), "-vn", "-ac", "1", str(dest))
    return dest


def test_help_and_version(cli) -> None:
    out = cli("--help")
    assert out.returncode == 0 and "caption" in out.stdout
    out = cli("caption", "--help")
    for option in ("--output-dir", "--format", "--style", "--asr-model", "--diarizer",
                   "--describer", "--audio-stream", "--force", "--report", "--start-timecode",
                   "--mux", "--speaker-labels", "--jobs", "--manifest"):
        assert option in out.stdout
    out = cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("ccgen, version ")


def test_bad_inputs_exit_2_with_one_line(tmp_path: Path, make_media, cli) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    junk = tmp_path / "junk.mkv"
    junk.write_bytes(b"\x00\x01 not media " * 100)
    mute = tmp_path / "mute.mp4"
    make_media.ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1",
                      "-c:v", "libx264", str(mute))
    good = make_media.tone(tmp_path / "tone.wav")
    cases = [
        ((tmp_path / "missing.mp4",), "no such file"),
        ((empty,), "empty file"),
        ((junk,), "not a readable media file"),
        ((mute,), "has no audio stream"),
        ((good, "-d", "/proc/ccgen-cannot-write-here"), "output folder"),
        ((good, "-d", good), "not a folder"),
        ((good, "-f", "srt,doc"), "unknown format"),
        ((good, "-s", "no-such-style"), "unknown style"),
        ((good, "-o", tmp_path / "out.txt"), "suffix"),
        ((good, "--audio-stream", "3"), "--audio-stream 3 does not exist"),
        ((good, "--diarizer", "pyannote"), "is not on this machine"),
        ((good, "--speaker-names", "S1"), "is not SPEAKER=NAME"),
        ((good, "--describer", "audsemthinker"), "needs a CUDA GPU"),
    ]
    for args, needle in cases:
        result = cli(*args)
        assert_one_line_error(result, needle)
    # No partial output anywhere: nothing but the inputs is in the folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["empty.mp4", "junk.mkv", "mute.mp4", "tone.wav"])


def test_usage_errors_exit_2(cli) -> None:
    result = cli("caption")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    result = cli("a.mp4", "--no-such-option")
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.mark.slow
def test_all_formats_from_audio_only_input(speech_clip: Path, tmp_path: Path, cli) -> None:
    out = cli(speech_clip, "-f", "srt,vtt,ass,json", "-d", tmp_path, "-q")
    assert out.returncode == 0, out.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"clip.en.sdh.{f}" for f in ("ass", "json", "srt", "vtt")]
    texts = {}
    for fmt in ("srt", "vtt", "ass"):
        path = tmp_path / f"clip.en.sdh.{fmt}"
        subs = pysubs2.load(str(path))
        assert len(subs) >= 5
        texts[fmt] = [e.plaintext for e in subs]
        # An independent reader: ffmpeg's own demuxer and decoder read every cue of each file.
        check = subprocess.run([find_ffmpeg().ffmpeg, "-v", "error", "-i", str(path), "-f",
                                "srt", "-"], capture_output=True, text=True)
        assert check.returncode == 0 and not check.stderr.strip(), check.stderr
        assert len(pysubs2.SSAFile.from_string(check.stdout, format_="srt")) == len(subs)
    assert texts["srt"] == texts["vtt"] == texts["ass"]
    timeline = json.loads((tmp_path / "clip.en.sdh.json").read_text())
    assert set(timeline) >= {"ccgen", "media", "duration", "language", "style", "models",
                             "speakers", "cues"}
    assert timeline["language"] == "en" and timeline["style"] == "netflix"
    kinds = {c["kind"] for c in timeline["cues"]}
    assert "speech" in kinds and "sound" in kinds
    assert [c["text"] for c in timeline["cues"]] == texts["srt"]
    for cue in timeline["cues"]:
        assert set(cue) == {"start", "end", "kind", "speaker", "text", "source", "confidence",
                            "speakers"}
        assert 0 <= cue["start"] < cue["end"] <= timeline["duration"] + 1e-6


@pytest.mark.slow
def test_existing_output_is_kept_without_force(speech_clip: Path, tmp_path: Path, cli) -> None:
    target = tmp_path / "mine.srt"
    target.write_text("my hand-made subtitles\n")
    result = cli(speech_clip, "-o", target)
    assert_one_line_error(result, "exists", "--force")
    assert target.read_text() == "my hand-made subtitles\n"
    result = cli(speech_clip, "-o", target, "--force", "-q")
    assert result.returncode == 0, result.stderr
    assert pysubs2.load(str(target))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.srt"]  # no temp files left


@pytest.mark.slow
def test_silence_and_music_only_give_valid_files_without_speech(tmp_path: Path, make_media,
                                                                cli) -> None:
    silence = make_media.silence(tmp_path / "silence.wav", 4.0)
    music = tmp_path / "music.flac"
    # A chord progression with harmonics: music to a tagger, no words to a speech model.
    make_media.ffmpeg("-f", "lavfi", "-i",
           "aevalsrc='0.2*sin(2*PI*(220+110*floor(t))*t)+0.1*sin(4*PI*(220+110*floor(t))*t)"
           "+0.1*sin(2*PI*330*t)':s=16000:d=6", str(music))
    result = cli(silence, music, "-f", "srt,json", "-d", tmp_path, "-q")
    assert result.returncode == 0, result.stderr
    for stem in ("silence", "music"):
        timeline = json.loads((tmp_path / f"{stem}.en.sdh.json").read_text())
        assert [c for c in timeline["cues"] if c["kind"] == "speech"] == []
        srt = pysubs2.load(str(tmp_path / f"{stem}.en.sdh.srt"), format_="srt")
        assert all(e.plaintext.startswith(("[", "♪")) for e in srt)
    silent = json.loads((tmp_path / "silence.en.sdh.json").read_text())
    assert silent["cues"] == []
