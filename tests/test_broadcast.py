"""Broadcast writers (SCC, TTML/IMSC1, EBU-STL) read back by independent readers.

SCC and TTML are read back with pycaption; EBU-STL, which no installable package reads, with a
small parser written here from EBU Tech 3264. Times are compared on the frame grid: a cue must
come back within one frame of the frame the writer meant.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccgen.captions.style import load_style
from ccgen.cues import Cue, Timeline
from ccgen.errors import InputError
from ccgen.writers import get_writer, render
from ccgen.writers.scc import write_scc
from ccgen.writers.stl import write_stl
from ccgen.writers.timecode import (
    format_timecode,
    frame_rate,
    parse_timecode,
    snap,
    to_frames,
    to_seconds,
)
from ccgen.writers.ttml import write_ttml

NETFLIX = load_style("netflix")
NTSC = Fraction(30000, 1001)
LONG = "This line is exactly forty-two chars long!"  # sample_timeline's; over SCC's 32, STL's 37


def words(text: str) -> list[str]:
    """The words of a caption, whatever its line breaks and indentation."""
    return text.replace("\xa0", " ").split()


def expected_ends(cues: list[Cue], frame: float, close: int = 5) -> list[float]:
    """pycaption's SCC reader runs a caption on to the next one when the gap is under 5 frames."""
    ends = [c.end for c in cues]
    for i in range(len(cues) - 1):
        if cues[i + 1].start - cues[i].end < close * frame:
            ends[i] = cues[i + 1].start
    return ends


def read_scc(text: str) -> list:
    pycaption = pytest.importorskip("pycaption")  # the independent reader (dev extra)
    return list(pycaption.SCCReader().read(text).get_captions("en-US"))


def read_ttml(text: str) -> list:
    pycaption = pytest.importorskip("pycaption")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4 notes it parses XML with its HTML parser
        caption_set = pycaption.DFXPReader().read(text)
    return list(caption_set.get_captions(caption_set.get_languages()[0]))


# -- timecode --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("label", "frame"), [
    ("00:00:59;29", 1799), ("00:01:00;02", 1800), ("00:02:00;02", 3598),
    ("00:09:59;29", 17981), ("00:10:00;00", 17982), ("01:00:00;00", 107892),
    ("10:00:00;00", 1078920)])
def test_drop_frame_labels_at_2997(label: str, frame: int) -> None:
    df = frame_rate(29.97, drop=True)
    assert parse_timecode(label, df) == frame
    assert format_timecode(frame, df) == label


def test_drop_frame_at_5994_skips_four_labels() -> None:
    df = frame_rate(59.94, drop=True)
    assert format_timecode(3599, df) == "00:00:59;59"
    assert format_timecode(3600, df) == "00:01:00;04"
    assert parse_timecode("00:10:00;00", df) == 35964


@given(st.integers(0, 2_000_000), st.sampled_from([(29.97, True), (59.94, True),
                                                              (25, False), (23.976, False)]))
def test_timecode_round_trips(frame: int, spec: tuple[float, bool]) -> None:
    rate = frame_rate(spec[0], drop=spec[1])
    assert parse_timecode(format_timecode(frame, rate), rate) == frame


def test_non_drop_and_exact_rates() -> None:
    ndf = frame_rate(29.97002997)
    assert ndf.rate == NTSC and not ndf.drop
    assert parse_timecode("10:00:00:00", ndf) == 1_080_000
    assert to_seconds(1_080_000, ndf) == pytest.approx(36036.0)  # NDF runs 0.1% slow
    assert frame_rate("24000/1001").rate == Fraction(24000, 1001)
    assert to_frames(1.0, ndf) == 30 and to_frames(1.0, frame_rate(25)) == 25
    assert snap(0.05, frame_rate(25)) == pytest.approx(0.04)


@pytest.mark.parametrize("call", [
    lambda: frame_rate(25, drop=True),
    lambda: parse_timecode("00:01:00;00", frame_rate(29.97, drop=True)),  # skipped label
    lambda: parse_timecode("10:00:00;00", frame_rate(29.97)),  # ';' but non-drop asked
    lambda: parse_timecode("10:00:00:25", frame_rate(25)),
    lambda: parse_timecode("ten o'clock", frame_rate(25)),
    lambda: frame_rate(17.3),
])
def test_timecode_mismatches_are_one_line_errors(call) -> None:
    with pytest.raises(InputError) as err:
        call()
    assert "\n" not in str(err.value)


# -- SCC -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("drop", "start"), [(True, None), (False, None), (True, "10:00:00:00"),
                                             (False, "01:00:00:00")])
def test_scc_round_trip_through_pycaption(drop: bool, start: str | None, caplog,
                                          sample_timeline) -> None:
    tl = sample_timeline()
    with caplog.at_level(logging.WARNING, logger="ccgen"):
        out = write_scc(tl, NETFLIX, start=start, drop_frame=drop)
    assert out.startswith("Scenarist_SCC V1.0\n\n")
    assert (";" in out.split("\n")[2].split("\t")[0]) is drop
    rate = frame_rate(29.97, drop=drop)
    offset = parse_timecode(start, rate) if start else 0
    got = read_scc(out)
    assert len(got) == len(tl.cues)

    def reader_time(seconds: float) -> float:
        frame = offset + to_frames(seconds, rate)
        if not drop:
            return to_seconds(frame, rate)  # pycaption reads NDF exactly (x 1.001)
        # pycaption reads a drop-frame label as wall-clock seconds (HH:MM:SS + FF/30).
        hh, mm, ss, ff = map(int, re.split("[:;]", format_timecode(frame, rate)))
        return hh * 3600 + mm * 60 + ss + ff / 30

    frame = 1001 / 30000
    for cue, cap, end in zip(tl.cues, got, expected_ends(tl.cues, frame), strict=True):
        assert cap.start / 1e6 == pytest.approx(reader_time(cue.start), abs=frame), cue.text
        assert cap.end / 1e6 == pytest.approx(reader_time(end), abs=frame), cue.text
        assert all(len(line) <= 32 for line in cap.get_text().split("\n"))
    texts = [cap.get_text() for cap in got]
    assert words(texts[2]) == words("♪ Sing me a song tonight ♪")
    assert words(texts[3]) == words("Le café est très bon. Über naïve façade!")
    assert words(texts[4]) == words(f"{LONG} and a second line with some words")  # not cut
    assert len(texts[4].split("\n")) == 3
    assert words(texts[5]) == words("- Who's there? - \"Me\", with EUR5.")
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "reflowed" in messages and "32 characters" in messages
    assert "transliterated" in messages and "'€'->'EUR'" in messages


def _scc_words(text: str) -> list[tuple[str, str]]:
    """(timecode, word) for every word of an SCC file."""
    out = []
    for line in text.split("\n")[1:]:
        if line.strip():
            tc, body = line.split("\t")
            out += [(tc, w) for w in body.split()]
    return out


def test_scc_bytes_have_odd_parity_and_codes_are_doubled(sample_timeline) -> None:
    out = write_scc(sample_timeline(), NETFLIX)
    flat = [w for _, w in _scc_words(out)]
    for word in flat:
        for byte in (int(word[:2], 16), int(word[2:], 16)):
            assert bin(byte).count("1") % 2 == 1, word
    i = 0
    while i < len(flat):
        if 0x10 <= int(flat[i][:2], 16) & 0x7F <= 0x1F:  # a control/special/extended code
            assert flat[i + 1] == flat[i], f"{flat[i]} not doubled"
            i += 2
        else:
            i += 1
    assert "9137" in flat  # ♪ is 608 special character 0x11 0x37
    assert "91ae" in flat  # lyrics are italic (mid-row code)


def test_scc_doubled_special_characters_both_survive() -> None:
    """A decoder drops a code equal to the one before; a null word keeps "♪♪" two notes."""
    tl = Timeline("x.mp4", 10.0, "en", "dcmp", [Cue(5.0, 7.0, "lyrics", "♪♪ la la ♪♪")],
                  frame_rate=29.97)
    out = write_scc(tl, NETFLIX)
    assert "9137 9137 8080 9137 9137" in out
    assert words(read_scc(out)[0].get_text()) == ["♪♪", "la", "la", "♪♪"]


def test_scc_eoc_lands_on_the_start_frame(sample_timeline) -> None:
    """Counted here from each line's timecode, one word per frame (2 bytes per frame)."""
    tl = sample_timeline()
    out = write_scc(tl, NETFLIX, drop_frame=False)
    rate = frame_rate(29.97)
    eoc_frames, frame, last_tc = [], None, None
    for tc, word in _scc_words(out):
        if tc != last_tc:
            frame, last_tc = parse_timecode(tc, rate), tc
        else:
            frame += 1
        if word == "942f" and (not eoc_frames or eoc_frames[-1] != frame - 1):
            eoc_frames.append(frame)
    assert eoc_frames == [to_frames(c.start, rate) for c in tl.cues]


def test_scc_caption_too_close_to_load_is_shown_late_with_warning(caplog) -> None:
    text = "A caption long enough to need\nmany frames of the caption\nchannel to load in"
    tl = Timeline("x.mp4", 5.0, "en", "netflix",
                  [Cue(0.5, 1.0, "speech", text), Cue(1.1, 3.0, "speech", text.upper())],
                  frame_rate=29.97)
    with caplog.at_level(logging.WARNING, logger="ccgen"):
        got = read_scc(write_scc(tl, NETFLIX, start="01:00:00:00"))
    assert "shown late" in caplog.text
    assert [words(c.get_text()) for c in got] == [words(text), words(text.upper())]
    assert got[1].start / 1e6 > 3600 + 1.1 + 0.5  # a 70-word load needs 70 frames after EOC


def test_scc_rejects_drop_frame_start_with_non_drop(sample_timeline) -> None:
    with pytest.raises(InputError, match="drop-frame"):
        write_scc(sample_timeline(), NETFLIX, start="10:00:00;00", drop_frame=False)


def test_scc_real_sample_survives_a_round_trip(public_clip) -> None:
    """A broadcaster's Spanish SCC (¡, á, í, ñ, ♪) read by pycaption, rewritten, read again."""
    original = read_scc(public_clip("captions/pycaption_example.scc").read_text(encoding="utf-8"))
    cues = [Cue(c.start / 1e6, c.end / 1e6, "speech",
                "\n".join(line.strip("\xa0 ") for line in c.get_text().split("\n")))
            for c in original]
    tl = Timeline("example.mp4", 12.0, "es", "cea608", cues, frame_rate=29.97)
    # The first caption is up at 1.1 s: loading it takes ~1.5 s of the channel, so the file
    # starts at 01:00:00:00 like a programme with pre-roll (at 00:00:00:00 it would be late).
    again = read_scc(write_scc(tl, load_style("cea608"), start="01:00:00:00", drop_frame=False))
    assert [words(c.get_text()) for c in again] == [words(c.get_text()) for c in original]
    pre_roll = 108000 * 1001 / 30000 * 1e6  # 01:00:00:00 non-drop, in microseconds
    for a, b in zip(original, again, strict=True):
        assert b.start - pre_roll == pytest.approx(a.start, abs=1e6 / 29.97)
        assert b.end - pre_roll == pytest.approx(a.end, abs=1e6 / 29.97)


# -- TTML / IMSC1 ----------------------------------------------------------------------------------

def test_ttml_is_imsc1_text_profile_xml(sample_timeline) -> None:
    doc = ET.fromstring(write_ttml(sample_timeline(), NETFLIX, start="10:00:00;00"))
    tt, ttp, ttm, tts = ("{http://www.w3.org/ns/ttml}", "{http://www.w3.org/ns/ttml#parameter}",
                         "{http://www.w3.org/ns/ttml#metadata}",
                         "{http://www.w3.org/ns/ttml#styling}")
    assert doc.get(f"{ttp}timeBase") == "media"
    assert doc.get(f"{ttp}frameRate") == "30"
    assert doc.get(f"{ttp}frameRateMultiplier") == "1000 1001"
    assert doc.get(f"{ttp}profile") == "http://www.w3.org/ns/ttml/profile/imsc1/text"
    assert doc.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    region = doc.find(f"{tt}head/{tt}layout/{tt}region")
    assert region.get(f"{tts}displayAlign") == "after"
    ps = doc.findall(f".//{tt}p")
    assert [p.get(f"{ttm}role") for p in ps] == ["dialog", "sound", "lyrics", "dialog",
                                                "dialog", "dialog"]
    assert ps[2].find(f"{tt}span").get("style") == "box italic"
    agents = {a.get("{http://www.w3.org/XML/1998/namespace}id"): a.find(f"{ttm}name").text
              for a in doc.iter(f"{ttm}agent")}
    assert agents[ps[3].get(f"{ttm}agent")] == "Ann"
    assert len(ps[3].findall(f".//{tt}br")) == 1


@pytest.mark.parametrize(("rate", "start", "drop"), [(29.97, None, None), (25, "10:00:00:00", None),
                                                     (23.976, "01:00:00:00", None),
                                                     (29.97, "10:00:00;00", None)])
def test_ttml_round_trip_through_pycaption(rate: float, start: str | None,
                                           drop: bool | None, sample_timeline) -> None:
    tl = sample_timeline(rate)
    fr = frame_rate(rate, drop=bool(start and ";" in start))
    offset = to_seconds(parse_timecode(start, fr), fr) if start else 0.0
    got = read_ttml(write_ttml(tl, NETFLIX, start=start, drop_frame=drop))
    assert len(got) == len(tl.cues)
    for cue, cap in zip(tl.cues, got, strict=True):
        assert cap.get_text() == cue.text  # TTML keeps the style's lines and characters
        assert cap.start / 1e6 == pytest.approx(offset + cue.start, abs=1 / fr.fps)
        assert cap.end / 1e6 == pytest.approx(offset + cue.end, abs=1 / fr.fps)
        frames = (cap.start / 1e6 - offset) * fr.fps
        assert frames == pytest.approx(round(frames), abs=0.05)  # on a frame of the media


def test_ttml_audio_only_uses_style_rate_and_drop_frame_needs_ntsc(sample_timeline) -> None:
    doc = ET.fromstring(write_ttml(sample_timeline(None), NETFLIX))
    assert doc.get("{http://www.w3.org/ns/ttml#parameter}frameRate") == str(
        round(NETFLIX.default_frame_rate))
    with pytest.raises(InputError, match="drop-frame") as err:
        write_ttml(sample_timeline(25), NETFLIX, drop_frame=True)
    assert "\n" not in str(err.value)


# -- EBU-STL ---------------------------------------------------------------------------------------

_DIACRITICS = {0xC1: "\u0300", 0xC2: "\u0301", 0xC3: "\u0302", 0xC4: "\u0303", 0xC8: "\u0308",
               0xCA: "\u030a", 0xCB: "\u0327", 0xCD: "\u030b", 0xCF: "\u030c"}
_SYMBOLS = {0xD5: "♪", 0xA9: "‘", 0xB9: "’", 0xAA: "“", 0xBA: "”", 0xD0: "—", 0xA3: "£"}


def parse_stl(data: bytes) -> tuple[dict[str, str], list[dict]]:
    """A reader for EBU Tech 3264 files written from the spec, independent of ccgen's writer."""
    gsi = data[:1024].decode("cp850")
    fields = {"CPN": gsi[0:3], "DFC": gsi[3:11], "DSC": gsi[11], "CCT": gsi[12:14],
              "LC": gsi[14:16], "OPT": gsi[16:48].strip(), "TNB": gsi[238:243],
              "TNS": gsi[243:248], "MNC": gsi[251:253], "TCS": gsi[255],
              "TCP": gsi[256:264], "TCF": gsi[264:272]}
    fps = int(fields["DFC"][3:5])
    assert (len(data) - 1024) % 128 == 0
    subs: dict[int, dict] = {}
    for pos in range(1024, len(data), 128):
        tti = data[pos:pos + 128]
        sn = int.from_bytes(tti[1:3], "little")
        tci = ((tti[5] * 60 + tti[6]) * 60 + tti[7]) * fps + tti[8]
        tco = ((tti[9] * 60 + tti[10]) * 60 + tti[11]) * fps + tti[12]
        sub = subs.setdefault(sn, {"in": tci, "out": tco, "vp": tti[13], "jc": tti[14],
                                   "raw": b"", "ebn": []})
        sub["raw"] += tti[16:].split(b"\x8f")[0]
        sub["ebn"].append(tti[3])
    for sub in subs.values():
        text, accent = [], None
        for byte in sub["raw"]:
            if byte in _DIACRITICS:
                accent = _DIACRITICS[byte]
                continue
            if byte == 0x8A:
                if text and text[-1] != "\n":
                    text.append("\n")
            elif 0x20 <= byte < 0x7F:
                text.append(unicodedata.normalize("NFC", chr(byte) + (accent or "")))
            elif byte in _SYMBOLS:
                text.append(_SYMBOLS[byte])
            accent = None  # teletext control codes (< 0x20) are spacing attributes: skipped
        sub["text"] = "".join(text)
    return fields, [subs[k] for k in sorted(subs)]


def test_stl_gsi_and_tti_read_back(caplog, sample_timeline) -> None:
    tl = sample_timeline(25)
    with caplog.at_level(logging.WARNING, logger="ccgen"):
        data = get_writer("stl")(tl, NETFLIX)
        data = write_stl(tl, NETFLIX, start="10:00:00:00")
    assert isinstance(data, bytes) and len(data) >= 1024 + 128
    gsi, subs = parse_stl(data)
    assert (gsi["CPN"], gsi["DFC"], gsi["DSC"], gsi["CCT"], gsi["LC"]) == (
        "850", "STL25.01", "1", "00", "09")
    assert gsi["TCP"] == "10000000" and gsi["TCS"] == "1"
    assert int(gsi["TNB"]) == (len(data) - 1024) // 128 and int(gsi["TNS"]) == len(subs) == 6
    assert gsi["OPT"] == "show"
    offset = 10 * 3600 * 25
    for cue, sub in zip(tl.cues, subs, strict=True):
        assert sub["in"] == offset + to_frames(cue.start, frame_rate(25))
        assert sub["out"] == offset + to_frames(cue.end, frame_rate(25))
        assert sub["jc"] == 2 and sub["ebn"][-1] == 0xFF
        assert all(len(line) <= 37 for line in sub["text"].split("\n"))
    assert subs[2]["text"] == "♪ Sing me a song tonight ♪"
    assert subs[3]["text"] == "Le café est très bon.\nÜber naïve façade!"
    assert subs[5]["text"] == "- Who’s there?\n- “Me”, with EUR5."  # ISO 6937 has the quotes
    assert words(subs[4]["text"]) == words(f"{LONG} and a second line with some words")
    assert subs[4]["vp"] < subs[0]["vp"] == 22  # more rows start higher; last row at 22
    assert "Teletext rows hold 37" in caplog.text and "'€'->'EUR'" in caplog.text
    # a short row closes its box (End Box), or the black box would run to the screen's edge
    assert subs[1]["raw"] == b"\x0d\x0b\x0b[door slams]\x0a\x0a"


def test_stl_sends_only_iso6937_letter_accent_pairs(caplog) -> None:
    tl = Timeline("x.mp4", 5.0, "vi", "netflix", [Cue(1.0, 3.0, "speech", "Cinq ẽ ǎ ĕ é ő")],
                  frame_rate=25)
    with caplog.at_level(logging.WARNING, logger="ccgen"):
        _, subs = parse_stl(write_stl(tl, NETFLIX))
    assert subs[0]["text"] == "Cinq e a e é ő"  # outside the repertoire: plain letters
    assert "'ẽ'->'e'" in caplog.text


def test_stl_2997_is_stl30_and_long_text_uses_extension_blocks() -> None:
    lines = [f"- Speaker {n} says something fairly long here" for n in range(4)]
    tl = Timeline("x.mov", 10.0, "fr", "netflix", [Cue(1.0, 5.0, "speech", "\n".join(lines))],
                  frame_rate=29.97)
    gsi, subs = parse_stl(write_stl(tl, NETFLIX))
    assert gsi["DFC"] == "STL30.01" and gsi["LC"] == "0F"
    assert len(subs) == int(gsi["TNS"]) >= 2  # 4 x 45 characters: split over two subtitles
    assert " ".join(s["text"].replace("\n", " ") for s in subs) == " ".join(lines)
    assert subs[0]["in"] == 30  # frame 30 at 29.97, labelled 00:00:01:00 non-drop
    many = Timeline("x.mov", 10.0, "en", "netflix", [Cue(1.0, 5.0, "speech", "\n".join(
        ["- é" * 12] * 4))], frame_rate=25)
    _, subs = parse_stl(write_stl(many, NETFLIX))
    assert subs[0]["ebn"] == [0, 0xFF]  # 4 rows of accented text exceed one 112-byte field
    assert subs[0]["text"] == "\n".join(["- é" * 12] * 4)


@pytest.mark.parametrize(("kwargs", "made", "match"), [
    ({"drop_frame": True}, {"rate": 29.97}, "non-drop"),
    ({"start": "10:00:00;00"}, {"rate": 29.97}, "non-drop"),
    ({"rate": 24}, {"rate": 24}, "25 or 30"),
    ({}, {"rate": 25, "language": "ru"}, "Latin"),
])
def test_stl_mismatches_are_one_line_errors(kwargs: dict, made: dict, match: str,
                                            sample_timeline) -> None:
    with pytest.raises(InputError, match=match) as err:
        write_stl(sample_timeline(**made), NETFLIX, **kwargs)
    assert "\n" not in str(err.value)


def test_stl_24fps_media_is_written_at_25_with_warning(caplog, sample_timeline) -> None:
    with caplog.at_level(logging.WARNING, logger="ccgen"):
        gsi, _ = parse_stl(write_stl(sample_timeline(23.976), NETFLIX))
    assert gsi["DFC"] == "STL25.01" and "no 23.976 fps format" in caplog.text


# -- a real subtitle file through every broadcast format -------------------------------------------

def test_real_subtitles_through_scc_ttml_and_stl(public_clip) -> None:
    pysubs2 = pytest.importorskip("pysubs2")
    subs = pysubs2.load(str(public_clip("captions/pycaption_example.srt")))[:50]
    cues = [Cue(e.start / 1000, e.end / 1000, "speech", e.plaintext) for e in subs]
    tl = Timeline("pycaption_example.mp4", cues[-1].end + 1, "en", "netflix", cues,
                  frame_rate=29.97)
    frame = 1001 / 30000
    scc = read_scc(render(tl, "scc", NETFLIX))
    ttml = read_ttml(render(tl, "ttml", NETFLIX))
    _, stl = parse_stl(render(tl, "stl", NETFLIX))
    assert len(scc) == len(ttml) == len(stl) == len(cues)
    on_time = 0
    for cue, a, b, c in zip(cues, scc, ttml, stl, strict=True):
        assert words(a.get_text()) == words(cue.text) == words(b.get_text()) == words(c["text"])
        assert b.start / 1e6 == pytest.approx(cue.start, abs=frame)
        assert c["in"] == to_frames(cue.start, frame_rate(29.97))
        # SCC: on time unless the channel could not load it in time (then late, with a warning).
        assert a.start / 1e6 >= cue.start - 2 * frame
        on_time += abs(a.start / 1e6 - cue.start) <= 2 * frame  # DF labels read as wall clock
    assert on_time >= 0.9 * len(cues)


def test_srt_vtt_and_ass_keep_the_text_exactly() -> None:
    """Braces, backslashes and '&' or '<' reach the viewer: pysubs2 would read {…} as ASS tags,
    and WebVTT forbids a raw & or < (escaped there); the cues go out in time order."""
    text = "R&D costs $5 {a} | b\nC:\\temp <3"
    tl = Timeline("x.mp4", 10.0, "en", "netflix",
                  [Cue(3.0, 4.0, "speech", text), Cue(1.0, 2.0, "sound", "[door slams]")])
    srt = get_writer("srt")(tl, NETFLIX)
    assert text in srt and srt.index("[door slams]") < srt.index("R&D")
    vtt = get_writer("vtt")(tl, NETFLIX)
    assert "R&amp;D costs $5 {a} | b\nC:\\temp &lt;3" in vtt
    ass = get_writer("ass")(tl, NETFLIX)
    assert "R&D costs $5 \\{a\\} | b\\NC:\\temp <3" in ass


@pytest.mark.parametrize("rate", [23.976, 25, 29.97, 59.94])
def test_ttml_times_never_read_a_frame_early(rate: float) -> None:
    """A reader that truncates a TTML clock time to frames lands on the frame written."""
    from ccgen.writers.ttml import media_clock

    fr = frame_rate(rate)

    def frame_of(clock: str) -> int:
        h, m, s = clock.split(":")
        return int((int(h) * 3600 + int(m) * 60 + float(s)) * float(fr.fps) + 1e-9)

    assert all(frame_of(media_clock(to_seconds(f, fr))) == f for f in range(0, 20000, 7))
