"""A named registry of backend factories: how a new model becomes one new file.

Each backend kind keeps one :class:`Registry`: transcribers (:mod:`ccgen.speech`),
diarizers (:mod:`ccgen.speakers`), describers (:mod:`ccgen.events`) and writers
(:mod:`ccgen.writers`). A backend module decorates its factory with
``@REGISTRY.register("name", help=..., label=..., available=...)`` and is imported once by
its package. Each entry carries its name (the command-line choice), a label (what outputs and
cache keys call it), its default settings, the keyword options its factory accepts and an
availability check (why it cannot run here, or None). The command line's choices and help,
``ccgen models`` and ``auto`` read the registries when they run, so a backend registered later
(a plug-in, a test's toy) shows up everywhere at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ccgen.errors import InputError

T = TypeVar("T")


def _always() -> str | None:
    return None


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One backend: its name (the CLI choice), its factory, a one-line help text, the label
    outputs and cache keys use, its default settings, the keyword options its factory accepts
    and `available()`: None when it can run on this machine, else why not (one line)."""

    name: str
    factory: Callable[..., T]
    help: str = ""
    label: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    options: frozenset[str] = frozenset()
    available: Callable[[], str | None] = _always

    def accepts(self, option: str) -> bool:
        return option in self.options


def keyword_options(factory: Callable[..., Any]) -> frozenset[str]:
    """The keyword options a factory takes (all of them when it takes ``**options``)."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return frozenset()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return frozenset({"*"})
    return frozenset(p.name for p in params
                     if p.kind in (inspect.Parameter.KEYWORD_ONLY,
                                   inspect.Parameter.POSITIONAL_OR_KEYWORD)
                     and p.default is not inspect.Parameter.empty)


class Registry(Generic[T]):
    def __init__(self, what: str, special: Iterable[str] = ("auto", "none")) -> None:
        self.what = what  # "describer", "diarizer", "format": used in the error a user reads
        self.special = tuple(special)  # choices that name no backend
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, *, help: str = "",  # "help", as click says
                 label: str = "", settings: dict[str, Any] | None = None,
                 options: Iterable[str] | None = None,
                 available: Callable[[], str | None] = _always,
                 ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator adding a backend; a name taken twice is a programming error, refused
        (the second one would silently replace the first). `options` default to the keyword
        options of the factory's signature."""
        if name in self._entries or name in self.special:
            raise ValueError(f"{self.what} {name!r} is registered already")

        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            taken = frozenset(options) if options is not None else keyword_options(factory)
            shown = label or str(getattr(factory, "label", "") or name)  # a class's own label
            self._entries[name] = Entry(name, factory, help, shown,
                                        dict(settings or {}), taken, available)
            return factory

        return deco

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[Entry[T]]:
        return [self._entries[n] for n in self.names()]

    def choices(self) -> list[str]:
        """What a user may pass: ``auto``, every backend, ``none``."""
        return [*self.special[:1], *self.names(), *self.special[1:]]

    def entry(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise InputError(f"unknown {self.what} {name!r}; choose from "
                             f"{', '.join(self.choices())}") from None

    def first_available(self, preference: Iterable[str]) -> tuple[str | None, list[str]]:
        """The first backend of `preference` that can run here (what ``auto`` picks), and
        why each one before it could not."""
        why: list[str] = []
        for name in preference:
            if name not in self._entries:
                continue
            reason = self._entries[name].available()
            if reason is None:
                return name, why
            why.append(f"{name}: {reason}")
        return None, why

    def build(self, name: str, **options: object) -> T:
        """The backend `name` built with `options`; an unknown name is bad usage (exit 2)."""
        return self.entry(name).factory(**options)

    def describe(self) -> list[dict[str, Any]]:
        """Each backend as ``ccgen models --json`` lists it."""
        return [{"name": e.name, "label": e.label, "help": e.help,
                 "options": sorted(e.options), "settings": e.settings,
                 "available": e.available() is None, "why_not": e.available() or ""}
                for e in self.entries()]
