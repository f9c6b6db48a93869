"""The five stages of a captioning run, in the order :class:`ccgen.pipeline.Captioner` runs them:

====== ================ ================= ===================================== ===============
name   needs            result            cache key (besides the input's bytes) resources
====== ================ ================= ===================================== ===============
speech                  speech regions    VAD settings, audio stream            1 thread
words  speech           Whisper's words   + model, language, device             threads, GPU
voices speech, words    guard's verdict   + model, guard settings, tagger       threads, GPU
turns  speech, voices   speaker turns     + diarizer, counts, its settings      1 thread, GPU
sounds speech           sound events      + describer and its settings          threads, GPU
====== ================ ================= ===================================== ===============

A stage calls the progress hook only when it does real work (a file without speech never shows
"transcribing"). Models load on first use (the factories), so a cached rerun loads none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from ccgen.cues import Cue
from ccgen.speakers import Turn
from ccgen.speech import VadSettings, speech_regions
from ccgen.speech.guard import VERSION as GUARD_VERSION
from ccgen.speech.guard import GuardSettings, check_transcript
from ccgen.stages.base import Context, Resources

Regions = tuple[tuple[float, float], ...]


def _spans(regions: Regions) -> list[tuple[float, float]]:
    return [(a, b) for a, b in regions]


class SpeechStage:
    """Where speech is (Silero VAD): decided once, every later stage reads these regions."""

    name, label, needs = "speech", "finding speech", ()

    def __init__(self, vad: VadSettings, audio_stream: int) -> None:
        self.vad, self.audio_stream = vad, audio_stream

    def settings(self) -> dict[str, Any]:
        return {"vad": asdict(self.vad), "stream": self.audio_stream}

    def resources(self) -> Resources:
        return Resources()

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> Regions:
        samples = ctx.audio()
        ctx.step(self.label)
        return tuple(tuple(r) for r in speech_regions(samples, self.vad))

    def encode(self, result: Regions) -> Any:
        return [list(r) for r in result]

    def decode(self, data: Any) -> Regions:
        return tuple(tuple(r) for r in data)


class WordsStage:
    """Whisper's words in the speech regions. The result keeps the cache's JSON shape
    (``{"words", "language", "segments"}``) because the speech guard reads it so."""

    name, label, needs = "words", "transcribing", ("speech",)

    def __init__(self, speech: SpeechStage, transcriber: Callable[[], Any], model: str,
                 language: str | None, device: str) -> None:
        self.speech, self.transcriber = speech, transcriber
        self.model, self.language, self.device = model, language, device

    def settings(self) -> dict[str, Any]:
        return {**self.speech.settings(), "model": self.model, "language": self.language,
                "device": self.device, "segments": 1}

    def resources(self) -> Resources:
        return Resources(threads=2, gpu=self.device == "cuda")

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
        regions = inputs["speech"]
        if not regions:
            return {"words": [], "language": None}
        samples = ctx.audio()
        ctx.step(self.label)
        transcript = self.transcriber().transcribe(
            samples, self.language, lambda done, total: ctx.step(self.label, done, total),
            _spans(regions))
        return {"words": [asdict(w) for w in transcript.words], "language": transcript.language,
                "segments": [asdict(g) for g in transcript.segments]}

    def encode(self, result: dict[str, Any]) -> Any:
        return result

    def decode(self, data: Any) -> dict[str, Any]:
        return data


class VoicesStage:
    """Whisper's words cross-checked (:mod:`ccgen.speech.guard`): invented speech out, sung
    words as lyrics. The result is the guard's ``{"words", "lyrics", ...}`` verdict."""

    name, label, needs = "voices", "checking speech", ("speech", "words")

    def __init__(self, words: WordsStage, guard: GuardSettings,
                 tagger: Callable[[], Any], tagger_installed: bool) -> None:
        self.words, self.guard = words, guard
        self.tagger, self.tagger_installed = tagger, tagger_installed

    def settings(self) -> dict[str, Any]:
        w = self.words
        return {**w.speech.settings(), "words": w.model, "language": w.language,
                "device": w.device, "guard": {**asdict(self.guard), "version": GUARD_VERSION},
                "tagger": self.tagger_installed}

    def resources(self) -> Resources:
        return self.words.resources()

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
        regions, data = inputs["speech"], inputs["words"]
        if self.tagger() is not None or data["words"]:
            ctx.step(self.label)
        language = data["language"] or self.words.language
        return check_transcript(
            data, [list(r) for r in regions], ctx.audio, self.tagger(),
            lambda samples, vad: self.words.transcriber().transcribe(
                samples, language, None, _spans(regions), vad),
            self.guard)

    def encode(self, result: dict[str, Any]) -> Any:
        return result

    def decode(self, data: Any) -> dict[str, Any]:
        return data


class TurnsStage:
    """Who spoke when: the diarizer's turns, only where the guard kept words."""

    name, label, needs = "turns", "finding speakers", ("speech", "voices")

    def __init__(self, speech: SpeechStage, diarizer: Any, label: str,
                 counts: list[int | None], device: str,
                 voices: VoicesStage | None = None) -> None:
        self.speech, self.diarizer, self.diarizer_label = speech, diarizer, label
        self.counts, self.device, self.voices = counts, device, voices

    def settings(self) -> dict[str, Any]:
        own = getattr(self.diarizer, "settings", None)
        key = {**self.speech.settings(), "diarizer": self.diarizer_label, "counts": self.counts,
               "settings": asdict(own) if self.diarizer is not None and own is not None
               else {}}
        if self.voices is not None:
            # no words, no turns: the turns depend on what the words stage kept, so another
            # speech model or language must not reuse an empty result cached without words
            key["voices"] = self.voices.settings()
        return key

    def resources(self) -> Resources:
        return Resources(threads=1, gpu=self.device == "cuda")

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> list[Turn]:
        regions = inputs["speech"]
        if self.diarizer is None or not regions or not inputs["voices"]["words"]:
            return []
        samples = ctx.audio()
        ctx.step(self.label)
        return list(self.diarizer.diarize(samples, _spans(regions)))

    def encode(self, result: list[Turn]) -> Any:
        return [asdict(t) for t in result]

    def decode(self, data: Any) -> list[Turn]:
        return [Turn(**t) for t in data]


class SoundsStage:
    """Non-speech sounds and music from the describer (YAMNet or AudSemThinker)."""

    name, label, needs = "sounds", "describing sounds", ("speech",)

    def __init__(self, speech: SpeechStage, describer: Any, device: str) -> None:
        self.speech, self.describer, self.device = speech, describer, device

    def settings(self) -> dict[str, Any]:
        own = getattr(self.describer, "settings", None)
        return {**self.speech.settings(),
                "describer": self.describer.name if self.describer else "none",
                "settings": asdict(own) if self.describer is not None and own is not None
                else {}}

    def resources(self) -> Resources:
        return Resources(threads=2, gpu=self.device == "cuda")

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> list[Cue]:
        if self.describer is None:
            return []
        samples = ctx.audio()
        ctx.step(self.label)
        return list(self.describer.describe(samples, _spans(inputs["speech"])))

    def encode(self, result: list[Cue]) -> Any:
        return [asdict(c) for c in result]

    def decode(self, data: Any) -> list[Cue]:
        return [Cue(**c) for c in data]
