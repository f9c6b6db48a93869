"""Extract a soundtrack as 16 kHz mono float32, the rate every model in ccgen expects.

A damaged file is not a silent success: the decoded length is compared with what the file
declares (:data:`TRUNCATED`), and ffmpeg's error lines are passed on, never swallowed.
"""

from __future__ import annotations

import logging
import re
import subprocess
import threading
from pathlib import Path

import numpy as np

from ccgen.errors import InputError, first_line
from ccgen.media.ffmpeg_bin import find_ffmpeg, media_url
from ccgen.media.mediainfo import MediaInfo

SAMPLE_RATE = 16000

log = logging.getLogger("ccgen")

# A file that decodes to less than this share of the duration it declares is refused. Half,
# not 90 %: a shortfall that large is a cut-off file (a programme lost), while MP3s without a
# VBR header declare a length estimated from the bitrate that can be off by tens of percent,
# and such a file is still the whole programme. Smaller shortfalls (over SHORTFALL seconds)
# are a warning, so an editor still hears of them.
TRUNCATED = 0.5
SHORTFALL = 1.0
MAX_PLANNED = 3 * 3600.0  # seconds of audio read_samples sizes its array for at first
# "[aac @ 0x55d0c...] Error..." -> "aac: Error..."; the addresses only make lines differ.
_PREFIX = re.compile(r"\[(\S+) @ 0x[0-9a-f]+\]\s*")


def load_audio(path: str | Path, info: MediaInfo, stream: int = 0) -> np.ndarray:
    """Decode audio stream `stream` (0 = first) of `path`, down-mixed to mono at 16 kHz.

    ffmpeg's default down-mix keeps the centre channel of 5.1 input, where dialogue lives.
    """
    if not 0 <= stream < len(info.audio):
        raise InputError(
            f"{path}: --audio-stream {stream} does not exist "
            f"(the file has {len(info.audio)} audio stream(s), numbered from 0)"
        )
    import ffmpeg  # here, not at import: the GPU describer and trainer load without it

    graph = (
        ffmpeg.input(media_url(path))
        .output("pipe:", map=f"0:a:{stream}", format="f32le", acodec="pcm_f32le",
                ac=1, ar=SAMPLE_RATE)
        .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
    )
    proc = graph.run_async(cmd=find_ffmpeg().ffmpeg, pipe_stdout=True, pipe_stderr=True)
    audio, err = read_samples(proc, info.declared(stream))
    if proc.returncode:
        reason = first_line(err.decode("utf-8", "replace"), 160, last=True,
                            default="decoding failed")
        raise InputError(f"{path}: cannot decode audio ({reason})") from None
    check_decoded(path, audio.size / SAMPLE_RATE, info.declared(stream), error_lines(err))
    return audio


def read_samples(proc: subprocess.Popen, seconds: float) -> tuple[np.ndarray, bytes]:
    """ffmpeg's float32 output read straight into one array (sized for the `seconds` the file
    declares, grown if it runs longer), and its stderr, drained beside so it never blocks.

    Why not ``communicate()``: it keeps the chunks it read and then joins them, twice the
    soundtrack at once (2 x 460 MB for a 2-hour film). The array is read-only: no stage
    writes into the soundtrack."""
    errors: list[bytes] = []
    drain = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
    drain.start()
    # pages of the array that are never written cost no memory; a header claiming days is
    # not believed beyond MAX_PLANNED (the array grows past it if the audio does)
    planned = min(max(seconds or 0.0, 0.0) * 1.01 + 1.0, MAX_PLANNED)
    buf = np.empty(int(planned * SAMPLE_RATE), dtype=np.float32)
    filled = 0  # bytes
    try:
        while True:
            view = memoryview(buf).cast("B")
            if filled == view.nbytes:  # longer than declared: grow by half
                buf = np.concatenate([buf, np.empty(buf.size // 2, dtype=np.float32)])
                continue
            got = proc.stdout.readinto(view[filled:])
            if not got:
                break
            filled += got
    except BaseException:  # Ctrl-C or a stop: ffmpeg goes with us
        proc.kill()
        raise
    finally:
        proc.stdout.close()
        proc.wait()
    drain.join()
    audio = buf[:filled // 4]
    audio.flags.writeable = False
    return audio, b"".join(errors)


def error_lines(stderr: bytes | str | None) -> list[str]:
    """ffmpeg's error lines (it runs with ``-loglevel error``), tidied and without repeats."""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    lines: list[str] = []
    for raw in (stderr or "").splitlines():
        line = _PREFIX.sub(lambda m: m.group(1).split(",")[0] + ": ", raw.strip())
        if line and line not in lines:
            lines.append(line)
    return lines


def check_decoded(path: str | Path, decoded: float, declared: float,
                  errors: list[str]) -> None:
    """Raise InputError when far less decoded than `declared` (a truncated or damaged file:
    captioning it would deliver a programme's captions with most of them missing, exit 0);
    log a warning for a smaller shortfall or for any error ffmpeg reported on the way."""
    said = "; ".join(errors[-2:])[:200]  # the last lines are the nearest to the failure
    detail = f" (ffmpeg: {said})" if said else ""
    missing = declared - decoded
    if declared > 0 and missing > SHORTFALL and decoded < TRUNCATED * declared:
        raise InputError(
            f"{path}: truncated or damaged: only {decoded:.2f} s of audio decoded of the "
            f"{declared:.2f} s the file declares ({100 * decoded / declared:.0f} %){detail}")
    if declared > 0 and missing > SHORTFALL:
        log.warning("%s: %.2f s of audio decoded of the %.2f s the file declares (%.2f s "
                    "missing: damaged or cut short?)%s", path, decoded, declared, missing, detail)
    elif errors:
        log.warning("%s: ffmpeg reported %d error(s) while decoding: %s", path, len(errors),
                    said)
