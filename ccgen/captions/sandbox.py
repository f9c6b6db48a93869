"""A jinja2 sandbox with bounds: a style file's snippet renders a few words, quickly, or fails.

jinja2's own sandbox stops escapes (``''.__class__``) but not work: ``range(100000000)`` raised
a bare OverflowError, ``'x' * 10**9`` or a few nested loops take the memory or the minutes of
a whole batch. A style file is data from anyone, so here every way a snippet grows is capped:
its source length, ``range``, the operators that multiply or join, numbers given to filters and
methods, format widths, the length of what it renders, and (where a timer can be set: the main
thread) its time. Breaking a bound is a :class:`~jinja2.exceptions.SecurityError`, which the
style loader reports with the field's name.
"""

from __future__ import annotations

import contextlib
import functools
import re
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

MAX_SOURCE = 2000  # characters of a template
MAX_OUTPUT = 1000  # characters one render may produce (a caption line is ~42)
MAX_ITEMS = 1000  # of a range, or a sequence made by * or +
MAX_NUMBER = 10_000  # an integer argument of a filter or method (widths, counts)
MAX_SECONDS = 1.0  # for one render
_WIDE = re.compile(r"\d{5,}")  # a format width or precision of 10000 or more


def _sized(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple) else 0


def _check_number(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        raise SecurityError(f"the number {value} is above the limit of {MAX_NUMBER}")


def _check_size(value: Any) -> Any:
    if _sized(value) > MAX_OUTPUT * 10:
        raise SecurityError(f"a value of {_sized(value)} items is above the limit")
    return value


def _bounded_range(*args: int) -> range:
    made = range(*args)
    if len(made) > MAX_ITEMS:
        raise SecurityError(f"range of {len(made)} items is above the limit of {MAX_ITEMS}")
    return made


def _bounded_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[1:], *kwargs.values()):
            _check_number(value)
        return _check_size(func(*args, **kwargs))

    return call


class BoundedSandbox(SandboxedEnvironment):
    """jinja2's sandbox, with the bounds the module lists."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals = {"range": _bounded_range}
        for name, func in list(self.filters.items()):
            self.filters[name] = _bounded_filter(func)

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError(f"power {right} is above the limit of 64")
        elif op == "*":
            count = left if _sized(right) else right if _sized(left) else None
            if count is not None and isinstance(count, int) and \
                    count * max(_sized(left), _sized(right)) > MAX_ITEMS * 10:
                raise SecurityError("a repeated sequence above the limit")
            if isinstance(left, int) and isinstance(right, int):
                _check_number(min(abs(left), abs(right)))
        elif op == "%" and isinstance(left, str) and _WIDE.search(left):
            raise SecurityError("a format width above the limit")
        return _check_size(super().call_binop(context, op, left, right))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and _WIDE.search(owner):  # '{:>999999999}'.format(1)
            raise SecurityError("a format width above the limit")
        return super().wrap_str_format(value)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            _check_number(value)
        return _check_size(super().call(__context, __obj, *args, **kwargs))


class _Timeout(SecurityError):
    pass


@contextlib.contextmanager
def time_limit(seconds: float = MAX_SECONDS) -> Iterator[None]:
    """Raise SecurityError in the main thread when the block runs longer than `seconds`.

    Elsewhere (a signal timer can only be set in the main thread) the other bounds hold.
    An outer timer (ITIMER_REAL) already running is left alone.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getitimer(signal.ITIMER_REAL)[0]:
        yield
        return

    def expired(_signum: int, _frame: object) -> None:
        raise _Timeout(f"took over {seconds:g} s to render")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_source(source: str) -> None:
    if len(source) > MAX_SOURCE:
        raise SecurityError(f"{len(source)} characters, above the limit of {MAX_SOURCE}")


def check_output(text: str) -> str:
    if len(text) > MAX_OUTPUT:
        raise SecurityError(f"renders {len(text)} characters, above the limit of {MAX_OUTPUT}")
    return text


__all__ = ["BoundedSandbox", "check_output", "check_source", "time_limit"]
