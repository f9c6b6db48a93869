"""Stage 2: speech: where people speak (VAD) and what they say (ASR with word times)."""

from ccgen.speech.models import resolve_model
from ccgen.speech.transcriber import REGISTRY as TRANSCRIBERS
from ccgen.speech.transcriber import FasterWhisperTranscriber, Transcriber, Transcript
from ccgen.speech.vad import VadSettings, speech_regions

__all__ = [
    "TRANSCRIBERS", "FasterWhisperTranscriber", "Transcriber", "Transcript", "VadSettings",
    "resolve_model", "speech_regions",
]
