"""A named registry of backend factories: how a new model becomes one new file.

Describers and diarizers each keep one :class:`Registry`; a backend module decorates its
factory with ``@REGISTRY.register("name")`` and is imported once by its package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from ccgen.errors import InputError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, what: str) -> None:
        self.what = what  # "describer", "diarizer": used in the error a user reads
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[name] = factory
            return factory

        return deco

    def names(self) -> list[str]:
        return sorted(self._factories)

    def build(self, name: str, **options: object) -> T:
        """The backend `name` built with `options`; an unknown name is bad usage (exit 2)."""
        try:
            factory = self._factories[name]
        except KeyError:
            raise InputError(f"unknown {self.what} {name!r}; choose from auto, "
                             f"{', '.join(self.names())}, none") from None
        return factory(**options)
