"""The one line a user reads when something fails."""

from __future__ import annotations

from ccgen.errors import first_line, one_line


def test_first_line_of_an_exception_or_its_class_name() -> None:
    assert first_line(ValueError("\n  bad header\nTraceback noise\n")) == "bad header"
    assert first_line(ValueError("")) == "ValueError"  # never an empty reason
    assert first_line(OSError("x" * 300), 200) == "x" * 200


def test_last_line_of_a_programs_stderr() -> None:
    stderr = "ffmpeg version 6\n  built with gcc\nout.mp4: No space left on device\n"
    assert first_line(stderr, last=True) == "out.mp4: No space left on device"
    assert first_line("  \n", last=True, default="(no message)") == "(no message)"


def test_one_line_keeps_a_parsers_detail_from_later_lines() -> None:
    """A TOML or subtitle parser puts where it failed after a line break: one_line keeps it
    on the user's one line, where first_line would drop it."""
    exc = ValueError("Expected '=' after a key\n  (line 3,\tcolumn 7)")
    assert one_line(exc) == "Expected '=' after a key (line 3, column 7)"
    assert first_line(exc) == "Expected '=' after a key"
    assert one_line(KeyError()) == "KeyError" and one_line("  \n ") == ""
