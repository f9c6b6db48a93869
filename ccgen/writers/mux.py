"""Putting captions into the video: a soft subtitle track (mux) or pixels (burn-in), via ffmpeg.

Muxing copies every video and audio packet unchanged (``-c copy``): a caption file must never
cost picture quality or re-encode time. The new track is marked as the default and as meant for
deaf and hard-of-hearing viewers (ffmpeg's ``hearing_impaired`` disposition), with its language
as the container wants it (ISO 639-2). Each container takes one text codec, so the codec follows
the output's suffix. Burn-in has to re-encode the picture; it renders an ASS file with libass
(the ``subtitles`` filter) so the house style's look survives, and copies the audio.

Output is written next to the target under a temporary name and renamed into place, so a failed
run leaves no half-written video, and an existing file is never replaced without ``force``.
ffmpeg's exit code alone is not trusted: on a full disk ffmpeg 5 can fail to write the end of
the file and still exit 0. So the temporary file is flushed to disk and read back (its streams
and duration against the source's) before it takes the name; anything short is an error
naming the file. ffmpeg runs with a parent-death signal: it never outlives ccgen.

WebM cannot mark the track as meant for deaf and hard-of-hearing viewers: its muxer writes no
such flag (only Matroska's does), so a WebM copy gets the language, the default flag and the
title "SDH", with a warning; use .mkv or .mp4 where players must see the flag.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ccgen.errors import CcgenError, InputError, OutputExistsError, first_line
from ccgen.media.ffmpeg_bin import find_ffmpeg, media_url
from ccgen.stopping import child_preexec
from ccgen.writers.atomic import make_temp, publish

log = logging.getLogger("ccgen")

# Text subtitle codec each container carries.
CODECS = {".mp4": "mov_text", ".m4v": "mov_text", ".mov": "mov_text", ".mkv": "srt",
          ".webm": "webvtt"}
TEXT_INPUTS = (".srt", ".vtt", ".ass", ".ssa")
# Containers a burned-in copy can be written to (H.264 or, for WebM, VP9 video).
BURN_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm")
# A copy may be this much shorter than its source (rounding, a last partial frame).
SHORT_BY = 0.5
# ISO 639-1 -> ISO 639-2/B, the code Matroska and MP4 players show in their track menus.
ISO639_2 = {"en": "eng", "fr": "fre", "de": "ger", "es": "spa", "it": "ita", "pt": "por",
            "nl": "dut", "sv": "swe", "da": "dan", "no": "nor", "nb": "nob", "nn": "nno",
            "fi": "fin", "is": "ice", "pl": "pol", "cs": "cze", "sk": "slo", "sl": "slv",
            "hr": "hrv", "sr": "srp", "hu": "hun", "ro": "rum", "bg": "bul", "el": "gre",
            "tr": "tur", "ru": "rus", "uk": "ukr", "ar": "ara", "he": "heb", "fa": "per",
            "hi": "hin", "bn": "ben", "ta": "tam", "zh": "chi", "ja": "jpn", "ko": "kor",
            "vi": "vie", "th": "tha", "id": "ind", "ms": "may", "ca": "cat", "eu": "baq",
            "gl": "glg", "cy": "wel", "ga": "gle", "et": "est", "lv": "lav", "lt": "lit"}


def language_code(language: str | None) -> str:
    """The ISO 639-2 code of `language` ("en", "en-US", "eng"); "und" when unknown."""
    base = (language or "").lower().replace("_", "-").split("-")[0]
    if len(base) == 3 and base.isalpha():
        return base
    return ISO639_2.get(base, "und")


def same_file(a: Path, b: Path) -> bool:
    """Whether `a` and `b` name one file: the same path once links are followed, or the same
    file by identity (a hard link, a symlink, another mount of it)."""
    try:
        if os.path.realpath(a) == os.path.realpath(b):
            return True
    except (OSError, RuntimeError):  # a symlink loop is nobody's other name
        pass
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def check_target(video: Path, output: Path, force: bool, action: str = "mux") -> None:
    """Everything about an output video that is known before any work: InputError if it is
    the input, not a video container `action` ("mux" or "burn") can write, a folder, or
    exists without `force`."""
    suffix = output.suffix.lower()
    allowed = tuple(CODECS) if action == "mux" else BURN_SUFFIXES
    if suffix not in allowed:
        flag = "--mux" if action == "mux" else "--burn-in"
        raise InputError(f"{flag} {output}: cannot write {suffix or 'a file without suffix'}"
                         f"; use one of {', '.join(allowed)}")
    if same_file(video, output):
        raise InputError(f"{output}: the output must not be the input video")
    if os.path.isdir(output):
        raise InputError(f"{output}: is a folder; give a file name")
    if os.path.lexists(output) and not force:
        raise OutputExistsError(f"{output} exists; pass --force to replace it")


def _check_paths(video: Path, output: Path, force: bool, action: str = "mux") -> None:
    if not video.is_file():
        raise InputError(f"{video}: no such file")
    check_target(video, output, force, action)


@dataclass(frozen=True)
class Written:
    """What a media file holds, as read back: stream counts by kind and the duration."""

    streams: dict[str, int]
    duration: float


_STREAM = re.compile(r"Stream #\d+:\d+\S*: (Video|Audio|Subtitle):")
_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")


def read_back(path: Path, packets: bool = True) -> Written:
    """Streams of `path` and how long it lasts; CcgenError when it cannot be read at all.

    With `packets`, every packet is read (stream copy into ffmpeg's null muxer, which costs
    I/O, not decoding) and the duration is the time of the last one, so a file cut short is
    seen whatever its header claims; else the header's duration. Works with the static ffmpeg
    too, which has no ffprobe.
    """
    cmd = [find_ffmpeg().ffmpeg, "-nostdin", "-hide_banner", "-i", media_url(path)]
    if packets:
        cmd += ["-map", "0:v?", "-map", "0:a?", "-map", "0:s?", "-c", "copy", "-f", "null",
                "-", "-nostats", "-progress", "pipe:1"]
    run = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                         preexec_fn=child_preexec, check=False)
    if "Input #0" not in run.stderr or (packets and run.returncode != 0):
        raise CcgenError(f"{path.name}: unreadable ({_last(run.stderr)})")
    report = run.stderr.split("Output #0", 1)[0]
    counts: dict[str, int] = {}
    for kind in _STREAM.findall(report):
        counts[kind.lower()] = counts.get(kind.lower(), 0) + 1
    if packets:
        times = [int(t) for t in re.findall(r"^out_time_us=(\d+)$", run.stdout, re.M)]
        return Written(counts, max(times, default=0) / 1e6)
    match = _DURATION.search(report)
    duration = (int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3])) if match else 0.0
    return Written(counts, duration)


def _last(text: str | None) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1][:160] if lines else "no details"


def verify_copy(tmp: Path, source: Path, output: Path, subtitle_tracks: int) -> None:
    """Raise CcgenError naming `output` unless the file at `tmp` is all on disk and holds
    the source's pictures and sound for the source's whole duration."""
    try:
        with open(tmp, "rb") as fh:  # a full disk shows here too (delayed allocation)
            os.fsync(fh.fileno())
    except OSError as exc:
        raise CcgenError(f"could not write {output}: {exc.strerror}") from None
    try:
        got, want = read_back(tmp), read_back(source, packets=False)
    except CcgenError as exc:
        raise CcgenError(f"could not write {output}: what ffmpeg wrote is {exc}; "
                         "is the disk full?") from None
    needed = {"video": min(want.streams.get("video", 0), 1),  # burn-in keeps the first
              "audio": want.streams.get("audio", 0), "subtitle": subtitle_tracks}
    for kind, count in needed.items():
        if got.streams.get(kind, 0) < count:
            raise CcgenError(f"could not write {output}: it has no {kind} stream; "
                             "is the disk full?")

    def short(of: float) -> bool:
        return bool(of) and got.duration < of - max(SHORT_BY, 0.02 * of)

    # a source whose header claims more than it holds (cut short itself) is measured as the
    # copy is, by its packets, before the copy is called short
    if short(want.duration) and short(_held(source, want.duration)):
        raise CcgenError(f"could not write {output}: it lasts {got.duration:.1f} s of the "
                         f"source's {want.duration:.1f} s; is the disk full?")


def _held(source: Path, claimed: float) -> float:
    """Seconds `source` really holds, by its packets; `claimed` where it cannot be read."""
    try:
        return read_back(source).duration
    except CcgenError:
        return claimed


def _run(args: list[str], source: Path, output: Path, force: bool, hint: str = "",
         subtitle_tracks: int = 0) -> Path:
    """Run ffmpeg writing to a temporary sibling of `output`, check what it wrote, then
    rename it into place."""
    try:
        fd, tmp = make_temp(output, suffix=output.suffix)
    except OSError as exc:
        raise InputError(f"{output}: cannot write ({exc.strerror})") from None
    os.close(fd)
    cmd = [find_ffmpeg().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
           *args, media_url(tmp)]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                             preexec_fn=child_preexec, check=False)
        if run.returncode != 0:
            last = first_line(run.stderr, last=True, default="(no message)")
            raise CcgenError(f"ffmpeg could not write {output.name}: {last}{hint}")
        verify_copy(tmp, source, output, subtitle_tracks)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the copy from the rest of a team
        publish(tmp, output, force)
    finally:
        tmp.unlink(missing_ok=True)
    return output


def mux(video: str | Path, subtitles: str | Path, output: str | Path,
        language: str | None = None, force: bool = False) -> Path:
    """`video` with `subtitles` added as its default, hearing-impaired subtitle track.

    Video and audio are stream-copied; the track codec follows `output`'s container (mov_text
    for MP4/MOV, SubRip or ASS for MKV, WebVTT for WebM). An MKV keeps the video's existing
    subtitle tracks after the new one; MP4, MOV and WebM get the new track only.
    """
    video, subtitles, output = Path(video), Path(subtitles), Path(output)
    _check_paths(video, output, force)
    codec = CODECS[output.suffix.lower()]
    if subtitles.suffix.lower() not in TEXT_INPUTS:
        raise InputError(f"{subtitles.name}: mux takes a text subtitle file "
                         f"({', '.join(TEXT_INPUTS)}), not {subtitles.suffix or 'this'}")
    if not subtitles.is_file():
        raise InputError(f"{subtitles}: no such file")
    if codec == "srt" and subtitles.suffix.lower() in (".ass", ".ssa"):
        codec = "ass"  # Matroska keeps ASS styling as it is
    # Matroska copies any existing subtitle track; MP4 and WebM take only their one text codec,
    # so there the new track is the only one.
    keep = ["-map", "0:s?"] if output.suffix.lower() == ".mkv" else []
    args = ["-i", media_url(video), "-i", media_url(subtitles),
            "-map", "0:v?", "-map", "0:a?", "-map", "1:0", *keep,
            "-c", "copy", "-c:s:0", codec,
            "-metadata:s:s:0", f"language={language_code(language)}",
            "-metadata:s:s:0", "title=SDH",
            "-disposition:s:0", "default+hearing_impaired"]
    hint = ""
    if output.suffix.lower() == ".webm":
        hint = ("; WebM holds only VP8/VP9/AV1 video and Opus/Vorbis audio, which mux copies "
                "unchanged: use .mkv")
        log.warning("%s: WebM cannot flag the track as hearing-impaired (its muxer has no "
                    "such flag); the track is titled SDH. Use .mkv or .mp4 to carry the flag",
                    output.name)
    return _run(args, video, output, force, hint, subtitle_tracks=1)


def burn_in(video: str | Path, subtitles: str | Path, output: str | Path,
            force: bool = False) -> Path:
    """`video` re-encoded with `subtitles` (best an .ass from ccgen) drawn into the picture.

    The subtitle file is copied under a plain name into a temporary folder that ffmpeg runs
    in, so no character of the user's path can break the filter graph's quoting.
    """
    video, subtitles, output = Path(video), Path(subtitles), Path(output)
    _check_paths(video, output, force, "burn")
    if subtitles.suffix.lower() not in TEXT_INPUTS or not subtitles.is_file():
        raise InputError(f"{subtitles}: burn-in needs an existing .ass, .srt or .vtt file")
    vcodec = ["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "32"] \
        if output.suffix.lower() == ".webm" else ["-c:v", "libx264", "-crf", "18",
                                                    "-preset", "medium", "-pix_fmt", "yuv420p"]
    with tempfile.TemporaryDirectory(prefix="ccgen-burn-") as tmp:
        local = Path(tmp) / f"captions{subtitles.suffix.lower()}"
        shutil.copyfile(subtitles, local)
        args = ["-i", media_url(video), "-map", "0:v:0", "-map", "0:a?",
                "-vf", f"subtitles=filename={local.as_posix()}", *vcodec, "-c:a", "copy"]
        return _run(args, video, output.resolve(), force)
