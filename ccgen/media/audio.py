"""Extract a soundtrack as 16 kHz mono float32, the rate every model in ccgen expects."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ccgen.errors import InputError
from ccgen.media.ffmpeg_bin import find_ffmpeg, media_url
from ccgen.media.mediainfo import MediaInfo

SAMPLE_RATE = 16000


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
    try:
        out, _ = graph.run(cmd=find_ffmpeg().ffmpeg, capture_stdout=True, capture_stderr=True)
    except ffmpeg.Error as exc:
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        reason = detail[-1][:160] if detail else "decoding failed"
        raise InputError(f"{path}: cannot decode audio ({reason})") from None
    # A read-only view of ffmpeg's output, not a copy: a 2-hour film is 460 MB either way, and
    # no stage writes into the soundtrack.
    return np.frombuffer(out, dtype=np.float32)
