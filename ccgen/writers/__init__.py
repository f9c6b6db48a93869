"""Stage 5: writers, one module per family behind a small registry (as in pysubs2.formats).

To add a format: write a function ``(timeline, style) -> str | bytes`` in a module here, decorate
it with ``@register("ext")``, and import the module below. Files are written atomically and
never clobbered without ``force`` (:mod:`ccgen.writers.atomic`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ccgen.captions.style import Style
from ccgen.cues import Timeline
from ccgen.errors import InputError
from ccgen.writers.atomic import write_atomic

Writer = Callable[[Timeline, Style], "str | bytes"]
_WRITERS: dict[str, Writer] = {}


def register(name: str) -> Callable[[Writer], Writer]:
    def deco(fn: Writer) -> Writer:
        _WRITERS[name] = fn
        return fn

    return deco


def formats() -> list[str]:
    return list(_WRITERS)


def get_writer(fmt: str) -> Writer:
    try:
        return _WRITERS[fmt.lower().lstrip(".")]
    except KeyError:
        raise InputError(f"unknown format {fmt!r}; choose from {', '.join(formats())}") from None


def render(timeline: Timeline, fmt: str, style: Style) -> str | bytes:
    """The file content of `timeline` in format `fmt`."""
    return get_writer(fmt)(timeline, style)


def write(timeline: Timeline, path: str | Path, style: Style, fmt: str | None = None,
          force: bool = False) -> Path:
    """Write `timeline` to `path` (format from `fmt` or the suffix) atomically."""
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".")
    return write_atomic(path, render(timeline, fmt, style), force=force)


from ccgen.writers import jsonfile, subs  # noqa: E402,F401  (registers the formats)

__all__ = ["formats", "get_writer", "register", "render", "write"]
