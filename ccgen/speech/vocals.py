"""Where a song's vocals are: the tagger's class groups, music stretches and the vocal pass.

The speech guard (:mod:`ccgen.speech.guard`) weighs each Whisper segment against what YAMNet
hears in a few groups of AudioSet classes (speech, singing, music, and the rest); the groups
live here with the helpers that find where sung vocals may hide: stretches of music, the parts
of them where Silero hears a voice at a low threshold, and the audio masked to those parts for
a second transcription pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ccgen.media.audio import SAMPLE_RATE
from ccgen.speech.vad import WINDOW, VadSettings, speech_probabilities, speech_regions

if TYPE_CHECKING:
    from ccgen.speech.guard import GuardSettings

# YAMNet display names (its 521 AudioSet classes). YAMNet has no "Male speech" classes.
SPEECH = ("Speech", "Child speech, kid speaking", "Conversation", "Narration, monologue")
SINGING = ("Singing", "Choir", "Yodeling", "Chant", "Mantra", "Child singing",
           "Synthetic singing", "Rapping", "Humming", "Opera", "Vocal music", "A capella")
MUSIC = ("Music",)
# Classes that say nothing against speech: the room, silence, and speech's own variants.
NEUTRAL = ("Silence", "Inside, small room", "Inside, large room or hall", "Inside, public space",
           "Outside, urban or manmade", "Outside, rural or natural", "Babbling",
           "Speech synthesizer", "Shout", "Yell", "Whispering", "Laughter", "Giggle",
           "Chuckle, chortle", "Breathing", "Sigh", "Cough", "Sniff", "Throat clearing",
           "Hubbub, speech noise, speech babble", "Echo", "Reverberation", "Noise",
           "Static", "Hum", "Mains hum", "White noise", "Pink noise", "Field recording",
           "Television", "Radio", "Environmental noise")
PATCH_SECONDS, PATCH_HOP_SECONDS = 0.96, 0.48
SILERO_FRAME = WINDOW  # samples per Silero probability


class ClassGroups:
    """Column indices of each class group in the tagger's score matrix."""

    def __init__(self, classes: Sequence[str]) -> None:
        index = {name: i for i, name in enumerate(classes)}
        self.names = list(classes)
        self.speech = [index[n] for n in SPEECH if n in index]
        self.singing = [index[n] for n in SINGING if n in index]
        self.music = [index[n] for n in MUSIC if n in index]
        taken = set(self.speech + self.singing + self.music)
        taken |= {index[n] for n in NEUTRAL if n in index}
        self.other = [i for i in range(len(classes)) if i not in taken]


def silero_probs(audio: np.ndarray) -> np.ndarray:
    """Silero's speech probability for every 32 ms of `audio` (the model the VAD uses)."""
    if audio.size == 0:
        return np.zeros(0, dtype=np.float32)
    return speech_probabilities(audio)  # block by block: no whole-file copies (speech/vad.py)


def music_stretches(scores: np.ndarray, classes: Sequence[str], s: GuardSettings
                    ) -> list[tuple[float, float]]:
    """Where the tagger hears music for at least ``min_music`` seconds (gaps under 2 s
    bridged): the only places where sung vocals are looked for."""
    cols = ClassGroups(classes).music
    if scores.size == 0 or not cols:
        return []
    loud = np.flatnonzero(scores[:, cols].max(axis=1) >= s.music_floor)
    return [(a, b) for a, b in window_spans(loud, bridge=2.0) if b - a >= s.min_music]


def window_spans(windows: Sequence[int] | np.ndarray, bridge: float = 0.0
                 ) -> list[tuple[float, float]]:
    """The tagger's windows (ascending indices; each 0.96 s, every 0.48 s) as seconds, those
    that overlap or lie at most `bridge` s apart joined into one span."""
    spans: list[list[float]] = []
    for i in windows:
        a, b = i * PATCH_HOP_SECONDS, i * PATCH_HOP_SECONDS + PATCH_SECONDS
        if spans and a - spans[-1][1] <= bridge:
            spans[-1][1] = b
        else:
            spans.append([a, b])
    return [(float(a), float(b)) for a, b in spans]


def vocal_spans(audio: np.ndarray, scores: np.ndarray, classes: Sequence[str],
                regions: Sequence[tuple[float, float]], s: GuardSettings,
                songs: Sequence[tuple[float, float]] = (),
                probs: np.ndarray | None = None) -> list[tuple[float, float]]:
    """Parts of music stretches where Silero, at the lower ``vocal_threshold``, hears a
    voice, outside the speech regions already transcribed (and outside `songs`, which are
    transcribed whole). `probs`: :func:`silero_probs` of `audio` when the caller has them."""
    stretches = [m for m in music_stretches(scores, classes, s) if m not in songs]
    if not stretches:
        return []
    low = speech_regions(audio, VadSettings(threshold=s.vocal_threshold), probs)
    out = []
    for a, b in low:
        for m0, m1 in stretches:
            lo, hi = max(a, m0), min(b, m1)
            if hi - lo > 0.5 and not any(min(hi, r1) > max(lo, r0) for r0, r1 in regions):
                out.append((lo, hi))
    return out


def masked(audio: np.ndarray, spans: Sequence[tuple[float, float]]) -> np.ndarray:
    """`audio` with everything outside `spans` silenced (times kept): the second pass
    transcribes only the vocal candidates, on the file's own clock."""
    out = np.zeros(audio.shape, dtype=audio.dtype)  # untouched pages cost no memory
    for a, b in spans:
        i, j = int(a * SAMPLE_RATE), int(b * SAMPLE_RATE)
        out[i:j] = audio[i:j]
    return out


def sung_stretches(stretches: Sequence[tuple[float, float]], probs: np.ndarray,
                   regions: Sequence[tuple[float, float]], s: GuardSettings
                   ) -> list[tuple[float, float]]:
    """The music stretches that are songs: Silero, at ``vocal_threshold``, hears a voice in at
    least ``sung_share`` of their time outside the speech regions already transcribed.

    Silero hears only part of a singing voice (on the shared song: 15 % of its frames reach
    0.1, and none for a minute at a time), so its low-threshold regions leave most verses
    out; but over an instrumental piece it hears little (0-4 % of the frames of the
    shared orchestra and film score, against 14 % for the song; ``sung_share`` lies between,
    chosen from these values: one song cannot be held out). A song's whole stretch is
    transcribed; what Whisper writes there is judged like any other segment, as lyrics only
    when Whisper is sure enough of the words.
    """
    per = SAMPLE_RATE / SILERO_FRAME
    out = []
    for a, b in stretches:
        frames = np.zeros(probs.size, dtype=bool)
        frames[int(a * per):int(np.ceil(b * per))] = True
        for r0, r1 in regions:
            frames[int(r0 * per):int(np.ceil(r1 * per))] = False
        if frames.any() and float((probs[frames] >= s.vocal_threshold).mean()) >= s.sung_share:
            out.append((a, b))
    return out


def packed(audio: np.ndarray, spans: Sequence[tuple[float, float]]) -> np.ndarray:
    """The samples of `spans`, end to end: a song's verses without the dialogue between."""
    parts = [audio[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)] for a, b in spans]
    return np.concatenate(parts) if parts else audio[:0]


def unpacked(spans: Sequence[tuple[float, float]]) -> Callable[[float], float]:
    """Maps a time in :func:`packed` audio back to the file's clock."""
    starts = np.array([a for a, _ in spans], dtype=np.float64)
    sizes = np.array([int(b * SAMPLE_RATE) - int(a * SAMPLE_RATE) for a, b in spans]) / SAMPLE_RATE
    offsets = np.concatenate([[0.0], np.cumsum(sizes)])

    def back(t: float) -> float:
        k = int(np.clip(np.searchsorted(offsets, t, side="right") - 1, 0, len(spans) - 1))
        return float(starts[k] + min(t - offsets[k], sizes[k]))

    return back
