"""Putting captions into the video: a soft subtitle track (mux) or pixels (burn-in), via ffmpeg.

Muxing copies every video and audio packet unchanged (``-c copy``): a caption file must never
cost picture quality or re-encode time. The new track is marked as the default and as meant for
deaf and hard-of-hearing viewers (ffmpeg's ``hearing_impaired`` disposition), with its language
as the container wants it (ISO 639-2). Each container takes one text codec, so the codec follows
the output's suffix. Burn-in has to re-encode the picture; it renders an ASS file with libass
(the ``subtitles`` filter) so the house style's look survives, and copies the audio.

Output is written next to the target under a temporary name and renamed into place, so a failed
run leaves no half-written video, and an existing file is never replaced without ``force``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ccgen.errors import CcgenError, InputError, OutputExistsError
from ccgen.media.ffmpeg_bin import find_ffmpeg, media_url

# Text subtitle codec each container carries.
CODECS = {".mp4": "mov_text", ".m4v": "mov_text", ".mov": "mov_text", ".mkv": "srt",
          ".webm": "webvtt"}
TEXT_INPUTS = (".srt", ".vtt", ".ass", ".ssa")
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


def _check_paths(video: Path, output: Path, force: bool) -> None:
    if not video.is_file():
        raise InputError(f"{video}: no such file")
    if output.resolve() == video.resolve():
        raise InputError(f"{output}: the output must not be the input video")
    if output.exists() and not force:
        raise OutputExistsError(f"{output} exists; pass --force to replace it")


def _run(args: list[str], output: Path, force: bool, hint: str = "") -> Path:
    """Run ffmpeg writing to a temporary sibling of `output`, then rename it into place."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=output.suffix,
                                    dir=output.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    cmd = [find_ffmpeg().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
           *args, media_url(tmp)]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            last = (run.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise CcgenError(f"ffmpeg could not write {output.name}: {last}{hint}")
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the copy from the rest of a team
        if force:
            os.replace(tmp, output)
        else:
            try:  # fails if the name appeared meanwhile (another run): never overwritten
                os.link(tmp, output)
            except FileExistsError:
                raise OutputExistsError(f"{output}: exists; use --force to overwrite") from None
            except OSError:  # no hard links on this file system: best effort
                if output.exists():
                    raise OutputExistsError(
                        f"{output}: exists; use --force to overwrite") from None
                os.replace(tmp, output)
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
    codec = CODECS.get(output.suffix.lower())
    if codec is None:
        raise InputError(f"cannot mux subtitles into {output.suffix or 'a file without suffix'}"
                         f"; use one of {', '.join(CODECS)}")
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
    hint = ("; WebM holds only VP8/VP9/AV1 video and Opus/Vorbis audio, which mux copies "
            "unchanged: use .mkv" if output.suffix.lower() == ".webm" else "")
    return _run(args, output, force, hint)


def burn_in(video: str | Path, subtitles: str | Path, output: str | Path,
            force: bool = False) -> Path:
    """`video` re-encoded with `subtitles` (best an .ass from ccgen) drawn into the picture.

    The subtitle file is copied under a plain name into a temporary folder that ffmpeg runs
    in, so no character of the user's path can break the filter graph's quoting.
    """
    video, subtitles, output = Path(video), Path(subtitles), Path(output)
    _check_paths(video, output, force)
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
        return _run(args, output.resolve(), force)
