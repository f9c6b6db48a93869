"""Locate the ffmpeg (and, when there is one, ffprobe) binaries.

Order: ``$CCGEN_FFMPEG`` if set, the system ``ffmpeg`` on PATH, else the static build that the
imageio-ffmpeg wheel ships (so a plain ``pip install`` works on a machine without ffmpeg).
That static build has no ffprobe, which is why :mod:`ccgen.media.mediainfo` can also read
``ffmpeg -i``'s report.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ccgen.errors import CcgenError


@dataclass(frozen=True)
class FFmpeg:
    ffmpeg: str
    ffprobe: str | None
    origin: str  # "env", "system" or "imageio-ffmpeg"


def _works(binary: str) -> bool:
    try:
        run = subprocess.run([binary, "-version"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return run.returncode == 0


def _probe_beside(ffmpeg: str) -> str | None:
    sibling = Path(ffmpeg).with_name("ffprobe")
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return str(sibling)
    return None


@lru_cache(maxsize=1)
def find_ffmpeg() -> FFmpeg:
    """Return working ffmpeg/ffprobe paths or raise one clear error."""
    env = os.environ.get("CCGEN_FFMPEG")
    if env:
        if not _works(env):
            raise CcgenError(f"CCGEN_FFMPEG={env} does not run; unset it or point it at ffmpeg")
        return FFmpeg(env, _probe_beside(env), "env")
    system = shutil.which("ffmpeg")
    if system and _works(system):
        probe = shutil.which("ffprobe")
        return FFmpeg(system, probe if probe and _works(probe) else None, "system")
    try:
        import imageio_ffmpeg

        bundled = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # any failure means "not available"
        bundled = None
    if bundled and _works(bundled):
        return FFmpeg(bundled, None, "imageio-ffmpeg")
    raise CcgenError(
        "ffmpeg not found: install it (apt-get install ffmpeg) or `pip install imageio-ffmpeg`"
    )


def media_url(path: str | Path) -> str:
    """`path` as ffmpeg must be given it: absolute, behind ``file:``, so that a name starting
    with '-' is not read as an option and one with ':' not as a protocol ("clip:1.mp4")."""
    return "file:" + str(Path(path).absolute())
