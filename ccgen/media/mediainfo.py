"""Probe a media file: duration, audio streams, video frame rate.

ffprobe (through ffmpeg-python) is used when there is one; otherwise the report that
``ffmpeg -i`` prints is parsed, so the static ffmpeg from imageio-ffmpeg is enough.
Every way a file can fail to be media ends in one :class:`~ccgen.errors.InputError`.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ccgen.errors import InputError
from ccgen.media.ffmpeg_bin import find_ffmpeg, media_url


@dataclass
class AudioStream:
    index: int  # position among the audio streams (0 = first), as in ffmpeg's `0:a:N`
    codec: str
    channels: int
    sample_rate: int
    language: str | None = None
    # What the container declares for this stream (None when it does not say, as MKV and
    # ``ffmpeg -i``'s report do not): decoding is checked against it (truncated files).
    duration: float | None = None


@dataclass
class MediaInfo:
    path: str
    duration: float
    audio: list[AudioStream] = field(default_factory=list)
    frame_rate: float | None = None  # of the first video stream; None for audio-only media

    @property
    def has_video(self) -> bool:
        return self.frame_rate is not None

    def declared(self, stream: int = 0) -> float:
        """Seconds the file says audio stream `stream` lasts: the stream's own duration when
        the container gives one (a video's soundtrack may legitimately end before its
        pictures), else the file's."""
        own = self.audio[stream].duration if 0 <= stream < len(self.audio) else None
        return own if own else self.duration


def _rate(text: str | None) -> float | None:
    if not text or text in ("0/0", "0"):
        return None
    if "/" in text:
        num, den = text.split("/", 1)
        return float(num) / float(den) if float(den) else None
    return float(text)


def _with_ffprobe(path: Path, ffprobe: str) -> MediaInfo:
    import ffmpeg  # here, not at import: the GPU describer and trainer load without it

    try:
        data = ffmpeg.probe(media_url(path), cmd=ffprobe)
    except ffmpeg.Error as exc:
        raise InputError(f"{path}: not a readable media file ({_last_line(exc.stderr)})") from None
    duration = float(data.get("format", {}).get("duration") or 0.0)
    info = MediaInfo(str(path), duration)
    for stream in data.get("streams", []):
        kind = stream.get("codec_type")
        if kind == "audio":
            info.audio.append(AudioStream(
                index=len(info.audio),
                codec=stream.get("codec_name", "?"),
                channels=int(stream.get("channels") or 0),
                sample_rate=int(stream.get("sample_rate") or 0),
                language=(stream.get("tags") or {}).get("language"),
                duration=float(stream["duration"]) if stream.get("duration") else None,
            ))
        elif kind == "video" and info.frame_rate is None:
            disposition = stream.get("disposition") or {}
            if disposition.get("attached_pic"):
                continue  # cover art in an audio file is not a video
            info.frame_rate = (_rate(stream.get("avg_frame_rate"))
                               or _rate(stream.get("r_frame_rate")))
    if not duration and info.audio:
        durations = [float(s.get("duration") or 0) for s in data.get("streams", [])]
        info.duration = max(durations, default=0.0)
    return info


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #\d+:\d+(?:\[\w+\])?(?:\((\w+)\))?: (Audio|Video): (.*)")


def _with_ffmpeg(path: Path, binary: str) -> MediaInfo:
    run = subprocess.run([binary, "-hide_banner", "-i", media_url(path)], capture_output=True,
                         text=True, errors="replace")
    report = run.stderr
    if "Input #0" not in report:
        raise InputError(f"{path}: not a readable media file ({_last_line(report)})")
    info = MediaInfo(str(path), 0.0)
    match = _DURATION.search(report)
    if match:
        h, m, s = match.groups()
        info.duration = int(h) * 3600 + int(m) * 60 + float(s)
    for lang, kind, rest in _STREAM.findall(report):
        if kind == "Audio":
            rate = re.search(r"(\d+) Hz", rest)
            layout = rest.split(",")[2].strip() if rest.count(",") >= 2 else ""
            channels = {"mono": 1, "stereo": 2, "5.1": 6, "5.1(side)": 6, "7.1": 8}.get(layout)
            if channels is None:
                found = re.match(r"(\d+) channels", layout)
                channels = int(found.group(1)) if found else 0
            info.audio.append(AudioStream(len(info.audio), rest.split()[0].rstrip(","),
                                          channels, int(rate.group(1)) if rate else 0,
                                          lang if lang and lang != "und" else None))
        elif kind == "Video" and info.frame_rate is None and "attached pic" not in rest:
            fps = re.search(r"([\d.]+) fps", rest) or re.search(r"([\d.]+) tbr", rest)
            info.frame_rate = float(fps.group(1)) if fps else None
    return info


def _last_line(text: bytes | str | None) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1][:160] if lines else "no details"


def probe(path: str | Path) -> MediaInfo:
    """Describe a media file, or raise InputError saying why it cannot be used."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder with no media files in it")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: empty file (0 bytes)")
    tools = find_ffmpeg()
    info = _with_ffprobe(path, tools.ffprobe) if tools.ffprobe else _with_ffmpeg(path, tools.ffmpeg)
    if not info.audio:
        raise InputError(f"{path}: has no audio stream to caption")
    return info
