"""ccgen dataset: sound cues found in real SDH house styles, clips cut from real media.

The style table uses the conventions of the public files in ../shared/data/public/captions
(WGBH parentheses and ``MAN:`` labels, ``[narrator]``-style names, ``♪ [singing] ♪``), which are
also read whole where present; the media test cuts ccgen's demo video with two subtitle files
written in different house styles for its real sound events (samples/demo.reference.tsv).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ccgen.errors import InputError, OutputExistsError
from ccgen.finetune import build_dataset, read_examples
from ccgen.finetune.dataset import read_clip
from ccgen.finetune.sdh import (
    SKIP_LABEL,
    SKIP_LANGUAGE,
    SKIP_LYRICS_AND_TAG,
    SKIP_MIXED,
    SKIP_TEXT,
    capitals_mode,
    classify,
    read_sound_cues,
)
from ccgen.media import load_audio, probe

DEMO_NETFLIX = """1
00:00:00,600 --> 00:00:03,470
MAN: Good morning. Did you sleep well last night?

2
00:00:07,910 --> 00:00:09,830
[knocking]

3
00:00:10,530 --> 00:00:12,350
- [Boss] I think someone is at the door.

4
00:00:13,050 --> 00:00:15,810
(PHONE RINGING)

5
00:00:22,050 --> 00:00:24,950
♪ ♪

6
00:00:28,050 --> 00:00:29,960
[dog barking]

7
00:00:30,660 --> 00:00:32,560
The [bleep] dog does not like it at all.
"""

DEMO_BBC = """1
00:00:00,600 --> 00:00:03,470
Good morning. Did you sleep well last night?

2
00:00:07,910 --> 00:00:09,830
KNOCKING

3
00:00:13,050 --> 00:00:15,810
PHONE RINGING

4
00:00:18,600 --> 00:00:19,900
THE NATIONAL SCIENCE FOUNDATION,

5
00:00:25,650 --> 00:00:27,350
I love this song on the radio.

6
00:00:28,050 --> 00:00:29,960
DOG BARKS
"""


def _cue(*lines: str) -> tuple[float, float, list[str]]:
    return (1.0, 2.0, list(lines))


@pytest.mark.parametrize(("lines", "caption", "kind", "styles"), [
    (["[door slams]"], "door slams", "sound", ("brackets",)),
    (["( clock ticking )"], "clock ticking", "sound", ("parentheses",)),
    (["(PHONE RINGING)"], "phone ringing", "sound", ("parentheses",)),
    (["♪ ♪"], "music", "music", ("notes",)),
    (["[jaunty piano tune]"], "jaunty piano tune", "music", ("brackets",)),
    (["- ♪ [singing a Woody Guthrie song] ♪"], "singing a Woody Guthrie song", "music",
     ("brackets+notes",)),
    (["♪ Once upon a time ♪"], "Once upon a time", "lyrics", ("notes",)),
    (["MAN:", "( laughs )"], "laughs", "sound", ("parentheses",)),
    (["[Thunder]"], "Thunder", "sound", ("brackets",)),
    (["[door slams]", "[dog barks]"], "door slams; dog barks", "sound", ("brackets",)),
])
def test_sound_cues_in_each_house_style(lines, caption, kind, styles):
    reading = classify([_cue(*lines)])
    assert [(s.caption, s.kind, s.styles) for s in reading.sounds] == [(caption, kind, styles)]
    assert reading.speech == 0 and not reading.skipped


def test_labels_are_stripped_and_tags_inside_dialogue_skipped():
    reading = classify([_cue("MAN:", "When we think"), _cue("- [Boss] I'm very glad you"),
                        _cue("ACTOR AS EINSTEIN:", "What would I see"),
                        _cue("How the [bleep] do I know"), _cue("( chuckling ):", "You look")])
    assert reading.sounds == [] and reading.speech == 3 and reading.labels == 3
    assert [(n, why) for n, why, _ in reading.skipped] == [(4, SKIP_MIXED), (5, SKIP_MIXED)]
    lyrics = classify([_cue("♪ Once upon a time ♪")]).sounds[0]
    assert lyrics.answer == 'Someone sings "Once upon a time".'


@pytest.mark.parametrize(("lines", "why"), [
    (["[SIGN READS: Welcome to Texas]"], SKIP_TEXT),
    (["[text on screen: 1985]"], SKIP_TEXT),
    (["[Subtitles by XYZ]"], SKIP_TEXT),
    (["[in Spanish]"], SKIP_LANGUAGE),
    (["[speaks in Russian]"], SKIP_LANGUAGE),
    (["[narrator]"], SKIP_LABEL),
    (["[Man 2]"], SKIP_LABEL),
    (["♪ Jingle bells ♪", "[bells jingle]"], SKIP_LYRICS_AND_TAG),
])
def test_tags_that_are_not_sounds_are_skipped_with_a_reason(lines, why):
    reading = classify([_cue(*lines)])
    assert reading.sounds == [] and [w for _, w, _ in reading.skipped] == [why]


@pytest.mark.parametrize(("lines", "caption"), [
    (["[laughs] [Laughs]"], "laughs"),
    (["[door", "slams]"], "door slams"),
    (['["Happy Birthday" playing]'], '"Happy Birthday" playing'),
    (["[Door Slams]"], "door slams"),
])
def test_tag_text_is_normalised(lines, caption):
    assert [s.caption for s in classify([_cue(*lines)]).sounds] == [caption]


def test_bbc_capitals_are_not_shouts_or_acronyms():
    dialogue = [_cue(line) for line in ("Good morning.", "Who is it?", "Nobody, I think.",
                                         "Then open it.", "You open it.", "Fine.")]
    reading = classify([*dialogue, _cue("GET OUT!"), _cue("WHAT?"), _cue("FBI"),
                        _cue("JOHN: GET OUT"), _cue("SIGN READS: EXIT"), _cue("DOOR SLAMS"),
                        _cue("BANG")])
    assert reading.capitals and [s.caption for s in reading.sounds] == ["door slams", "bang"]


def test_bbc_capitals_count_only_in_files_written_that_way():
    bbc = classify([_cue("Good morning."), _cue("DOOR SLAMS"), _cue("Who is it?"),
                    _cue("THE U.S. DEPARTMENT OF ENERGY,")])
    assert bbc.capitals and [s.caption for s in bbc.sounds] == ["door slams"]
    assert bbc.sounds[0].styles == ("capitals",)
    assert not capitals_mode(["WHO IS IT?", "DOOR SLAMS"])  # an all-capitals file is dialogue
    assert not capitals_mode(["[door slams]", "Good morning.", "THE END"])  # bracket house


def test_real_sdh_files_read_the_same_in_every_format(public_clip):
    srt = read_sound_cues(public_clip("captions/pycaption_example.srt"))
    # 70: "( steam whistle blowing, / train chugging )" is one tag over two lines
    assert (srt.cues, len(srt.sounds), srt.capitals) == (1847, 70, False)
    first = srt.sounds[0]
    assert (first.index, first.start, first.caption) == (1, pytest.approx(9.209), "clock ticking")
    assert all(s.styles == ("parentheses",) for s in srt.sounds)
    assert srt.labels > 100  # MAN:, NARRATOR:, ACTOR AS EINSTEIN: ...
    assert "THE NATIONAL SCIENCE" not in " ".join(s.caption for s in srt.sounds)  # credits
    assert any("( kisses ) dinner!" in text for _, _, text in srt.skipped)
    vtt = read_sound_cues(public_clip("captions/pycaption_example.vtt"))
    assert [s.caption for s in vtt.sounds] == [s.caption for s in srt.sounds]
    babel = read_sound_cues(public_clip("captions/babelsubs_Timed_en.srt"))
    captions = [s.caption for s in babel.sounds]
    assert captions[:2] == ["thunder", "mumbling a song"]  # [speaking Spanish] is speech
    assert "narrator" not in captions and "Boss" not in captions and babel.labels >= 10
    assert sum(s.kind == "music" for s in babel.sounds) == 5
    assert sorted(why for _, why, _ in babel.skipped) == [
        SKIP_LANGUAGE, SKIP_MIXED, SKIP_MIXED]  # [bleep] inside dialogue, twice


@pytest.fixture(scope="module")
def demo_dataset(tmp_path_factory, samples_dir) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("demo-subs")
    (folder / "netflix.srt").write_text(DEMO_NETFLIX, encoding="utf-8")
    (folder / "bbc.srt").write_text(DEMO_BBC, encoding="utf-8")
    demo = samples_dir / "demo.mp4"
    out = folder / "dataset"
    summary = build_dataset([(demo, folder / "netflix.srt"), (demo, folder / "bbc.srt")], out,
                            context=0.25, val_fraction=0.2, seed=3)
    return out, summary


def test_dataset_cuts_the_cued_audio_and_writes_a_split(demo_dataset, samples_dir):
    out, summary = demo_dataset
    records = [json.loads(line) for name in ("train.jsonl", "validation.jsonl")
               for line in (out / name).read_text().splitlines()]
    assert (summary.examples, summary.train, summary.validation) == (5, 4, 1)
    assert sorted(r["caption"] for r in records) == ["dog barking", "dog barks", "knocking",
                                                     "music", "phone ringing"]
    # KNOCKING and PHONE RINGING in the BBC file cut the same audio with the same caption
    assert summary.skipped == {"duplicate": 2, SKIP_MIXED: 1}
    assert summary.styles == {"brackets": 2, "parentheses": 1, "notes": 1, "capitals": 1}
    assert summary.labels_stripped == 2 and summary.speech_cues == 5  # the credit line too
    saved = json.loads((out / "summary.json").read_text())
    assert saved["skipped"] == summary.skipped and len(saved["skipped_cues"]) == 3
    source = load_audio(samples_dir / "demo.mp4", probe(samples_dir / "demo.mp4"))
    knock = next(r for r in records if r["caption"] == "knocking")
    assert (knock["start"], knock["end"]) == (pytest.approx(7.66), pytest.approx(10.08))
    info = probe(out / knock["audio"])
    assert (info.audio[0].codec, info.audio[0].sample_rate, info.audio[0].channels) == (
        "flac", 16000, 1)
    clip = read_clip(out / knock["audio"])
    segment = source[round(7.66 * 16000):round(10.08 * 16000)]
    assert clip.size == segment.size
    assert np.abs(clip - segment).max() < 1e-3  # lossless up to 16-bit quantization
    assert np.sqrt(np.mean(segment ** 2)) > 0.01  # the cue really holds the knocking
    examples = read_examples(out / "train.jsonl")
    assert all(e.audio.is_file() and e.completion().endswith(f"<answer>{e.answer}</answer>")
               for e in examples)


def test_existing_output_is_not_overwritten_without_force(demo_dataset, tmp_path, samples_dir):
    out, _ = demo_dataset
    before = (out / "train.jsonl").read_bytes()
    subs = tmp_path / "s.srt"
    subs.write_text(DEMO_NETFLIX, encoding="utf-8")
    with pytest.raises(OutputExistsError, match="use --force"):
        build_dataset([(samples_dir / "demo.mp4", subs)], out)
    assert (out / "train.jsonl").read_bytes() == before
    again = build_dataset([(samples_dir / "demo.mp4", subs)], out, force=True, val_fraction=0)
    assert again.examples == 4 and len(list((out / "clips").glob("*.flac"))) == 4


def test_short_clips_and_cues_past_the_end_are_skipped_with_reasons(tmp_path, samples_dir):
    subs = tmp_path / "short.vtt"
    subs.write_text("WEBVTT\n\n00:00:05.000 --> 00:00:05.030\n[click]\n\n"
                    "00:00:07.910 --> 00:00:09.830\n[knocking]\n\n"
                    "00:10:00.000 --> 00:10:02.000\n[applause]\n", encoding="utf-8")
    summary = build_dataset([(samples_dir / "demo.mp4", subs)], tmp_path / "out", context=0.0)
    assert summary.examples == 1
    assert summary.skipped == {"clip under 1000 samples": 1, "outside the audio": 1}
    # a run that yields nothing leaves nothing behind: the next run needs no --force
    late = tmp_path / "late.vtt"
    late.write_text("WEBVTT\n\n00:00:33.550 --> 00:00:35.000\n[late bang]\n\n"
                    "00:00:09.000 --> 00:00:08.000\n[reversed]\n", encoding="utf-8")
    with pytest.raises(InputError, match="no usable sound cues") as err:
        build_dataset([(samples_dir / "demo.mp4", late)], tmp_path / "again", context=0.5)
    assert "'ends before it starts': 1" in str(err.value) and "'outside the audio': 1" in str(
        err.value)
    assert not (tmp_path / "again").exists()
    assert build_dataset([(samples_dir / "demo.mp4", subs)], tmp_path / "again",
                         context=0.0).examples == 1


def test_bad_inputs_name_the_file(tmp_path, samples_dir):
    speech = tmp_path / "speech.srt"
    speech.write_text("1\n00:00:01,000 --> 00:00:02,000\nHello there.\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"speech\.srt: no sound cues found in 1 cues"):
        build_dataset([(samples_dir / "demo.mp4", speech)], tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written before the inputs check out
    with pytest.raises(InputError, match=r"nowhere\.mp4: no such media file"):
        build_dataset([(tmp_path / "nowhere.mp4", speech)], tmp_path / "out")
    with pytest.raises(InputError, match=r"missing\.srt: no such subtitle file"):
        build_dataset([(samples_dir / "demo.mp4", tmp_path / "missing.srt")], tmp_path / "out")


@pytest.mark.parametrize(("line", "message"), [
    ('{"caption": "door slams"}', r'bad\.jsonl:2: no "audio"'),
    ('{"audio": "clips/none.flac", "caption": "x"}', r"bad\.jsonl:2: audio file clips/none"),
    ('{"audio": "ok.flac"}', r'bad\.jsonl:2: no "caption"'),
    ("{not json", r"bad\.jsonl:2: not valid JSON"),
    ('["audio"]', r"bad\.jsonl:2: expected a JSON object"),
])
def test_bad_jsonl_lines_are_reported_with_file_and_line(tmp_path, line, message):
    (tmp_path / "ok.flac").write_bytes(b"")
    good = '{"audio": "ok.flac", "caption": "door slams"}'
    (tmp_path / "bad.jsonl").write_text(f"{good}\n{line}\n", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_examples(tmp_path / "bad.jsonl")
    (tmp_path / "bad.jsonl").write_text(f"{good}\n\n", encoding="utf-8")
    assert [e.answer for e in read_examples(tmp_path / "bad.jsonl")] == ["door slams"]


def test_a_flac_clip_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """A clip decodes back to its samples and replaces an older one; ffmpeg failing halfway
    leaves the older clip, no temporary file, and its own last error line as the reason."""
    import stat

    from ccgen.finetune.dataset import write_flac
    from ccgen.media import ffmpeg_bin

    clip = tmp_path / "clips" / "demo-0001.flac"
    clip.parent.mkdir()
    clip.write_bytes(b"older clip")
    tone = (0.5 * np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000)).astype(np.float32)
    assert write_flac(clip, tone) == clip
    assert np.abs(read_clip(clip) - tone).max() < 1e-4  # 16-bit, lossless
    assert stat.S_IMODE(clip.stat().st_mode) == 0o644
    before = clip.read_bytes()
    fake = tmp_path / "ffmpeg"  # the real ffmpeg answers -version; an encode dies halfway
    fake.write_text(f'#!/bin/sh\ncase "$*" in *-version*) exec {ffmpeg_bin.find_ffmpeg().ffmpeg}'
                    ' "$@";; esac\nfor last; do :; done\nprintf half > "${last#file:}"\n'
                    'echo "first line" >&2\necho "No space left on device" >&2\nexit 1\n')
    fake.chmod(0o755)
    monkeypatch.setenv("CCGEN_FFMPEG", str(fake))
    ffmpeg_bin.find_ffmpeg.cache_clear()
    try:
        with pytest.raises(InputError, match=r"demo-0001\.flac: cannot write FLAC "
                                             r"\(No space left on device\)$"):
            write_flac(clip, tone)
    finally:
        ffmpeg_bin.find_ffmpeg.cache_clear()
    assert clip.read_bytes() == before
    assert [p.name for p in clip.parent.iterdir()] == ["demo-0001.flac"]


def test_a_killed_runs_flac_temp_is_removed_by_the_next(tmp_path):
    """A clip's temp file is named like every ccgen temp, so the half clip a SIGKILLed run
    left is removed by the next run writing there (not so a bare .NAME.part)."""
    import subprocess
    import sys

    from ccgen.finetune.dataset import write_flac
    from ccgen.writers.atomic import HOST

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    clips = tmp_path / "clips"
    clips.mkdir()
    stale = clips / f".demo-0002.flac.ccgen~{HOST}-{dead}-abcdEFGH.part"
    stale.write_bytes(b"half a clip")
    write_flac(clips / "demo-0001.flac", np.zeros(4000, np.float32))
    assert [p.name for p in clips.iterdir()] == ["demo-0001.flac"]
