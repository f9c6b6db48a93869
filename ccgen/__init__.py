"""ccgen: SDH closed captions (subtitles for deaf and hard-of-hearing viewers) from media.

    import ccgen
    timeline = ccgen.caption("video.mp4")       # speech, speakers and sounds, as display cues
    ccgen.write(timeline, "video.en.sdh.srt")     # or .vtt, .ass, .json
"""

from __future__ import annotations

__version__ = "0.1.0"

from pathlib import Path

from ccgen.cues import Cue, Timeline, Word
from ccgen.errors import CcgenError, InputError


def caption(path: str | Path, **options: object) -> Timeline:
    """Caption one media file. Options: language, style, asr_model, describer, diarizer,
    device, audio_stream (see :class:`ccgen.pipeline.Options`)."""
    from ccgen.pipeline import caption as _caption

    return _caption(path, **options)


def write(timeline: Timeline, path: str | Path, fmt: str | None = None,
          style: str = "netflix", force: bool = False) -> Path:
    """Write a timeline to `path`; the format follows the suffix unless `fmt` is given."""
    from ccgen.captions import load_style
    from ccgen.writers import write as _write

    return _write(timeline, path, load_style(style), fmt=fmt, force=force)


__all__ = ["CcgenError", "Cue", "InputError", "Timeline", "Word", "caption", "write",
           "__version__"]
