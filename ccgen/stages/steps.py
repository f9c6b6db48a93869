"""The stages of a captioning run, in the order :class:`ccgen.pipeline.Captioner` takes them:

====== ============= ================= ===================================== ===============
name   needs         result            cache key (besides the input's bytes) resources
====== ============= ================= ===================================== ===============
speech               speech regions    VAD settings, audio stream            1 thread
words  speech        Whisper's words   + model, language, device             threads, GPU
tags                 YAMNet's scores   (in memory only, computed when read)  1 thread
voices speech, words guard's verdict,  + model, guard settings, tagger,      threads, GPU
       tags          voiced spans      voiced floor
turns  speech        speaker turns     + diarizer, counts, its settings      1 thread, GPU
sounds speech, tags  sound events      + describer and its settings          threads, GPU
====== ============= ================= ===================================== ===============

turns and sounds need only the speech regions, so they run beside words where there are
cores to spare (:mod:`ccgen.stages.runner`). On a long input the diarizer comes last, so
that where stages run one by one the tagger's scores and Whisper are gone before it starts:
there it is the stage with the highest peak (torch, pyannote and its windows beside the
audio).

A stage calls the progress hook only when it does real work (a file without speech never
shows "transcribing"). Models load on first use (the factories), so a cached rerun loads none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ccgen.cues import SoundEvent
from ccgen.events.tagging import WindowScores
from ccgen.speakers import Turn
from ccgen.speech import VadSettings, speech_regions
from ccgen.speech.guard import VERSION as GUARD_VERSION
from ccgen.speech.guard import GuardSettings, check_transcript
from ccgen.speech.unheard import voiced_spans
from ccgen.stages.base import Context, Resources

Regions = tuple[tuple[float, float], ...]


def _spans(regions: Regions) -> list[tuple[float, float]]:
    return [(a, b) for a, b in regions]


class SpeechStage:
    """Where speech is (Silero VAD): decided once, every later stage reads these regions."""

    name, label, needs, cached = "speech", "finding speech", (), True

    def __init__(self, vad: VadSettings, audio_stream: int,
                 found: Callable[[Context, Regions], None] | None = None) -> None:
        self.vad, self.audio_stream = vad, audio_stream
        # told the regions as soon as they are found: the captioner starts loading the
        # diarizer then, beside Whisper, and only when there is speech to diarize
        self.found = found

    def settings(self) -> dict[str, Any]:
        return {"vad": asdict(self.vad), "stream": self.audio_stream}

    def resources(self) -> Resources:
        return Resources()

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> Regions:
        samples = ctx.audio()
        ctx.step(self.label)
        regions = tuple(tuple(r) for r in speech_regions(samples, self.vad))
        if self.found is not None:
            self.found(ctx, regions)
        return regions

    def encode(self, result: Regions) -> Any:
        return [list(r) for r in result]

    def decode(self, data: Any) -> Regions:
        return tuple(tuple(r) for r in data)


class WordsStage:
    """Whisper's words in the speech regions. The result keeps the cache's JSON shape
    (``{"words", "language", "segments"}``) because the speech guard reads it so."""

    name, label, needs, cached = "words", "transcribing", ("speech",), True

    def __init__(self, speech: SpeechStage, transcriber: Callable[[], Any], model: str,
                 language: str | None, device: str,
                 release: Callable[[], None] = lambda: None) -> None:
        self.speech, self.transcriber = speech, transcriber
        self.model, self.language, self.device = model, language, device
        # drops the loaded model (the next use loads it again): called once the speech check,
        # its last user, is done with a long input, so it does not sit beside the diarizer
        self.release = release

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


@dataclass(frozen=True)
class Tags:
    """The sound tagger's window scores for one file, with the log-mel frames they came from
    (the describer refines its onsets on them) and the model that scored them."""

    window: WindowScores
    mel: np.ndarray
    model: Any

    def heard(self) -> Any:
        """The scores as the speech guard asks a tagger for them (``scores(audio)``,
        ``classes``), answered from this result instead of running YAMNet again."""
        return _Answered(self.window)


class _Answered:
    def __init__(self, window: WindowScores) -> None:
        self.window, self.classes = window, list(window.classes)

    def scores(self, audio: np.ndarray) -> np.ndarray:
        return self.window.scores


class TagsStage:
    """YAMNet's AudioSet scores per 0.48 s window, computed once per file for both the speech
    check and the sound describer; kept in memory only (a film's scores are tens of MB)."""

    name, label, needs, cached = "tags", "tagging sounds", (), False

    def __init__(self, tagger: Callable[[], Any]) -> None:
        self.tagger = tagger

    def settings(self) -> dict[str, Any]:
        return {}

    def resources(self) -> Resources:
        return Resources()

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> Tags | None:
        from ccgen.events.yamnet import log_mel

        model = self.tagger()
        if model is None:
            return None
        samples = ctx.audio()
        mel = log_mel(samples)
        return Tags(WindowScores(model.scores(samples, mel), tuple(model.classes)), mel, model)

    def encode(self, result: Tags | None) -> Any:
        raise TypeError("the tagger's scores are not cached")

    def decode(self, data: Any) -> Tags | None:
        raise TypeError("the tagger's scores are not cached")


class VoicesStage:
    """Whisper's words cross-checked (:mod:`ccgen.speech.guard`): invented speech out, sung
    words as lyrics. The result is the guard's ``{"words", "lyrics", ...}`` verdict."""

    name, label, needs, cached = "voices", "checking speech", ("speech", "words", "tags"), True

    def __init__(self, words: WordsStage, guard: GuardSettings, tagger_installed: bool,
                 voiced_floor: float) -> None:
        self.words, self.guard, self.tagger_installed = words, guard, tagger_installed
        self.voiced_floor = voiced_floor

    def settings(self) -> dict[str, Any]:
        w = self.words
        return {**w.speech.settings(), "words": w.model, "language": w.language,
                "device": w.device, "guard": {**asdict(self.guard), "version": GUARD_VERSION},
                "tagger": self.tagger_installed, "voiced_floor": self.voiced_floor}

    def resources(self) -> Resources:
        return self.words.resources()

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
        regions, data = inputs["speech"], inputs["words"]
        if self.tagger_installed or data["words"]:
            ctx.step(self.label)
        tags = inputs["tags"]
        language = data["language"] or self.words.language
        verdict = check_transcript(
            data, [list(r) for r in regions], ctx.audio, tags.heard() if tags else None,
            lambda samples, vad: self.words.transcriber().transcribe(
                samples, language, None, speech_regions(samples, vad)),
            self.guard)
        if ctx.long_input():
            self.words.release()
        # where the tagger hears a voice: what untranscribed speech is checked against
        # (ccgen.speech.unheard), kept here because the tagger's scores are not cached
        voiced = voiced_spans(tags.window.scores, tags.window.classes,
                              self.voiced_floor) if tags else []
        return {**verdict, "voiced": [list(v) for v in voiced]}

    def encode(self, result: dict[str, Any]) -> Any:
        return result

    def decode(self, data: Any) -> dict[str, Any]:
        return data


class TurnsStage:
    """Who spoke when: the diarizer's turns in the speech regions. They do not wait for the
    words (a file whose words the guard drops simply gives them no one to label), so the
    diarizer runs while Whisper transcribes."""

    name, label, needs, cached = "turns", "finding speakers", ("speech",), True

    def __init__(self, speech: SpeechStage, diarizer: Any, label: str,
                 counts: list[int | None], device: str) -> None:
        self.speech, self.diarizer, self.diarizer_label = speech, diarizer, label
        self.counts, self.device = counts, device

    def settings(self) -> dict[str, Any]:
        own = getattr(self.diarizer, "settings", None)
        return {**self.speech.settings(), "diarizer": self.diarizer_label, "counts": self.counts,
                "settings": asdict(own) if self.diarizer is not None and own is not None
                else {}}

    def resources(self) -> Resources:
        return Resources(threads=1, gpu=self.device == "cuda")

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> list[Turn]:
        regions = inputs["speech"]
        if self.diarizer is None or not regions:
            return []
        samples = ctx.audio()
        ctx.step(self.label)
        return list(self.diarizer.diarize(samples, _spans(regions)))

    def encode(self, result: list[Turn]) -> Any:
        return [asdict(t) for t in result]

    def decode(self, data: Any) -> list[Turn]:
        return [Turn(**t) for t in data]


class SoundsStage:
    """Non-speech sounds and music from the describer (YAMNet or AudSemThinker), as
    :class:`~ccgen.cues.SoundEvent` s."""

    name, label, needs, cached = "sounds", "describing sounds", ("speech", "tags"), True

    def __init__(self, speech: SpeechStage, describer: Any, device: str) -> None:
        self.speech, self.describer, self.device = speech, describer, device

    def settings(self) -> dict[str, Any]:
        own = getattr(self.describer, "settings", None)
        return {**self.speech.settings(),
                "describer": self.describer.name if self.describer else "none",
                "settings": asdict(own) if self.describer is not None and own is not None
                else {}, "result": "events"}  # entries of cues (before SoundEvent) are not read

    def resources(self) -> Resources:
        return Resources(threads=2, gpu=self.device == "cuda")

    def run(self, ctx: Context, inputs: Mapping[str, Any]) -> list[SoundEvent]:
        if self.describer is None:
            return []
        return [sound_event(c, self.describer.name) for c in self._describe(ctx, inputs)]

    def _describe(self, ctx: Context, inputs: Mapping[str, Any]) -> list[Any]:
        samples = ctx.audio()
        ctx.step(self.label)
        speech = _spans(inputs["speech"])
        # The tagger's scores, computed once for the speech check too, when they are this
        # describer's own model's (YAMNet); another describer listens for itself.
        if callable(getattr(self.describer, "events_from_scores", None)) and samples.size:
            tags = inputs["tags"]
            if tags is not None and tags.model is getattr(self.describer, "model", None):
                return list(self.describer.events_from_scores(tags.window.scores, tags.mel,
                                                              speech))
        return list(self.describer.describe(samples, speech))

    def encode(self, result: list[SoundEvent]) -> Any:
        return [asdict(e) for e in result]

    def decode(self, data: Any) -> list[SoundEvent]:
        return [SoundEvent(**e) for e in data]


def sound_event(cue: Any, source: str) -> SoundEvent:
    """What a describer (or the speech guard) returns, a cue-shaped item (``start``, ``end``,
    ``kind``, ``text``, ``confidence``, ``source``), as the event it describes; `source` when
    the item names none."""
    return SoundEvent(cue.start, cue.end, cue.kind, cue.text, cue.confidence,
                      cue.source or source)
