"""Media stage: probing and decoding real files made with ffmpeg, and every bad-input path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ccgen.errors import InputError
from ccgen.media import find_ffmpeg, load_audio, probe
from ccgen.media import mediainfo as probe_mod
from conftest import ffmpeg, make_tone


@pytest.mark.parametrize("suffix", ["wav", "flac", "mp3", "m4a", "ogg"])
def test_audio_files_decode_to_16k_mono(tmp_path: Path, suffix: str) -> None:
    src = make_tone(tmp_path / f"tone.{suffix}", seconds=2.0, rate=44100, channels=2)
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


def test_video_with_two_audio_streams_picks_the_requested_one(tmp_path: Path) -> None:
    dest = tmp_path / "two.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=2",
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


def test_six_channel_and_8k_input(tmp_path: Path) -> None:
    src = make_tone(tmp_path / "surround.wav", seconds=1.0, rate=8000, channels=6)
    info = probe(src)
    assert info.audio[0].channels == 6 and info.audio[0].sample_rate == 8000
    assert load_audio(src, info).size == pytest.approx(16000, abs=400)


def test_bad_inputs_raise_one_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    text = tmp_path / "notes.mp4"
    text.write_text("these are not the frames you are looking for\n" * 20)
    silent_video = tmp_path / "mute.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1", "-c:v", "libx264",
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


def test_ffmpeg_report_parser_matches_ffprobe(tmp_path: Path) -> None:
    """The imageio-ffmpeg build has no ffprobe; the `ffmpeg -i` parser must agree with it."""
    tools = find_ffmpeg()
    if tools.ffprobe is None:
        pytest.skip("no ffprobe here to compare against")
    dest = tmp_path / "av.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30000/1001:duration=3",
           "-f", "lavfi", "-i", "sine=frequency=500:duration=3:sample_rate=48000",
           "-c:v", "libx264", "-c:a", "aac", "-ac", "2", "-shortest", str(dest))
    a = probe_mod._with_ffprobe(dest, tools.ffprobe)
    b = probe_mod._with_ffmpeg(dest, tools.ffmpeg)
    assert b.duration == pytest.approx(a.duration, abs=0.05)
    assert b.frame_rate == pytest.approx(a.frame_rate, abs=0.01)
    assert [(s.channels, s.sample_rate) for s in b.audio] == [(2, 48000)]
    assert [(s.channels, s.sample_rate) for s in a.audio] == [(2, 48000)]


def test_imageio_ffmpeg_alone_is_enough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    """A machine without system ffmpeg: the wheel's static binary probes and decodes."""
    import imageio_ffmpeg

    from ccgen.media import ffmpeg_bin

    monkeypatch.setenv("CCGEN_FFMPEG", imageio_ffmpeg.get_ffmpeg_exe())
    ffmpeg_bin.find_ffmpeg.cache_clear()
    try:
        tools = ffmpeg_bin.find_ffmpeg()
        assert tools.origin == "env"
        src = make_tone(tmp_path / "t.ogg", seconds=1.5)
        info = probe(src)
        assert info.duration == pytest.approx(1.5, abs=0.1)
        assert load_audio(src, info).size == pytest.approx(24000, abs=800)
    finally:
        ffmpeg_bin.find_ffmpeg.cache_clear()
