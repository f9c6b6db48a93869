"""House styles: the numbers and renderings of an SDH guide, loaded from a TOML file.

Presets live in ``templates/styles/<name>.toml``; a user passes a name or a path to a file of
their own. A style file is data, not code: its jinja2 snippets render in jinja2's sandbox, and
a bad field is reported by name.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import tomllib
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from ccgen.errors import InputError
from ccgen.resources import templates_dir


@dataclass(frozen=True)
class Style:
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

    def min_gap(self, frame_rate: float | None) -> float:
        """The minimum gap between captions in seconds at the media's real frame rate."""
        return self.min_gap_frames / (frame_rate or self.default_frame_rate)

    def render(self, kind: str, text: str) -> str:
        """Display text of a sound, music or lyrics item under this style."""
        if kind in ("sound", "music"):
            text = text.upper() if self.sound_case == "upper" else text.lower()
        template = {"sound": self.sound_template, "music": self.music_template,
                    "lyrics": self.lyrics_template}.get(kind)
        if template is None:
            return text
        return _compile(template).render(text=text).strip()


_ENV = SandboxedEnvironment(autoescape=False)


@lru_cache(maxsize=64)
def _compile(source: str):  # noqa: ANN202 - jinja2's Template
    return _ENV.from_string(source)


def presets() -> list[str]:
    return sorted(p.stem for p in (templates_dir() / "styles").glob("*.toml"))


_RANGES = {
    "max_chars": (10, 80), "max_lines": (1, 4), "max_cps": (5.0, 60.0),
    "min_duration": (0.1, 10.0), "max_duration": (1.0, 30.0), "min_gap_frames": (0, 50),
    "default_frame_rate": (10.0, 120.0), "max_hang": (0.0, 5.0), "pause_split": (0.1, 10.0),
}


def load_style(name_or_path: str | Path) -> Style:
    """Load a preset by name, or a style file by path; InputError names a bad field."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
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
        raise InputError(f"style file {path}: not valid TOML ({exc})") from None
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
              "str": isinstance(value, str)}.get(str(expected), True)
        if not ok:
            raise InputError(f"style file {path}: field {key!r} must be a {expected}, "
                             f"not {value!r}")
        if key in _RANGES and not _RANGES[key][0] <= value <= _RANGES[key][1]:
            lo, hi = _RANGES[key]
            raise InputError(f"style file {path}: field {key!r} = {value} is outside {lo}..{hi}")
    if data.get("sound_case", "lower") not in ("lower", "upper"):
        raise InputError(f"style file {path}: field 'sound_case' must be 'lower' or 'upper'")
    style = Style(**data)
    for key in ("sound_template", "music_template", "lyrics_template"):
        try:
            _compile(getattr(style, key)).render(text="test")
        except TemplateError as exc:
            raise InputError(f"style file {path}: field {key!r} is not a valid template "
                             f"({exc})") from None
    return style
