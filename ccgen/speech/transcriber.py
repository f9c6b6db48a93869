"""Words with times from faster-whisper.

faster-whisper hears only the speech regions it is handed: the VAD runs once, in the speech
stage, and the transcriber joins those regions' audio and maps Whisper's times back to the
file, exactly as faster-whisper's own ``vad_filter`` does after running the same VAD a second
time (its batched pipeline takes the regions the same way, as ``clip_timestamps``). A file
without speech is never sent to it at all. That does not stop it inventing words where the
VAD fires on a bark or a violin, nor tell singing from speech: :mod:`ccgen.speech.guard`
checks every segment, which is why each segment's ``no_speech_prob`` and word probabilities
are kept here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, cast

import numpy as np

from ccgen.cues import Word
from ccgen.errors import InputError, first_line
from ccgen.media.audio import SAMPLE_RATE
from ccgen.registry import Registry, needs
from ccgen.speech.models import resolve_model
from ccgen.speech.vad import VadSettings, speech_regions


@dataclass(frozen=True)
class Segment:
    """One of Whisper's segments: how sure Whisper was that it heard speech at all.

    `no_speech_prob` is Whisper's own probability that the segment holds no speech, and
    `avg_logprob` the mean log-probability of its tokens; with the words' probabilities they
    are the evidence :mod:`ccgen.speech.guard` weighs against the sound tagger, because
    Whisper writes fluent words over a bark or a violin. `first`/`last` index its words
    (last exclusive) in :attr:`Transcript.words`.
    """

    start: float
    end: float
    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float
    first: int
    last: int


@dataclass
class Transcript:
    words: list[Word] = field(default_factory=list)
    language: str | None = None
    language_probability: float = 0.0
    segments: list[Segment] = field(default_factory=list)


class Transcriber(Protocol):
    """What every speech backend offers: one call from audio to words, in the speech regions
    the caller found (None: the backend finds them with its own VAD settings)."""

    name: str  # the model's label in outputs and cache keys
    path: str  # what was loaded (a folder or a hub name)

    def transcribe(self, audio: np.ndarray, language: str | None = None,
                   on_progress: Callable[[float, float], None] | None = None,
                   regions: list[tuple[float, float]] | None = None) -> Transcript: ...


def _threads() -> int:
    return max(1, len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else 0


class FasterWhisperTranscriber:
    """faster-whisper (CTranslate2) with word timestamps."""

    def __init__(self, model: str | None = None, device: str = "cpu",
                 compute_type: str = "auto", vad: VadSettings | None = None,
                 beam_size: int = 5, threads: int | None = None, window: float = 600.0
                 ) -> None:
        from faster_whisper import WhisperModel

        self.path, self.name = resolve_model(model)
        if compute_type == "auto":
            compute_type = "int8" if device == "cpu" else "float16"
        self.vad = vad or VadSettings()
        self.beam_size = beam_size
        self.window = window
        try:
            self.model = WhisperModel(self.path, device=device, compute_type=compute_type,
                                      cpu_threads=threads if threads is not None else _threads())
        except Exception as exc:  # hub/IO/format errors all mean "cannot load"
            raise InputError(first_line(f"cannot load speech model {model!r}: {exc}")
                             + " (offline? pass a local CTranslate2 folder with --asr-model)"
                             ) from None

    @property
    def multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)

    def transcribe(self, audio: np.ndarray, language: str | None = None,
                   on_progress: Callable[[float, float], None] | None = None,
                   regions: list[tuple[float, float]] | None = None) -> Transcript:
        """Words of `audio` said in `regions` (seconds; None: the transcriber's VAD finds
        them); `on_progress(seconds done, seconds total)` after each segment.

        Long audio is transcribed in windows of about ``window`` seconds cut in pauses between
        the regions: faster-whisper computes its features for a whole call at once, which for
        a 2-hour film costs gigabytes. The language found in the first window holds for the
        rest, so a film does not switch language mid-way.
        """
        if language and not self.multilingual and language != "en":
            raise InputError(f"the speech model {self.name} is English-only; "
                             f"choose a multilingual --asr-model for --language {language}")
        if regions is None:
            regions = speech_regions(audio, self.vad)
        total = audio.size / SAMPLE_RATE
        heard = Transcript(language=language, language_probability=1.0 if language else 0.0)
        for start, end in windows(total, regions, self.window):
            chunks = _chunks(regions, start, end)
            if chunks:
                self._window(audio[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)], chunks,
                             start, total, heard, on_progress)
        return heard

    def _window(self, piece: np.ndarray, chunks: list[dict[str, int]], start: float,
                total: float, heard: Transcript,
                on_progress: Callable[[float, float], None] | None) -> None:
        """Transcribe one window's speech (`chunks`, samples from the window's start) and add
        its words and segments to `heard`, on the file's clock."""
        from faster_whisper.transcribe import restore_speech_timestamps
        from faster_whisper.vad import collect_chunks

        # Whisper falls back to sampling when a segment reads badly (over music, most do); a
        # fixed seed makes a rerun write the same words (greedy decoding alone loops: "oh, oh,
        # oh..." for a minute of song).
        _seed()
        speech = np.concatenate(collect_chunks(piece, chunks)[0], axis=0)
        segments, info = self.model.transcribe(
            speech,
            language=heard.language or (None if self.multilingual else "en"),
            beam_size=self.beam_size,
            word_timestamps=True,
            vad_filter=False,
            # Each VAD chunk stands alone: conditioning on earlier text is what makes Whisper
            # repeat itself or hallucinate over pauses.
            condition_on_previous_text=False,
        )
        words, found = heard.words, heard.segments
        for segment in restore_speech_timestamps(segments, chunks, SAMPLE_RATE):
            if on_progress is not None:
                on_progress(min(start + float(segment.end), total), total)
            first = len(words)
            for w in segment.words or []:
                text = w.word.strip()
                if text:
                    words.append(Word(start + float(w.start), start + float(w.end), text,
                                      float(w.probability)))
            if len(words) > first:
                found.append(Segment(
                    start + float(segment.start), start + float(segment.end),
                    float(segment.no_speech_prob), float(segment.avg_logprob),
                    float(segment.compression_ratio), first, len(words)))
        if heard.language is None and words:  # a window without speech detects nothing useful
            heard.language = info.language
            heard.language_probability = float(info.language_probability)


def _chunks(regions: list[tuple[float, float]], start: float, end: float
            ) -> list[dict[str, int]]:
    """The regions inside the window [start, end), as faster-whisper's VAD gives them: sample
    offsets from the window's start (regions are sample counts / SAMPLE_RATE, so rounding them back
    gives the VAD's own numbers)."""
    first, size = round(start * SAMPLE_RATE), round((end - start) * SAMPLE_RATE)
    out = []
    for a, b in regions:
        lo, hi = max(round(a * SAMPLE_RATE) - first, 0), min(round(b * SAMPLE_RATE) - first, size)
        if hi > lo:
            out.append({"start": lo, "end": hi})
    return out


def _seed() -> None:
    import ctranslate2

    ctranslate2.set_random_seed(0)


def windows(total: float, regions: list[tuple[float, float]], size: float
            ) -> list[tuple[float, float]]:
    """Cut [0, total] into pieces of about `size` seconds, each cut in the middle of a pause
    between speech regions (or at `size` exactly where speech never pauses)."""
    if total <= size * 1.5:
        return [(0.0, total)]
    cuts, start = [0.0], 0.0
    pauses = [(a[1], b[0]) for a, b in zip(regions, regions[1:], strict=False) if b[0] > a[1]]
    while total - start > size * 1.5:
        target = start + size
        near = [p for p in pauses if start + size / 2 < (p[0] + p[1]) / 2 < start + size * 1.5]
        cut = min(((p[0] + p[1]) / 2 for p in near), key=lambda c: abs(c - target),
                  default=target)
        cuts.append(cut)
        start = cut
    cuts.append(total)
    return list(zip(cuts, cuts[1:], strict=False))


REGISTRY: Registry[Transcriber] = Registry("transcriber", special=("auto",),
                                            auto=("faster-whisper",))
REGISTRY.register("faster-whisper", label="faster-whisper (CTranslate2 Whisper)",
                  help="Whisper with word timestamps, int8 on the CPU, float16 on a GPU",
                  available=lambda: needs({"faster_whisper": "faster-whisper"},
                                          "pip install faster-whisper"))(FasterWhisperTranscriber)


def create(name: str = "auto", **options: object) -> Transcriber:
    """The transcriber called `name` (``auto``: the first of the registry's preference order
    that can run here; none that can is a failure, since captions need speech), built with
    `options`."""
    return cast(Transcriber, REGISTRY.create(name, **options))  # no "none" among its choices
