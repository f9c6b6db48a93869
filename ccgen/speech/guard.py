"""Cross-check of the speech recogniser: no invented dialogue, songs become lyrics.

Whisper writes fluent words over anything it is given: "Yes, yes, yes!" over a dog barking,
"[music] You" over an orchestra, and sung verses as if they were dialogue. The VAD alone does
not stop it (on some CPUs a bark or a violin passes Silero's threshold), and it misses most
singing, so a song came out as one line of "speech". Each Whisper segment is therefore weighed
against independent witnesses before its words become captions:

- the sound tagger (YAMNet) over the segment: how much it hears speech, singing and music,
  and the strongest other sound (Dog, Bark...);
- Whisper's own doubt: the segment's ``no_speech_prob`` and its words' mean probability;
- the VAD: Silero's mean speech probability over the segment's words (speech over a music
  bed keeps it high; sung vocals give it middling values, instruments low ones).

Rules, in order (numbers are :class:`GuardSettings` fields):
1. Whisper's own annotations ("[music]", "(applause)", "♪") are never dialogue, nor is text
   that repeats itself (``max_compression``: "oh, oh, oh, ..." for a minute of song).
2. A segment in which the tagger hears singing at least as much as speech is **lyrics** when
   Whisper is confident enough for sung words (as in rule 4), else dropped.
3. One where it hears speech (``speech_floor``) is **speech**; else one that is only a phrase
   Whisper is known to invent over silence and music ("Thank you for watching.", "You") is
   dropped.
4. Over music (``music_floor``): **speech** when Silero hears a voice (``vad_speech``) and
   Whisper is sure of its words (``music_no_speech``, ``music_word_prob``: Whisper transcribes
   a voice over a music bed confidently, a sung one much less so); else **lyrics** when Whisper
   is confident enough for sung words (``lyrics_no_speech``, ``lyrics_word_prob``, at least
   ``lyrics_words`` words; inside a song, below, the no-speech bar is not applied: Whisper
   gives sung words 0.5-0.7 no-speech on the shared song); else dropped.
5. Elsewhere: **speech** when Whisper is confident (``max_no_speech``, ``min_word_prob``) and
   no other sound is louder to the tagger than speech (``rival_margin``); else dropped.

Songs also need their words found: where the tagger hears music for a while, vocals the VAD
missed are looked for with a lower Silero threshold (``vocal_threshold``) and transcribed in a
second pass (:func:`vocal_spans`). A music stretch where Silero hears a voice in at least
``sung_share`` of its time outside the speech regions is a song (:func:`sung_stretches`), and
so is one in which a segment of the passes so far reads as lyrics: it is transcribed whole,
once, in place of the earlier passes there, as Silero misses most of a singing voice.
Rules 1-5 then judge those segments like any other.
The thresholds were chosen by leave-one-clip-out on the shared clips
(``bench/guard_thresholds.py``; held-out results in bench/RESULTS.md).
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ccgen.cues import Cue, Word
from ccgen.media.audio import SAMPLE_RATE
from ccgen.speech.transcriber import Segment, Transcript
from ccgen.speech.vad import VadSettings
from ccgen.speech.vocals import (
    PATCH_HOP_SECONDS,
    PATCH_SECONDS,
    SILERO_FRAME,
    ClassGroups,
    masked,
    music_stretches,
    packed,
    silero_probs,
    sung_stretches,
    unpacked,
    vocal_spans,
)

log = logging.getLogger("ccgen")

# The VAD of a song's pass: every sample is voice (Silero hears too little of a singing one).
WHOLE = VadSettings(threshold=0.0, min_silence_duration_ms=600_000)
HOLD = 3.0  # seconds a sung line may be held into the pause before the next line
# Part of the stage cache's key: raise it when the rules change, so cached verdicts are redone.
VERSION = 3
_ANNOTATION = re.compile(r"^[\[(♪*#].*[\])♪*#]$|^[♪*#]+$|^\[|\]$")
# What Whisper is known to write over silence and music (its training data's video outros).
_STOCK = re.compile(r"^(?:(?:thank you|thanks)(?: so much| very much)?(?: for watching| for "
                    r"listening)?|please subscribe\W*|(?:like and )?subscribe\W*|you|bye)[.!]*$",
                    re.IGNORECASE)


@dataclass(frozen=True)
class GuardSettings:
    """Thresholds (see the module docstring; chosen by leave-one-clip-out)."""

    speech_floor: float = 0.5       # tagger speech score that alone makes a segment speech
    max_no_speech: float = 0.5      # Whisper's no-speech probability above which it doubts
    min_word_prob: float = 0.5      # mean word probability below which Whisper doubts
    rival_margin: float = 1.0       # another sound x this > speech: speech is contested
    min_singing: float = 0.1        # tagger singing score below which nothing is lyrics
    music_floor: float = 0.5        # tagger music score from which a segment is over music
    vad_speech: float = 0.4         # Silero's mean probability that says speech over music
    music_no_speech: float = 0.2    # over music, speech needs Whisper this sure (no-speech)
    music_word_prob: float = 0.7    # ... and its words this sure (sung words come out less so)
    lyrics_no_speech: float = 0.5   # Whisper's doubt above which sung words are not trusted
    lyrics_word_prob: float = 0.2   # mean word probability below which sung words are not
    lyrics_words: int = 3           # fewer words than this over music is not a sung line
    max_compression: float = 2.4    # text this repetitive is a decoding loop (Whisper's own)
    vocal_threshold: float = 0.1    # Silero threshold for vocals inside music
    min_music: float = 4.0          # seconds of music before vocals are looked for in it
    sung_share: float = 0.08        # share of a music stretch Silero hears a voice in: a song


@dataclass(frozen=True)
class Evidence:
    """What the witnesses say about one Whisper segment (tagger scores are means over its
    patches of the best class in each group; `other` is the strongest sound that is neither
    speech, singing, music nor neutral)."""

    start: float
    end: float
    text: str
    words: int
    speech: float
    singing: float
    music: float
    other: float
    other_name: str
    no_speech_prob: float
    word_prob: float
    vad: float
    song: bool = False  # inside a stretch judged a song (rule 4: no-speech says nothing there)


@dataclass(frozen=True)
class Verdict:
    """The guard's result: words kept as speech, sung lines as lyrics cues, and what was
    dropped with the reason (for the log and the benchmark)."""

    words: list[Word]
    lyrics: list[Cue] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)


def annotation(text: str) -> bool:
    """Whisper's non-speech annotations: "[music]", "(applause)", "♪", "*laughs*"."""
    return bool(_ANNOTATION.search(text.strip()))


def span_rows(scores: np.ndarray, start: float, end: float) -> np.ndarray:
    """Rows of `scores` (a patch every 0.48 s from 0) whose 0.96 s window overlaps
    [start, end]; at least the nearest row."""
    if scores.shape[0] == 0:
        return scores
    times = np.arange(scores.shape[0]) * PATCH_HOP_SECONDS
    rows = np.flatnonzero((times < end) & (times + PATCH_SECONDS > start))
    if rows.size == 0:
        rows = np.array([int(np.argmin(np.abs(times + PATCH_SECONDS / 2 - (start + end) / 2)))])
    return scores[rows]


def weigh(words: Sequence[Word], segment: Segment | None, scores: np.ndarray | None,
          groups: ClassGroups | None, probs: np.ndarray) -> Evidence:
    """The evidence for one segment's words; `scores` is None without a tagger."""
    start, end = words[0].start, words[-1].end
    speech = singing = music = other = 0.0
    other_name = ""
    if scores is not None and groups is not None and scores.size:
        rows = span_rows(scores, start, end)

        def group(cols: list[int]) -> float:
            return float(rows[:, cols].max(axis=1).mean()) if cols else 0.0

        speech, singing, music = group(groups.speech), group(groups.singing), group(groups.music)
        if groups.other:
            means = rows[:, groups.other].mean(axis=0)
            best = int(np.argmax(means))
            other, other_name = float(means[best]), groups.names[groups.other[best]]
    # Silero inside the words only: the pauses between them say nothing about the voice.
    per = SAMPLE_RATE / SILERO_FRAME
    frames = np.concatenate([probs[int(w.start * per):max(int(w.start * per) + 1,
                                                          int(np.ceil(w.end * per)))]
                             for w in words]) if probs.size else probs
    return Evidence(
        start, end, " ".join(w.text for w in words), len(words), speech, singing, music,
        other, other_name, segment.no_speech_prob if segment else 0.0,
        float(np.mean([w.probability for w in words])),
        float(frames.mean()) if frames.size else 0.0)


def judge(e: Evidence, s: GuardSettings, tagger: bool = True) -> str:
    """'speech', 'lyrics' or the reason to drop the segment (rules 2-5 of the docstring)."""
    if compression(e.text) > s.max_compression:
        return f"Whisper repeated itself (compression {compression(e.text):.1f})"
    confident = e.no_speech_prob <= s.max_no_speech and e.word_prob >= s.min_word_prob
    sung = ((e.song or e.no_speech_prob <= s.lyrics_no_speech)
            and e.word_prob >= s.lyrics_word_prob
            and e.words >= s.lyrics_words)
    if tagger and e.singing >= s.min_singing and e.singing >= e.speech:
        return "lyrics" if sung else _doubt("sung words", e)
    if tagger and e.speech >= s.speech_floor:
        return "speech"
    if _STOCK.match(e.text.strip()):
        return f"a phrase Whisper invents over silence and music ({e.text.strip()!r})"
    if tagger and e.music >= s.music_floor:
        if (e.vad >= s.vad_speech and e.no_speech_prob <= s.music_no_speech
                and e.word_prob >= s.music_word_prob):
            return "speech"
        return "lyrics" if sung else _doubt("words over music", e)
    if not confident:
        return _doubt("speech", e)
    if tagger and e.other * s.rival_margin > e.speech:
        return f"the tagger hears {e.other_name} ({e.other:.2f}) over speech ({e.speech:.2f})"
    return "speech"


def compression(text: str) -> float:
    """gzip ratio of the text, as Whisper computes it to spot a decoding stuck in a loop."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _doubt(what: str, e: Evidence) -> str:
    return (f"{what} Whisper doubts (no-speech {e.no_speech_prob:.2f}, words "
            f"{e.word_prob:.2f}, {e.words} words, VAD {e.vad:.2f})")


def evidence_of(words: Sequence[Word], segments: Sequence[Segment], scores: np.ndarray | None,
                classes: Sequence[str], probs: np.ndarray,
                songs: Sequence[tuple[float, float]] = ()) -> list[tuple[Evidence, list[Word]]]:
    """Each segment's evidence with its words, Whisper's annotations left out (rule 1);
    a segment that lies in one of `songs` (stretches judged sung) is marked ``song``."""
    groups = ClassGroups(classes) if scores is not None else None
    out = []
    for seg in segments:
        own = [w for w in words[seg.first:seg.last] if not annotation(w.text)]
        if own:
            e = weigh(own, seg, scores, groups, probs)
            if any(a <= (e.start + e.end) / 2 <= b for a, b in songs):
                e = replace(e, song=True)
            out.append((e, own))
    return out


def cross_check(words: Sequence[Word], segments: Sequence[Segment], scores: np.ndarray | None,
                classes: Sequence[str], probs: np.ndarray,
                settings: GuardSettings | None = None,
                songs: Sequence[tuple[float, float]] = ()) -> Verdict:
    """Judge every segment; returns new words (kept speech) and lyrics cues. `scores` is the
    tagger's (patches, classes) matrix for the whole file, None when there is no tagger (then
    only Whisper and the VAD are weighed and nothing becomes lyrics)."""
    s = settings or GuardSettings()
    kept: list[Word] = []
    lyrics: list[Cue] = []
    dropped: list[tuple[str, str]] = []
    annotations = [w.text for w in words if annotation(w.text)]
    if annotations:
        dropped.append((" ".join(annotations), "Whisper's own annotations, not dialogue"))
    for evidence, own in evidence_of(words, segments, scores, classes, probs, songs):
        verdict = judge(evidence, s, scores is not None)
        if verdict == "speech":
            kept.extend(Word(w.start, w.end, w.text, w.probability, w.speaker) for w in own)
        elif verdict == "lyrics":
            lines = sung_lines(own)
            # A sung line is held until the next one starts (up to HOLD seconds more): lines of
            # one verse stay one song on screen instead of flashing between long notes.
            ends = [min(nxt[0].start, line[-1].end + HOLD)
                    for line, nxt in zip(lines, lines[1:], strict=False)] + [lines[-1][-1].end]
            lyrics.extend(Cue(line[0].start, end, "lyrics", " ".join(w.text for w in line),
                              confidence=evidence.word_prob)
                          for line, end in zip(lines, ends, strict=True))
        else:
            dropped.append((evidence.text, verdict))
    return Verdict(kept, lyrics, dropped)


def sung_lines(words: Sequence[Word], max_words: int = 8, max_seconds: float = 4.0,
               pause: float = 1.0) -> list[list[Word]]:
    """A sung segment cut into lines, as lyric captions show a song: at a pause, or when a
    line would pass `max_words` words or `max_seconds` (Whisper's segments of a song run for
    10-25 s, more than any caption may stay)."""
    lines: list[list[Word]] = []
    for w in words:
        if lines and not (w.start - lines[-1][-1].end >= pause
                          or len(lines[-1]) >= max_words
                          or w.end - lines[-1][0].start > max_seconds):
            lines[-1].append(w)
        else:
            lines.append([w])
    return lines


@dataclass
class Heard:
    """Everything the guard weighs for one file: Whisper's words and segments (both passes),
    the tagger's scores for the whole file (None without a tagger) and Silero's
    probabilities."""

    words: list[Word]
    segments: list[Segment]
    scores: np.ndarray | None
    classes: list[str]
    probs: np.ndarray
    songs: list[tuple[float, float]] = field(default_factory=list)  # stretches judged sung


def listen(data: dict, regions: Sequence[tuple[float, float]], samples: np.ndarray,
           tagger: object | None,
           transcribe: Callable[[np.ndarray, VadSettings], Transcript] | None,
           s: GuardSettings) -> Heard:
    """Gather the evidence: score the file, and run the vocal pass in its music stretches."""
    words = [Word(**w) for w in data.get("words", [])]
    segments = [Segment(**g) for g in data.get("segments", [])]
    if words and not segments:  # a transcriber without segments: its words are all we have
        segments = [Segment(words[0].start, words[-1].end, 0.0, 0.0, 1.0, 0, len(words))]
    scores = tagger.scores(samples) if tagger is not None else None  # type: ignore[attr-defined]
    classes = list(getattr(tagger, "classes", []))
    # Silero's probabilities are read only over music (rule 4): a film's worth costs ~1 % RTF.
    cols = ClassGroups(classes).music if scores is not None else []
    over_music = bool(cols) and scores.size > 0 and float(scores[:, cols].max()) >= s.music_floor
    probs = silero_probs(samples) if over_music else np.zeros(0, np.float32)
    songs: list[tuple[float, float]] = []
    if scores is not None and transcribe is not None:
        stretches = music_stretches(scores, classes, s)
        songs = sung_stretches(stretches, probs, regions, s)
        spans = vocal_spans(samples, scores, classes, regions, s, songs, probs)
        if spans:
            _add(words, segments, transcribe(masked(samples, spans),
                                             VadSettings(threshold=s.vocal_threshold)), float)
        songs += _sung_in(stretches, songs, words, segments, scores, classes, probs, s)
        if songs:  # a song is heard whole, once: Silero hears too little of a singing voice
            segments = [g for g in segments
                        if not any(a <= (g.start + g.end) / 2 <= b for a, b in songs)]
            _add(words, segments, transcribe(packed(samples, sorted(songs)), WHOLE),
                 unpacked(sorted(songs)))
    return Heard(words, segments, scores, classes,
                 probs if words else np.zeros(0, np.float32), songs)


def _sung_in(stretches: Sequence[tuple[float, float]], songs: Sequence[tuple[float, float]],
             words: list[Word], segments: list[Segment], scores: np.ndarray,
             classes: Sequence[str], probs: np.ndarray, s: GuardSettings
             ) -> list[tuple[float, float]]:
    """The other music stretches in which a segment of the passes so far reads as lyrics:
    once a line of a stretch is judged sung, the stretch is a song and is heard whole."""
    sung = [(e.start + e.end) / 2 for e, _ in evidence_of(words, segments, scores, classes, probs)
            if judge(e, s) == "lyrics"]
    return [m for m in stretches if m not in songs and any(m[0] <= t <= m[1] for t in sung)]


def _add(words: list[Word], segments: list[Segment], more: Transcript,
         clock: Callable[[float], float]) -> None:
    """A second pass's words and segments added to the first's, on the file's clock."""
    shift = len(words)
    words += [Word(clock(w.start), max(clock(w.start), clock(w.end)), w.text, w.probability,
                   w.speaker) for w in more.words]
    segments += [Segment(clock(g.start), max(clock(g.start), clock(g.end)), g.no_speech_prob,
                         g.avg_logprob, g.compression_ratio, g.first + shift, g.last + shift)
                 for g in more.segments]


def check_transcript(data: dict, regions: Sequence[tuple[float, float]],
                     audio: Callable[[], np.ndarray], tagger: object | None,
                     transcribe: Callable[[np.ndarray, VadSettings], Transcript] | None,
                     settings: GuardSettings | None = None) -> dict:
    """The pipeline's stage: the transcriber's output (``words``, ``segments``) in, the
    verdict out as plain data for the stage cache (``words``, ``lyrics``, ``dropped``).

    `audio` is called only when there is something to check; `tagger` is a loaded YAMNet
    (``scores(audio)`` and ``classes``) or None; `transcribe(audio, vad)` runs the second,
    vocal pass (None: no second pass).
    """
    s = settings or GuardSettings()
    if tagger is None and not data.get("words"):
        return {"words": [], "lyrics": [], "dropped": []}
    heard = listen(data, regions, audio(), tagger, transcribe, s)
    if not heard.words:
        return {"words": [], "lyrics": [], "dropped": []}
    verdict = cross_check(heard.words, heard.segments, heard.scores, heard.classes,
                          heard.probs, s, heard.songs)
    for text, reason in verdict.dropped:
        log.info("not speech, dropped: %r (%s)", text[:60], reason)
    lyrics = sorted(verdict.lyrics, key=lambda c: c.start)
    return {"words": [asdict(w) for w in sorted(verdict.words, key=lambda w: w.start)],
            "lyrics": [asdict(c) for c in lyrics],
            "dropped": [list(d) for d in verdict.dropped]}
