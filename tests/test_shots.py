"""Shot changes: detected in real video with cuts at known frames, read from lists and EDLs,
and the style's rules applied to captions (the pipeline's pass and ``ccgen lint --fix``)."""

from __future__ import annotations

import functools
from fractions import Fraction
from pathlib import Path

import pysubs2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccgen.captions import build_captions, load_style
from ccgen.captions.lint import lint_file
from ccgen.captions.retime import Timing, apply_shot_changes, fix_timings, shot_pass
from ccgen.cues import Cue, Word
from ccgen.errors import InputError
from ccgen.media.mediainfo import MediaInfo
from ccgen.media.shots import ShotChanges, detect, read_list

NETFLIX = load_style("netflix")
BBC = load_style("bbc")
SOURCES = ("testsrc2", "smptebars", "mandelbrot", "rgbtestsrc", "testsrc", "yuvtestsrc")


def cut_video(path: Path, rate: str, lengths: list[int], audio: Path | None = None, *,
              make_media) -> list[int]:
    """A real H.264 video of lavfi sources, one per shot, `lengths` frames each; returns the
    frame numbers where a new shot starts."""
    args: list[str] = []
    chain = []
    for n, length in enumerate(lengths):
        args += ["-f", "lavfi", "-i", f"{SOURCES[n % len(SOURCES)]}=size=160x90:rate={rate}"]
        chain.append(f"[{n}]trim=end_frame={length},setpts=PTS-STARTPTS,format=yuv420p[s{n}]")
    joined = "".join(f"[s{n}]" for n in range(len(lengths)))
    graph = ";".join(chain) + f";{joined}concat=n={len(lengths)}:v=1:a=0[v]"
    extra = ["-i", str(audio), "-map", f"{len(lengths)}:a:0", "-c:a", "aac", "-shortest"] \
        if audio else []
    make_media.ffmpeg(*args, *extra, "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264",
           "-preset", "ultrafast", "-g", "250", str(path))
    cuts, total = [], 0
    for length in lengths[:-1]:
        total += length
        cuts.append(total)
    return cuts


@pytest.fixture(scope="session")
def cut_video_of(make_media):
    """:func:`cut_video` with the `make_media` fixture."""
    return functools.partial(cut_video, make_media=make_media)


@pytest.fixture(scope="module")
def video24(tmp_path_factory: pytest.TempPathFactory, cut_video_of) -> tuple[Path, list[int]]:
    path = tmp_path_factory.mktemp("shots") / "cuts24.mp4"
    return path, cut_video_of(path, "24", [101, 130, 150, 125, 140, 130])


def obeys_netflix(start: float, end: float, cuts: list[int], rate: Fraction) -> bool:
    """The rule, checked in frames apart from the code under test."""
    s, e = round(start * rate), round(end * rate)
    for c in cuts:
        if c < e and 0 < abs(c - s) <= 12:
            return False
        if c > s and abs(e - c) <= 12 and e != c - 2:
            return False
    return True


# --- detection ---------------------------------------------------------------------------

@pytest.mark.parametrize(("rate", "exact"), [("24", Fraction(24)), ("25", Fraction(25)),
                                             ("30000/1001", Fraction(30000, 1001))])
def test_every_cut_is_found_on_its_frame(tmp_path: Path, rate: str, exact: Fraction,
                                         cut_video_of) -> None:
    cuts = cut_video_of(tmp_path / "v.mp4", rate, [37, 50, 28, 61, 45, 33])
    shots = detect(tmp_path / "v.mp4", float(exact))
    assert shots.rate == exact and shots.source == "detected"
    assert list(shots.frames) == cuts


def test_the_shared_film_clip_has_three_cuts_checked_by_eye(public_clip) -> None:
    # Big Buck Bunny, 691 frames at 24 fps: a fade from black, hard cuts at frames 285, 378
    # and 553 (frames around each looked at; see bench/RESULTS.md), a fade-in title.
    film = public_clip("events/caption_inspector_BigBuckBunny_160x90-24fps.mov")
    assert detect(film, 24.0).frames == (285, 378, 553)


def test_drop_frame_list_edl_and_detector_agree(tmp_path: Path, cut_video_of) -> None:
    """At 29.97 the 1800th frame is labelled 00:01:00;02 in drop-frame: a list and an EDL in
    DF timecode land on the frames the detector finds, a minute in."""
    cuts = cut_video_of(tmp_path / "df.mp4", "30000/1001", [500, 1300, 70])
    assert cuts == [500, 1800]
    found = detect(tmp_path / "df.mp4", 29.97)
    listed = tmp_path / "cuts.txt"
    listed.write_text("# shot changes\n00:00:16;20\n00:01:00;02\n", encoding="utf-8")
    edl = tmp_path / "cuts.edl"
    edl.write_text(
        "TITLE: DF TEST\nFCM: DROP FRAME\n\n"
        "001  A001     V     C        00:00:00;00 00:00:16;20 01:00:00;00 01:00:16;20\n"
        "002  A002     V     C        00:00:00;00 00:00:43;10 01:00:16;20 01:01:00;02\n"
        "002  A002     AA    C        00:00:00;00 00:00:43;10 01:00:16;20 01:01:00;02\n"
        "003  A003     V     C        00:00:00;00 00:00:02;10 01:01:00;02 01:01:02;12\n",
        encoding="utf-8")
    for shots in (found, read_list(listed, 29.97), read_list(edl, 29.97)):
        assert list(shots.frames) == cuts
        assert shots.rate == Fraction(30000, 1001)
        assert shots.times[1] == pytest.approx(1800 * 1001 / 30000)


def test_audio_only_media_has_no_shot_changes_and_loses_nothing() -> None:
    cues = [Cue(1.0, 2.5, "speech", "Hello there."), Cue(3.0, 4.0, "sound", "[thunder]")]
    info = MediaInfo("talk.flac", 5.0, frame_rate=None)
    out = shot_pass(cues, NETFLIX, "auto", "talk.flac", info)
    assert [(c.start, c.end, c.text) for c in out] == [(c.start, c.end, c.text) for c in cues]
    assert all(a is not b for a, b in zip(out, cues, strict=True))


# --- lists and EDLs ----------------------------------------------------------------------

def test_a_plain_list_in_seconds_clock_time_and_timecode(tmp_path: Path) -> None:
    path = tmp_path / "shots.txt"
    path.write_text("4.2083\n\n00:00:07.500  # clock time\n00:00:10,000\n00:00:12:12\n"
                    "4.2083\n0\n", encoding="utf-8")
    shots = read_list(path, 24)
    assert shots.frames == (101, 180, 240, 300) and shots.source == "list"


@pytest.mark.parametrize(("line", "reason"), [
    ("-1.5", "negative time"), ("soon", "not a time"), ("00:61:00.000", "out of range"),
    ("00:01:00;00", "does not exist in drop-frame"), ("00:00:01;10", "drop-frame")])
def test_a_bad_line_is_an_input_error_naming_it(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "shots.txt"
    path.write_text(f"1.0\n{line}\n", encoding="utf-8")
    rate = 29.97 if "01:00;00" in line else 24
    with pytest.raises(InputError, match=reason) as err:
        read_list(path, rate)
    assert "line 2" in str(err.value) and "\n" not in str(err.value)


def test_an_edl_gives_its_video_cuts_from_the_programme_start(tmp_path: Path) -> None:
    path = tmp_path / "show.edl"
    path.write_text(
        "TITLE: SHOW\nFCM: NON-DROP FRAME\n\n"
        "001  BL       V     C        00:00:00:00 00:00:02:00 10:00:00:00 10:00:02:00\n"
        "002  TAPE1    V     C        01:02:03:04 01:02:08:04 10:00:02:00 10:00:07:00\n"
        "* FROM CLIP NAME: interview.mov\n"
        "003  TAPE2    A     C        00:10:00:00 00:10:05:00 10:00:03:00 10:00:08:00\n"
        "004  TAPE2    V     C        00:10:00:00 00:10:00:00 10:00:07:00 10:00:07:00\n"
        "004  TAPE3    V     D    012 00:20:00:00 00:20:04:00 10:00:07:00 10:00:11:00\n"
        "005  TAPE4    V     C        00:30:00:00 00:30:03:00 10:00:12:00 10:00:15:00\n",
        encoding="utf-8")
    shots = read_list(path, 25)
    # a cut at 2 s; the dissolve from 7 s is no cut; black from 11 s to 12 s: changes at both
    assert shots.frames == (50, 275, 300) and shots.source == "edl"


def test_an_edl_without_video_events_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audio.edl"
    path.write_text("TITLE: X\n001  T  A  C  00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match="no video events"):
        read_list(path, 25)


# --- the rules ---------------------------------------------------------------------------

def _srt_near_cuts(path: Path, cuts: list[int], rate: float) -> Path:
    """Captions that start or end a few frames off each cut, as people time them by ear."""
    subs = pysubs2.SSAFile()
    for n, c in enumerate(cuts):
        t = c / rate
        subs.append(pysubs2.SSAEvent(start=round((t - 2.4) * 1000), end=round((t + 0.25) * 1000)
                                     if n % 2 else round((t - 0.2) * 1000),
                                     text=f"Caption number {n} ends near a cut."))
        subs.append(pysubs2.SSAEvent(start=round((t + 0.3) * 1000), end=round((t + 2.0) * 1000),
                                     text="This one starts just after it."))
    subs.save(str(path))
    return path


def test_lint_finds_and_fix_applies_the_netflix_rule_against_the_video(
        tmp_path: Path, video24: tuple[Path, list[int]], cli) -> None:
    video, cuts = video24
    srt = _srt_near_cuts(tmp_path / "near.srt", cuts, 24)
    assert not all(obeys_netflix(e.start / 1000, e.end / 1000, cuts, Fraction(24))
                   for e in pysubs2.load(str(srt)))
    run = cli("lint", srt, "--media", video)
    assert run.returncode == 1 and "shot-change" in run.stdout
    fixed = tmp_path / "fixed.srt"
    run = cli("lint", srt, "--media", video, "--fix", "-o", fixed)
    assert run.returncode == 0, run.stdout + run.stderr
    events = pysubs2.load(str(fixed))
    assert [e.text for e in events] == [e.text for e in pysubs2.load(str(srt))]
    for event in events:
        assert obeys_netflix(event.start / 1000, event.end / 1000, cuts, Fraction(24)), event


@pytest.mark.parametrize("kind", ["list", "edl"])
def test_the_same_with_a_shot_change_list_and_an_edl(tmp_path: Path, kind: str,
                                                     video24: tuple[Path, list[int]], cli) -> None:
    _, cuts = video24
    if kind == "list":
        shots = tmp_path / "shots.txt"
        shots.write_text("".join(f"{c / 24:.4f}\n" for c in cuts), encoding="utf-8")
    else:
        shots = tmp_path / "shots.edl"
        bounds = [24 * 3600 + f for f in (0, *cuts, cuts[-1] + 100)]  # from 01:00:00:00
        pairs = zip(bounds[:-1], bounds[1:], strict=True)
        shots.write_text("TITLE: T\nFCM: NON-DROP FRAME\n" + "".join(
            f"{n:03d}  AX  V  C  00:00:00:00 00:00:01:00 {_tc(a)} {_tc(b)}\n"
            for n, (a, b) in enumerate(pairs, 1)), encoding="utf-8")
    srt = _srt_near_cuts(tmp_path / "near.srt", cuts, 24)
    report = lint_file(srt, NETFLIX, shots=read_list(shots, 24))
    assert report.summary().get("shot-change", 0) >= len(cuts)
    fixed = tmp_path / "fixed.srt"
    run = cli("lint", srt, "--shot-changes", shots, "--frame-rate", "24", "--fix",
                  "-o", fixed)
    assert run.returncode == 0, run.stdout + run.stderr
    for event in pysubs2.load(str(fixed)):
        assert obeys_netflix(event.start / 1000, event.end / 1000, cuts, Fraction(24)), event


def _tc(frames: int, fps: int = 24) -> str:
    return (f"{frames // (fps * 3600):02d}:{frames // (fps * 60) % 60:02d}:"
            f"{frames // fps % 60:02d}:{frames % fps:02d}")


def test_engine_captions_follow_the_netflix_rule_and_stay_readable() -> None:
    words = [Word(0.32 * i + (0.9 if i >= 20 else 0), 0.32 * i + 0.28 + (0.9 if i >= 20 else 0),
                  w) for i, w in enumerate(
        ("We walked down to the river before dawn. Nobody said a word. The water was cold "
         "and the light came slowly over the hills behind us. Then we saw the boat.").split())]
    cues = build_captions(words, [], NETFLIX, 24.0, 20.0)
    starts = sorted({round(c.start * 24) for c in cues} | {round(c.end * 24) for c in cues})
    cuts = [f + d for f, d in zip(starts, [5, -7, 9, -4, 11, 3], strict=False)]
    shots = ShotChanges(tuple(sorted(set(cuts))), Fraction(24), "list")
    out = apply_shot_changes(cues, NETFLIX, shots)
    assert [c.text for c in out] == [c.text for c in cues]
    assert [(c.start, c.end) for c in cues] != [(c.start, c.end) for c in out]
    assert [(c.start, c.end) for c in cues] == [(c.start, c.end) for c in build_captions(
        words, [], NETFLIX, 24.0, 20.0)]  # the engine's cues were not edited
    report_before = lint_file_from_cues(cues, shots)
    report_after = lint_file_from_cues(out, shots)
    assert report_after.summary().get("shot-change", 0) < report_before.summary()["shot-change"]
    # nothing else got worse: a cue moves only where it can still be read
    for rule in ("min-duration", "cps", "gap", "overlap"):
        assert report_after.summary().get(rule, 0) <= report_before.summary().get(rule, 0)
    for cue in out:
        if not obeys_netflix(cue.start, cue.end, list(shots.frames), Fraction(24)):
            assert any(f.rule == "shot-change" and f.start == cue.start
                       for f in report_after.findings)


def lint_file_from_cues(cues: list[Cue], shots: ShotChanges):
    from ccgen.captions.lint import lint_cues

    return lint_cues(cues, NETFLIX, 24.0, shots)


def test_bbc_takes_a_caption_off_a_cut_it_barely_straddles(tmp_path: Path) -> None:
    shots = ShotChanges((250, 500), Fraction(25), "list")  # 10 s and 20 s
    cues = [Cue(7.0, 10.3, "speech", "It hangs over the cut."),  # 7 frames after it
            Cue(12.0, 19.0, "speech", "Long speech over\nthe second cut"),
            Cue(19.8, 23.0, "speech", "Starts 5 frames before a cut.")]
    before = {f.cue for f in lint_file_from_bbc(cues, shots).findings}
    assert before == {1, 3}
    out = apply_shot_changes(cues, BBC, shots)
    assert (out[0].start, out[0].end) == (7.0, 10.0)  # ends on the shot's last frame
    assert (out[1].start, out[1].end) == (12.0, 19.0)
    assert (out[2].start, out[2].end) == (20.0, 23.0)
    assert lint_file_from_bbc(out, shots).ok


def lint_file_from_bbc(cues: list[Cue], shots: ShotChanges):
    from ccgen.captions.lint import lint_cues

    return lint_cues(cues, BBC, 25.0, shots)


@pytest.mark.slow
def test_captioning_a_video_with_cuts_times_captions_to_them(tmp_path: Path, cli, samples_dir,
                                                             cut_video_of) -> None:
    """The real pipeline on the shipped sample's audio under a picture with cuts at known
    frames: every caption near a cut obeys the rule (without the pass, some do not)."""
    video = tmp_path / "cut_demo.mp4"
    cuts = cut_video_of(video, "24", [130, 110, 145, 95, 150, 120, 100],
                        audio=samples_dir / "demo.mp4")
    shots = ShotChanges(tuple(cuts), Fraction(24), "list")
    outputs = {}
    for option in ("auto", "none"):
        out = tmp_path / f"{option}.srt"
        run = cli(video, "-o", out, "--describer", "none", "--diarizer", "none", "-q",
                      "--shot-changes", option)
        assert run.returncode == 0, run.stderr
        outputs[option] = [e for e in pysubs2.load(str(out)) if e.text]
    auto, plain = outputs["auto"], outputs["none"]
    assert [e.text for e in auto] == [e.text for e in plain]  # the pass changes no text
    near = [e for e in auto if any(abs(e.start / 1000 * 24 - c) <= 12
                                   or abs(e.end / 1000 * 24 - c) <= 12 for c in cuts)]
    assert near, "no caption near a cut: the test proves nothing"
    for event in auto:
        assert obeys_netflix(event.start / 1000, event.end / 1000, cuts, Fraction(24)), event
    assert not all(obeys_netflix(e.start / 1000, e.end / 1000, cuts, Fraction(24))
                   for e in plain)
    assert "shot-change" not in lint_file(tmp_path / "auto.srt", NETFLIX, shots=shots).summary()


def test_detected_cuts_are_kept_in_the_stage_cache(tmp_path: Path,
                                                   video24: tuple[Path, list[int]]) -> None:
    from ccgen.cache import StageCache

    video, cuts = video24
    cache = StageCache(tmp_path / "cache")
    info = MediaInfo(str(video), 32.0, frame_rate=24.0)
    t = cuts[0] / 24
    cues = [Cue(t - 2.0, t + 0.2, "speech", "Ends just after the first cut.")]
    first = shot_pass(cues, NETFLIX, "auto", video, info, cache=cache, digest="abc")
    assert first[0].end == pytest.approx((cuts[0] - 2) / 24, abs=0.001)
    moved = tmp_path / "gone.mp4"  # no picture to decode now: only the cache can answer
    again = shot_pass(cues, NETFLIX, "auto", moved, info, cache=cache, digest="abc")
    assert [(c.start, c.end) for c in again] == [(c.start, c.end) for c in first]
    assert "shots" in cache.hits


def test_lint_media_and_list_are_one_or_the_other(tmp_path: Path,
                                                  video24: tuple[Path, list[int]], cli,
                                                  public_clip) -> None:
    video, cuts = video24
    srt = _srt_near_cuts(tmp_path / "near.srt", cuts, 24)
    listed = tmp_path / "cuts.txt"
    listed.write_text("1.0\n", encoding="utf-8")
    run = cli("lint", srt, "--media", video, "--shot-changes", listed)
    assert run.returncode == 2 and "not both" in run.stderr
    run = cli("lint", srt, "--media", video, "--frame-rate", "25")
    assert run.returncode == 2 and "24 fps" in run.stderr
    # audio only: no shot changes, the other rules as before
    audio = public_clip("speech/jfk.flac")
    run = cli("lint", srt, "--media", audio)
    assert "shot-change" not in run.stdout and run.returncode in (0, 1)
    assert run.stdout == cli("lint", srt).stdout


# --- the fix never trades one finding for another (random timings and cuts) -------------

@st.composite
def timed_cues(draw: st.DrawFn) -> tuple[list[Timing], tuple[int, ...]]:
    t, out = 0.5, []
    for _ in range(draw(st.integers(1, 12))):
        t += draw(st.floats(0.0, 2.0))
        length = draw(st.floats(0.1, 9.0))
        out.append(Timing(round(t, 3), round(t + length, 3), draw(st.integers(1, 84))))
        t += length
    cuts = draw(st.lists(st.integers(1, int(t * 24) + 24), max_size=8, unique=True))
    return out, tuple(sorted(cuts))


@pytest.mark.slow  # 150 generated cases through lint and fix
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=timed_cues(), style_name=st.sampled_from(["netflix", "bbc", "dcmp"]))
def test_the_fix_never_trades_one_finding_for_another(
        case: tuple[list[Timing], tuple[int, ...]], style_name: str) -> None:
    from ccgen.captions.lint import lint_cues

    timings, cuts = case
    style = load_style(style_name)
    shots = ShotChanges(cuts, Fraction(24), "list")
    fixed = fix_timings(timings, style, 24.0, shots)
    assert [t.chars for t in fixed] == [t.chars for t in timings]
    starts = [t.start for t in fixed]
    assert starts == sorted(starts) and all(t.end > t.start for t in fixed)

    def found(items: list[Timing]) -> list[set[str]]:
        cues = [Cue(t.start, t.end, "speech", "x" * t.chars) for t in items]
        per = [set() for _ in items]
        for f in lint_cues(cues, style, 24.0, shots).findings:
            per[f.cue - 1].add(f.rule)
        return per

    before, after = found(timings), found(fixed)
    for n, (b, a) in enumerate(zip(before, after, strict=True)):
        assert a <= b, (n, b, a, timings[n], fixed[n])
    assert sum(map(len, after)) <= sum(map(len, before))


def test_bbc_moves_a_caption_off_a_cut_only_where_its_speech_allows() -> None:
    shots = ShotChanges((250,), Fraction(25), "list")  # a cut at 10 s
    hang = Cue(7.0, 10.3, "speech", "The words end before the cut.")
    talk = Cue(7.0, 10.3, "speech", "The words end before the cut.")
    early = [Word(7.0 + 0.5 * i, 7.4 + 0.5 * i, w) for i, w in enumerate(
        "The words end before the cut.".split())]  # last word ends at 9.9 s
    late = [Word(w.start + 0.3, w.end + 0.3, w.text) for w in early]  # ... at 10.2 s
    moved = apply_shot_changes([hang], BBC, shots, early)[0]
    kept = apply_shot_changes([talk], BBC, shots, late)[0]
    assert (moved.start, moved.end) == (7.0, 10.0)  # only the hang straddled the cut
    assert (kept.start, kept.end) == (7.0, 10.3)  # ending at the cut would cut the speech off
    assert "straddles" in lint_file_from_bbc([kept], shots).findings[0].message


def test_a_stream_that_starts_late_counts_from_its_start(tmp_path: Path,
                                                         video24: tuple[Path, list[int]],
                                                         make_media) -> None:
    """An MPEG-TS starts its clock at 1.4 s; captions (and players) count from the start."""
    video, cuts = video24
    ts = tmp_path / "cuts.ts"
    make_media.ffmpeg("-i", str(video), "-c", "copy", str(ts))
    assert list(detect(ts, 24.0).frames) == cuts


def _ffmpeg_children() -> list[str]:
    """ffmpeg processes whose parent is this test process (Linux /proc)."""
    import os

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        name = fields[0].split("(", 1)[-1]
        if "ffmpeg" in name and int(fields[1].split()[1]) == os.getpid():
            found.append(stat.parent.name)
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_stop_during_detection_ends_ffmpeg_too(video24: tuple[Path, list[int]]) -> None:
    video, _ = video24
    seen: list[list[str]] = []

    def stop(done: float, total: float) -> None:
        seen.append(_ffmpeg_children())
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        detect(video, 24.0, duration=32.0, progress=stop)
    assert seen and seen[0], "ffmpeg was not running when the stop came: the test proves nothing"
    assert _ffmpeg_children() == []
