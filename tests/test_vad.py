"""ccgen's block-by-block Silero VAD gives faster-whisper's own probabilities and regions, on
real audio, across block boundaries, without faster-whisper's whole-file copies."""

from __future__ import annotations

import numpy as np
import pytest
from faster_whisper.vad import VadOptions, get_speech_timestamps, get_vad_model

from ccgen.media import load_audio, probe
from ccgen.speech.vad import (
    BLOCK,
    WINDOW,
    VadSettings,
    regions_from_probabilities,
    speech_probabilities,
    speech_regions,
)

OPTIONS = [  # ccgen's settings, the song pass's low threshold, over-long regions cut
    VadSettings().options(),
    VadOptions(threshold=0.1, min_speech_duration_ms=250, min_silence_duration_ms=500),
    VadOptions(threshold=0.3, max_speech_duration_s=3.0, min_silence_duration_ms=100,
               speech_pad_ms=400),
    VadOptions(),
]
CLIPS = ["speech/ami_dev00.flac", "speech/pyannote_sample.wav", "speech/jfk.flac",
         "events/esc50_1-100032-A-0_dog.flac", "captions/ableplayer_paulallen_mono48k.mp3"]


def _faster_whisper(audio: np.ndarray, options: VadOptions) -> list[tuple[int, int]]:
    return [(s["start"], s["end"]) for s in get_speech_timestamps(audio, options)]


@pytest.fixture(scope="module")
def long_audio(demo_video) -> np.ndarray:
    """Over two blocks of windows (10 000 x 512 samples each): the demo's soundtrack looped,
    cut at a length whose last window is nearly full (its tail is zeroed, as faster-whisper
    does)."""
    audio = load_audio(demo_video, probe(demo_video))
    size = 2 * BLOCK * WINDOW + 7 * WINDOW + 470
    return np.tile(audio, -(-size // audio.size))[:size].copy()


def test_probabilities_are_faster_whispers_across_blocks(long_audio) -> None:
    padded = np.pad(long_audio, (0, WINDOW - long_audio.size % WINDOW))
    ours = speech_probabilities(long_audio)
    assert ours.size == padded.size // WINDOW > 2 * BLOCK
    assert np.array_equal(ours, get_vad_model()(padded).reshape(-1))


def test_regions_are_faster_whispers_on_a_long_input(long_audio) -> None:
    probs = speech_probabilities(long_audio)
    for options in OPTIONS:
        expected = _faster_whisper(long_audio, options)
        assert expected, "the demo has speech: the comparison must see regions"
        assert regions_from_probabilities(probs, long_audio.size, options) == expected


@pytest.mark.parametrize("rel", CLIPS)
def test_regions_are_faster_whispers_on_real_clips(rel: str, clip_audio) -> None:
    audio = clip_audio(rel)
    for cut in (audio.size, 50 * WINDOW, 50 * WINDOW + 470, 50 * WINDOW - 3):
        part = audio[:cut]
        probs = speech_probabilities(part)
        for options in OPTIONS:
            assert regions_from_probabilities(probs, part.size, options) == \
                _faster_whisper(part, options), (rel, cut, options)


def test_speech_regions_in_seconds(clip_audio) -> None:
    audio = clip_audio("speech/jfk.flac")
    regions = speech_regions(audio)
    assert regions == [(a / 16000, b / 16000) for a, b in
                       _faster_whisper(audio, VadSettings().options())]
    assert regions and all(0 <= a < b <= audio.size / 16000 for a, b in regions)
    assert speech_regions(np.zeros(100, dtype=np.float32)) == []
