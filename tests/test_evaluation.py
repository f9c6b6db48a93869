"""The evaluation harness scored against tiny made-up references whose answers are known by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccgen.evaluation import metrics
from ccgen.evaluation.metrics import (
    Turn,
    concept_from_label,
    diarization_error_rate,
    format_rttm,
    load_synonyms,
    match_events,
    names_concept,
    parse_rttm,
    word_error_rate,
)
from ccgen.evaluation.normalize import normalize_text, ordinal_to_words, strip_caption_markup

REPO = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- normaliser

@pytest.mark.parametrize(("raw", "expected"), [
    ("Go forward 10 meters.", "go forward ten meters"),
    ("And so, my fellow Americans: ask NOT!", "and so my fellow americans ask not"),
    ("For the twentieth time", "for the twentieth time"),
    ("the 1st, 2nd, 3rd and 21st", "the first second third and twenty first"),
    ("It's 2,024 people, not 105.", "it's two thousand twenty four people not one hundred five"),
    ("999999 and 1000000",
     "nine hundred ninety nine thousand nine hundred ninety nine and 1000000"),
    ("twenty-one well-known", "twenty one well known"),
    ("3.5% of \u2018quotes\u2019 don\u2019t count",
     "three point five percent of quotes don't count"),
    ("  many    spaces\n\tand ♪ notes ♪ ", "many spaces and notes"),
    ("the dogs' bowls", "the dogs bowls"),
])
def test_normalizer(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_ordinals_spelled() -> None:
    assert [ordinal_to_words(n) for n in (5, 12, 40, 100, 1000)] == [
        "fifth", "twelfth", "fortieth", "one hundredth", "one thousandth"]


def test_caption_markup_removed() -> None:
    text = "MAN 2: [door slams] Hello (sighs)\n- <i>Who's there?</i>"
    assert normalize_text(strip_caption_markup(text)) == "hello who's there"


# ----------------------------------------------------------------------------- WER

def test_wrong_transcript_gives_hand_computed_wer() -> None:
    # Reference (9 words): the quick brown fox jumps over the lazy dog
    # Hypothesis, normalised: the quick brown fox jumped over lazy dog today
    # Alignment: jumps -> jumped (1 substitution), second "the" missing (1 deletion),
    # "today" extra (1 insertion); WER = (1 + 1 + 1) / 9 = 0.333...
    r = word_error_rate("The quick brown fox jumps over the lazy dog.",
                        "The quick brown fox JUMPED over lazy dog, today!")
    assert (r.substitutions, r.deletions, r.insertions, r.hits) == (1, 1, 1, 7)
    assert r.reference_words == 9
    assert r.wer == pytest.approx(3 / 9)


def test_wer_normalises_before_scoring() -> None:
    # Only numbers/case/punctuation differ: no errors after normalisation.
    assert word_error_rate("go forward ten meters", "Go forward 10 meters.").wer == 0.0
    empty = word_error_rate("one two", "")
    assert (empty.deletions, empty.wer) == (2, 1.0)


def test_pooled_wer_weights_by_reference_words() -> None:
    a = word_error_rate("a b c d", "a b c x")   # 1 error / 4 words
    b = word_error_rate("e f", "")              # 2 errors / 2 words
    assert metrics.pooled_wer([a, b]) == pytest.approx(3 / 6)


# ----------------------------------------------------------------------------- RTTM and DER

RTTM = """SPEAKER sample 1 0.000 4.000 <NA> <NA> speaker90 <NA> <NA>
SPEAKER sample 1 3.500 2.500 <NA> <NA> speaker91 <NA> <NA>
SPEAKER sample 1 7.250 1.750 <NA> <NA> speaker90 <NA> <NA>
"""


def test_rttm_round_trip_and_self_der_is_zero(tmp_path: Path) -> None:
    turns = parse_rttm(RTTM)
    assert turns[1] == Turn(3.5, 6.0, "speaker91", "sample")
    path = tmp_path / "x.rttm"
    metrics.write_rttm(turns, path)
    again = metrics.read_rttm(path)
    assert again == turns
    for collar in (0.0, 0.25):
        r = diarization_error_rate(turns, again, collar=collar)
        assert r.der == 0.0 and r.total > 0
    assert format_rttm(turns).splitlines()[0] == RTTM.splitlines()[0]


# Reference: A speaks 0-10 s, B speaks 8-14 s (2 s of overlap).
# Hypothesis: X speaks 1-11 s, Y speaks 11-16 s.
# Co-active time A-X 9 s, B-X 3 s, B-Y 3 s, A-Y 0 s -> mapping A->X, B->Y.
REF = [Turn(0, 10, "A"), Turn(8, 14, "B")]
HYP = [Turn(1, 11, "X"), Turn(11, 16, "Y")]


def test_der_by_hand_without_collar() -> None:
    # total reference speech = 10 + 6 = 16 s
    # missed: 0-1 (A, nobody) 1 s + 8-10 (A and B, only X) 2 s = 3 s
    # false alarm: 14-16 (Y, nobody) 2 s
    # confusion: 10-11 (B talks, X is A's match) 1 s
    # DER = (3 + 2 + 1) / 16 = 0.375
    r = diarization_error_rate(REF, HYP, collar=0.0)
    assert (r.missed, r.false_alarm, r.confusion, r.total) == pytest.approx((3, 2, 1, 16))
    assert r.der == pytest.approx(6 / 16)
    assert r.mapping == {"A": "X", "B": "Y"}


def test_der_by_hand_with_collar() -> None:
    # 0.25 s each side of the reference boundaries 0, 8, 10, 14 is not scored:
    # unscored windows 0-0.25, 7.75-8.25, 9.75-10.25, 13.75-14.25.
    # total: A 10 - 0.25 - 0.5 - 0.25 = 9 s; B 6 - 0.25 - 0.5 - 0.25 = 5 s; = 14 s
    # missed: 0.25-1 = 0.75 s + 8.25-9.75 = 1.5 s -> 2.25 s
    # false alarm: 14.25-16 = 1.75 s; confusion: 10.25-11 = 0.75 s
    # DER = (2.25 + 1.75 + 0.75) / 14 = 4.75 / 14
    r = diarization_error_rate(REF, HYP, collar=0.25)
    assert (r.missed, r.false_alarm, r.confusion, r.total) == pytest.approx(
        (2.25, 1.75, 0.75, 14))
    assert r.der == pytest.approx(4.75 / 14)


def test_collar_forgives_small_boundary_shift() -> None:
    ref = [Turn(0, 5, "A"), Turn(5, 10, "B")]
    hyp = [Turn(0, 5.2, "s1"), Turn(5.2, 10, "s2")]       # change point 0.2 s late
    assert diarization_error_rate(ref, hyp, collar=0.0).der == pytest.approx(0.2 / 10)
    assert diarization_error_rate(ref, hyp, collar=0.25).der == 0.0


@pytest.mark.parametrize("greedy", [False, True])
def test_speaker_permutation_gives_zero_der(greedy: bool, monkeypatch) -> None:
    if greedy:
        monkeypatch.setattr(metrics, "linear_sum_assignment", None)
    ref = parse_rttm(RTTM) + [Turn(9.5, 12, "speaker92", "sample")]
    rename = {"speaker90": "S3", "speaker91": "S1", "speaker92": "S2"}
    hyp = [Turn(t.start, t.end, rename[t.speaker], t.uri) for t in ref]
    r = diarization_error_rate(ref, hyp, collar=0.0)
    assert r.der == 0.0
    assert r.mapping == rename


def test_der_empty_hypothesis_is_all_missed() -> None:
    r = diarization_error_rate(REF, [], collar=0.0)
    assert (r.der, r.missed) == (pytest.approx(1.0), pytest.approx(16))


# ----------------------------------------------------------------------------- events

def test_synonym_table_loads_from_data() -> None:
    table = load_synonyms()
    expected = {"dog", "thunderstorm", "car horn", "engine idling", "running tap", "music"}
    assert expected <= set(table)
    assert "barking" in table["dog"] and "dog" in table["dog"]


def test_event_naming_positive_and_negative() -> None:
    table = load_synonyms()
    assert names_concept("[Dog BARKING in distance]", table["dog"])
    assert names_concept("[thunder rumbles]", table["thunderstorm"])
    assert names_concept("♪ jazz trumpet ♪", table["music"])
    assert names_concept("[car horn honks]", table["car horn"])
    assert not names_concept("[catalog pages rustle]", table["cat"])   # word boundary
    assert not names_concept("[birds chirping]", table["dog"])
    cues = [
        {"kind": "sound", "text": "[dog barks]"},
        {"kind": "sound", "text": "[footsteps]"},
        {"kind": "speech", "text": "the dog is barking"},   # speech never counts as a sound cue
        {"kind": "music", "text": "♪ upbeat music ♪"},
    ]
    assert match_events(cues, "dog", table) == metrics.EventMatch(True, 3, 1)
    assert match_events(cues[1:], "dog", table) == metrics.EventMatch(False, 2, 0)
    # a concept missing from the table is matched by its own name
    assert match_events([{"kind": "sound", "text": "[siren wails]"}], "siren", {}).hit


MANIFEST_LINES = [
    "file\tkind\treference\tsource\tlicense\tnotes",
    "speech/jfk.flac\tspeech; 1 speaker, 11 s\tAnd so my fellow Americans, ask not.\tsrc\tPD\t",
    "speech/jfk.txt\treference: transcript\tis reference for speech/jfk.flac\tsrc\tPD\t",
    "speech/meet.flac\tspeech; meeting excerpt (diarization)\tspeech/meet.rttm\tsrc\tCC\t",
    "events/esc50_cat.flac\tnon-speech sound event (5 s clip)\tESC-50 class: cat (meowing)\ts\tl\t",
    "events/us.flac\tnon-speech sound event (UrbanSound8K slice)\tUrbanSound8K class: car_horn "
    "(fsID 100648, 4.823-5.472 s of source, salience 2 (background))\ts\tl\t",
    "events/tap.flac\tnon-speech ambient sound\tlabel: running tap (water)\ts\tl\t",
    "events/robin.ogg\tnon-speech audio (music/animal)\tlabel: bird (English robin), single "
    "chirping call, 2.7 s\ts\tl\t",
    "events/bbb.mov\tvideo (160x90, 29 s) with film soundtrack, no dialogue\tno dialogue (Big "
    "Buck Bunny has no speech); soundtrack = music and non-speech effects\ts\tl\t",
    "captions/example.srt\tcaptions only: real broadcast SDH captions (SubRip)\tself\ts\tl\t",
    "events/gone.flac\tnon-speech\tlabel: dog\ts\tl\t",
]


def test_manifest_labels_parse_to_concepts() -> None:
    refs = [ln.split("\t")[2] for ln in MANIFEST_LINES[4:9]]
    assert [concept_from_label(r) for r in refs] == [
        "cat", "car horn", "running tap", "bird", None]
    assert concept_from_label("label: music (solo jazz trumpet), 5.3 s") == "music"
    assert concept_from_label("ESC-50 class: thunderstorm (target 19)") == "thunderstorm"


def test_discover_reads_manifest(bench_script, tmp_path: Path) -> None:
    (tmp_path / "MANIFEST.tsv").write_text("\n".join(MANIFEST_LINES) + "\n", encoding="utf-8")
    for rel in ["speech/jfk.flac", "speech/jfk.txt", "speech/meet.flac", "speech/meet.rttm",
                "events/esc50_cat.flac", "events/us.flac", "events/tap.flac",
                "events/robin.ogg", "events/bbb.mov", "captions/example.srt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    clips, captions, notes = bench_script("evaluate").discover(tmp_path)
    by = {c.rel: c for c in clips}
    assert sorted(by) == ["events/bbb.mov", "events/esc50_cat.flac", "events/robin.ogg",
                          "events/tap.flac", "events/us.flac", "speech/jfk.flac",
                          "speech/meet.flac"]
    assert by["speech/jfk.flac"].txt and not by["speech/jfk.flac"].rttm
    assert by["speech/meet.flac"].rttm and not by["speech/meet.flac"].txt
    assert not by["speech/jfk.flac"].no_speech and by["events/bbb.mov"].no_speech
    assert concept_from_label(by["events/us.flac"].label) == "car horn"
    assert [p.name for p in captions] == ["example.srt"]
    assert notes == ["events/gone.flac: listed but missing, skipped"]


def test_results_block_replaced_and_rest_kept(bench_script, tmp_path: Path) -> None:
    ev = bench_script("evaluate")
    out = tmp_path / "RESULTS.md"
    out.write_text(f"# Results\n\nintro\n\n{ev.BEGIN}\nold\n{ev.END}\n\n## Speed\nkept\n")
    ev.write_section(out, "evaluation", f"{ev.BEGIN}\nnew\n{ev.END}")
    text = out.read_text()
    assert "old" not in text and "new" in text
    assert text.startswith("# Results\n\nintro") and text.rstrip().endswith("## Speed\nkept")
    fresh = tmp_path / "none.md"
    ev.write_section(fresh, "evaluation", "x")
    assert fresh.read_text().count(ev.BEGIN) == 1


def test_dashed_caption_shares_its_span_between_its_speakers(bench_script) -> None:
    turns = bench_script("evaluate").caption_turns(
        {"start": 1.0, "end": 4.0, "text": "- Ready?\n- Yes, let's go.", "speaker": "S1",
         "speakers": ["S1", "S2"]}, "clip")
    assert [(t.speaker, round(t.start, 3), round(t.end, 3)) for t in turns] == [
        ("S1", 1.0, 2.0), ("S2", 2.0, 4.0)]  # 8 and 16 characters
    one = bench_script("evaluate").caption_turns(
        {"start": 0, "end": 1, "text": "Hi.", "speaker": None}, "clip")
    assert [(t.speaker, t.start, t.end) for t in one] == [("(none)", 0.0, 1.0)]
