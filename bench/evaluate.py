#!/usr/bin/env python3
"""Measure ccgen's caption quality on a folder of real recordings and write bench/RESULTS.md.

    python bench/evaluate.py DATA_DIR [--out bench/RESULTS.md] [--asr-model M] [--only SECTION]

DATA_DIR holds speech/ (audio with .txt transcripts and/or .rttm speaker turns), events/
(non-speech clips, labelled in MANIFEST.tsv or by a sibling .txt) and captions/ (human subtitle
files). ccgen runs on each clip as a subprocess, so wall time, real-time factor and peak RSS are
those of a real invocation. Clips are read where they are; nothing is copied into the repo.
A clip that ccgen fails on is recorded as failed; what cannot be measured yet is skipped with a
printed reason.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import platform
import re
import shlex
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import machine, measured, write_section  # noqa: E402

from ccgen.evaluation import metrics as M  # noqa: E402
from ccgen.evaluation.normalize import strip_caption_markup  # noqa: E402

MEDIA = {".flac", ".wav", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".mp4", ".mov", ".mkv",
         ".webm", ".avi", ".ts"}
BEGIN, END = "<!-- evaluation:begin -->", "<!-- evaluation:end -->"
NO_SPEECH_HINT = re.compile(r"no dialogue|no speech|without (any )?dialogue", re.IGNORECASE)
BASELINE = """import json, sys
from faster_whisper import WhisperModel
model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8")
segments, info = model.transcribe(sys.argv[2], word_timestamps=True)
text = " ".join(s.text.strip() for s in segments)
json.dump({"text": text, "duration": info.duration}, open(sys.argv[3], "w"))
"""


@dataclass
class Clip:
    """One media file to caption, with whatever references it has."""

    rel: str
    path: Path
    section: str                  # "speech", "events" or "songs"
    label: str | None = None      # MANIFEST label text (events)
    no_speech: bool = False       # must produce no speech cues
    txt: Path | None = None
    rttm: Path | None = None
    lyrics: Path | None = None    # human lyric captions of a song (section "songs")

    @property
    def key(self) -> str:
        """File-name-safe unique name for temporary outputs."""
        return re.sub(r"[^\w.-]", "_", self.rel.replace("/", "__"))


@dataclass
class Run:
    """Outcome of one measured subprocess."""

    ok: bool
    reason: str = ""
    wall: float = 0.0
    rss_kib: int = 0
    data: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- discovery

def discover(data: Path) -> tuple[list[Clip], list[Path], list[str]]:
    """Clips, caption files and skip notes, from MANIFEST.tsv when present, else the layout."""
    notes: list[str] = []
    entries: list[tuple[str, str, str]] = []  # (relative path, kind, reference)
    manifest = data / "MANIFEST.tsv"
    if manifest.exists():
        with manifest.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                entries.append((row["file"], row.get("kind") or "", row.get("reference") or ""))
    else:
        for sub in ("speech", "events", "captions"):
            for p in sorted((data / sub).glob("*")):
                label = p.with_suffix(".txt").read_text(encoding="utf-8").strip() \
                    if sub == "events" and p.with_suffix(".txt").exists() else ""
                entries.append((f"{sub}/{p.name}", "", label))
    clips, captions = [], []
    for rel, kind, ref in entries:
        path, section = data / rel, rel.split("/", 1)[0]
        if not path.exists():
            notes.append(f"{rel}: listed but missing, skipped")
        elif section == "captions" and path.suffix.lower() in MEDIA:
            # a song with its human lyric captions (MANIFEST reference, else a sibling file)
            named = data / ref.split()[0] if ref.strip() else None
            subs = [named] if named and named.exists() else [
                p for p in (path.with_suffix(".vtt"), path.with_suffix(".srt")) if p.exists()]
            clips.append(Clip(rel, path, "songs", label=ref or None, no_speech=False,
                              lyrics=subs[0] if subs else None))
        elif section == "captions":
            captions.append(path)
        elif path.suffix.lower() in MEDIA and section in ("speech", "events"):
            txt, rttm = path.with_suffix(".txt"), path.with_suffix(".rttm")
            clips.append(Clip(
                rel, path, section,
                label=ref or None if section == "events" else None,
                no_speech=section == "events" or bool(NO_SPEECH_HINT.search(kind + " " + ref)),
                txt=txt if section == "speech" and txt.exists() else None,
                rttm=rttm if rttm.exists() else None))
    return clips, captions, notes


# ----------------------------------------------------------------------------- running

def _ccgen_cmd(override: str) -> list[str]:
    """The ccgen to measure: --ccgen, else the checkout's .venv/bin/ccgen, else ``python -m``."""
    if override:
        return shlex.split(override)
    exe = REPO / ".venv" / "bin" / "ccgen"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ccgen"]


def _python() -> str:
    """Interpreter for the baseline: the one ccgen runs under, so faster-whisper matches."""
    exe = REPO / ".venv" / "bin" / "python"
    return str(exe) if exe.exists() else sys.executable


def run_ccgen(clip: Clip, tmp: Path, args: argparse.Namespace) -> Run:
    """Caption one clip to a JSON timeline and measure the run."""
    out = tmp / (clip.key + ".json")
    # --no-cache: every stage computed, or the wall time and RSS would be a cache read's
    cmd = [*_ccgen_cmd(args.ccgen), str(clip.path), "-f", "json", "-o", str(out), "--force", "-q",
           "--no-cache"]
    if args.asr_model:
        cmd += ["--asr-model", args.asr_model]
    cmd += shlex.split(args.ccgen_args)
    code, wall, rss, tail = measured(cmd, tmp / (clip.key + ".log"), args.timeout)
    if code != 0 or not out.exists():
        return Run(False, f"ccgen exit {code}: {tail or 'no output'}", wall, rss)
    try:
        data = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return Run(False, f"unreadable JSON: {exc}", wall, rss)
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        (Path(args.keep) / out.name).write_text(json.dumps(data, indent=1), encoding="utf-8")
    return Run(True, "", wall, rss, data)


def run_baseline(clip: Clip, model: str, tmp: Path, timeout: float) -> Run:
    """Bare faster-whisper with the same model on the same clip (CPU, int8)."""
    out = tmp / (clip.key + ".baseline.json")
    cmd = [_python(), "-c", BASELINE, model, str(clip.path), str(out)]
    code, wall, rss, tail = measured(cmd, tmp / (clip.key + ".baseline.log"), timeout)
    if code != 0 or not out.exists():
        return Run(False, f"faster-whisper exit {code}: {tail}", wall, rss)
    return Run(True, "", wall, rss, json.loads(out.read_text(encoding="utf-8")))


def duration_of(run: Run, baseline: Run | None) -> float | None:
    """Audio length in seconds: from the ccgen JSON, else from faster-whisper's info."""
    for r in (run, baseline):
        if r is not None and r.ok and r.data.get("duration"):
            return float(r.data["duration"])
    return None


# ----------------------------------------------------------------------------- sections

def table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    """A Markdown table; cells are str()-ed, pipes escaped, a caption's line break shown as /."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " / ") for c in r)
              + " |" for r in rows]
    return lines


def pct(x: float | None) -> str:
    """A rate as a percentage, "n/a" when undefined."""
    return "n/a" if x is None else f"{100 * x:.1f} %"


def cues_of(run: Run, *kinds: str) -> list[dict[str, Any]]:
    """The timeline's cues, optionally only those of the given kinds."""
    return [c for c in run.data.get("cues", []) if not kinds or c.get("kind") in kinds]


def speech_text(run: Run) -> str:
    """ccgen's transcript for WER: speech cues in time order, SDH markup removed."""
    cues = sorted(cues_of(run, "speech"), key=lambda c: float(c["start"]))
    return " ".join(strip_caption_markup(str(c.get("text", ""))) for c in cues)


def wer_section(clips: list[Clip], runs: dict[str, Run], base: dict[str, Run]) -> list[str]:
    """WER per clip with a .txt reference, ccgen beside bare faster-whisper (the ASR floor)."""
    rows, ours, bare = [], [], []
    for c in (c for c in clips if c.txt):
        ref = c.txt.read_text(encoding="utf-8")
        run, b = runs[c.rel], base.get(c.rel)
        if not run.ok:
            rows.append([c.rel, "failed", "", "", run.reason])
            continue
        w = M.word_error_rate(ref, speech_text(run))
        ours.append(w)
        bw = M.word_error_rate(ref, b.data["text"]) if b and b.ok else None
        if bw is not None:
            bare.append(bw)
        note = "" if b is None or b.ok else b.reason
        rows.append([c.rel, pct(w.wer), f"{w.substitutions}/{w.deletions}/{w.insertions}",
                     pct(bw.wer) if bw else "skipped", note])
    if ours:
        rows.append(["**pooled**", pct(M.pooled_wer(ours)), "",
                     pct(M.pooled_wer(bare)) if bare else "n/a", f"{len(ours)} clips"])
    return table(["clip", "WER ccgen", "S/D/I", "WER bare faster-whisper", "note"], rows)


def caption_turns(cue: dict, file: str) -> list[M.Turn]:
    """A speech caption as speaker turns: a dashed exchange's span is shared between its
    `speakers` in proportion to their lines' lengths (the JSON has no per-line times)."""
    start, end = float(cue["start"]), float(cue["end"])
    who = cue.get("speakers") or [cue.get("speaker") or "(none)"]
    lines = cue["text"].split("\n")
    if len(who) < 2 or len(lines) != len(who):
        return [M.Turn(start, end, str(who[0]), file)]
    sizes = [max(1, len(line)) for line in lines]
    turns, at = [], start
    for speaker, size in zip(who, sizes, strict=True):
        step = (end - start) * size / sum(sizes)
        turns.append(M.Turn(at, at + step, str(speaker), file))
        at += step
    return turns


def der_section(clips: list[Clip], runs: dict[str, Run], keep: str | None) -> list[str]:
    """DER per clip with an .rttm reference; speech cues' speakers are the hypothesis."""
    rows, total, errors = [], 0.0, 0.0
    for c in (c for c in clips if c.rttm):
        run = runs[c.rel]
        if not run.ok:
            rows.append([c.rel, "failed", "", "", "", "", run.reason])
            continue
        ref = M.read_rttm(c.rttm)
        speech = cues_of(run, "speech")
        if speech and all(s.get("speaker") is None for s in speech):
            print(f"skip DER {c.rel}: diarization not available yet", file=sys.stderr)
            rows.append([c.rel, len({t.speaker for t in ref}), "", "skipped", "", "",
                         "diarization not available yet"])
            continue
        hyp = [t for s in speech for t in caption_turns(s, c.path.stem)]
        if keep:
            M.write_rttm(hyp, Path(keep) / (c.path.stem + ".hyp.rttm"))
        r = M.diarization_error_rate(ref, hyp)
        total += r.total
        errors += r.missed + r.false_alarm + r.confusion
        rows.append([c.rel, len({t.speaker for t in ref}), len({t.speaker for t in hyp}),
                     pct(r.der), f"{r.missed:.2f}/{r.false_alarm:.2f}/{r.confusion:.2f}",
                     f"{r.total:.2f}", "" if speech else "no speech cues"])
    if total:
        rows.append(["**pooled**", "", "", pct(errors / total), "", f"{total:.2f}", ""])
    return table(["clip", "ref speakers", "hyp speakers", "DER", "miss/FA/conf s",
                  "scored s", "note"], rows)


def events_section(clips: list[Clip], runs: dict[str, Run]) -> list[str]:
    """Event recall/precision over labelled clips and invented speech over all no-speech clips."""
    table_ = M.load_synonyms()
    rows, hits, labelled, named, sounds, invented = [], 0, 0, 0, 0, 0
    for c in (c for c in clips if c.no_speech):
        run = runs[c.rel]
        concept = M.concept_from_label(c.label or "")
        if not run.ok:
            rows.append([c.rel, concept or "-", "failed", "", "", run.reason])
            continue
        speech = cues_of(run, "speech")
        invented += len(speech)
        note = f"invented: {speech[0].get('text', '')!r}"[:80] if speech else ""
        if concept is None:
            rows.append([c.rel, "-", "not scored", len(cues_of(run, *M.SOUND_KINDS)),
                         len(speech), note or "no labelled concept"])
            continue
        m = M.match_events(run.data.get("cues", []), concept, table_)
        labelled, hits = labelled + 1, hits + m.hit
        sounds, named = sounds + m.sound_cues, named + m.naming_cues
        texts = "; ".join(str(x.get("text", "")) for x in cues_of(run, *M.SOUND_KINDS))[:80]
        rows.append([c.rel, concept, "yes" if m.hit else "no", f"{m.naming_cues}/{m.sound_cues}",
                     len(speech), note or texts])
    lines = table(["clip", "concept", "named", "naming/sound cues", "speech cues", "cues / note"],
                  rows)
    lines += ["", f"Recall {hits}/{labelled} = {pct(hits / labelled if labelled else None)}; "
              f"precision {named}/{sounds} = {pct(named / sounds if sounds else None)}; "
              f"invented speech cues: **{invented}** (must be 0)."]
    return lines


def lyrics_section(clips: list[Clip], runs: dict[str, Run]) -> list[str]:
    """A song must come out as ♪ lyrics, not dialogue: per song, cues by kind, the share of
    lyric captions marked with ♪, the lyrics' WER against the human lyric captions, and how
    much of the human captions' time the lyric captions cover (and the reverse)."""
    import pysubs2

    rows = []
    for c in (c for c in clips if c.section == "songs"):
        run = runs[c.rel]
        if not run.ok or c.lyrics is None:
            rows.append([c.rel, "", "", "", "", "", run.reason or "no human lyric captions"])
            continue
        ref = [e for e in pysubs2.load(str(c.lyrics)) if e.plaintext.strip()]
        ref_spans = [(e.start / 1000, e.end / 1000) for e in ref]
        sung = cues_of(run, "lyrics")
        spans = [(float(x["start"]), float(x["end"])) for x in sung]
        marked = sum("♪" in str(x.get("text", "")) for x in sung)
        said = " ".join(e.plaintext.replace("\n", " ") for e in ref)
        heard = " ".join(strip_caption_markup(str(x.get("text", ""))).replace("♪", " ")
                         for x in sorted(sung, key=lambda x: float(x["start"])))
        w = M.word_error_rate(said, heard)

        def covered(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
            total = sum(e - s for s, e in a)
            inside = sum(max(0.0, min(e, f) - max(s, g)) for s, e in a for g, f in b)
            return inside / total if total else 0.0

        rows.append([c.rel, f"{len(sung)}/{len(cues_of(run, 'speech'))}",
                     f"{marked}/{len(sung)}", pct(w.wer),
                     pct(covered(ref_spans, spans)), pct(covered(spans, ref_spans)),
                     c.lyrics.name])
    return table(["song", "lyrics/speech cues", "lyrics with ♪", "lyrics WER",
                  "human lyric time covered", "lyric time inside human", "reference"], rows)


def style_section(items: list[tuple[str, list[dict[str, Any]] | Path | str]]) -> list[str]:
    """`ccgen lint` (Netflix preset) per file: cues from a ccgen timeline, or a subtitle file
    lint reads itself; a str is a skip reason."""
    from ccgen.captions import load_style
    from ccgen.captions.lint import lint_cues, lint_file
    from ccgen.cues import Cue
    from ccgen.errors import CcgenError

    netflix = load_style("netflix")
    rows = []
    for name, cues in items:
        if isinstance(cues, str):
            rows.append([name, "", "skipped", cues])
            continue
        try:
            report = lint_file(cues, netflix) if isinstance(cues, Path) else lint_cues(
                [Cue(**c) for c in cues], netflix)
        except CcgenError as exc:
            rows.append([name, "", "skipped", str(exc)])
            continue
        rules = ", ".join(f"{k} {n}" for k, n in report.summary().items())
        rows.append([name, report.cues, report.violations, rules])
    return table(["file", "cues", "violations", "by rule"], rows)


def reading_speed_section(clips: list[Clip], tmp: Path, args: argparse.Namespace
                          ) -> list[str]:
    """Captions over each preset's reading speed on meeting speech (clips with speaker turns).

    ccgen runs once per clip and preset with its stage cache on, so the words are recognised
    once and each preset only makes captions. An overrun is `forced` when it lies in a run of
    captions that needs more time than there is between the first one's start and the latest
    the next caption may appear (see ``ccgen.captions.readability.overruns``: from display
    times, as a JSON timeline has no words); any other one is a case retiming could fix."""
    from ccgen.captions import load_style, presets
    from ccgen.captions.readability import overruns
    from ccgen.cues import Cue

    rows, notes = [], []
    for name in presets():
        style = load_style(name)
        total = over = forced = alone = 0
        worst = 0.0
        for c in clips:
            out = tmp / f"{c.key}.{name}.json"
            cmd = [*_ccgen_cmd(args.ccgen), str(c.path), "-f", "json", "-o", str(out),
                   "--force", "-q", "--style", name]
            cmd += ["--asr-model", args.asr_model] if args.asr_model else []
            code, _, _, tail = measured(cmd + shlex.split(args.ccgen_args),
                                        tmp / f"{c.key}.{name}.log", args.timeout)
            if code != 0 or not out.exists():
                notes.append(f"{c.rel} ({name}): ccgen exit {code}: {tail or 'no output'}")
                continue
            data = json.loads(out.read_text(encoding="utf-8"))
            cues = [Cue(**x) for x in data.get("cues", [])]
            found = overruns(cues, style, style.min_gap(data.get("frame_rate")),
                             data.get("duration"))
            total, over = total + len(cues), over + len(found)
            forced += sum(o.forced for o in found)
            alone += sum(o.alone for o in found)
            worst = max([worst, *(o.cps for o in found)])
        rows.append([name, f"{style.max_cps:g}", total, over, forced, alone,
                     f"{worst:.1f}" if over else "-"])
    lines = [f"Meeting speech: {', '.join(c.rel for c in clips)}. *In a forced run*: the "
             "caption lies in a run of captions that needs more time (reading time, at least "
             "the minimum duration, with the gaps) than there is before the caption after "
             "them must appear (0.5 s after it does now), so no timing makes them all "
             "readable. *Unfixable alone*: its own text needs more time than from its start "
             "to that latest next start. Measured from display times.", "",
             *table(["preset", "max cps", "captions", "over reading speed", "in a forced run",
                     "unfixable alone", "worst cps"], rows)]
    return lines + ([""] + [f"- {n}" for n in notes] if notes else [])


def perf_section(clips: list[Clip], runs: dict[str, Run], base: dict[str, Run],
                 durations: dict[str, float | None]) -> list[str]:
    """Wall time, real-time factor (wall / audio) and peak RSS, ccgen and bare whisper."""
    rows = []
    for c in clips:
        run, d, b = runs[c.rel], durations[c.rel], base.get(c.rel)
        rtf = f"{run.wall / d:.2f}" if d else "n/a"
        brtf = f"{b.wall / d:.2f}" if b and b.ok and d else ""
        rows.append([c.rel, f"{d:.1f}" if d else "?", "ok" if run.ok else "failed",
                     f"{run.wall:.1f}", rtf, f"{run.rss_kib / 1024:.0f}", brtf,
                     f"{b.rss_kib / 1024:.0f}" if b and b.ok else ""])
    return ["ccgen runs with `--no-cache` (every stage computed) in a fresh process; the "
            "times include loading the models.", "",
            *table(["clip", "audio s", "ccgen", "wall s", "RTF", "peak RSS MiB",
                    "bare whisper RTF", "bare RSS MiB"], rows)]


# ----------------------------------------------------------------------------- report

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS.md")
    ap.add_argument("--asr-model", help="passed to ccgen --asr-model and used for the baseline")
    ap.add_argument("--only", choices=["speech", "events", "captions", "songs", "reading"],
                    help="one section; reading: captions over each preset's reading speed")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per clip (default 3600)")
    ap.add_argument("--no-baseline", action="store_true", help="skip bare faster-whisper")
    ap.add_argument("--ccgen", default="", help="ccgen command (default: .venv/bin/ccgen)")
    ap.add_argument("--ccgen-args", default="", help='extra ccgen options, e.g. "--device cpu"')
    ap.add_argument("--keep", help="folder to keep JSON timelines and hypothesis RTTMs in")
    args = ap.parse_args(argv)
    data = args.data_dir.resolve()
    if not data.is_dir():
        print(f"evaluate: {data} is not a folder", file=sys.stderr)
        return 2
    clips, captions, notes = discover(data)
    meetings = [c for c in clips if c.section == "speech" and c.rttm] if args.only in (
        None, "speech", "reading") else []
    clips = [c for c in clips if args.only in (None, c.section)]
    captions = captions if args.only in (None, "captions") else []
    runs: dict[str, Run] = {}
    base: dict[str, Run] = {}
    durations: dict[str, float | None] = {}
    with tempfile.TemporaryDirectory(prefix="ccgen-eval-") as tmpdir:
        tmp = Path(tmpdir)
        for i, c in enumerate(clips, 1):
            print(f"[{i}/{len(clips)}] {c.rel} ...", file=sys.stderr, flush=True)
            run = runs[c.rel] = run_ccgen(c, tmp, args)
            if not run.ok:
                print(f"  failed, skipped: {run.reason}", file=sys.stderr)
                notes.append(f"{c.rel}: ccgen failed ({run.reason})")
            model = args.asr_model or (run.data.get("models") or {}).get("transcriber")
            if c.txt and not args.no_baseline:
                if model:
                    base[c.rel] = run_baseline(c, str(model), tmp, args.timeout)
                else:
                    base[c.rel] = Run(False, "no transcriber model known (ccgen failed "
                                      "or JSON lacks models.transcriber)")
                if not base[c.rel].ok:
                    print(f"  baseline skipped: {base[c.rel].reason}", file=sys.stderr)
            durations[c.rel] = duration_of(run, base.get(c.rel))
        if meetings:
            print("reading speed per preset ...", file=sys.stderr, flush=True)
            reading = reading_speed_section(meetings, tmp, args)
    models: dict[str, set[str]] = {}
    for run in runs.values():
        for k, v in (run.data.get("models") or {}).items():
            models.setdefault(k, set()).add(str(v))
    version = next((r.data.get("ccgen") for r in runs.values() if r.ok), "?")
    head = [BEGIN, f"## Evaluation {dt.date.today().isoformat()}", "",
            f"- Machine: {machine()}",
            f"- Python {platform.python_version()}; ccgen {version}",
            "- Models: " + ("; ".join(f"{k}: {', '.join(sorted(v))}" for k, v in sorted(
                models.items())) or "n/a (no successful ccgen run)"),
            f"- Data: `{data}`" + (f" (only {args.only})" if args.only else ""),
            f"- DER: frame step {M.FRAME_STEP * 1000:.0f} ms, collar {M.DEFAULT_COLLAR} s each "
            f"side of reference boundaries, overlap scored, speaker mapping {M.MAPPING_METHOD}; "
            "hypothesis turns are ccgen's speech cues (display timing)."]
    sections: list[tuple[str, list[str]]] = []
    if any(c.section == "speech" for c in clips):
        sections += [("Speech recognition (WER, normalised text)", wer_section(clips, runs, base)),
                     ("Diarization (DER)", der_section(clips, runs, args.keep))]
    if any(c.no_speech for c in clips):
        sections.append(("Sound events and invented speech", events_section(clips, runs)))
    if any(c.section == "songs" for c in clips):
        sections.append(("Songs: lyrics against human lyric captions", lyrics_section(clips, runs)))
    if clips:
        produced = [(c.rel, cues_of(runs[c.rel]) if runs[c.rel].ok else "ccgen failed")
                    for c in clips]
        sections += [("Style of produced captions (`ccgen lint`, Netflix)",
                      style_section(produced)),
                     ("Speed and memory", perf_section(clips, runs, base, durations))]
    if meetings:
        sections.append(("Reading speed per preset (meeting speech)", reading))
    if captions:
        human: list[tuple[str, list[dict[str, Any]] | Path | str]] = [
            (p.name, p) for p in captions]
        sections.append(("Style of human captions (`ccgen lint`, Netflix, for reference)",
                         style_section(human)))
    body: list[str] = []
    for title, lines in sections:
        body += ["", f"### {title}", "", *lines]
        print(f"\n### {title}\n\n" + "\n".join(lines))
    if notes:
        body += ["", "### Skipped or failed", "", *[f"- {n}" for n in notes]]
    if args.only == "reading":  # its own section: a partial run keeps the full evaluation
        head[1] = head[1].replace("## Evaluation", "## Reading speed per preset (`--only reading`)")
        write_section(args.out, "reading", "\n".join([*head[1:4], head[6], *body]))
    else:
        write_section(args.out, "evaluation", "\n".join(head + body + ["", END]))
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
