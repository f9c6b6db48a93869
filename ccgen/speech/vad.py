"""Speech regions from faster-whisper's bundled Silero VAD (ONNX, offline).

The regions decide what the transcriber hears and, by complement, where the sound describer
looks for non-speech events. The settings are shared with the transcriber so both stages agree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ccgen.media.audio import SAMPLE_RATE


@dataclass
class VadSettings:
    # Silero's default threshold; 0.25 s minimum keeps short replies ("No.") as speech.
    threshold: float = 0.5
    min_speech_duration_ms: int = 250
    # 500 ms of silence ends a region: long enough to bridge a breath, short enough to leave
    # room for a sound caption in a real pause.
    min_silence_duration_ms: int = 500
    speech_pad_ms: int = 200

    def options(self) -> Any:  # faster_whisper.vad.VadOptions
        from faster_whisper.vad import VadOptions

        return VadOptions(**asdict(self))


def speech_regions(audio: np.ndarray, settings: VadSettings | None = None
                   ) -> list[tuple[float, float]]:
    """Return speech regions as (start, end) seconds, sorted and non-overlapping."""
    settings = settings or VadSettings()
    if audio.size < SAMPLE_RATE // 10:
        return []
    from faster_whisper.vad import get_speech_timestamps

    stamps = get_speech_timestamps(audio, settings.options(), sampling_rate=SAMPLE_RATE)
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]
