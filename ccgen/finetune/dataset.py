"""``ccgen dataset``: training pairs for the sound describer from media and its human SDH file.

Each sound cue (see :mod:`ccgen.finetune.sdh`) becomes one example: the cue's audio with
``context`` seconds either side (the describer is fed clips with context too,
:mod:`ccgen.events.clips`), at most 30 s (what AudSemThinker hears at once), written as 16 kHz
mono FLAC (lossless and about half the size of WAV), and a JSONL line. The output folder::

    DIR/clips/<media>-<cue>.flac    DIR/train.jsonl    DIR/validation.jsonl    DIR/summary.json

JSONL (one object per line; ``ccgen finetune`` reads the same format, hand-made files included)::

    {"audio": "clips/demo-0003.flac", "caption": "knocking", "kind": "sound",
     "answer": "knocking", "think": "", "semantic_elements": "",
     "media": "/abs/demo.mp4", "subtitles": "/abs/demo.srt", "cue": 3, "start": 7.41,
     "end": 10.33, "text": "[knocking]", "styles": ["brackets"]}

Required: ``audio`` (relative to the JSONL's folder, or absolute) and ``caption`` or ``answer``.
Optional: ``answer`` (what the model writes in <answer>; default the caption), ``think`` and
``semantic_elements`` (AudSemThinker's reasoning parts; empty when absent). The rest is
provenance. Clips under 1000 samples are dropped (as the reference recipe does) and duplicates
(same caption and identical audio, e.g. one file listed twice) are kept once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ccgen.errors import InputError, OutputExistsError, first_line
from ccgen.finetune.sdh import Reading, read_sound_cues
from ccgen.media import SAMPLE_RATE, find_ffmpeg, load_audio, media_url, probe
from ccgen.writers.atomic import replace_made, write_atomic

log = logging.getLogger("ccgen")

MIN_SAMPLES = 1000  # the reference recipe drops shorter clips
MAX_SECONDS = 30.0  # what AudSemThinker hears at once
CLIPS = "clips"
SKIP_SHORT = "clip under 1000 samples"
SKIP_OUTSIDE = "outside the audio"
SKIP_REVERSED = "ends before it starts"
MIN_INSIDE = 0.1  # seconds of the cue itself (not its context) that must lie in the audio
SKIP_DUPLICATE = "duplicate"


@dataclass
class Example:
    """One training pair as ``ccgen finetune`` reads it."""

    audio: Path
    answer: str
    think: str = ""
    semantic_elements: str = ""
    line: int = 0

    def completion(self) -> str:
        """The assistant turn in AudSemThinker's trained format (a newline between the parts,
        as the reference's training data has). Without reasoning in the data
        the think and semantic-elements parts stay empty rather than invented: the tuned model
        learns to answer directly (and writes far fewer tokens)."""
        return (f"<think>{self.think}</think>\n<semantic_elements>{self.semantic_elements}"
                f"</semantic_elements>\n<answer>{self.answer}</answer>")


@dataclass
class DatasetSummary:
    """What ``ccgen dataset`` made, and what it skipped and why (also DIR/summary.json)."""

    output: str
    examples: int = 0
    train: int = 0
    validation: int = 0
    seconds: float = 0.0
    cues: int = 0
    speech_cues: int = 0
    labels_stripped: int = 0
    styles: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_cues: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        skipped = ", ".join(f"{n} {why}" for why, n in self.skipped.items()) or "none"
        styles = ", ".join(f"{k} {n}" for k, n in self.styles.items())
        return (f"{self.examples} examples ({self.train} train, {self.validation} validation, "
                f"{self.seconds:.0f} s of audio) from {self.cues} cues; styles: {styles}; "
                f"skipped: {skipped}")


def prepare_output(output: Path, force: bool, what: str) -> None:
    """Refuse an output folder that holds anything unless `force` (nothing is overwritten
    silently); an empty or missing folder is fine."""
    if output.exists() and not output.is_dir():
        raise InputError(f"{output}: exists and is not a folder")
    if output.is_dir() and any(output.iterdir()) and not force:
        raise OutputExistsError(f"{output}: exists and is not empty; use --force to overwrite "
                                f"the {what} there")
    output.mkdir(parents=True, exist_ok=True)


def build_dataset(pairs: list[tuple[str | Path, str | Path]], output: str | Path, *,
                  context: float = 0.5, val_fraction: float = 0.1, seed: int = 0,
                  force: bool = False) -> DatasetSummary:
    """Cut every sound cue of each (media, subtitles) pair into a clip and write the JSONL
    split and summary under `output`. All inputs are checked before anything is written."""
    if not pairs:
        raise InputError("give at least one --media FILE --subtitles FILE pair")
    if not 0 <= val_fraction < 1 or context < 0:
        raise InputError("--val-fraction must be in [0, 1) and --context at least 0")
    readings: list[Reading] = []
    infos = []
    for media, subtitles in pairs:
        if not Path(media).is_file():
            raise InputError(f"{media}: no such media file")
        infos.append(probe(media))  # not media, or no audio: said before anything is written
        reading = read_sound_cues(subtitles)
        if not reading.sounds:
            raise InputError(f"{subtitles}: no sound cues found in {reading.cues} cues (sound "
                             "cues look like [door slams], (door slams), DOOR SLAMS or ♪)")
        readings.append(reading)
    out = Path(output)
    created = not out.exists()
    prepare_output(out, force, "dataset")
    if force and (out / "summary.json").is_file() and (out / CLIPS).is_dir():
        shutil.rmtree(out / CLIPS)  # our own earlier clips: stale ones would linger
    (out / CLIPS).mkdir(parents=True, exist_ok=True)
    try:
        return _write(pairs, readings, infos, out, context, val_fraction, seed)
    except BaseException:
        # a run that wrote no dataset leaves nothing behind to block the next one
        shutil.rmtree(out if created else out / CLIPS, ignore_errors=True)
        raise


def _write(pairs: list[tuple[str | Path, str | Path]], readings: list[Reading], infos: list,
           out: Path, context: float, val_fraction: float, seed: int) -> DatasetSummary:
    """Cut the clips of every pair, then write the split and the summary."""
    summary = DatasetSummary(str(out))
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    names: set[str] = set()
    for (media, subtitles), reading, info in zip(pairs, readings, infos, strict=True):
        audio = load_audio(media, info)
        made = _cut(Path(media), Path(subtitles), reading, audio, context, out, seen, names,
                    summary)
        records += made
        summary.files.append({"media": str(media), "subtitles": str(subtitles),
                              "cues": reading.cues, "sound_cues": len(reading.sounds),
                              "examples": len(made), "capitals_as_sounds": reading.capitals})
        summary.cues += reading.cues
        summary.speech_cues += reading.speech
        summary.labels_stripped += reading.labels
        for number, why, text in reading.skipped:
            _skip(summary, subtitles, number, why, text)
    if not records:
        raise InputError(f"no usable sound cues in {', '.join(str(s) for _, s in pairs)} "
                         f"(skipped: {summary.skipped})")
    train, validation = split(records, val_fraction, seed)
    for name, part in (("train.jsonl", train), ("validation.jsonl", validation)):
        write_atomic(out / name, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part),
                     force=True)
    summary.examples, summary.train, summary.validation = len(records), len(train), len(validation)
    summary.seconds = round(sum(r["end"] - r["start"] for r in records), 2)
    summary.kinds = dict(Counter(r["kind"] for r in records))
    summary.styles = dict(Counter(s for r in records for s in r["styles"]))
    write_atomic(out / "summary.json", json.dumps(summary.as_dict(), indent=2,
                                                  ensure_ascii=False) + "\n", force=True)
    log.info("dataset: %s", summary.line())
    return summary


def _cut(media: Path, subtitles: Path, reading: Reading, audio: np.ndarray, context: float,
         out: Path, seen: set[str], names: set[str], summary: DatasetSummary
         ) -> list[dict[str, Any]]:
    """Write one FLAC per usable sound cue of one file; return the JSONL records."""
    duration = audio.size / SAMPLE_RATE
    stem = re.sub(r"[^\w.-]+", "_", media.stem)[:40] or "media"
    while stem in names:
        stem += "_"
    names.add(stem)
    records = []
    for cue in reading.sounds:
        start = max(0.0, cue.start - context)
        end = min(duration, cue.end + context, start + MAX_SECONDS)
        if cue.end <= cue.start:
            _skip(summary, subtitles, cue.index, SKIP_REVERSED, cue.text)
            continue
        inside = min(cue.end, duration) - cue.start  # of the cue itself, not its context
        if inside <= 0 or inside < min(MIN_INSIDE, cue.end - cue.start) or end <= start:
            _skip(summary, subtitles, cue.index, SKIP_OUTSIDE, cue.text)
            continue
        samples = audio[int(round(start * SAMPLE_RATE)):int(round(end * SAMPLE_RATE))]
        if samples.size < MIN_SAMPLES:
            _skip(summary, subtitles, cue.index, SKIP_SHORT, cue.text)
            continue
        key = hashlib.sha1(f"{cue.caption.lower()}|{cue.kind}".encode() + samples.tobytes())
        if key.hexdigest() in seen:
            _skip(summary, subtitles, cue.index, SKIP_DUPLICATE, cue.text)
            continue
        seen.add(key.hexdigest())
        rel = f"{CLIPS}/{stem}-{cue.index:04d}.flac"
        write_flac(out / rel, samples)
        records.append({"audio": rel, "caption": cue.caption, "kind": cue.kind,
                        "answer": cue.answer, "think": "", "semantic_elements": "",
                        "media": str(media.resolve()), "subtitles": str(subtitles.resolve()),
                        "cue": cue.index, "start": round(start, 3), "end": round(end, 3),
                        "text": cue.text, "styles": list(cue.styles)})
    return records


def _skip(summary: DatasetSummary, subtitles: str | Path, number: int, why: str,
          text: str) -> None:
    summary.skipped[why] = summary.skipped.get(why, 0) + 1
    summary.skipped_cues.append({"subtitles": str(subtitles), "cue": number, "reason": why,
                                 "text": text})


def split(records: list[dict[str, Any]], val_fraction: float, seed: int
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A seeded random split (file order kept within each part); at least one validation
    example whenever there are two or more examples and `val_fraction` > 0."""
    n = len(records)
    n_val = min(n - 1, max(1, round(n * val_fraction))) if n >= 2 and val_fraction > 0 else 0
    chosen = set(random.Random(seed).sample(range(n), n_val))
    return ([r for i, r in enumerate(records) if i not in chosen],
            [r for i, r in enumerate(records) if i in chosen])


def write_flac(path: Path, samples: np.ndarray) -> Path:
    """16 kHz mono 16-bit FLAC through ffmpeg (the decoder ccgen already depends on), whole or
    not at all (a clip cut short by Ctrl-C would train on silence)."""

    def encode(tmp: Path) -> None:
        cmd = [find_ffmpeg().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
               "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "pipe:",
               "-c:a", "flac", "-sample_fmt", "s16", "-f", "flac", media_url(tmp)]
        done = subprocess.run(cmd, input=np.asarray(samples, np.float32).tobytes(),
                              capture_output=True)
        if done.returncode:
            reason = first_line(done.stderr.decode(errors="replace"), 160, last=True,
                                default="?")
            raise InputError(f"{path}: cannot write FLAC ({reason})")

    return replace_made(path, encode)


def read_clip(path: Path) -> np.ndarray:
    """Decode a clip to 16 kHz mono float32 (any format ffmpeg reads)."""
    cmd = [find_ffmpeg().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-i",
           str(path), "-f", "f32le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:"]
    done = subprocess.run(cmd, capture_output=True)
    if done.returncode:
        reason = first_line(done.stderr.decode(errors="replace"), 160, last=True, default="?")
        raise InputError(f"{path}: cannot decode audio ({reason})")
    return np.frombuffer(done.stdout, dtype=np.float32).copy()


def read_examples(path: str | Path) -> list[Example]:
    """Read and check a JSONL file; InputError naming the file and line for the first bad one."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such JSONL file")
    examples = []
    with path.open(encoding="utf-8") as fh:
        for number, text in enumerate(fh, 1):
            if not text.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(f"{where}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise InputError(f"{where}: expected a JSON object")
            audio = record.get("audio")
            if not isinstance(audio, str) or not audio.strip():
                raise InputError(f'{where}: no "audio" (the path of the clip)')
            clip = Path(audio).expanduser()
            clip = clip if clip.is_absolute() else path.parent / clip
            if not clip.is_file():
                raise InputError(f"{where}: audio file {audio} not found (relative paths are "
                                 f"read from {path.parent})")
            answer = record.get("answer") or record.get("caption")
            if not isinstance(answer, str) or not answer.strip():
                raise InputError(f'{where}: no "caption" (or "answer") text')
            parts = {k: record.get(k) or "" for k in ("think", "semantic_elements")}
            if not all(isinstance(v, str) for v in parts.values()):
                raise InputError(f'{where}: "think" and "semantic_elements" must be text')
            examples.append(Example(clip, answer.strip(), parts["think"].strip(),
                                    parts["semantic_elements"].strip(), number))
    if not examples:
        raise InputError(f"{path}: no examples (an empty file)")
    return examples
