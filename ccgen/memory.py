"""Memory a long input gives back: glibc keeps what a stage frees unless asked.

A 2-hour input must caption in under 2 GB (bench/long_input.py). Most of what a finished
stage allocated (Whisper's windows and model, the tagger's frames, pyannote's per-window
blocks) is freed by Python, but glibc's allocator keeps freed blocks in its heaps (one per
thread that allocated) for reuse, so the process never shrinks and each stage's peak stacks on
the last one's. Two calls undo that, on inputs longer than :data:`LONG_INPUT` only (short ones
have little to keep, and pages handed back must be faulted in again):

- :func:`trim` between stages: ``malloc_trim(0)`` returns the free pages of every heap.
  Loading whisper-base, transcribing 60 s and dropping it kept 258 MiB; trimmed, 111 MiB.
- :func:`return_large_frees` before diarizing: large blocks come from mmap and go back when
  freed (pyannote's windows; see the function).

Both do nothing where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache
from typing import Any

# seconds of audio above which stages hand memory back (see the module docstring)
LONG_INPUT = 600.0
M_MMAP_THRESHOLD = -3  # glibc mallopt parameter
MMAP_THRESHOLD = 1024 * 1024  # bytes: blocks this large or larger are mmapped


@lru_cache(maxsize=1)
def _libc() -> Any | None:
    """glibc, when this process runs on it (musl and macOS have neither call)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def trim() -> bool:
    """Give the free pages of glibc's heaps back to the system; False where there is no
    glibc."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def return_large_frees() -> bool:
    """Keep glibc from holding on to the memory pyannote's windows free.

    glibc raises its mmap threshold each time a large block is freed, so later large blocks
    (each window's fbank, activations and crops, all of different sizes) come from its heap,
    which fragments and is not given back. Holding the threshold at 1 MiB sends the big ones
    to mmap, returned on free. Diarizing 30 min of audio alone (2-core EPYC, one at a time):
    +417 MiB kept, 68 s; threshold 1 MiB: +131 MiB peak, 80 s; 128 KiB: +100 MiB but far
    slower (page faults). Held for the rest of the process; False where there is no glibc."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
