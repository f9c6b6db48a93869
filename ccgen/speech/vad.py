"""Speech regions from faster-whisper's bundled Silero VAD (ONNX, offline).

The regions decide what the transcriber hears and, by complement, where the sound describer
looks for non-speech events. The settings are shared with the transcriber so both stages agree.

Why not ``faster_whisper.vad.get_speech_timestamps`` itself: it pads a copy of the whole
file, then builds a second, 1.125x larger copy (each 512-sample window with its 64-sample
context) before the first model call. On a 2-hour input that is +1055 MiB for the VAD alone
(measured: 439 MiB of audio, peak +1055 MiB over the process before it), more than any other
stage. :func:`speech_probabilities` feeds the same ONNX session the same blocks of windows, with
the same context and the same LSTM state carried from block to block, one block at a time;
:func:`regions_from_probabilities` applies faster-whisper's rules (thresholds, minimum speech
and silence, the split of over-long regions, padding) to the probabilities. The regions are
faster-whisper's, sample for sample (tests/test_transcriber.py compares the two on real audio).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ccgen.media.audio import SAMPLE_RATE

WINDOW = 512  # samples per Silero probability (32 ms)
CONTEXT = 64  # samples of the previous window each window is given
BLOCK = 10_000  # windows per model call, as faster-whisper batches them


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


def speech_probabilities(audio: np.ndarray) -> np.ndarray:
    """Silero's speech probability for each 512-sample window of `audio` (zero-padded as
    faster-whisper pads it: always by 1-512 samples), computed one block at a time."""
    from faster_whisper.vad import get_vad_model

    session = get_vad_model().session
    audio = np.asarray(audio, dtype=np.float32)
    count = audio.size // WINDOW + 1
    h = c = np.zeros((1, 1, 128), dtype=np.float32)
    tail = np.zeros(CONTEXT, dtype=np.float32)  # the first window's context is silence
    out = []
    for first in range(0, count, BLOCK):
        n = min(BLOCK, count - first)
        frames = np.zeros((n, WINDOW), dtype=np.float32)
        piece = audio[first * WINDOW:(first + n) * WINDOW]
        frames.reshape(-1)[:piece.size] = piece
        if first + n == count:  # faster-whisper zeroes the last window's tail in place
            frames[-1, -CONTEXT:] = 0.0
        context = np.empty((n, CONTEXT), dtype=np.float32)
        context[0] = tail
        context[1:] = frames[:-1, -CONTEXT:]
        tail = frames[-1, -CONTEXT:].copy()
        probs, h, c = session.run(None, {"input": np.concatenate([context, frames], axis=1),
                                         "h": h, "c": c})
        out.append(np.asarray(probs, dtype=np.float32).reshape(-1))
    return np.concatenate(out)


def _raw_regions(probs: np.ndarray, length: int, o: Any) -> list[list[int]]:
    """[start, end] samples where speech holds, before padding: a region opens at a window at
    or above `threshold`, closes after `min_silence` below `neg_threshold`, and one longer
    than `max_speech` is cut at its last silence of 98 ms or more (else where it stands)."""
    neg = o.neg_threshold if o.neg_threshold is not None else max(o.threshold - 0.15, 0.01)
    pad = SAMPLE_RATE * o.speech_pad_ms / 1000
    min_speech = SAMPLE_RATE * o.min_speech_duration_ms / 1000
    max_speech = SAMPLE_RATE * o.max_speech_duration_s - WINDOW - 2 * pad
    min_silence = SAMPLE_RATE * o.min_silence_duration_ms / 1000
    cut_silence = SAMPLE_RATE * 98 / 1000
    regions: list[list[int]] = []
    start: int | None = None
    temp_end = prev_end = next_start = 0
    for i, p in enumerate(probs):
        at = WINDOW * i
        if p >= o.threshold and temp_end:
            temp_end = 0
            if next_start < prev_end:
                next_start = at
        if p >= o.threshold and start is None:
            start = at
            continue
        if start is not None and at - start > max_speech:
            if prev_end:  # cut at the last silence; this window is judged below
                regions.append([start, prev_end])
                start = None if next_start < prev_end else next_start
                prev_end = next_start = temp_end = 0
            else:
                regions.append([start, at])
                start = None
                prev_end = next_start = temp_end = 0
                continue
        if p < neg and start is not None:
            temp_end = temp_end or at
            if at - temp_end > cut_silence:
                prev_end = temp_end
            if at - temp_end < min_silence:
                continue
            if temp_end - start > min_speech:
                regions.append([start, temp_end])
            start = None
            prev_end = next_start = temp_end = 0
    if start is not None and length - start > min_speech:
        regions.append([start, length])
    return regions


def regions_from_probabilities(probs: np.ndarray, length: int, options: Any
                               ) -> list[tuple[int, int]]:
    """Speech regions in samples from Silero's probabilities for `length` samples of audio,
    padded by `speech_pad_ms` (halving a gap between two regions shorter than twice that)."""
    regions = _raw_regions(probs, length, options)
    pad = SAMPLE_RATE * options.speech_pad_ms / 1000
    for i, region in enumerate(regions):
        if i == 0:
            region[0] = int(max(0, region[0] - pad))
        if i == len(regions) - 1:
            region[1] = int(min(length, region[1] + pad))
            continue
        gap = regions[i + 1][0] - region[1]
        if gap < 2 * pad:
            region[1] += int(gap // 2)
            regions[i + 1][0] = int(max(0, regions[i + 1][0] - gap // 2))
        else:
            region[1] = int(min(length, region[1] + pad))
            regions[i + 1][0] = int(max(0, regions[i + 1][0] - pad))
    return [(a, b) for a, b in regions]


def speech_regions(audio: np.ndarray, settings: VadSettings | None = None,
                   probs: np.ndarray | None = None) -> list[tuple[float, float]]:
    """Return speech regions as (start, end) seconds, sorted and non-overlapping. `probs`:
    :func:`speech_probabilities` of `audio` when the caller has them (one model pass serves
    several thresholds)."""
    settings = settings or VadSettings()
    if audio.size < SAMPLE_RATE // 10:
        return []
    if probs is None or probs.size != audio.size // WINDOW + 1:
        probs = speech_probabilities(audio)
    regions = regions_from_probabilities(probs, audio.size, settings.options())
    return [(a / SAMPLE_RATE, b / SAMPLE_RATE) for a, b in regions]
