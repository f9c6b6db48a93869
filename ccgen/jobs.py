"""What a batch reads and writes: its inputs (folders, globs, links) and each input's outputs.

:class:`Job` says where every output of an input goes, and checks before any work what can
be known then: two inputs writing one file, an output that is an input (by path or by
identity), a --mux/--burn-in copy that cannot be written. :func:`expand_inputs` turns the
command line's names into input files; a name that cannot be used (a symlink loop, a missing
file) stays, to fail as one input.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ccgen.errors import InputError

ANY_LANGUAGE = "\x00"  # stands for "whatever language" in an output name (--skip-existing)
MEDIA_SUFFIXES = frozenset(
    ".mp4 .mkv .mov .m4v .avi .webm .ts .mts .mxf .mpg .mpeg .wmv .flv .wav .flac .mp3 .m4a "
    ".aac .ogg .oga .opus .wma .aif .aiff".split())


@dataclass
class Job:
    """What to do with each input: formats, where outputs go, and whether to overwrite."""

    formats: list[str]
    output: Path | None = None
    output_dir: Path | None = None
    force: bool = False
    skip_existing: bool = False
    report: Path | None = None  # a .html file (one input) or a folder for per-input reports
    writer_options: dict = field(default_factory=dict)  # start, drop_frame, rate
    mux: Path | None = None  # a video file (one input) or a folder: captions as a track
    burn_in: Path | None = None  # the same, with open captions drawn into the picture

    def report_path(self, src: Path, language: str) -> Path | None:
        if self.report is None:
            return None
        if self.report.suffix.lower() in (".html", ".htm"):
            return self.report
        return self.report / f"{src.stem}.{language}.sdh.report.html"

    @staticmethod
    def video_path(target: Path | None, src: Path, tag: str) -> Path | None:
        """A muxed/burned copy: `target` itself for one input, or `<stem>.<tag><ext>` in it."""
        if target is None or target.suffix:
            return target
        return target / f"{src.stem}.{tag}{src.suffix}"

    def targets(self, src: Path, language: str) -> list[tuple[str, Path]]:
        if self.output is not None:
            return [(self.output.suffix.lower().lstrip("."), self.output)]
        folder = self.output_dir if self.output_dir is not None else src.parent
        return [(fmt, folder / f"{src.stem}.{language}.sdh.{fmt}") for fmt in self.formats]

    def all_outputs(self, src: Path, language: str) -> list[Path]:
        """Every file this job writes for `src` in `language`."""
        out = [dest for _, dest in self.targets(src, language)]
        out += [p for p in (self.report_path(src, language),
                            self.video_path(self.mux, src, "sdh"),
                            self.video_path(self.burn_in, src, "open-captions")) if p]
        return out

    def done(self, src: Path, language: str | None) -> list[Path] | None:
        """--skip-existing: the outputs of `src` when every one is there (in any language
        when none is given), else None."""
        found: list[Path] = []
        for dest in self.all_outputs(src, language or ANY_LANGUAGE):
            if ANY_LANGUAGE in dest.name:  # <stem>.<one language code>.sdh.<fmt>, exactly
                pattern = re.compile(re.escape(dest.name).replace(
                    re.escape(ANY_LANGUAGE), r"[^.\s]+"))
                there = sorted(p for p in (dest.parent.iterdir() if dest.parent.is_dir()
                                           else []) if pattern.fullmatch(p.name))
            else:
                there = [dest] if dest.exists() else []
            if not there:
                return None
            found += there
        return found

    def video_targets(self, src: Path) -> list[tuple[str, Path]]:
        """("mux" or "burn", path) of each copy of the video this job writes for `src`."""
        return [(action, dest) for action, dest in (
            ("mux", self.video_path(self.mux, src, "sdh")),
            ("burn", self.video_path(self.burn_in, src, "open-captions"))) if dest is not None]

    def precheck(self, src: Path) -> None:
        """What can be known about `src`'s outputs before it is captioned: InputError when
        a --mux/--burn-in copy is the input, cannot be written in its container, exists
        without --force, or --burn-in is asked of audio-only media (no SRT is left behind)."""
        from ccgen.writers.mux import check_target

        if self.burn_in is not None and src.is_file():  # said first: the real reason
            from ccgen.media.mediainfo import probe

            if not probe(src).has_video:
                raise InputError(f"--burn-in: {src} has no video to draw captions into")
        for action, dest in self.video_targets(src):
            check_target(src, dest, self.force or self.skip_existing, action)

    def check_not_inputs(self, inputs: list[Path], language: str | None) -> None:
        """No output may ever be an input: by path, or by identity (a hard link, a symlink
        to it). Checked before any work; a name with the language still open (detected
        later) is matched against the inputs with any language code in its place. Lookups
        only, so a batch of thousands costs milliseconds."""
        paths: dict[str, Path] = {}
        ids: dict[tuple[int, int], Path] = {}
        open_names: dict[tuple[str, str, str], Path] = {}  # (folder, before, after) the code
        for src in inputs:
            paths.setdefault(_real(src), src)
            with contextlib.suppress(OSError):
                st = os.stat(src)
                ids.setdefault((st.st_dev, st.st_ino), src)
            parts, folder = src.name.split("."), _real(src.parent)
            for i in range(1, len(parts) - 1):  # each inner part may be a language code
                if parts[i] and not any(c.isspace() for c in parts[i]):
                    key = (folder, ".".join(parts[:i]), ".".join(parts[i + 1:]))
                    open_names.setdefault(key, src)
        for src in inputs:
            for dest in self.all_outputs(src, language or ANY_LANGUAGE):
                if ANY_LANGUAGE in dest.name:
                    before, _, after = dest.name.partition(f".{ANY_LANGUAGE}.")
                    clash = open_names.get((_real(dest.parent), before, after))
                else:
                    clash = paths.get(_real(dest))
                    with contextlib.suppress(OSError):
                        st = os.stat(dest)
                        clash = clash or ids.get((st.st_dev, st.st_ino))
                if clash is not None:
                    raise InputError(f"{dest}: an output would replace the input {clash}; "
                                     "choose another name or folder")

    def check_collisions(self, inputs: list[Path], language: str | None) -> None:
        """Two inputs must not write one file (a.mp4 and a.mkv, or ep.mp4 from two folders
        into one -d): found before any work, not as an overwrite or a failure later."""
        owner: dict[Path, Path] = {}
        for src in inputs:
            for dest in self.all_outputs(src, language or "LANG"):
                key = _real(dest)
                if key in owner and owner[key] != src:
                    raise InputError(f"{owner[key]} and {src} would both write {dest}; "
                                     "caption them into different folders (-d)")
                owner[key] = src


def expand_inputs(items: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders searched recursively for media; globs expanded.

    A name that matches nothing is kept, so that it fails with "no such file" in the report
    instead of vanishing from the batch.
    """
    out: list[Path] = []
    for item in items:
        path = Path(item)
        found = [path]
        if path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES
                           and not _ours(p.name)) or found
        elif not path.exists() and glob.has_magic(str(item)):
            found = sorted(Path(p) for p in glob.glob(str(item), recursive=True)
                           if Path(p).is_file() and not _ours(Path(p).name)) or found
        out += found
    unique: dict[str, Path] = {}
    for path in out:  # one file named twice (relative and absolute) is captioned once
        unique.setdefault(_real(path), path)
    return list(unique.values())


def _real(path: Path) -> str:
    """`path` with links followed; a symlink loop is itself (it fails as one input later)."""
    try:
        return os.path.realpath(path, strict=False)
    except (OSError, RuntimeError, ValueError):
        return os.path.abspath(path)


def _ours(name: str) -> bool:
    """ccgen's own outputs (a muxed or burned-in copy) are not inputs of the next run."""
    return ".sdh." in name or ".open-captions." in name


# ----------------------------------------------------------------------------- planning a run

BUILTIN_FORMATS = ("srt", "vtt", "ass", "json", "scc", "ttml", "stl")
BROADCAST = ("scc", "ttml", "stl")


def known_formats() -> list[str]:
    """Every registered writer's format, built-in first (read when used: a writer registered
    after import counts)."""
    from ccgen.writers import formats

    return [*BUILTIN_FORMATS, *(f for f in formats() if f not in BUILTIN_FORMATS)]


def parse_formats(value: str) -> list[str]:
    """``-f srt,vtt``: the formats in order, each once; InputError naming the choices."""
    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    known = known_formats()
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise InputError(f"unknown format {', '.join(bad) or value!r}; "
                         f"choose from {','.join(known)}")
    from ccgen.writers import REGISTRY

    for name in names:
        REGISTRY.require(name)  # a format this machine cannot write: one line, exit 2
    return list(dict.fromkeys(names))


def plan_caption(inputs: tuple[str, ...], o: dict, fmt_given: bool) -> tuple[Job, list[Path]]:
    """The job and the input files of ``ccgen caption``, with every check that needs no model
    done first (options that do not fit together, outputs that cannot be written, inputs that
    are not media): bad usage is found in a second, not after the work. `o` holds the
    command's options by name; `fmt_given`: -f was on the command line."""
    from ccgen import stopping, usage
    from ccgen.batch import check_manifest
    from ccgen.errors import CcgenError

    job = _job_of(o, fmt_given)
    output = o["output"]
    files = expand_inputs(inputs)
    if not files:
        raise InputError(f"no media files found in {', '.join(inputs)}")
    if output is not None and len(files) > 1:
        raise InputError("-o/--output takes one input; use -d/--output-dir for several")
    if o["shot_changes"] not in ("auto", "none") and len(files) > 1:
        raise InputError("--shot-changes FILE is one video's list; use auto for several inputs")
    job.check_not_inputs(files, o["language"])  # no output may ever be an input
    if o["manifest"] is not None:
        check_manifest(o["manifest"], files, job)
    if len(files) == 1:  # a batch fails such a file alone, still before captioning it
        try:
            usage.check_input(files[0], o["audio_stream"])
            job.precheck(files[0])
        except CcgenError:
            if stopping.stopped_by() is None:
                raise
            # else Ctrl-C reached the probe too (one process group): the run was stopped,
            # the input is not to blame; release() below stops it, with the manifest
    return job, files


def _job_of(o: dict, fmt_given: bool) -> Job:
    """The job the options ask for, once they fit together and every output folder can be
    written (checked before any input is looked at)."""
    from ccgen import usage
    from ccgen.captions import load_style
    from ccgen.writers.atomic import check_free, check_writable
    from ccgen.writers.timecode import check_timecode, frame_rate

    output, report = o["output"], o["report"]
    formats = parse_formats(o["fmt"])
    timing = {"start": o["start_timecode"], "drop_frame": o["drop_frame"],
              "rate": o["frame_rate"]}
    used = [f"--{k.replace('_', '-')}" for k in ("start_timecode", "frame_rate")
            if o[k] is not None]
    used += ["--drop-frame/--non-drop-frame"] if o["drop_frame"] is not None else []
    if used and not set(formats) & set(BROADCAST):
        raise InputError(f"{', '.join(used)} applies to the broadcast formats "
                         f"({','.join(BROADCAST)}); add one with -f")
    if o["start_timecode"] is not None:
        check_timecode(o["start_timecode"])
    if o["frame_rate"] is not None:
        frame_rate(o["frame_rate"])
    job = Job(formats, output, o["output_dir"], o["force"], o["skip_existing"], report, timing,
              o["mux"], o["burn_in"])
    if report is not None:  # checked now, not after the work (a .html file, else a folder)
        check_writable(report.parent if report.suffix.lower() in (".html", ".htm") else report)
    for target in (o["mux"], o["burn_in"]):
        if target is not None:
            check_writable(target.parent if target.suffix else target)
    if output is not None and output.suffix.lower().lstrip(".") not in known_formats():
        raise InputError(f"-o {output}: the suffix must be one of "
                         f".{', .'.join(known_formats())}")
    if output is not None and fmt_given and formats != [output.suffix.lower().lstrip(".")]:
        raise InputError(f"-o {output} writes one {output.suffix} file; drop -f, or use -d "
                         "for several formats")
    load_style(o["style"])  # a bad style is bad usage: say so before loading any model
    usage.check_language(o["language"])
    usage.check_models(o)
    if output is not None and not o["skip_existing"]:
        check_free(output, o["force"])  # a folder, or a file kept without --force
    if o["output_dir"] is not None:
        check_writable(o["output_dir"])
    return job
