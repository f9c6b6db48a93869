"""Stage 5: writers, one module per family behind the format registry (as pysubs2.formats).

To add a format: write a function ``(timeline, style, *, option=...) -> str | bytes`` in a
module here, register it with ``register("ext")``, and import the module below. The keyword
options its signature names (``start``, ``drop_frame``, ``rate``) are the registry entry's
accepted options: one set of command-line options serves every format, each writer getting
the ones it takes, and an option no writer takes (a misspelt one) is an error, never dropped
unnoticed. Files are written atomically and never clobbered without ``force``
(:mod:`ccgen.writers.atomic`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ccgen.captions.style import Style
from ccgen.cues import Timeline
from ccgen.errors import InputError
from ccgen.registry import Registry
from ccgen.writers.atomic import write_atomic

Writer = Callable[..., "str | bytes"]
REGISTRY: Registry[str | bytes] = Registry("format", special=())
_ORDER: list[str] = []  # formats in the order they were registered (srt first...)


def register(name: str, *, help: str = "",
             available: Callable[[], str | None] | None = None) -> Callable[[Writer], Writer]:
    """Decorator adding the writer of format `name`; a format taken twice is refused (the
    second writer would silently replace the first). `available`: why it cannot write here
    (a library it needs), or None."""
    add = REGISTRY.register(name, help=help, available=available or (lambda: None))

    def deco(fn: Writer) -> Writer:
        add(fn)
        _ORDER.append(name)
        return fn

    return deco


def unregister(name: str) -> None:
    REGISTRY.unregister(name)
    if name in _ORDER:
        _ORDER.remove(name)


def formats() -> list[str]:
    return list(_ORDER)


def get_writer(fmt: str) -> Writer:
    """The writer of `fmt`; an unknown format, or one that cannot be written here, is bad
    usage (exit 2)."""
    name = fmt.lower().lstrip(".")
    if name not in REGISTRY.names():
        raise InputError(f"unknown format {fmt!r}; choose from {', '.join(formats())}")
    return REGISTRY.require(name).factory


def accepts(fmt: str) -> set[str]:
    """The keyword options the writer of `fmt` takes."""
    get_writer(fmt)  # the error names the formats
    return set(REGISTRY.entry(fmt.lower().lstrip(".")).options)


def render(timeline: Timeline, fmt: str, style: Style, **options: object) -> str | bytes:
    """The file content of `timeline` in format `fmt`. Options another format takes but this
    one does not are left out (``start`` means nothing to SRT); an option no format takes is
    a programming error (TypeError), and None means "not given"."""
    REGISTRY.check_options(options)
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

__all__ = ["REGISTRY", "formats", "get_writer", "register", "render", "unregister", "write"]
