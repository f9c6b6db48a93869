"""House styles: the numbers and renderings of an SDH guide, loaded from a TOML file.

Presets live in ``templates/styles/<name>.toml`` (netflix, bbc, dcmp, cea608); a user passes a
name or a path to a file of their own. A style file is data, not code: its jinja2 snippets
render in jinja2's sandbox with strict undefined variables, so a typo or an escape attempt such
as ``{{ ''.__class__ }}`` is an error at load time instead of silently rendering nothing, and
every bad field (unknown, wrong type, out of range, broken template) is reported by name.
The sandbox is also bounded (:mod:`ccgen.captions.sandbox`): a snippet that would render for
long or render a lot, such as ``range(100000000)``, is refused by field name, never run.

The same :class:`Style` drives the engine (which makes captions) and ``ccgen lint`` (which
checks them), so a caption that ccgen makes is judged by the numbers it was made with.
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

from jinja2 import StrictUndefined, Template

from ccgen.captions.sandbox import BoundedSandbox, check_output, check_source, time_limit
from ccgen.errors import InputError, one_line
from ccgen.resources import templates_dir

# CEA-608 (line 21) can only display the characters of its fixed tables. The basic set is
# ASCII 0x20-0x7F with nine code points reassigned (0x2A á, 0x5C é, 0x5E í, 0x5F ó, 0x60 ú,
# 0x7B ç, 0x7C ÷, 0x7D Ñ, 0x7E ñ, 0x7F █); the special North American set and the extended
# Western European sets (two-byte codes 0x11/0x19 3x, 0x12/0x1A 2x-3x, 0x13/0x1B 2x-3x) add
# accented letters, symbols and bring back * { } \ ^ _ | ~. The backtick cannot be shown.
# Decoders disagree on which of 0x1226/0x1229 is the curly or straight apostrophe, so both
# ' and ’ (and ‘) are accepted. U+00A0 stands for 608's transparent space.
_CEA608_BASIC = (set(string.ascii_letters + string.digits + " !\"#$%&'()+,-./:;<=>?@[]")
                 | set("áéíóúç÷Ññ█"))
_CEA608_SPECIAL = set("®°½¿™¢£♪àèâêîôû\u00a0")
_CEA608_EXTENDED = set(
    "ÁÉÓÚÜü‘’¡*'—©℠•“”ÀÂÇÈÊËëÎÏïÔÙùÛ«»"  # Spanish, miscellaneous, French
    "ÃãÍÌìÒòÕõ{}\\^_|~ÄäÖöß¥¤¦ÅåØø┌┐└┘"  # Portuguese, German, Danish, box corners
)
CEA608_CHARS: frozenset[str] = frozenset(_CEA608_BASIC | _CEA608_SPECIAL | _CEA608_EXTENDED)

# charset name -> the characters a display can show; None means any printable Unicode.
CHARSETS: dict[str, frozenset[str] | None] = {"unicode": None, "cea608": CEA608_CHARS}

# Template fields and the variables each one is rendered with.
TEMPLATE_FIELDS: dict[str, str] = {
    "sound_template": "text", "music_template": "text", "lyrics_template": "text",
    "lyrics_last_template": "text",
    "speaker_label_template": "name",
}


@dataclass(frozen=True)
class Style:
    """One SDH guide's numbers. Defaults are the Netflix English SDH preset's."""

    name: str
    guide: str
    max_chars: int = 42
    max_lines: int = 2
    max_cps: float = 20.0
    min_duration: float = 0.833
    max_duration: float = 7.0
    min_gap_frames: int = 2
    default_frame_rate: float = 24.0
    max_hang: float = 0.5
    pause_split: float = 1.0
    sound_case: str = "lower"
    dialogue_dash: str = "-"
    sound_template: str = "[{{ text }}]"
    music_template: str = "[{{ text }}]"
    lyrics_template: str = "♪ {{ text }} ♪"
    # The last caption of a song, where a guide marks it ("♪♪", BBC "# … #"); "" = as above.
    lyrics_last_template: str = ""
    # Speech a speaker is heard saying that was not transcribed, captioned as a sound under
    # their mark ([indistinct]; ccgen.speech.unheard); "" leaves it uncaptioned.
    unheard_speech: str = "indistinct"
    # Where the lyrics marks go: on every "line" (Netflix) or around each "caption" (DCMP, BBC).
    lyrics_marks: str = "line"
    # How an off-screen or unclear speaker is named ([JOHN], JOHN:, (John), >> JOHN:).
    speaker_label_template: str = "[{{ name | upper }}]"
    # US broadcast practice: every change of speaker is marked (>>), named or not.
    mark_speaker_changes: bool = False
    # Which characters the target display can show: "unicode" (any printable) or "cea608".
    charset: str = "unicode"
    # BBC-style chaining: a gap between captions shorter than this (seconds) should be closed
    # up entirely; 0 turns the rule off. Distinct from min_gap_frames, the smallest gap allowed.
    close_gap: float = 0.0
    # Shot changes (ccgen.captions.retime), in frames of the media. An in-cue within
    # shot_in_frames of a shot change moves onto it; an out-cue within shot_out_frames of one
    # ends shot_out_gap_frames before it (Netflix: 12, 12, 2); a caption that straddles a shot
    # change with at most shot_straddle_frames on one side is taken off it when it can still be
    # read (BBC). 0 turns a rule off.
    shot_in_frames: int = 12
    shot_out_frames: int = 12
    shot_out_gap_frames: int = 2
    shot_straddle_frames: int = 0

    def reading_time(self, text: str) -> float:
        """Seconds `text` needs on screen: its characters at the reading speed, at least the
        minimum duration (line breaks are not read)."""
        return max(self.min_duration, len(text.replace("\n", "")) / self.max_cps)

    def min_gap(self, frame_rate: float | None) -> float:
        """The minimum gap between captions in seconds at the media's real frame rate."""
        return self.min_gap_frames / (frame_rate or self.default_frame_rate)

    def allowed_chars(self) -> frozenset[str] | None:
        """The characters this style's display can show, or None for any printable one."""
        return CHARSETS[self.charset]

    def render(self, kind: str, text: str, last: bool = False) -> str:
        """Display text of a sound, music or lyrics item under this style; `last`: the last
        caption of a song (lyrics only)."""
        if kind in ("sound", "music"):
            # a quoted title keeps its case: ["Hey Jude" playing], not ["hey jude" playing]
            text = "".join(part if part[:1] in "\"“" else
                           part.upper() if self.sound_case == "upper" else part.lower()
                           for part in re.split(r'("[^"]*"|“[^”]*”)', text))
        key = {"sound": "sound_template", "music": "music_template",
               "lyrics": "lyrics_last_template" if last and self.lyrics_last_template
               else "lyrics_template"}.get(kind)
        if key is None:
            return text
        return self._render(key, text=text)

    def speaker_label(self, name: str) -> str:
        """The label that names a speaker under this style, e.g. ``[JOHN]`` or ``JOHN:``."""
        return self._render("speaker_label_template", name=name)

    def _render(self, key: str, **values: str) -> str:
        try:
            return _bounded_render(getattr(self, key), values)
        except Exception as exc:  # any failure of a snippet is its field's
            raise InputError(f"style {self.name}: field {key!r} failed to render "
                             f"({one_line(exc)})") from None


_ENV = BoundedSandbox(autoescape=False, undefined=StrictUndefined)


@lru_cache(maxsize=64)
def _compile(source: str) -> Template:
    check_source(source)
    return _ENV.from_string(source)


def _bounded_render(source: str, values: dict[str, str]) -> str:
    """`source` rendered with `values`, within the sandbox's bounds of size and time."""
    template = _compile(source)
    with time_limit():
        text = template.render(**values)
    return check_output(text).strip()


def presets() -> list[str]:
    return sorted(p.stem for p in (templates_dir() / "styles").glob("*.toml"))


_RANGES = {
    "max_chars": (10, 80), "max_lines": (1, 4), "max_cps": (5.0, 60.0),
    "min_duration": (0.1, 10.0), "max_duration": (1.0, 30.0), "min_gap_frames": (0, 50),
    "default_frame_rate": (10.0, 120.0), "max_hang": (0.0, 5.0), "pause_split": (0.1, 10.0),
    "close_gap": (0.0, 5.0), "shot_in_frames": (0, 50), "shot_out_frames": (0, 50),
    "shot_out_gap_frames": (0, 10), "shot_straddle_frames": (0, 50),
}
_CHOICES = {"sound_case": ("lower", "upper"), "charset": tuple(CHARSETS),
            "lyrics_marks": ("line", "caption")}


def load_style(name_or_path: str | Path) -> Style:
    """Load a preset by name, or a style file by path; InputError names a bad field."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.is_file():
        path = candidate
        if not path.is_file():
            raise InputError(f"style file {path}: no such file")
    else:
        path = templates_dir() / "styles" / f"{name_or_path}.toml"
        if not path.is_file():
            raise InputError(f"unknown style {name_or_path!r}; presets: {', '.join(presets())}"
                             " (or a .toml style file)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"style file {path}: not valid TOML ({one_line(exc)})") from None
    return _from_dict(data, path)


def _from_dict(data: dict, path: Path) -> Style:
    known = {f.name: f for f in fields(Style)}
    for key in data:
        if key not in known:
            raise InputError(f"style file {path}: unknown field {key!r}")
    data.setdefault("name", path.stem)
    data.setdefault("guide", "user style file")
    for key, value in data.items():
        expected = known[key].type
        ok = {"int": isinstance(value, int) and not isinstance(value, bool),
              "float": isinstance(value, int | float) and not isinstance(value, bool),
              "str": isinstance(value, str),
              "bool": isinstance(value, bool)}.get(str(expected), True)
        if not ok:
            raise InputError(f"style file {path}: field {key!r} must be a {expected}, "
                             f"not {value!r}")
        if key in _RANGES and not _RANGES[key][0] <= value <= _RANGES[key][1]:
            lo, hi = _RANGES[key]
            raise InputError(f"style file {path}: field {key!r} = {value} is outside {lo}..{hi}")
        if key in _CHOICES and value not in _CHOICES[key]:
            choices = " or ".join(repr(c) for c in _CHOICES[key])
            raise InputError(f"style file {path}: field {key!r} must be {choices}, "
                             f"not {value!r}")
    style = Style(**data)
    if style.min_duration > style.max_duration:
        raise InputError(f"style file {path}: field 'min_duration' = {style.min_duration} is "
                         f"above max_duration = {style.max_duration}")
    for key, variable in TEMPLATE_FIELDS.items():
        try:
            _bounded_render(getattr(style, key), {variable: "test"})
        except Exception as exc:  # syntax, sandbox, bounds, arithmetic
            raise InputError(f"style file {path}: field {key!r} is not a valid template "
                             f"({one_line(exc)})") from None
    return style
