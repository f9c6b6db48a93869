"""The `ccgen` command's quick exit (ccgen.stopping.exit_now): same exit codes, flushed
output and atexit handlers as Python's own exit, and the ordinary exit where a thread or Ray
still has work to finish."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # child processes


def _child(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)


def test_output_is_flushed_and_atexit_handlers_run() -> None:
    got = _child("import atexit, sys\n"
                 "from ccgen.stopping import exit_now\n"
                 "atexit.register(lambda: print('handler ran'))\n"
                 "sys.stdout.write('buffered, no newline')\n"
                 "exit_now(3)\n")
    assert got.returncode == 3
    assert got.stdout == "buffered, no newlinehandler ran\n"


@pytest.mark.parametrize(("code", "rc", "err"), [(None, 0, ""), (2, 2, ""),
                                                 ("ccgen: error: bad", 1, "ccgen: error: bad\n")])
def test_exit_codes_are_pythons(code: object, rc: int, err: str) -> None:
    got = _child(f"from ccgen.stopping import exit_now\nexit_now({code!r})\n")
    assert (got.returncode, got.stderr) == (rc, err)


def test_a_running_thread_finishes_first() -> None:
    """A non-daemon thread's work is not cut short: the ordinary exit waits for it."""
    got = _child("import threading, time\n"
                 "from ccgen.stopping import exit_now\n"
                 "def late():\n"
                 "    time.sleep(0.5)\n"
                 "    print('thread finished', flush=True)\n"
                 "threading.Thread(target=late).start()\n"
                 "exit_now(0)\n")
    assert got.returncode == 0
    assert got.stdout == "thread finished\n"


def test_the_command_exits_with_its_code(tmp_path) -> None:
    got = subprocess.run([sys.executable, "-m", "ccgen", str(tmp_path / "missing.mp4")],
                         capture_output=True, text=True, timeout=120)
    assert got.returncode == 2
    assert got.stderr.count("\n") == 1 and got.stderr.startswith("ccgen: error:")
