"""Errors that the command line turns into exit codes.

:class:`InputError` means bad usage or bad input (exit 2, one line on stderr); anything else
that escapes is a failure while running (exit 1). The message is the whole user-facing text, so
it names the file and says what to do.
"""

from __future__ import annotations


class CcgenError(Exception):
    """Base class: a failure ccgen understood and can explain in one line (exit 1)."""

    exit_code = 1


class InputError(CcgenError):
    """Bad usage or bad input: missing file, not media, no audio, unwritable output (exit 2)."""

    exit_code = 2


class OutputExistsError(InputError):
    """The output file exists and --force was not given: ccgen never clobbers silently."""


def first_line(text: object, limit: int | None = None, *, last: bool = False,
               default: str | None = None) -> str:
    """One line of a message for the user, who reads one line (exit codes, README): the first
    line of `text` (an exception or a program's stderr), or its `last` (ffmpeg puts the
    reason there), at most `limit` characters. An empty message gives `default`, or for an
    exception its class name, so the user never reads an empty reason."""
    lines = str(text).strip().splitlines()
    if default is None:
        default = type(text).__name__ if isinstance(text, BaseException) else ""
    line = (lines[-1] if last else lines[0]) if lines else default
    return line[:limit] if limit else line


def one_line(text: object) -> str:
    """All of `text` on one line, each run of whitespace one space; an empty exception gives
    its class name. For a parser's message (TOML, a subtitle file), whose detail, where in
    the file, often sits on a line after the first that :func:`first_line` would drop."""
    line = " ".join(str(text).split())
    return line or (type(text).__name__ if isinstance(text, BaseException) else "")
