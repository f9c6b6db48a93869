"""Stage 5: writers, one module per family behind a small registry (as in pysubs2.formats).

To add a format: write a function ``(timeline, style, *, option=...) -> str | bytes`` in a
module here, register it with ``register("ext")``, and import the module below. Keyword options
(``start``, ``drop_frame``, ``rate``) reach only the writers whose signature names them, so one
set of command-line options serves every format. Files are written atomically and never
clobbered without ``force`` (:mod:`ccgen.writers.atomic`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

from ccgen.captions.style import Style
from ccgen.cues import Timeline
from ccgen.errors import InputError
from ccgen.writers.atomic import write_atomic

Writer = Callable[..., "str | bytes"]
_WRITERS: dict[str, Writer] = {}


def register(name: str) -> Callable[[Writer], Writer]:
    """Decorator adding the writer of format `name`; a format taken twice is refused (the
    second writer would silently replace the first)."""
    if name in _WRITERS:
        raise ValueError(f"format {name!r} is registered already")

    def deco(fn: Writer) -> Writer:
        _WRITERS[name] = fn
        return fn

    return deco


def unregister(name: str) -> None:
    _WRITERS.pop(name, None)


def formats() -> list[str]:
    return list(_WRITERS)


def get_writer(fmt: str) -> Writer:
    try:
        return _WRITERS[fmt.lower().lstrip(".")]
    except KeyError:
        raise InputError(f"unknown format {fmt!r}; choose from {', '.join(formats())}") from None


def accepts(fmt: str) -> set[str]:
    """The keyword options the writer of `fmt` takes."""
    params = inspect.signature(get_writer(fmt)).parameters.values()
    return {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


def render(timeline: Timeline, fmt: str, style: Style, **options: object) -> str | bytes:
    """The file content of `timeline` in format `fmt` (options it does not take are ignored)."""
    wanted = accepts(fmt)
    return get_writer(fmt)(timeline, style, **{k: v for k, v in options.items()
                                               if k in wanted and v is not None})


def write(timeline: Timeline, path: str | Path, style: Style, fmt: str | None = None,
          force: bool = False) -> Path:
    """Write `timeline` to `path` (format from `fmt` or the suffix) atomically."""
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".")
    return write_atomic(path, render(timeline, fmt, style), force=force)


# Importing the modules registers their formats.
from ccgen.writers import jsonfile, scc, stl, subs, ttml  # noqa: E402,F401

__all__ = ["formats", "get_writer", "register", "render", "unregister", "write"]
