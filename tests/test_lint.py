"""``ccgen lint``: every rule on tiny hand-made files, real human SDH files, unreadable input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ccgen.captions import build_captions, load_style
from ccgen.captions.lint import RULES, Report, format_text, lint_cues, lint_file
from ccgen.cues import Cue, SoundEvent, Word
from ccgen.errors import InputError

NETFLIX = load_style("netflix")


def _ts(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def srt(tmp_path: Path, *cues: tuple[float, float, str], name: str = "t.srt") -> Path:
    body = "".join(f"{i}\n{_ts(a)} --> {_ts(b)}\n{text}\n\n" for i, (a, b, text) in
                   enumerate(cues, 1))
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def rules(report: Report) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for finding in report.findings:
        out.setdefault(finding.rule, []).append(finding.cue)
    return out


CLEAN = [(1.0, 3.0, "Come in, the door is open."),
         (3.5, 6.0, "[door slams]\nWho's there?"),
         (7.0, 9.5, "- I brought the package.\n- Thank you."),
         (10.0, 13.0, "♪ Happy birthday to you ♪")]


def test_a_clean_file_has_no_findings(tmp_path: Path) -> None:
    report = lint_file(srt(tmp_path, *CLEAN), NETFLIX)
    assert report.cues == 4 and report.ok and report.findings == []
    assert report.format == "srt" and report.frame_rate == 24.0


@pytest.mark.parametrize(("cue", "rule"), [
    ((1.0, 4.0, "x" * 43), "line-length"),
    ((1.0, 3.0, "one\ntwo\nthree"), "line-count"),
    ((1.0, 2.0, "This caption is far too long\nto read in just one second."), "cps"),
    ((1.0, 1.5, "Yes."), "min-duration"),
    ((1.0, 9.0, "Still here."), "max-duration"),
    ((1.0, 3.0, "[door slams"), "unbalanced-brackets"),
    ((1.0, 3.0, "door slams)"), "unbalanced-brackets"),
    ((1.0, 3.0, "♪ Happy birthday to you"), "unbalanced-brackets"),
    ((1.0, 3.0, "<i></i>"), "empty"),
    ((1.0, 3.0, "bell\x07"), "charset"),
])
def test_each_rule_fires_on_the_cue_that_breaks_it(tmp_path: Path, cue: tuple[float, float, str],
                                                   rule: str) -> None:
    start, end, text = cue
    report = lint_file(srt(tmp_path, *CLEAN, (20.0, 22.0, "Fine."), (30 + start, 30 + end, text)),
                       NETFLIX)
    assert rules(report) == {rule: [6]}
    finding = report.findings[0]
    assert (finding.start, finding.end) == (30 + start, 30 + end) and finding.message


def test_gap_and_overlap_are_reported_on_the_later_cue(tmp_path: Path) -> None:
    report = lint_file(srt(tmp_path, (1.0, 3.0, "First."), (3.04, 5.0, "Too close."),
                           (6.0, 8.0, "Third."), (7.5, 9.5, "Overlaps.")), NETFLIX)
    assert rules(report) == {"gap": [2], "overlap": [4]}
    assert "#1" in report.findings[0].message and "#3" in report.findings[1].message


def test_an_overlap_is_found_behind_a_long_cue(tmp_path: Path) -> None:
    report = lint_file(srt(tmp_path, (1.0, 6.0, "Long."), (2.0, 3.0, "Inside."),
                           (4.0, 5.5, "Still inside.")), NETFLIX)
    assert rules(report)["overlap"] == [2, 3]


def test_the_gap_follows_the_frame_rate(tmp_path: Path) -> None:
    path = srt(tmp_path, (1.0, 3.0, "First."), (3.07, 5.0, "Second."))
    assert "gap" in rules(lint_file(path, NETFLIX, frame_rate=24.0))  # 2 frames = 83 ms
    assert lint_file(path, NETFLIX, frame_rate=50.0).ok  # 2 frames = 40 ms


def test_bbc_wants_short_gaps_closed_up(tmp_path: Path) -> None:
    bbc = load_style("bbc")
    path = srt(tmp_path, (1.0, 3.0, "Chained."), (3.0, 5.0, "Closed up."),
               (5.5, 7.0, "Half a second."), (8.0, 10.0, "A full second."))
    assert rules(lint_file(path, bbc)) == {"close-gap": [3]}


def test_limits_are_inclusive_within_a_millisecond(tmp_path: Path) -> None:
    report = lint_file(srt(tmp_path, (0.0, 2.1, "x" * 42),  # 42 chars, exactly 20 cps
                           (2.1 + 0.083, 3.016, "At minimum."),  # 2 frames, 0.833 s
                           (4.0, 11.0, "Exactly seven seconds.")), NETFLIX)
    assert report.ok, report.findings


def test_formatting_tags_are_not_counted(tmp_path: Path) -> None:
    line = "y" * 42
    path = srt(tmp_path, (0.0, 3.0, f"<i>{line}</i>"), (4.0, 7.0, f"<font color=\"red\">{line}"
                                                                  "</font>"))
    assert lint_file(path, NETFLIX).ok
    ass = tmp_path / "t.ass"
    ass.write_text("[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, "
                   "Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
                   f"Dialogue: 0,0:00:01.00,0:00:04.00,Default,,0,0,0,,{{\\i1}}{line}{{\\i0}}"
                   "\\Nsecond line\n", encoding="utf-8")
    report = lint_file(ass, NETFLIX)
    assert report.format == "ass" and report.ok, report.findings


def test_cps_on_a_too_short_cue_is_measured_at_the_minimum_duration(tmp_path: Path) -> None:
    report = lint_file(srt(tmp_path, (1.0, 1.2, "Yes."),
                           (5.0, 5.2, "A much longer line of dialogue.")), NETFLIX)
    assert rules(report) == {"min-duration": [1, 2], "cps": [2]}
    assert "minimum" in report.findings[-1].message


def test_cea608_flags_characters_a_decoder_cannot_show(tmp_path: Path) -> None:
    cea = load_style("cea608")
    path = srt(tmp_path, (1.0, 3.0, "♪ Olé, señor ♪"), (4.0, 6.0, "Wait… what?"),
               (7.0, 9.0, "It costs 5 € or `five`."))
    report = lint_file(path, cea)
    assert rules(report) == {"charset": [2, 3]}
    assert "U+2026" in report.findings[0].message
    assert "U+20AC" in report.findings[1].message and "U+0060" in report.findings[1].message
    assert lint_file(path, NETFLIX).ok


def test_dcmp_lyrics_end_with_a_double_note_and_music_alone_is_fine(tmp_path: Path) -> None:
    path = srt(tmp_path, (1.0, 3.5, "♪ Row, row, row ♪"), (4.0, 6.5, "♪ your boat ♪♪"),
               (7.0, 9.5, "♪♪"))
    assert lint_file(path, load_style("dcmp")).ok


def test_vtt_voice_spans_entities_and_settings(tmp_path: Path) -> None:
    path = tmp_path / "t.vtt"
    path.write_text("WEBVTT\n\n00:01.000 --> 00:03.000 line:90%\n<v Mom>Tom &amp; Jerry</v>\n\n"
                    "00:04.000 --> 00:06.000\n<c.yellow>[door slams]</c>\n", encoding="utf-8")
    report = lint_file(path, NETFLIX)
    assert report.format == "vtt" and report.ok
    assert lint_cues([Cue(0, 1, "speech", "<v Mom>Tom &amp; Jerry</v>")], NETFLIX).ok


def test_microdvd_uses_the_frame_rate(tmp_path: Path) -> None:
    path = tmp_path / "t.sub"
    path.write_text("{25}{75}Two seconds at 25 fps.\n{100}{110}Flash.\n", encoding="utf-8")
    report = lint_file(path, NETFLIX, frame_rate=25.0)
    assert report.format == "microdvd" and rules(report) == {"min-duration": [2]}
    assert report.findings[0].start == pytest.approx(4.0)


def test_sami_cues_last_until_the_next_sync_and_blank_syncs_clear(tmp_path: Path) -> None:
    path = tmp_path / "t.smi"
    path.write_text('<SAMI><BODY><SYNC start="1000"><P class="ENCC">Hello there.</P></SYNC>\n'
                    '<SYNC start="4000"><P class="ENCC">&nbsp;</P></SYNC>\n'
                    '<SYNC start="5000"><P class="ENCC">Second line of<br/>dialogue.</P></SYNC>\n'
                    '<SYNC start="8000"><P class="ENCC">&nbsp;</P></SYNC></BODY></SAMI>\n',
                    encoding="utf-8")
    report = lint_file(path, NETFLIX)
    assert report.format == "sami" and report.cues == 2 and report.ok, report.findings


def test_report_json_shape_and_text(tmp_path: Path) -> None:
    path = srt(tmp_path, (1.0, 2.0, "This caption is far too long to read in a second."),
               (2.02, 4.0, "Second."))
    report = lint_file(path, NETFLIX)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["file"] == str(path) and data["style"] == "netflix" and data["cues"] == 2
    assert data["violations"] == 3 == sum(data["summary"].values())
    assert data["summary"] == {"line-length": 1, "cps": 1, "gap": 1}
    assert [(f["rule"], f["cue"]) for f in data["findings"]] == [
        ("line-length", 1), ("cps", 1), ("gap", 2)]
    cps = data["findings"][1]
    assert set(cps) == {"rule", "cue", "start", "end", "text", "message"}
    assert (cps["start"], cps["end"], cps["message"]) == (1.0, 2.0, "49.0 characters/s > 20")
    lines = format_text(report).splitlines()
    assert lines[0] == ("00:00:01.000  #1  line-length  line 1: 49 characters > 42 "
                        "(This caption is far too long to read in…)")
    assert lines[1].startswith("00:00:01.000  #1  cps  49.0 characters/s > 20 (This caption")
    assert lines[-1] == ("t.srt: 2 cues, 3 violations (line-length 1, cps 1, gap 1) under "
                         "style netflix")
    assert format_text(lint_file(srt(tmp_path, *CLEAN), NETFLIX)).endswith("no violations "
                                                                           "under style netflix")


def test_lint_cues_checks_ccgen_output() -> None:
    cues = [Cue(0.0, 2.0, "speech", "Hello."), Cue(1.5, 3.0, "sound", "[door slams]"),
            Cue(3.02, 4.0, "speech", "")]
    report = lint_cues(cues, NETFLIX)
    assert report.file is None and report.cues == 3
    assert rules(report) == {"overlap": [2], "empty": [3]}
    words = [Word(0.3 * i, 0.3 * i + 0.25, w) for i, w in
             enumerate("Who is it? It is me, open the door. I brought the parcel.".split())]
    made = build_captions(words, [SoundEvent(5.0, 6.5, "sound", "Knocking")], NETFLIX, 24.0,
                          20.0)
    assert lint_cues(made, NETFLIX, 24.0).ok


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("movie.srt", b"\x00\x01\x02binary\xff\x00", "binary"),
    ("notes.txt", b"just some words\nand more words\n", "no subtitle cues"),
    ("notes.md", b"just some words\nand more words\n", "not a readable subtitle file"),
    ("page.xml", b"<html><body>hello</body></html>", "not a readable subtitle file"),
    ("blank.srt", b"\n\n1\nnot a time\n", "no subtitle cues"),
    ("caps.scc", b"Scenarist_SCC V1.0\n\n00:00:00:00\t9425 9425 94ad 94ad 9470 c8e9\n",
     "roll-up"),
    ("caps.stl", b"\x00" * 1024, "EBU STL"),
])
def test_unreadable_input_is_a_one_line_input_error(tmp_path: Path, name: str, data: bytes,
                                                    reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        lint_file(path, NETFLIX)
    message = str(err.value)
    assert str(path) in message and reason in message and "\n" not in message


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such subtitle file"):
        lint_file(tmp_path / "nope.srt", NETFLIX)


# Real human SDH files (read in place from the shared data folder, never copied).

@pytest.mark.parametrize("name", [
    "pycaption_example.srt", "pycaption_example.vtt", "pycaption_example.xml",
    "pycaption_example.sami", "pycaption_example.sub", "babelsubs_Timed_en.srt",
    "ableplayer_blocks4all_captions_en.vtt", "ableplayer_wwa_captions_en.vtt",
])
@pytest.mark.parametrize("style", ["netflix", "bbc", "dcmp", "cea608"])
def test_human_files_lint_with_valid_findings(name: str, style: str, public_clip) -> None:
    report = lint_file(public_clip(f"captions/{name}"), load_style(style))
    assert report.cues >= 10
    assert 0 < report.violations < 4 * report.cues
    for finding in report.findings:
        assert finding.rule in RULES and 1 <= finding.cue <= report.cues
        assert finding.text and finding.message and finding.end >= finding.start
    assert re.search(rf"{report.cues} cues, \d+ violations", format_text(report))


def test_pycaption_example_findings_are_plausible(public_clip) -> None:
    path = public_clip("captions/pycaption_example.srt")
    netflix = lint_file(path, NETFLIX)
    summary = netflix.summary()
    assert netflix.cues == 1847
    # "MAN:" label lines make three-line captions; these files chain captions with no gap.
    assert summary["line-count"] > 50 and summary["cps"] > 50 and summary["gap"] > 1000
    assert "line-length" not in summary  # its longest line is 32 characters
    cea = lint_file(path, load_style("cea608")).summary()
    # Made for 608: 32 columns, up to 4 rows, only 608 characters.
    assert not {"line-length", "line-count", "charset"} & set(cea)
    dcmp = lint_file(path, load_style("dcmp")).summary()
    assert dcmp["min-duration"] > summary.get("min-duration", 0)  # DCMP's 2 s floor


def test_one_file_in_three_formats_lints_the_same(public_clip) -> None:
    summaries = [lint_file(public_clip(f"captions/pycaption_example.{ext}"), NETFLIX).summary()
                 for ext in ("srt", "vtt", "xml")]
    assert summaries[0] == summaries[1] == summaries[2]


# Issue 19: bad frame rates, misread times, ccgen's own empty output.

@pytest.mark.parametrize("rate", [0.0, -5.0, 1e308, float("inf"), float("nan")])
def test_a_frame_rate_that_is_no_rate_is_an_input_error(tmp_path: Path, rate: float) -> None:
    path = srt(tmp_path, (1.0, 3.0, "First."), (3.01, 5.0, "Too close."))
    with pytest.raises(InputError, match="not a video frame rate"):
        lint_file(path, NETFLIX, frame_rate=rate)
    with pytest.raises(InputError, match="not a video frame rate"):
        lint_cues([Cue(0, 1, "speech", "Hi.")], NETFLIX, frame_rate=rate)


@pytest.mark.parametrize("rate", ["0", "-5", "1e308"])
def test_the_cli_refuses_a_bad_frame_rate_in_one_line(tmp_path: Path, rate: str, cli) -> None:

    path = srt(tmp_path, (1.0, 3.0, "First."), (3.01, 5.0, "Too close."))
    run = cli("lint", path, f"--frame-rate={rate}")
    assert run.returncode == 2 and "frame rate" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


@pytest.mark.parametrize(("timing", "reason"), [
    ("-00:00:01,000 --> 00:00:02,000", "negative time"),
    ("00:00:01,000 --> -00:00:02,000", "negative time"),
    ("123:00:01,000 --> 123:00:02,000", "3-digit hour"),
])
def test_a_negative_time_or_a_three_digit_hour_is_an_error(tmp_path: Path, timing: str,
                                                           reason: str) -> None:
    path = tmp_path / "t.srt"
    path.write_text(f"1\n00:00:00,000 --> 00:00:00,900\nFine.\n\n2\n{timing}\nBad.\n\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match=reason) as err:
        lint_file(path, NETFLIX)
    assert "line 6" in str(err.value)
    ass = tmp_path / "t.ass"
    ass.write_text("[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, "
                   "Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
                   "Dialogue: 0,-0:00:01.00,0:00:04.00,Default,,0,0,0,,Hello\n",
                   encoding="utf-8")
    with pytest.raises(InputError, match="negative time"):
        lint_file(ass, NETFLIX)


@pytest.mark.parametrize("fmt", ["srt", "vtt", "ass", "ttml", "scc"])
def test_ccgen_output_for_silent_media_is_a_valid_empty_file(tmp_path: Path, fmt: str, cli) -> None:
    from ccgen.cues import Timeline
    from ccgen.writers import write

    path = write(Timeline("silence.wav", 3.0, "en", "netflix", []), tmp_path / f"s.{fmt}",
                 NETFLIX)
    report = lint_file(path, NETFLIX)
    assert (report.cues, report.violations) == (0, 0)
    run = cli("lint", path)
    assert run.returncode == 0, run.stderr
    assert "0 cues, no violations" in run.stdout


# ccgen lint --fix (issue 17): a retimed copy, the words untouched.

HUMAN = ["babelsubs_Timed_en.srt", "pycaption_example.srt", "pycaption_example.vtt",
         "pycaption_example.xml", "ableplayer_blocks4all_captions_en.vtt",
         "ableplayer_paulallen_en.vtt", "ableplayer_wwa_captions_en.vtt"]
_TIMES = re.compile(r"\d+:\d{2}:\d{2}[,.]\d{1,3}|\d{2}:\d{2}\.\d{3}")


def _without_times(path: Path) -> bytes:
    return _TIMES.sub("T", path.read_bytes().decode("utf-8-sig")).encode("utf-8")


def _need(style, event) -> float:
    from ccgen.captions.lint import visible_lines

    chars = sum(len(line) for line in visible_lines(event.text))
    return max(style.min_duration, chars / style.max_cps)


@pytest.mark.parametrize("name", HUMAN)
@pytest.mark.parametrize("style_name", ["netflix", "bbc"])
def test_fix_keeps_the_words_and_leaves_only_what_the_time_cannot_allow(
        tmp_path: Path, name: str, style_name: str, public_clip) -> None:
    import pysubs2

    from ccgen.captions.lint import read_events
    from ccgen.captions.lintfix import fix_file

    style = load_style(style_name)
    source = public_clip(f"captions/{name}")
    out = tmp_path / f"fixed{source.suffix}"
    result = fix_file(source, style, out)
    assert _without_times(out) == _without_times(source)  # every other byte as it was
    before, after = result.before.summary(), result.after.summary()
    timing = ("min-duration", "max-duration", "cps", "gap", "close-gap", "overlap")
    fixable = sum(before.get(rule, 0) for rule in timing)
    assert result.after.violations < result.before.violations or not fixable
    assert set(after) <= set(before) and "max-duration" not in after
    for rule in ("min-duration", "gap", "overlap", "close-gap", "cps"):
        assert after.get(rule, 0) <= before.get(rule, 0)
    events, fmt = read_events(out, 24.0)
    assert fmt == pysubs2.SSAFile.from_string(source.read_text("utf-8-sig")).format
    gap = style.min_gap(24.0)
    order = sorted(range(len(events)), key=lambda i: (events[i].start, events[i].end, i))
    where = {i: k for k, i in enumerate(order)}
    for finding in result.after.findings:
        k = where[finding.cue - 1]
        event = events[finding.cue - 1]
        prev = events[order[k - 1]] if k else None
        after_ = events[order[k + 1]] if k + 1 < len(order) else None
        lo = prev.end / 1000 + gap if prev else 0.0
        hi = after_.start / 1000 - gap if after_ else float("inf")
        if finding.rule in ("min-duration", "cps"):
            # even all the free time around it is not enough
            assert hi - lo < _need(style, event) + 0.01, finding
        elif finding.rule in ("gap", "overlap"):
            # closing it would leave the cue before (or this one) too short to read
            assert (event.start / 1000 - gap - prev.start / 1000 < _need(style, prev) - 0.001
                    or event.end / 1000 - (prev.end / 1000 + gap) < _need(style, event)
                    or event.start / 1000 + 0.5 < prev.end / 1000 + gap), finding


def test_fix_writes_the_same_format_back(tmp_path: Path) -> None:
    import pysubs2

    from ccgen.captions.lintfix import fix_file

    cues = [(1.0, 1.4, "Short."), (1.43, 4.0, "Too close to the one before."),
            (6.0, 14.0, "On screen far too long."), (20.0, 21.0, "A line far too long to read "
                                                    "in one second.")]
    source = srt(tmp_path, *cues)
    for fmt in ("srt", "vtt", "ass", "ttml"):
        path = tmp_path / f"in.{fmt}"
        subs = pysubs2.load(str(source))
        path.write_text(subs.to_string(fmt), encoding="utf-8")
        out = tmp_path / f"out.{fmt}"
        result = fix_file(path, NETFLIX, out)
        assert result.before.summary() == {"min-duration": 1, "max-duration": 1, "cps": 1,
                                           "gap": 1}, fmt
        assert result.after.ok, (fmt, result.after.findings)
        fixed = pysubs2.load(str(out))
        assert fixed.format == fmt
        assert [e.text for e in fixed] == [e.text for e in subs]
        assert lint_file(out, NETFLIX).ok
        assert _without_times(out) == _without_times(path)


def test_fix_never_overwrites_its_input_without_force(tmp_path: Path, cli) -> None:

    path = srt(tmp_path, (1.0, 1.3, "Too short."), (5.0, 7.0, "Fine."))
    original = path.read_bytes()
    for args in (["--fix"], ["--fix", "-o", path], ["--fix", "-o", tmp_path / "." / "t.srt"]):
        run = cli("lint", path, *args)
        assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert path.read_bytes() == original
    taken = tmp_path / "taken.srt"
    taken.write_text("keep me", encoding="utf-8")
    assert cli("lint", path, "--fix", "-o", taken).returncode == 2
    assert taken.read_text(encoding="utf-8") == "keep me"
    run = cli("lint", path, "--fix", "--force")
    assert run.returncode == 0, run.stdout + run.stderr
    assert path.read_bytes() != original and lint_file(path, NETFLIX).ok
    assert cli("lint", path, "-o", taken).returncode == 2  # -o only with --fix
    run = cli("lint", path, "--fix", "-o", tmp_path / "other.vtt")
    assert run.returncode == 2 and "own format" in run.stderr  # an SRT stays an SRT
    assert not (tmp_path / "other.vtt").exists()


def test_fix_exit_code_says_what_remains_and_rewrap_is_opt_in(tmp_path: Path, cli) -> None:

    long = "This line is much longer than forty-two characters"
    path = srt(tmp_path, (1.0, 4.0, long), (4.03, 6.0, "Chained too tight."))
    out = tmp_path / "out.srt"
    run = cli("lint", path, "--fix", "-o", out)
    assert run.returncode == 1 and "line-length" in run.stdout and "gap" not in run.stdout
    assert long in out.read_text(encoding="utf-8")
    run = cli("lint", path, "--fix", "--rewrap", "-o", out, "--force")
    assert run.returncode == 0, run.stdout
    lines = [e.text for e in __import__("pysubs2").load(str(out))][0].split("\\N")
    assert " ".join(lines) == long and len(lines) == 2


def test_fix_refuses_formats_it_cannot_write_back(tmp_path: Path) -> None:
    from ccgen.captions.lintfix import fix_file

    path = tmp_path / "t.smi"
    path.write_text('<SAMI><BODY><SYNC start="1000"><P class="ENCC">Hi.</P></SYNC>'
                    '</BODY></SAMI>\n', encoding="utf-8")
    with pytest.raises(InputError, match="lint --fix writes srt"):
        fix_file(path, NETFLIX, tmp_path / "o.smi")


# SCC: pop-on captions read by ccgen (pycaption, a test dependency, is the independent reader).

def test_the_shared_scc_is_read_as_pycaption_reads_it(public_clip) -> None:
    from pycaption import SCCReader

    path = public_clip("captions/pycaption_example.scc")
    report = lint_file(path, NETFLIX)
    assert report.format == "scc" and report.cues == 3 and report.frame_rate == pytest.approx(
        29.97, abs=0.001)
    theirs = SCCReader().read(path.read_text(encoding="utf-8")).get_captions("en-US")
    from ccgen.captions.lint import read_events

    ours, _ = read_events(path, 29.97)
    for mine, other in zip(ours, theirs, strict=True):
        assert mine.start == pytest.approx(other.start / 1000, abs=1)
        # pycaption ends a caption at the next EOC; ccgen at the EDM that erases it, which
        # in this file comes one frame earlier for the second caption
        assert -1 <= other.end / 1000 - mine.end <= 34
        words = " ".join(other.get_text().replace("\xa0", " ").split())
        assert " ".join(mine.text.replace("\\N", " ").split()) == words


def test_fix_retimes_scc_by_moving_its_words(tmp_path: Path) -> None:
    from pycaption import SCCReader

    from ccgen.captions.lintfix import fix_file
    from ccgen.cues import Timeline
    from ccgen.writers import write

    cues = [Cue(1.0, 1.3, "speech", "Too short."),
            Cue(5.0, 6.0, "speech", "A caption with too many words\nfor one second."),
            Cue(9.0, 17.0, "speech", "On screen too long.")]
    path = write(Timeline("x.mp4", 20.0, "en", "netflix", cues), tmp_path / "in.scc", NETFLIX)
    result = fix_file(path, NETFLIX, tmp_path / "out.scc")
    assert result.before.summary() == {"min-duration": 1, "cps": 1, "max-duration": 1}
    assert result.after.ok and result.retimed == 3
    before = SCCReader().read(path.read_text()).get_captions("en-US")
    after = SCCReader().read((tmp_path / "out.scc").read_text()).get_captions("en-US")
    assert [c.get_text() for c in after] == [c.get_text() for c in before]
    durations = [(c.end - c.start) / 1e6 for c in after]
    assert durations[0] >= NETFLIX.min_duration - 0.034 and durations[2] <= 7.0
    assert durations[1] >= 44 / 20 - 0.034  # 44 characters at 20 per second
    assert fix_file(path, NETFLIX, tmp_path / "again.scc").before.summary() == \
        result.before.summary()  # the input was not touched


def test_fix_on_the_shared_scc_moves_words_and_keeps_the_text(tmp_path: Path, public_clip) -> None:
    from pycaption import SCCReader

    from ccgen.captions.lintfix import fix_file

    path = public_clip("captions/pycaption_example.scc")
    result = fix_file(path, NETFLIX, tmp_path / "fixed.scc")
    timing = {"gap", "cps", "min-duration", "max-duration", "overlap"}
    assert set(result.before.summary()) & timing and not set(result.after.summary()) & timing
    before = SCCReader().read(path.read_text(encoding="utf-8")).get_captions("en-US")
    after = SCCReader().read((tmp_path / "fixed.scc").read_text()).get_captions("en-US")
    assert [c.get_text() for c in after] == [c.get_text() for c in before]
    words = [w for line in path.read_text().splitlines()[1:] for w in line.split()[1:]]
    fixed = [w for line in (tmp_path / "fixed.scc").read_text().splitlines()[1:]
             for w in line.split()[1:]]
    assert sorted(words) == sorted(fixed)  # the same words, moved (here no EDM was added)


def test_fix_refuses_an_scc_file_it_cannot_copy_byte_for_byte(tmp_path: Path, public_clip,
                                                               cli) -> None:
    """A stray non-ASCII byte in an SCC header: one line and exit 2, no output, no crash."""
    source = public_clip("captions/pycaption_example.scc").read_bytes()
    first, rest = source.split(b"\n", 1)
    scc = tmp_path / "odd.scc"
    scc.write_bytes(first.rstrip(b"\r") + b" \xe9\r\n" + rest)
    out = tmp_path / "fixed.scc"
    done = cli("lint", scc, "--fix", "-o", out)
    assert done.returncode == 2 and "not ASCII" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not out.exists()


def test_scc_fix_reports_the_file_it_wrote(tmp_path: Path, public_clip, cli) -> None:
    """What --fix says is left is what lint finds in the written copy (a caption without its
    own end ends when the next one shows, so one move can change a neighbour)."""
    out = tmp_path / "fixed.scc"
    fixed = cli("lint", public_clip("captions/pycaption_example.scc"), "--fix", "-o", out,
                "--json")
    again = cli("lint", out, "--json")
    assert json.loads(fixed.stdout)["violations"] == json.loads(again.stdout)["violations"]
    assert fixed.returncode == again.returncode


def test_scc_fix_can_move_a_whole_load_earlier(tmp_path: Path) -> None:
    """A caption shown before its own text was loaded must take its load along; the load
    starts after the caption before's EOC and that EOC's repeat (the doubled control word is
    no part of the next load, or moving it would put it before its first copy)."""
    from ccgen.captions.sccfile import read_scc, retime, seconds

    text = ("Scenarist_SCC V1.0\n\n"
            "00:00:00:00\t9420 9420 9470 9470 c8e9 942f 942f\n\n"  # "Hi", shown at frame 5
            "00:00:05:00\t9420 9420 9470 9470 d9ef 942f 942f\n")  # "Yo", loaded at 150
    scc = read_scc(text, tmp_path / "t.scc")
    assert [(c.text, c.start) for c in scc.captions] == [("Hi", 5), ("Yo", 155)]
    out, got = retime(scc, [(seconds(5), seconds(155)), (seconds(100), seconds(300))])
    assert got[1][0] == 100  # the whole load moved 55 frames earlier, the EOC with it
    again = read_scc(out, tmp_path / "u.scc")
    assert [(c.text, c.start) for c in again.captions] == [("Hi", 5), ("Yo", 100)]
