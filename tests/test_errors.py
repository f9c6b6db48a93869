"""The one line a user reads when something fails."""

from __future__ import annotations

from ccgen.errors import first_line


def test_first_line_of_an_exception_or_its_class_name() -> None:
    assert first_line(ValueError("\n  bad header\nTraceback noise\n")) == "bad header"
    assert first_line(ValueError("")) == "ValueError"  # never an empty reason
    assert first_line(OSError("x" * 300), 200) == "x" * 200


def test_last_line_of_a_programs_stderr() -> None:
    stderr = "ffmpeg version 6\n  built with gcc\nout.mp4: No space left on device\n"
    assert first_line(stderr, last=True) == "out.mp4: No space left on device"
    assert first_line("  \n", last=True, default="(no message)") == "(no message)"
