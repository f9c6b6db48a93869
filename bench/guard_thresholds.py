#!/usr/bin/env python3
"""Choose the speech guard's thresholds by leave-one-clip-out on the shared clips.

    python bench/guard_thresholds.py DATA_DIR [--features F.json] [--out bench/RESULTS.md]

Every clip is decoded, VAD'd, transcribed by ccgen's Whisper and scored by YAMNet, exactly as
ccgen captions it; each Whisper segment becomes one labelled example of
:class:`ccgen.speech.guard.Evidence`: speech clips' segments must stay speech, non-speech
clips' (events/) must be dropped, the sung track's segments inside its human lyric captions
must become lyrics (outside them: dropped), and speech clips mixed with music (ffmpeg amix,
built here in a temporary folder) must stay speech. Then, for each clip, the settings that
make the fewest errors on all the *other* clips are chosen from a grid and judged on the
held-out one; the defaults are the choice on all clips. Features are cached in --features so
the search reruns in a second.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, fields, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import machine, write_section  # noqa: E402

from ccgen.speech.guard import Evidence, GuardSettings, judge  # noqa: E402

MIXES = (  # (speech clip, music clip, music start s): speech over music must survive
    ("speech/jfk.flac", "events/librosa_Kevin_MacLeod_-_Dance_of_the_Sugar_Plum_Fairy.ogg", 30),
    ("speech/librivox_sense_and_sensibility_0880.flac",
     "events/librosa_sorohanro_-_solo-trumpet-06.ogg", 0),
    ("speech/cmu_arctic_us_aew_a0003.flac", "captions/ableplayer_paulallen_mono48k.mp3", 60),
)
LEVELS = (10, 3)  # music this many dB under the speech (RMS): a film's mix, and a loud one
SONG, SONG_VTT = "captions/ableplayer_paulallen_mono48k.mp3", "captions/ableplayer_paulallen_en.vtt"
GRID = {
    "speech_floor": (0.3, 0.5, 0.7),
    "max_no_speech": (0.3, 0.5, 0.7),
    "min_word_prob": (0.4, 0.5, 0.6),
    "music_floor": (0.3, 0.5, 0.7),
    "vad_speech": (0.3, 0.4, 0.5),
    "music_no_speech": (0.15, 0.2, 0.3),
    "music_word_prob": (0.6, 0.7, 0.8),
    "lyrics_no_speech": (0.3, 0.5),
    "lyrics_word_prob": (0.1, 0.2, 0.3, 0.4),
    "lyrics_words": (2, 3),
}


def rms(path: Path, skip: float = 0.0) -> float:
    from ccgen.media import load_audio, probe

    audio = load_audio(path, probe(path))[int(skip * 16000):]
    return float((audio.astype("float64") ** 2).mean() ** 0.5) or 1e-9


def mix(speech: Path, music: Path, skip: float, level: float, dest: Path) -> Path:
    """Speech over music with ffmpeg's amix: the music from `skip` s on, `level` dB under the
    speech (RMS), for the speech's length."""
    from ccgen.media import find_ffmpeg

    gain = rms(speech) / rms(music, skip) * 10 ** (-level / 20)
    subprocess.run([find_ffmpeg().ffmpeg, "-nostdin", "-loglevel", "error", "-y",
                    "-i", str(speech), "-ss", str(skip), "-i", str(music), "-filter_complex",
                    f"[1:a]volume={gain:.4f}[m];[0:a][m]amix=inputs=2:duration=first:normalize=0",
                    "-ac", "1", "-ar", "16000", str(dest)], check=True)
    return dest


def vtt_spans(path: Path) -> list[tuple[float, float]]:
    import pysubs2

    return [(e.start / 1000, e.end / 1000) for e in pysubs2.load(str(path))]


def sung(start: float, end: float, song: list[tuple[float, float]]) -> bool:
    """Whether most of [start, end] lies inside the human lyric captions."""
    inside = sum(max(0.0, min(b, end) - max(a, start)) for a, b in song)
    return inside > 0.5 * (end - start)


def clips(data: Path, tmp: Path) -> list[tuple[str, str, Path, str]]:
    """(name, group for leave-one-out, media path, expected verdict: speech/drop/lyrics)."""
    out = [(f"speech/{p.name}", p.stem, p, "speech") for p in sorted((data / "speech").glob("*"))
           if p.suffix in (".flac", ".wav")]
    out += [(f"events/{p.name}", p.stem, p, "drop") for p in sorted((data / "events").glob("*"))]
    if (data / SONG).exists():
        out.append((SONG, Path(SONG).stem, data / SONG, "lyrics"))
    for speech, music, skip in MIXES:
        if (data / speech).exists() and (data / music).exists():
            for level in LEVELS:
                name = f"mix/{Path(speech).stem[:24]}+{Path(music).stem[:16]}@-{level}dB"
                dest = tmp / f"{Path(speech).stem}.{level}.flac"
                out.append((name, Path(speech).stem, mix(data / speech, data / music, skip,
                                                         level, dest), "speech"))
    return out


def features(data: Path) -> list[dict]:
    """One labelled Evidence per Whisper segment of every clip, found as ccgen finds them;
    each non-speech clip is also transcribed with the VAD at the vocal threshold everywhere
    ("forced": what a VAD that fires on a bark, as on some CPUs, lets through)."""
    from ccgen.events.yamnet import YamnetModel
    from ccgen.media import load_audio, probe
    from ccgen.speech import FasterWhisperTranscriber, VadSettings, speech_regions
    from ccgen.speech.guard import evidence_of, listen

    s = GuardSettings()
    vad = VadSettings()
    whisper = FasterWhisperTranscriber(vad=vad)
    tagger = YamnetModel()
    song = vtt_spans(data / SONG_VTT) if (data / SONG_VTT).exists() else []
    rows = []
    with tempfile.TemporaryDirectory() as tmpdir:
        for name, group, path, expected in clips(data, Path(tmpdir)):
            print(name, file=sys.stderr, flush=True)
            audio = load_audio(path, probe(path))
            runs = [(name, vad)]
            if expected == "drop":
                runs.append((name.replace("events/", "forced/"),
                             VadSettings(threshold=s.vocal_threshold)))
            for run_name, settings in runs:
                regions = speech_regions(audio, settings)
                got = whisper.transcribe(audio, None, None, regions)
                data_ = {"words": [asdict(w) for w in got.words],
                         "segments": [asdict(g) for g in got.segments]}
                heard = listen(data_, regions, audio, tagger,
                               lambda a, v, lang=got.language: whisper.transcribe(
                                   a, lang, None, speech_regions(a, v)), s)
                for e, _ in evidence_of(heard.words, heard.segments, heard.scores,
                                        heard.classes, heard.probs, heard.songs):
                    label = expected
                    if expected == "lyrics" and not sung(e.start, e.end, song):
                        label = "drop"
                    rows.append({"clip": run_name, "group": group, "label": label,
                                 **asdict(e)})
    return rows


def examples(rows: list[dict]) -> list[tuple[Evidence, str]]:
    return [(Evidence(**{f.name: r[f.name] for f in fields(Evidence)}), r["label"]) for r in rows]


def errors(items: list[tuple[Evidence, str]], s: GuardSettings) -> int:
    """Misjudged segments, each weighted by its words (a lost sentence costs more than a
    lost 'You')."""
    bad = 0
    for e, label in items:
        got = judge(e, s)
        if (got if got in ("speech", "lyrics") else "drop") != label:
            bad += max(1, e.words)
    return bad


def search(items: list[tuple[Evidence, str]]) -> GuardSettings:
    """The grid point with the fewest errors. Many points tie; the choice is the tied point
    nearest (in grid steps) to the tied points' per-field median, i.e. in the middle of the
    region that works rather than on its edge."""
    keys = list(GRID)
    scored = []
    for values in itertools.product(*(GRID[k] for k in keys)):
        s = replace(GuardSettings(), **dict(zip(keys, values, strict=True)))
        scored.append((errors(items, s), values))
    least = min(n for n, _ in scored)
    tied = [v for n, v in scored if n == least]
    steps = [[GRID[k].index(v[i]) for i, k in enumerate(keys)] for v in tied]
    middle = [sorted(col)[len(col) // 2] for col in zip(*steps, strict=True)]
    best = min(range(len(tied)), key=lambda j: sum(
        abs(a - b) for a, b in zip(steps[j], middle, strict=True)))
    return replace(GuardSettings(), **dict(zip(keys, tied[best], strict=True)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--features", type=Path, default=Path("/tmp/ccgen-guard-features.json"))
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS.md")
    args = ap.parse_args(argv)
    if args.features.exists():
        rows = json.loads(args.features.read_text())
    else:
        rows = features(args.data_dir.resolve())
        args.features.write_text(json.dumps(rows, indent=1))
    names = sorted({r["group"] for r in rows})
    table = ["| held-out clip | expected | segments | wrong words held out | "
             "wrong words, all-clip choice |", "|---|---|---|---|---|"]
    full = search(examples(rows))
    held_total = all_total = 0
    for name in names:
        mine = [r for r in rows if r["group"] == name]
        chosen = search(examples([r for r in rows if r["group"] != name]))
        held, fit = errors(examples(mine), chosen), errors(examples(mine), full)
        held_total, all_total = held_total + held, all_total + fit
        labels = "/".join(sorted({r["label"] for r in mine}))
        table.append(f"| {name} | {labels} | {len(mine)} | {held} | {fit} |")
        print(table[-1], file=sys.stderr, flush=True)
    words = sum(max(1, r["words"]) for r in rows)
    body = [
        "## Speech guard thresholds (leave-one-clip-out)", "",
        f"- Machine: {machine()}",
        f"- Command: `python bench/guard_thresholds.py {args.data_dir}`",
        f"- {len(rows)} Whisper segments ({words} words) from {len(names)} clips; an error is a "
        "segment judged wrongly, counted in its words. A speech clip is held out together with "
        f"its mixes with music (ffmpeg amix, music {' and '.join(map(str, LEVELS))} dB under "
        "the speech); a non-speech clip with its forced pass (VAD at the vocal threshold "
        "everywhere: what Whisper writes when the VAD fires on a bark, as on some CPUs). "
        "Clips where Whisper wrote nothing (most events) have no segments to judge.", "",
        *table, "",
        f"Held-out errors: **{held_total}** of {words} words; with the settings chosen on all "
        f"clips: {all_total}. Chosen on all clips (the defaults): `{asdict(full)}`.",
    ]
    write_section(args.out, "guard", "\n".join(body))
    print("\n".join(body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
