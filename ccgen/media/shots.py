"""Shot changes: where the picture cuts, detected in the video or read from an editor's list.

Broadcast style guides time captions against the picture (Netflix: an in-cue near a shot change
moves onto it; BBC: a caption should not straddle one), so ccgen needs the cuts frame-accurately.

Detection runs ffmpeg's ``scene`` score (``select='gt(scene,T)'``) on frames scaled down to
160 pixels wide. Measured against PySceneDetect 0.7.2 (ContentDetector and AdaptiveDetector) on
the shared film clip (Big Buck Bunny, 691 frames, 3 hard cuts checked by eye) and on a 720p
synthetic video with 5 cuts at known frames (bench/shots.py, bench/RESULTS.md):

- all of them found every cut on its exact frame, with no false cut (a fade from black, a
  fade-in title, fast motion, a shot of pure motion);
- ffmpeg's score on full-size frames has no margin: after a shot full of motion it is damped
  (it subtracts the previous frame's difference), so a real cut scored 0.173 while a frame
  after another cut scored 0.199. On 160-px frames the real cuts score >= 0.33 and every other
  frame <= 0.072 on both videos; the threshold, 0.15, is the geometric middle of that margin
  (leave-one-clip-out: each video's own middle is right on the other);
- speed is the same order, decoding dominates: 7-9 s per minute of 720p for each on 2 busy
  cores, ccgen's 0.8-1.2x PySceneDetect's from run to run;
- PySceneDetect needs OpenCV (opencv-python, ~60 MB and libGL), ffmpeg is already required.

So ffmpeg it is. The scaler runs with ``bitexact`` so every CPU sees the same pixels (H.264
decoding is bit-exact by itself), and times come from integer pts and the stream's time base,
not showinfo's rounded seconds, so a cut two hours in is still on its frame. A "cut" less than
a quarter second after another is a flash, not a new shot, and is dropped.

Lists: one time per line, in seconds (``12.5417``), clock time (``00:00:12.542``, ``,`` too) or
SMPTE timecode (``00:00:12:13``; ``;`` before the frames means drop-frame), as subtitle editors
export them; blank lines and ``#`` comments are skipped. A CMX3600 EDL (``.edl`` or a file with
``TITLE:``/``FCM:`` and event lines) gives the record-in of every video cut (transition ``C``);
dissolves and wipes are not cuts. Its times count from the first event's record-in, the frame
the programme starts on.
"""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ccgen.errors import InputError
from ccgen.media.ffmpeg_bin import find_ffmpeg, media_url
from ccgen.stopping import child_preexec
from ccgen.writers.timecode import FrameRate, frame_rate, parse_timecode

SCENE_THRESHOLD = 0.15  # ffmpeg scene score of a cut on 160-px frames (see the module doc)
SCALE_WIDTH = 160
MIN_SHOT = 0.25  # seconds: a "cut" sooner than this after another is a flash, not a new shot


@dataclass(frozen=True)
class ShotChanges:
    """Frame numbers where a new shot starts, at `rate` (an exact fraction)."""

    frames: tuple[int, ...]
    rate: Fraction
    source: str  # "detected", "list" or "edl", for logs and reports

    @property
    def times(self) -> tuple[float, ...]:
        return tuple(float(f / self.rate) for f in self.frames)

    def frame_of(self, seconds: float) -> int:
        """The frame a time falls on (nearest frame start, as a player shows it)."""
        return math.floor(seconds * self.rate + Fraction(1, 2))

    def seconds(self, frame: int) -> float:
        return float(frame / self.rate)


def exact_rate(value: float | Fraction) -> Fraction:
    """The media's frame rate as an exact fraction (29.97 is 30000/1001); InputError when it is
    not a usable rate (0, negative, infinite, absurd)."""
    number = float(value)
    if not math.isfinite(number) or not 1.0 <= number <= 1000.0:
        raise InputError(f"frame rate {value!r} is not a video frame rate (1-1000 fps)")
    try:
        return frame_rate(number).rate
    except InputError:  # not a broadcast rate (12.5, 15): any exact fraction near it
        return Fraction(number).limit_denominator(1001)


def _changes(frames: list[int], rate: Fraction, source: str) -> ShotChanges:
    """Sorted, unique, after frame 0 (a cut at the very start changes nothing)."""
    return ShotChanges(tuple(sorted({f for f in frames if f > 0})), rate, source)


# --- detection ---------------------------------------------------------------------------

_PTS = re.compile(r"\bpts:\s*(-?\d+)\b")
_TIME_BASE = re.compile(r"config in time_base:\s*(\d+)/(\d+)")
_PROGRESS = re.compile(r"^out_time_us=(\d+)")


def detect(path: str | Path, rate: float | Fraction, duration: float | None = None,
           threshold: float = SCENE_THRESHOLD,
           progress: Callable[[float, float], None] | None = None,
           width: int | None = SCALE_WIDTH) -> ShotChanges:
    """Detect the cuts in the first video stream of `path` with ffmpeg's scene score.

    `progress(done, total)` is called with seconds of video as ffmpeg goes (when `duration` is
    known). `width` None scores full-size frames (bench/shots.py compares). Raises InputError
    when ffmpeg cannot read the video.
    """
    exact = exact_rate(rate)
    scale = (f"scale='min({width},iw)':-2:flags=area+accurate_rnd+bitexact," if width else "")
    scale += f"select='gt(scene,{threshold})',showinfo"
    cmd = [find_ffmpeg().ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-i",
           media_url(Path(path)), "-map", "0:v:0", "-an", "-sn", "-dn", "-vf", scale,
           "-progress", "pipe:2", "-f", "null", "-"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            errors="replace", preexec_fn=child_preexec)  # dies with ccgen
    base: Fraction | None = None
    frames: list[int] = []
    tail: list[str] = []
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            if "Parsed_showinfo" in line:
                found = _TIME_BASE.search(line)
                if found:
                    base = Fraction(int(found[1]), int(found[2]))
                pts = _PTS.search(line)
                if pts and base is not None:
                    frames.append(math.floor(int(pts[1]) * base * exact + Fraction(1, 2)))
                continue
            done = _PROGRESS.match(line)
            if done and progress is not None and duration:
                progress(min(int(done[1]) / 1e6, duration), duration)
            elif line.strip() and "=" not in line:
                tail = [*tail[-3:], line.strip()]
    except BaseException:  # a stop (Ctrl-C, SIGTERM) or a failing callback: ffmpeg goes too
        proc.kill()
        proc.wait()
        raise
    code = proc.wait()
    if code != 0:
        reason = tail[-1][:160] if tail else f"ffmpeg exit {code}"
        raise InputError(f"{path}: cannot detect shot changes ({reason})")
    gap = max(1, round(MIN_SHOT * exact))
    kept: list[int] = []
    for frame in sorted(frames):
        if not kept or frame - kept[-1] >= gap:
            kept.append(frame)
    return _changes(kept, exact, "detected")


# --- lists and EDLs ----------------------------------------------------------------------

_SECONDS = re.compile(r"^\d+(?:\.\d+)?$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})[.,](\d{1,3})$")
_TIMECODE = re.compile(r"^\d{1,2}:\d{2}:\d{2}[:;.,]\d{2}$")
_EDL_EVENT = re.compile(
    r"^\s*(\d{1,6})\s+(\S+)\s+(\S+)\s+(C|D|W\d*|K\w*)\s+(?:\d+\s+)?"
    r"(\d{2}:\d{2}:\d{2}[:;.,]\d{2})\s+(\d{2}:\d{2}:\d{2}[:;.,]\d{2})\s+"
    r"(\d{2}:\d{2}:\d{2}[:;.,]\d{2})\s+(\d{2}:\d{2}:\d{2}[:;.,]\d{2})\s*$")


def read_list(path: str | Path, rate: float | Fraction, drop: bool | None = None) -> ShotChanges:
    """Shot changes from a file: a CMX3600 EDL or a plain list (see the module doc).

    `rate` is the media's frame rate (timecodes count its frames); `drop` forces drop-frame
    counting, else a ';' in a timecode or an EDL's ``FCM: DROP FRAME`` says so.
    """
    path = Path(path)
    if path.is_dir() or not path.is_file():
        raise InputError(f"shot-change list {path}: no such file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"shot-change list {path}: not a text file") from None
    exact = exact_rate(rate)
    lines = text.splitlines()
    if path.suffix.lower() == ".edl" or any(
            ln.startswith(("TITLE:", "FCM:")) or _EDL_EVENT.match(ln) for ln in lines[:50]):
        return _read_edl(path, lines, exact, drop)
    frames = []
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if line:
            frames.append(_list_frame(line, exact, drop, f"{path}: line {number}"))
    if not frames:
        raise InputError(f"shot-change list {path}: no times in it")
    return _changes(frames, exact, "list")


def _list_frame(text: str, rate: Fraction, drop: bool | None, where: str) -> int:
    if text.startswith("-"):
        raise InputError(f"{where}: negative time {text!r}")
    if _SECONDS.match(text):
        return math.floor(Fraction(text) * rate + Fraction(1, 2))
    clock = _CLOCK.match(text)
    if clock:
        hh, mm, ss, frac = clock.groups()
        if int(mm) > 59 or int(ss) > 59:
            raise InputError(f"{where}: {text!r} is out of range")
        seconds = int(hh) * 3600 + int(mm) * 60 + int(ss) + Fraction(frac.ljust(3, "0")) / 1000
        return math.floor(seconds * rate + Fraction(1, 2))
    if _TIMECODE.match(text):
        return _timecode_frames(text, rate, drop, where)
    raise InputError(f"{where}: {text!r} is not a time (seconds, HH:MM:SS.mmm or HH:MM:SS:FF)")


def _timecode_frames(text: str, rate: Fraction, drop: bool | None, where: str) -> int:
    wants_drop = drop if drop is not None else bool(re.search(r"[;.,]\d{2}$", text))
    try:
        fr = FrameRate(rate, wants_drop)
        return parse_timecode(text, fr)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def _read_edl(path: Path, lines: list[str], rate: Fraction, drop: bool | None) -> ShotChanges:
    if drop is None:
        fcm = [ln for ln in lines if ln.strip().upper().startswith("FCM:")]
        drop = bool(fcm) and "NON" not in fcm[0].upper() and "DROP" in fcm[0].upper()
    events: list[tuple[int, int, str]] = []  # (record in, record out, transition)
    for number, line in enumerate(lines, 1):
        event = _EDL_EVENT.match(line)
        if not event:
            continue
        channels, transition = event[3].upper(), event[4].upper()
        where = f"EDL {path}: line {number}"
        rec_in = _timecode_frames(event[7], rate, drop, where)
        rec_out = _timecode_frames(event[8], rate, drop, where)
        if rec_out < rec_in:
            raise InputError(f"{where}: record out {event[8]} is before record in {event[7]}")
        if "V" in channels and rec_out > rec_in:  # zero length: a transition's outgoing side
            events.append((rec_in, rec_out, transition))
    if not events:
        raise InputError(f"EDL {path}: no video events in it")
    start = min(e[0] for e in events)
    frames: list[int] = []
    events.sort()
    for (rec_in, _, transition), before in zip(events, [None, *events[:-1]], strict=True):
        if transition == "C" and rec_in > 0:
            frames.append(rec_in - start)
        if before is not None and before[1] < rec_in:  # black between events: a change too
            frames.append(before[1] - start)
    return _changes(frames, rate, "edl")


# --- the --shot-changes option -----------------------------------------------------------

def video_rate(path: str | Path) -> float | None:
    """The frame rate of the first video stream (cover art is no video), None if it has none.

    Its own small probe, not :func:`ccgen.media.probe`, which requires an audio stream: a
    picture-only proxy is a fine thing to lint against."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such media file")
    tools = find_ffmpeg()
    cmd = [tools.ffmpeg, "-nostdin", "-hide_banner", "-i", media_url(path)]
    run = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if "Input #0" not in run.stderr:
        lines = [ln.strip() for ln in run.stderr.splitlines() if ln.strip()]
        raise InputError(f"{path}: not a readable media file ({lines[-1] if lines else '?'})")
    for line in run.stderr.splitlines():
        if "Video:" in line and "attached pic" not in line:
            found = re.search(r"([\d.]+) fps", line) or re.search(r"([\d.]+) tbr", line)
            if found:
                return float(found.group(1))
    return None


def check_option(value: str | None) -> None:
    """`--shot-changes auto|none|FILE`: a FILE must exist (checked before any model loads)."""
    if value in (None, "auto", "none"):
        return
    path = Path(value)
    if not path.is_file():
        raise InputError(f"--shot-changes {value}: no such file (or auto, none)")


def shot_changes_for(value: str | None, media: str | Path, rate: float | None,
                     duration: float | None = None,
                     progress: Callable[[float, float], None] | None = None
                     ) -> ShotChanges | None:
    """Resolve `--shot-changes` for one input: None for audio-only media or ``none``."""
    if value in (None, "none") or rate is None:
        return None
    if value == "auto":
        return detect(media, rate, duration, progress=progress)
    return read_list(value, rate)


def lint_shot_changes(media: Path | None, shot_list: Path | None, frame_rate: float | None,
                      default_rate: float) -> tuple[ShotChanges | None, float | None]:
    """`ccgen lint --media VIDEO | --shot-changes FILE`: the shot changes and the frame rate
    to lint at (None: the style's). Media without video has no shot changes."""
    if media is not None and shot_list is not None:
        raise InputError("give --media or --shot-changes, not both")
    if media is not None:
        rate = video_rate(media)
        if rate is None:
            return None, frame_rate
        if frame_rate is not None and abs(frame_rate - rate) > 0.01:
            raise InputError(f"--frame-rate {frame_rate:g} is not the rate of {media} "
                             f"({rate:g} fps)")
        shots = detect(media, rate)
        return shots, float(shots.rate)
    if shot_list is not None:
        shots = read_list(shot_list, frame_rate or default_rate)
        return shots, float(shots.rate)
    return None, frame_rate
