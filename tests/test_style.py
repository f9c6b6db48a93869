"""House styles: each preset encodes its guide, and a bad style file is refused by field name."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccgen.captions import load_style, presets
from ccgen.captions.style import CEA608_CHARS, Style
from ccgen.errors import InputError


def test_the_four_presets_are_shipped_and_name_their_guide() -> None:
    assert {"netflix", "bbc", "dcmp", "cea608"} <= set(presets())
    for name in presets():
        style = load_style(name)
        assert style.name == name
        assert len(style.guide) > 10 and style.guide != "user style file"
        assert style.min_duration < style.max_duration


@pytest.mark.parametrize(("name", "sound", "music", "lyrics"), [
    ("netflix", "[door slams]", "[eerie music]", "♪ la la la ♪"),
    ("bbc", "DOOR SLAMS", "EERIE MUSIC", "# la la la"),
    ("dcmp", "[door slams]", "[eerie music]", "♪ la la la ♪"),
    ("cea608", "[door slams]", "[eerie music]", "♪ la la la ♪"),
])
def test_presets_render_sounds_music_and_lyrics_as_their_guide_says(
        name: str, sound: str, music: str, lyrics: str) -> None:
    style = load_style(name)
    assert style.render("sound", "Door slams") == sound
    assert style.render("music", "Eerie Music") == music
    assert style.render("lyrics", "la la la") == lyrics
    assert style.render("speech", "Hello there.") == "Hello there."


@pytest.mark.parametrize(("name", "label"), [
    ("netflix", "[JOHN]"), ("bbc", "JOHN:"), ("dcmp", "(John)"), ("cea608", ">> JOHN:"),
])
def test_speaker_labels_follow_the_guide(name: str, label: str) -> None:
    assert load_style(name).speaker_label("John") == label


def test_cea608_marks_an_unnamed_speaker_change_with_chevrons() -> None:
    assert load_style("cea608").speaker_label("") == ">>"


@pytest.mark.parametrize(("name", "chars", "lines", "fps", "min_dur", "charset"), [
    ("netflix", 42, 2, 24.0, 0.833, "unicode"),
    ("bbc", 37, 2, 25.0, 1.0, "unicode"),
    ("dcmp", 32, 2, 29.97, 2.0, "unicode"),
    ("cea608", 32, 4, 29.97, 1.0, "cea608"),
])
def test_preset_numbers(name: str, chars: int, lines: int, fps: float, min_dur: float,
                        charset: str) -> None:
    style = load_style(name)
    assert (style.max_chars, style.max_lines, style.default_frame_rate) == (chars, lines, fps)
    assert style.min_duration == pytest.approx(min_dur)
    assert style.charset == charset


def test_reading_speeds_are_the_guides_words_per_minute_at_five_characters() -> None:
    assert load_style("netflix").max_cps == 20.0
    assert load_style("bbc").max_cps == pytest.approx(180 * 5 / 60)
    assert load_style("dcmp").max_cps == pytest.approx(160 * 5 / 60, abs=0.05)
    assert load_style("cea608").max_cps == pytest.approx(235 * 5 / 60, abs=0.05)


def test_bbc_chains_captions_and_wants_short_gaps_closed() -> None:
    bbc = load_style("bbc")
    assert bbc.min_gap(25.0) == 0.0
    assert bbc.close_gap == 1.0
    assert load_style("netflix").close_gap == 0.0


def test_min_gap_follows_the_media_frame_rate() -> None:
    netflix = load_style("netflix")
    assert netflix.min_gap(None) == pytest.approx(2 / 24)
    assert netflix.min_gap(25.0) == pytest.approx(2 / 25)
    assert load_style("dcmp").min_gap(None) == pytest.approx(2 / 29.97)


def test_cea608_character_set_holds_its_tables_and_nothing_else() -> None:
    for char in "AZaz09 !?.,'\"-♪éáíóúçñÑ¿¡ÉüÜ®°½*{}\\^_|~—“”’":
        assert char in CEA608_CHARS, char
    for char in "`…€–😀\t":
        assert char not in CEA608_CHARS, char
    assert load_style("cea608").allowed_chars() is CEA608_CHARS
    assert load_style("netflix").allowed_chars() is None


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "house.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_a_user_style_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    style = load_style(write(tmp_path, 'max_chars = 30\nsound_template = "<{{ text }}>"\n'))
    assert style.name == "house" and style.guide == "user style file"
    assert style.max_chars == 30 and style.render("sound", "Bang") == "<bang>"
    assert style.max_lines == Style("x", "y").max_lines


@pytest.mark.parametrize(("body", "field"), [
    ("max_chars_per_line = 40\n", "max_chars_per_line"),
    ('max_chars = "forty"\n', "max_chars"),
    ("max_lines = true\n", "max_lines"),
    ("max_cps = 200.0\n", "max_cps"),
    ("max_lines = 9\n", "max_lines"),
    ("close_gap = -1.0\n", "close_gap"),
    ('charset = "ebcdic"\n', "charset"),
    ('sound_case = "title"\n', "sound_case"),
    ("min_duration = 8.0\n", "min_duration"),
    ('sound_template = "[{{ text }"\n', "sound_template"),
    ('lyrics_template = "{% for x in %}"\n', "lyrics_template"),
    ('music_template = "{{ txt }}"\n', "music_template"),
    ('speaker_label_template = "{{ name | nosuchfilter }}"\n', "speaker_label_template"),
])
def test_bad_style_file_names_the_field(tmp_path: Path, body: str, field: str) -> None:
    with pytest.raises(InputError) as err:
        load_style(write(tmp_path, body))
    message = str(err.value)
    assert repr(field) in message and "house.toml" in message
    assert "\n" not in message


@pytest.mark.parametrize("template", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__ }}",
    "{{ text.__class__.__base__.__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.system('touch pwned') }}",
])
def test_template_escapes_are_sandbox_errors_not_code(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      template: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as err:
        load_style(write(tmp_path, f'sound_template = "{template}"\n'))
    assert "'sound_template'" in str(err.value)
    assert not (tmp_path / "pwned").exists()


def test_a_template_that_fails_only_at_render_time_is_an_input_error() -> None:
    style = Style("odd", "test", sound_template="{% if text == 'boom' %}{{ nope }}{% endif %}")
    assert style.render("sound", "bang") == ""
    with pytest.raises(InputError, match="sound_template"):
        style.render("sound", "boom")


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(InputError, match="netflix.*bbc|bbc.*netflix"):
        load_style("hollywood")


def test_invalid_toml_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not valid TOML"):
        load_style(write(tmp_path, "max_chars = = 3\n"))


def test_a_quoted_title_keeps_its_case() -> None:
    assert load_style("netflix").render("sound", '"Hey Jude" Playing') == '["Hey Jude" playing]'
    assert load_style("bbc").render("music", '"Hey Jude" plays') == '"Hey Jude" PLAYS'


@pytest.mark.parametrize(("name", "last"), [
    ("netflix", "♪ la la la ♪"), ("bbc", "# la la la #"), ("dcmp", "♪ la la la ♪♪"),
    ("cea608", "♪ la la la ♪"),
])
def test_the_last_caption_of_a_song_is_marked_per_guide(name: str, last: str) -> None:
    """BBC: # at the start of each song subtitle and at both ends of the last; DCMP: ♪♪ at
    the end of the last."""
    assert load_style(name).render("lyrics", "la la la", last=True) == last
