"""Speech a speaker is heard saying that Whisper did not transcribe becomes `[indistinct]`
under the speaker's mark, and only where the tagger hears a voice too."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from ccgen.speakers.base import Turn
from ccgen.speech.unheard import (
    UnheardSettings,
    indistinct_words,
    unheard_speech,
    voiced_spans,
)
from ccgen.speech.vocals import PATCH_HOP_SECONDS

CLASSES = ("Speech", "Singing", "Dog")


def _scores(rows: list[tuple[float, float, float]]) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def test_voiced_spans_are_windows_where_speech_outscores_singing() -> None:
    rows = [(0.9, 0.0, 0.0), (0.8, 0.1, 0.0), (0.1, 0.0, 0.9), (0.5, 0.7, 0.0),
            (0.6, 0.2, 0.0)]
    spans = voiced_spans(_scores(rows), CLASSES, floor=0.3)
    hop = PATCH_HOP_SECONDS
    # windows 0-1 merge (each 0.96 s long, 0.48 s apart); the bark and the sung window are out
    assert spans == [(0.0, pytest.approx(hop + 0.96)), (pytest.approx(4 * hop),
                                                         pytest.approx(4 * hop + 0.96))]
    assert voiced_spans(_scores(rows), CLASSES, floor=0.95) == []
    assert voiced_spans(_scores(rows), ("Dog", "Cat", "Bird"), floor=0.3) == []  # no speech


def test_the_untranscribed_part_of_a_turn_is_found() -> None:
    turns = [Turn(0.0, 10.0, "S1")]
    words = [(0.5, 1.0), (1.1, 2.0), (8.0, 9.0)]
    voiced = [(0.0, 10.0)]
    s = UnheardSettings(margin=0.2, min_length=1.0)
    # 2.2-7.8 between the words (each widened by the margin); 9.2-10.0 is 0.8 s: too short
    assert unheard_speech(turns, words, voiced, s) == [(pytest.approx(2.2), pytest.approx(7.8))]
    assert unheard_speech(turns, words, voiced, replace(s, min_length=0.5)) == [
        (pytest.approx(2.2), pytest.approx(7.8)), (pytest.approx(9.2), pytest.approx(10.0))]


def test_no_voice_heard_means_no_indistinct_speech() -> None:
    turns = [Turn(0.0, 10.0, "S1")]
    assert unheard_speech(turns, [], [], UnheardSettings()) == []
    # voiced for under half of the stretch: not enough
    assert unheard_speech(turns, [], [(0.0, 4.0)], UnheardSettings(voiced_share=0.5)) == []
    assert unheard_speech(turns, [], [(0.0, 6.0)], UnheardSettings(voiced_share=0.5)) == [
        (0.0, 10.0)]


def test_overlap_turns_and_sung_lines_are_not_indistinct_speech() -> None:
    voiced = [(0.0, 10.0)]
    assert unheard_speech([Turn(0.0, 10.0, "S2", overlap=True)], [], voiced) == []
    # a sung line (or a sound caption) is captioned: nothing left of the turn
    assert unheard_speech([Turn(0.0, 10.0, "S1")], [(0.0, 10.0)], voiced) == []


def test_one_voice_cut_at_short_pauses_is_one_stretch() -> None:
    """pyannote cuts one speaker's turn at short pauses: 0.8 s + 0.8 s of one voice is one
    1.6 s stretch (long enough), and one [indistinct], not two."""
    voiced = [(0.0, 10.0)]
    turns = [Turn(0.0, 0.8, "S1"), Turn(0.9, 1.7, "S1"), Turn(5.0, 5.8, "S2"),
             Turn(6.2, 7.0, "S2")]  # S2's pieces are 0.4 s apart: two blips, not one
    assert unheard_speech(turns, [], voiced, UnheardSettings(margin=0.2, min_length=1.0)) == [
        (pytest.approx(0.0), pytest.approx(1.7))]
    # turns that overlap without the overlap mark (other diarizers) give one stretch too
    doubled = [Turn(0.0, 3.0, "S1"), Turn(1.0, 4.0, "S1")]
    assert unheard_speech(doubled, [], voiced) == [(pytest.approx(0.0), pytest.approx(4.0))]


def test_indistinct_words_carry_the_styles_text_and_keep_the_captions_confidence() -> None:
    words = indistinct_words([(1.0, 2.5)], "[indistinct]")
    assert [(w.start, w.end, w.text, w.probability) for w in words] == [
        (1.0, 2.5, "[indistinct]", 1.0)]
    assert indistinct_words([(1.0, 2.5)], "") == []  # the style turned it off


def test_a_meeting_reply_whisper_misses_is_captioned_indistinct(cli, public_clip,
                                                                 tmp_path) -> None:
    """ami_trn04 ends with a second speaker whom whisper-base does not transcribe (28.9-30 s):
    the caption there is [indistinct], under that speaker, and scoring the captions'
    speakers against the human RTTM misses less of the meeting than without it."""
    pytest.importorskip("pyannote.audio")
    clip = public_clip("speech/ami_trn04.flac")
    style = tmp_path / "plain.toml"
    style.write_text('unheard_speech = ""\n', encoding="utf-8")
    on, off = tmp_path / "on.json", tmp_path / "off.json"
    for out, extra in ((on, []), (off, ["--style", str(style)])):
        done = cli(clip, "-f", "json", "-o", out, "--no-cache", *extra)
        assert done.returncode == 0, done.stderr
    cues = json.loads(on.read_text())["cues"]
    plain = json.loads(off.read_text())["cues"]
    marked = [c for c in cues if "[indistinct]" in c["text"]]
    assert marked and all(c["kind"] == "speech" and c["speaker"] for c in marked)
    assert not any("indistinct" in c["text"] for c in plain)
    # the words are the same: only the untranscribed stretch is new
    words = [c["text"].replace("[indistinct]", "").split() for c in cues if c["kind"] == "speech"]
    assert sum(map(len, words)) == sum(len(c["text"].split()) for c in plain
                                       if c["kind"] == "speech")
    from ccgen.evaluation import metrics as M

    ref = M.read_rttm(clip.with_suffix(".rttm"))

    def missed(found: list[dict]) -> float:
        hyp = [M.Turn(c["start"], c["end"], c["speaker"] or "?", ref[0].uri)
               for c in found if c["kind"] == "speech"]
        return M.diarization_error_rate(ref, hyp).missed

    assert missed(cues) < missed(plain) - 0.4  # 2.68 vs 3.28 s here
