"""Media stage: probing and decoding real files made with ffmpeg, and every bad-input path."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from ccgen.errors import InputError
from ccgen.media import find_ffmpeg, load_audio, probe
from ccgen.media import mediainfo as probe_mod


@pytest.mark.parametrize("suffix", ["wav", "flac", "mp3", "m4a", "ogg"])
def test_audio_files_decode_to_16k_mono(tmp_path: Path, suffix: str, make_media) -> None:
    src = make_media.tone(tmp_path / f"tone.{suffix}", seconds=2.0, rate=44100, channels=2)
    info = probe(src)
    assert not info.has_video
    assert info.audio[0].channels == 2
    assert info.duration == pytest.approx(2.0, abs=0.1)
    audio = load_audio(src, info)
    assert audio.dtype == np.float32
    assert audio.size == pytest.approx(32000, abs=1600)
    # The tone survives: the spectrum peaks at 440 Hz.
    spectrum = np.abs(np.fft.rfft(audio[:16000]))
    assert abs(np.argmax(spectrum) - 440) <= 2


def test_video_with_two_audio_streams_picks_the_requested_one(tmp_path: Path, make_media) -> None:
    dest = tmp_path / "two.mkv"
    make_media.ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=2",
           "-f", "lavfi", "-i", "sine=frequency=300:duration=2",
           "-f", "lavfi", "-i", "sine=frequency=1000:duration=2",
           "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-c:a", "aac", str(dest))
    info = probe(dest)
    assert info.frame_rate == pytest.approx(25.0)
    assert len(info.audio) == 2
    for stream, freq in ((0, 300), (1, 1000)):
        audio = load_audio(dest, info, stream)
        peak = np.argmax(np.abs(np.fft.rfft(audio[4000:20000]))) / (16000 / 16000)
        assert abs(peak - freq) <= 3
    with pytest.raises(InputError, match="--audio-stream 2 does not exist"):
        load_audio(dest, info, 2)


def test_six_channel_and_8k_input(tmp_path: Path, make_media) -> None:
    src = make_media.tone(tmp_path / "surround.wav", seconds=1.0, rate=8000, channels=6)
    info = probe(src)
    assert info.audio[0].channels == 6 and info.audio[0].sample_rate == 8000
    assert load_audio(src, info).size == pytest.approx(16000, abs=400)


def test_bad_inputs_raise_one_clear_error(tmp_path: Path, make_media) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    text = tmp_path / "notes.mp4"
    text.write_text("these are not the frames you are looking for\n" * 20)
    silent_video = tmp_path / "mute.mp4"
    make_media.ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1", "-c:v",
                      "libx264",
           str(silent_video))
    cases = {
        tmp_path / "missing.wav": "no such file",
        empty: "empty file",
        text: "not a readable media file",
        silent_video: "has no audio stream",
        tmp_path: "is a folder",
    }
    for path, message in cases.items():
        with pytest.raises(InputError, match=message):
            probe(path)


def test_ffmpeg_report_parser_matches_ffprobe(tmp_path: Path, make_media) -> None:
    """The imageio-ffmpeg build has no ffprobe; the `ffmpeg -i` parser must agree with it."""
    tools = find_ffmpeg()
    if tools.ffprobe is None:
        pytest.skip("no ffprobe here to compare against")
    dest = tmp_path / "av.mp4"
    make_media.ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30000/1001:duration=3",
           "-f", "lavfi", "-i", "sine=frequency=500:duration=3:sample_rate=48000",
           "-c:v", "libx264", "-c:a", "aac", "-ac", "2", "-shortest", str(dest))
    a = probe_mod._with_ffprobe(dest, tools.ffprobe)
    b = probe_mod._with_ffmpeg(dest, tools.ffmpeg)
    assert b.duration == pytest.approx(a.duration, abs=0.05)
    assert b.frame_rate == pytest.approx(a.frame_rate, abs=0.01)
    assert [(s.channels, s.sample_rate) for s in b.audio] == [(2, 48000)]
    assert [(s.channels, s.sample_rate) for s in a.audio] == [(2, 48000)]


def test_imageio_ffmpeg_alone_is_enough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_media
                                        ) -> None:
    """A machine without system ffmpeg: the wheel's static binary probes and decodes."""
    import imageio_ffmpeg

    from ccgen.media import ffmpeg_bin

    monkeypatch.setenv("CCGEN_FFMPEG", imageio_ffmpeg.get_ffmpeg_exe())
    ffmpeg_bin.find_ffmpeg.cache_clear()
    try:
        tools = ffmpeg_bin.find_ffmpeg()
        assert tools.origin == "env"
        src = make_media.tone(tmp_path / "t.ogg", seconds=1.5)
        info = probe(src)
        assert info.duration == pytest.approx(1.5, abs=0.1)
        assert load_audio(src, info).size == pytest.approx(24000, abs=800)
    finally:
        ffmpeg_bin.find_ffmpeg.cache_clear()


def _faststart_cut(tmp_path: Path, demo: Path, keep: int | float, *, make_media) -> Path:
    """A real 6.2 s MP4 (from samples/demo.mp4) with its header first, cut after `keep`
    bytes (or that share of the file): the header still declares 6.2 s."""
    whole = tmp_path / "whole.mp4"
    if not whole.exists():
        make_media.ffmpeg("-i", str(demo), "-t", "6.2", "-movflags", "+faststart", str(whole))
    data = whole.read_bytes()
    size = keep if isinstance(keep, int) else int(len(data) * keep)
    cut = tmp_path / f"cut{size}.mp4"
    cut.write_bytes(data[:size])
    return cut


@pytest.fixture(scope="session")
def faststart_cut(make_media):
    """:func:`_faststart_cut` with the `make_media` fixture."""
    return functools.partial(_faststart_cut, make_media=make_media)


def test_a_truncated_mp4_is_bad_input_naming_what_decoded(tmp_path: Path, demo_video: Path,
                                                          cli, faststart_cut) -> None:
    """The first 5000 bytes of an MP4 that declares 6.2 s: not an empty SRT with exit 0."""

    cut = faststart_cut(tmp_path, demo_video, 5000)
    assert probe(cut).duration == pytest.approx(6.2, abs=0.05)  # the header still says so
    result = cli(cut, "--describer", "none", "--diarizer", "none")
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "truncated" in result.stderr and "of the 6.20 s the file declares" in result.stderr
    assert "partial file" in result.stderr  # ffmpeg's own words, not swallowed
    assert not list(tmp_path.glob("*.srt"))


def test_a_small_shortfall_is_a_warning_and_the_audio_is_kept(
        tmp_path: Path, demo_video: Path, caplog: pytest.LogCaptureFixture, faststart_cut) -> None:
    cut = faststart_cut(tmp_path, demo_video, 0.75)
    info = probe(cut)
    with caplog.at_level("WARNING", logger="ccgen"):
        audio = load_audio(cut, info)
    decoded = audio.size / 16000
    assert 0.5 * info.duration < decoded < info.duration - 1.0
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1 and f"{decoded:.2f} s of audio decoded" in warned[0]
    assert "partial file" in warned[0]


def test_whole_files_decode_without_any_warning(tmp_path: Path, demo_video: Path,
                                                caplog: pytest.LogCaptureFixture,
                                                faststart_cut) -> None:
    whole = faststart_cut(tmp_path, demo_video, 1.0)
    with caplog.at_level("WARNING", logger="ccgen"):
        audio = load_audio(whole, probe(whole))
    assert audio.size / 16000 == pytest.approx(6.2, abs=0.1)
    assert not caplog.records


@pytest.mark.parametrize(("decoded", "outcome"), [(2.9, "error"), (3.2, "warning"),
                                                  (4.9, "warning"), (5.5, "quiet")])
def test_the_truncation_threshold(decoded: float, outcome: str,
                                  caplog: pytest.LogCaptureFixture) -> None:
    """Under half of the declared length is an error, a shortfall over 1 s a warning."""
    from ccgen.media.audio import check_decoded

    with caplog.at_level("WARNING", logger="ccgen"):
        if outcome == "error":
            with pytest.raises(InputError, match=f"only {decoded:.2f} s of audio decoded"):
                check_decoded("x.mp4", decoded, 6.0, [])
        else:
            check_decoded("x.mp4", decoded, 6.0, [])
    assert bool(caplog.records) == (outcome == "warning")


def test_a_truncated_file_fails_alone_in_a_batch(tmp_path: Path, demo_video: Path, make_media, cli,
                                                 faststart_cut) -> None:
    import json


    cut = faststart_cut(tmp_path, demo_video, 5000)
    tone = make_media.tone(tmp_path / "tone.wav", seconds=2.0)
    out = tmp_path / "out"
    out.mkdir()
    result = cli(cut, tone, "-d", out, "--manifest", tmp_path / "run.json",
                     "--describer", "none", "--diarizer", "none")
    assert result.returncode == 1, result.stderr
    files = {Path(f["input"]).name: f for f in json.loads(
        (tmp_path / "run.json").read_text())["files"]}
    assert files[cut.name]["status"] == "failed" and files[cut.name]["exit_code"] == 2
    assert "truncated" in files[cut.name]["error"]
    assert files["tone.wav"]["status"] == "done"
    assert sorted(p.name for p in out.iterdir()) == ["tone.en.sdh.srt"]


@pytest.mark.parametrize("declared", [0.0, 0.3, None, 1e12])
def test_samples_are_read_whole_whatever_the_file_declares(demo_video: Path,
                                                            declared: float | None) -> None:
    """read_samples fills one array sized from the declared length: a header that says too
    little (the array grows), nothing, or an absurd length must give ffmpeg's exact output."""
    import subprocess

    import ffmpeg

    from ccgen.media.audio import read_samples

    graph = (ffmpeg.input(str(demo_video))
             .output("pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=16000)
             .global_args("-nostdin", "-loglevel", "error"))
    ffmpeg_bin = find_ffmpeg().ffmpeg
    expected = np.frombuffer(subprocess.run(graph.compile(cmd=ffmpeg_bin), check=True,
                                            capture_output=True).stdout, dtype=np.float32)
    real = probe(demo_video).duration
    proc = graph.run_async(cmd=ffmpeg_bin, pipe_stdout=True, pipe_stderr=True)
    got, err = read_samples(proc, real if declared is None else declared)
    assert proc.returncode == 0 and err == b""
    assert expected.size > 16000 and np.array_equal(got, expected)
    assert not got.flags.writeable  # no stage writes into the soundtrack
