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
