"""faster-whisper in windows: long input is cut in pauses, and the words do not change."""

from __future__ import annotations

import difflib

import pytest

from ccgen.evaluation.metrics import word_error_rate
from ccgen.evaluation.normalize import normalize_text
from ccgen.media import load_audio, probe
from ccgen.speech import FasterWhisperTranscriber, speech_regions
from ccgen.speech.transcriber import windows

# Every test here runs ccgen, ffmpeg or a model: not in `make check`.
pytestmark = pytest.mark.slow


def test_windows_cut_in_pauses_and_cover_everything() -> None:
    regions = [(i * 7.0, i * 7.0 + 5.0) for i in range(100)]  # 5 s speech, 2 s pause
    pieces = windows(700.0, regions, 60.0)
    assert pieces[0][0] == 0.0 and pieces[-1][1] == 700.0
    for (a, b), (c, _) in zip(pieces, pieces[1:], strict=False):
        assert b == c and 30.0 <= b - a <= 90.0
        assert any(r[1] <= b <= s[0] for r, s in zip(regions, regions[1:], strict=False))
    assert windows(80.0, regions, 60.0) == [(0.0, 80.0)]
    assert windows(200.0, [], 60.0)[1] == (60.0, 120.0)  # no pauses: cut at the size


@pytest.mark.slow
def test_windowed_transcription_keeps_the_words(demo_video, demo_reference) -> None:
    path = demo_video
    audio = load_audio(path, probe(path))
    regions = speech_regions(audio)
    whole = FasterWhisperTranscriber(window=600.0).transcribe(audio, None, None, regions)
    small = FasterWhisperTranscriber(window=10.0)
    assert len(windows(audio.size / 16000, regions, 10.0)) >= 3
    pieces = small.transcribe(audio, None, None, regions)
    # Whisper reads each window with its own context, so a word may differ ("merry"/"very");
    # what matters: as good against the reference, same language, times on the same clock.
    said = " ".join(r["text"] for r in demo_reference if r["kind"] == "speech")
    for transcript in (whole, pieces):
        heard = " ".join(w.text for w in transcript.words)
        assert word_error_rate(said, heard).wer <= 0.15, heard
    assert pieces.language == whole.language == "en"
    # The two readings say nearly the same words, and a word both say is heard at the same time
    # (one more or one fewer word must not fail this; a shifted clock must).
    a_words = [normalize_text(w.text) for w in whole.words]
    b_words = [normalize_text(w.text) for w in pieces.words]
    assert word_error_rate(" ".join(a_words), " ".join(b_words)).wer <= 0.1
    matcher = difflib.SequenceMatcher(a=a_words, b=b_words, autojunk=False)
    pairs = [(whole.words[block.a + k], pieces.words[block.b + k])
             for block in matcher.get_matching_blocks() for k in range(block.size)]
    assert len(pairs) >= 0.9 * len(whole.words)
    for a, b in pairs:
        assert b.start == pytest.approx(a.start, abs=0.3), (a, b)
        assert b.end == pytest.approx(a.end, abs=0.3), (a, b)
    starts = [w.start for w in pieces.words]
    assert starts == sorted(starts) and pieces.words[-1].end <= audio.size / 16000 + 0.05
