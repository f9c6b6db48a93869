"""Into the video: --mux adds the captions as a subtitle track (stream copy), --burn-in draws
them into the picture. ffprobe is the independent reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccgen.errors import InputError
from ccgen.writers import render

# Every test here runs ccgen, ffmpeg or a model: not in `make check`.
pytestmark = pytest.mark.slow


def _streams(path) -> list[dict]:
    import json
    import subprocess

    from ccgen.media import find_ffmpeg

    probe = find_ffmpeg().ffprobe
    if probe is None:
        pytest.skip("no ffprobe beside this ffmpeg")
    run = subprocess.run([probe, "-v", "error", "-count_packets", "-show_streams", "-of", "json",
                          str(path)], capture_output=True, text=True, check=True)
    return json.loads(run.stdout)["streams"]


@pytest.fixture
def captions_srt(tmp_path, netflix, sample_timeline) -> Path:
    """The sample timeline as an SRT file in tmp_path."""
    path = tmp_path / "captions.srt"
    path.write_text(render(sample_timeline(), "srt", netflix), encoding="utf-8")
    return path


@pytest.mark.parametrize(("suffix", "codec"), [(".mp4", "mov_text"), (".mkv", "subrip")])
def test_mux_copies_streams_and_adds_sdh_track(tmp_path, demo_video, suffix: str,
                                               codec: str, captions_srt) -> None:
    from ccgen.writers.mux import mux

    out = mux(demo_video, captions_srt, tmp_path / f"out{suffix}", language="en")
    before, after = _streams(demo_video), _streams(out)
    for src in before:  # every packet copied, none re-encoded
        same = [s for s in after if s["codec_type"] == src["codec_type"]]
        assert same[0]["codec_name"] == src["codec_name"]
        assert same[0]["nb_read_packets"] == src["nb_read_packets"]
    (sub,) = [s for s in after if s["codec_type"] == "subtitle"]
    assert sub["codec_name"] == codec and sub["tags"]["language"] == "eng"
    assert sub["disposition"]["hearing_impaired"] == 1 and sub["disposition"]["default"] == 1


def test_mux_refuses_bad_container_and_never_clobbers(tmp_path, demo_video, captions_srt) -> None:
    from ccgen.errors import OutputExistsError
    from ccgen.writers.mux import language_code, mux

    with pytest.raises(InputError, match=r"\.avi") as err:
        mux(demo_video, captions_srt, tmp_path / "out.avi")
    assert "\n" not in str(err.value)
    (tmp_path / "taken.mkv").write_bytes(b"keep me")
    with pytest.raises(OutputExistsError):
        mux(demo_video, captions_srt, tmp_path / "taken.mkv")
    assert (tmp_path / "taken.mkv").read_bytes() == b"keep me"
    assert (language_code("en-US"), language_code("fr"), language_code("xx")) == (
        "eng", "fre", "und")


def _frame(path, at: float) -> bytes:
    import subprocess

    from ccgen.media import find_ffmpeg

    return subprocess.run([find_ffmpeg().ffmpeg, "-v", "error", "-ss", str(at), "-i", str(path),
                           "-frames:v", "1", "-vf", "scale=64:36,format=gray", "-f", "rawvideo",
                           "-"], capture_output=True, check=True).stdout


def test_burn_in_draws_captions_and_copies_audio(tmp_path, demo_video, netflix,
                                                 sample_timeline) -> None:
    from ccgen.writers.mux import burn_in

    ass = tmp_path / "my captions [v1]: 'sdh'.ass"  # characters that break filter quoting
    ass.write_text(render(sample_timeline(), "ass", netflix), encoding="utf-8")
    out = burn_in(demo_video, ass, tmp_path / "burned.mp4")
    kinds = {s["codec_type"]: s for s in _streams(out)}
    assert "subtitle" not in kinds and kinds["video"]["codec_name"] == "h264"
    (audio,) = [s for s in _streams(demo_video) if s["codec_type"] == "audio"]
    assert kinds["audio"]["nb_read_packets"] == audio["nb_read_packets"]
    plain, burned = _frame(demo_video, 2.0), _frame(out, 2.0)  # "Hello there" is on screen
    diff = [abs(a - b) for a, b in zip(plain, burned, strict=True)]
    top, bottom = diff[: 64 * 12], diff[64 * 24:]
    assert sum(bottom) / len(bottom) > 4 * (sum(top) / len(top) + 0.5)


def test_webm_says_it_cannot_carry_the_hearing_impaired_flag(tmp_path, caplog,
                                                             captions_srt, make_media) -> None:
    """FFmpeg's WebM muxer writes no hearing-impaired flag: the copy still gets its track
    (default, language, titled SDH) and the run warns, instead of promising the flag."""
    from ccgen.writers.mux import mux

    video = tmp_path / "clip.webm"
    make_media.ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=10:duration=2",
                      "-f", "lavfi", "-i", "sine=duration=2", "-c:v", "libvpx-vp9",
                      "-c:a", "libopus", "-shortest", str(video))
    with caplog.at_level("WARNING", logger="ccgen"):
        out = mux(video, captions_srt, tmp_path / "out.webm", language="en")
    assert "hearing-impaired" in caplog.text
    (sub,) = [s for s in _streams(out) if s["codec_type"] == "subtitle"]
    assert sub["disposition"]["default"] == 1 and sub["tags"]["language"] == "eng"
    assert sub["disposition"]["hearing_impaired"] == 0  # if FFmpeg learns it, drop the warning
