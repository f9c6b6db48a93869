"""The Python API: one call from a media file to a captioned :class:`~ccgen.cues.Timeline`.

    >>> import ccgen
    >>> timeline = ccgen.caption("video.mp4")            # doctest: +SKIP
    >>> ccgen.write(timeline, "video.en.sdh.srt")          # doctest: +SKIP

A :class:`Captioner` keeps its models loaded, so a batch pays for loading once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ccgen import events
from ccgen.captions import build_captions, load_style
from ccgen.cues import Cue, Timeline
from ccgen.errors import InputError
from ccgen.media import load_audio, probe
from ccgen.speech import FasterWhisperTranscriber, VadSettings, speech_regions

log = logging.getLogger("ccgen")

# The language of ccgen's sound descriptions, used for files without any speech.
DESCRIPTION_LANGUAGE = "en"


@dataclass(frozen=True)
class Options:
    language: str | None = None
    style: str = "netflix"
    asr_model: str | None = None
    describer: str = "auto"
    diarizer: str = "auto"
    device: str = "auto"
    audio_stream: int = 0


def _device(requested: str) -> str:
    if requested in ("cpu", "cuda"):
        return requested
    if requested != "auto":
        raise InputError(f"unknown device {requested!r}; choose auto, cpu or cuda")
    try:
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:  # noqa: BLE001
        return "cpu"


class Captioner:
    """Loads the backends once and captions any number of files with them."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        opts = self.options
        self.style = load_style(opts.style)
        if opts.diarizer not in ("auto", "none", "pyannote", "embedded"):
            raise InputError(f"unknown diarizer {opts.diarizer!r}; "
                             "choose auto, pyannote, embedded or none")
        if opts.diarizer in ("pyannote", "embedded"):
            raise InputError(f"--diarizer {opts.diarizer} is not available yet (planned); "
                             "use --diarizer none")
        self.device = _device(opts.device)
        self.vad = VadSettings()
        self._transcriber: FasterWhisperTranscriber | None = None
        self.describer = None if opts.describer == "none" else events.create(opts.describer)

    @property
    def transcriber(self) -> FasterWhisperTranscriber:
        """Loaded on first use: a file without speech never pays for the speech model."""
        if self._transcriber is None:
            self._transcriber = FasterWhisperTranscriber(
                self.options.asr_model, device=self.device, vad=self.vad)
        return self._transcriber

    def __call__(self, path: str | Path,
                 progress: Callable[[str], None] | None = None) -> Timeline:
        step = progress or (lambda stage: log.info("%s: %s", path, stage))
        info = probe(path)
        step("decoding audio")
        audio = load_audio(path, info, self.options.audio_stream)
        duration = info.duration or audio.size / 16000
        step("finding speech")
        regions = speech_regions(audio, self.vad)
        words, language = [], self.options.language
        if regions:
            step("transcribing")
            transcript = self.transcriber.transcribe(audio, self.options.language)
            words, language = transcript.words, transcript.language or language
        sounds: list[Cue] = []
        if self.describer is not None:
            step("describing sounds")
            sounds = self.describer.describe(audio, regions)
        step("formatting captions")
        cues = build_captions(words, sounds, self.style, info.frame_rate, duration)
        for cue in cues:
            if cue.kind == "speech":
                cue.source = self.transcriber.name
        return Timeline(
            media=Path(path).name,
            duration=duration,
            language=language or DESCRIPTION_LANGUAGE,
            style=self.style.name,
            cues=cues,
            models=self.models(),
            speakers=sorted({c.speaker for c in cues if c.speaker}),
            frame_rate=info.frame_rate,
        )

    def models(self) -> dict[str, str]:
        from ccgen.speech import resolve_model

        transcriber = (self._transcriber.path if self._transcriber
                       else resolve_model(self.options.asr_model)[0])
        return {"transcriber": transcriber, "diarizer": "none",
                "describer": self.describer.name if self.describer else "none"}


_CACHE: dict[Options, Captioner] = {}


def caption(path: str | Path, **options: object) -> Timeline:
    """Caption one media file; keyword options as in :class:`Options` (models are reused)."""
    opts = Options(**options)  # type: ignore[arg-type]
    if opts not in _CACHE:
        _CACHE.clear()
        _CACHE[opts] = Captioner(opts)
    return _CACHE[opts](path)
