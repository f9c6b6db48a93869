"""A named registry of backend factories: how a new model becomes one new file.

Describers and diarizers each keep one :class:`Registry`; a backend module decorates its
factory with ``@REGISTRY.register("name", help=...)`` and is imported once by its package.
The command line's choices and help, and ``ccgen models``, read the registries when they
run, so a backend registered later (a plug-in, a test's toy) shows up everywhere at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ccgen.errors import InputError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One backend: its name (the CLI choice), its factory and a one-line help text."""

    name: str
    factory: Callable[..., T]
    help: str = ""


class Registry(Generic[T]):
    def __init__(self, what: str) -> None:
        self.what = what  # "describer", "diarizer": used in the error a user reads
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, *, help: str = "",  # "help", as click says
                 ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator adding a backend; a name taken twice is a programming error, refused
        (the second one would silently replace the first)."""
        if name in self._entries or name in ("auto", "none"):
            raise ValueError(f"{self.what} {name!r} is registered already")

        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            self._entries[name] = Entry(name, factory, help)
            return factory

        return deco

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def choices(self) -> list[str]:
        """What a user may pass: ``auto``, every backend, ``none``."""
        return ["auto", *self.names(), "none"]

    def entry(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise InputError(f"unknown {self.what} {name!r}; choose from "
                             f"{', '.join(self.choices())}") from None

    def build(self, name: str, **options: object) -> T:
        """The backend `name` built with `options`; an unknown name is bad usage (exit 2)."""
        return self.entry(name).factory(**options)
