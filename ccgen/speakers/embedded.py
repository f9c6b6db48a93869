"""``embedded``: offline diarization from the VAD's speech regions and Resemblyzer embeddings.

Steps, and why:
1. Windows of 1.6 s (the length the GE2E encoder was trained on) every ``hop`` seconds inside
   each speech region; a region shorter than a window but at least ``min_window`` long is
   embedded whole; shorter ones are too short for a voice print and take their neighbours'
   speaker. Mel spectra are computed per block of at most ``block_windows`` windows, so memory
   does not grow with the input's length.
2. Embeddings are clustered (``clustering.cluster``: cosine AHC with a tuned threshold, or a
   given speaker count); small clusters (``min_cluster_windows``, ``min_cluster_share``) join
   their nearest neighbour, so a voice that splits does not become a false extra speaker.
3. Each 10 ms frame of speech takes the speaker with the most Hann-weighted votes from the
   windows covering it (a window's edges say less about its centre's speaker than its middle);
   speaker runs shorter than ``min_turn`` inside a region merge into a neighbour, since real
   turns are rarely that short and a flip that short is window noise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ccgen.registry import package_dir
from ccgen.speakers.base import Turn, check_counts, normalize_turns, register
from ccgen.speakers.clustering import DEFAULT_THRESHOLD, cluster
from ccgen.speakers.encoder import HOP, PARTIAL_FRAMES, SAMPLE_RATE, normalize_volume, weights_path

STEP = HOP / SAMPLE_RATE  # 10 ms: the mel frame step and the labelling grid


@dataclass(frozen=True)
class EmbeddedSettings:
    window: float = PARTIAL_FRAMES * STEP  # 1.6 s
    hop: float = 0.4
    min_window: float = 0.5
    threshold: float = DEFAULT_THRESHOLD
    min_turn: float = 0.5
    # A cluster smaller than both min_cluster_windows (8 x 0.4 s hop = 3.2 s of speech) and
    # min_cluster_share of all windows joins its nearest neighbour: far-field speech splits one
    # voice into small clusters, which in captions become false speaker changes, while a
    # speaker with a few lines in a short clip keeps their own. Pooled DER on the shared AMI +
    # pyannote clips: 0.277 with no minimum, 0.236 with these (bench/RESULTS.md).
    min_cluster_windows: int = 8
    min_cluster_share: float = 0.1
    block_windows: int = 64  # 64 windows ≈ 27 s of audio per mel block / encoder batch


@dataclass
class _Windows:
    spans: np.ndarray  # (n, 2) seconds
    embeddings: np.ndarray  # (n, 256)


def _regions(speech: list[tuple[float, float]], duration: float) -> list[tuple[float, float]]:
    """Speech regions clipped to the audio, sorted, overlaps merged."""
    out: list[list[float]] = []
    for s, e in sorted((max(0.0, float(s)), min(duration, float(e))) for s, e in speech):
        if e - s <= 0:
            continue
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def missing() -> str | None:
    """Why the embedded diarizer cannot run here: Resemblyzer's voice encoder weights, which
    its wheel carries, found without importing it (its import pulls librosa)."""
    root = package_dir("resemblyzer")
    if root is None:
        return "needs resemblyzer (pip install 'ccgen[models]')"
    if not (root / "pretrained.pt").is_file():
        return f"{root / 'pretrained.pt'} is missing (reinstall resemblyzer)"
    return None


@register("embedded", available=missing,
          help="offline Resemblyzer voices + clustering, faster, weaker on meetings")
class EmbeddedDiarizer:
    """Resemblyzer window embeddings + AHC; CPU, offline, no token."""

    name = "embedded"
    label = "embedded (resemblyzer)"

    def __init__(self, device: str = "cpu", num_speakers: int | None = None,
                 min_speakers: int | None = None, max_speakers: int | None = None,
                 threshold: float | None = None, settings: EmbeddedSettings | None = None,
                 **_: object) -> None:
        check_counts(num_speakers, min_speakers, max_speakers)
        weights_path()  # fail now, with the install hint, not after decoding and ASR
        self.settings = settings or EmbeddedSettings()
        if threshold is not None:
            self.settings = EmbeddedSettings(**{**asdict(self.settings), "threshold": threshold})
        # "auto"/"cuda" follow the pipeline's device; the LSTM is small, CPU is the default
        self.device = "cuda" if device == "cuda" else "cpu"
        self.counts = (num_speakers, min_speakers, max_speakers)
        self._encoder = None

    @property
    def encoder(self):  # VoiceEncoder, imported lazily with torch
        if self._encoder is None:
            from ccgen.speakers.encoder import VoiceEncoder

            self._encoder = VoiceEncoder(self.device)
        return self._encoder

    def diarize(self, audio: np.ndarray, speech: list[tuple[float, float]]) -> list[Turn]:
        regions = _regions(speech, len(audio) / SAMPLE_RATE)
        windows = self.embed(audio, regions)
        if not len(windows.spans):
            return []
        num, low, high = self.counts
        min_size = min(self.settings.min_cluster_windows,
                       max(1, round(self.settings.min_cluster_share * len(windows.embeddings))))
        labels = cluster(windows.embeddings, self.settings.threshold, num, low, high,
                         min_size=min_size)
        return normalize_turns(self._turns(windows.spans, labels, regions))

    # ------------------------------------------------------------------ embeddings

    def embed(self, audio: np.ndarray, regions: list[tuple[float, float]]) -> _Windows:
        """Embeddings of the windows laid over the speech regions, in time order."""
        from ccgen.speakers.encoder import mel_frames

        s = self.settings
        win = int(round(s.window / STEP))
        hop = max(1, int(round(s.hop / STEP)))
        spans: list[tuple[float, float]] = []
        embs: list[np.ndarray] = []
        for start, end in regions:
            n_frames = int((end - start) / STEP)
            if n_frames < int(s.min_window / STEP):
                continue
            if n_frames <= win:  # short region: one window of its own length
                offsets, length = [0], n_frames
            else:
                offsets = list(range(0, n_frames - win + 1, hop))
                if offsets[-1] != n_frames - win:
                    offsets.append(n_frames - win)  # cover the region's tail too
                length = win
            for i in range(0, len(offsets), s.block_windows):
                block = offsets[i:i + s.block_windows]
                a = int(round(start * SAMPLE_RATE)) + block[0] * HOP
                b = int(round(start * SAMPLE_RATE)) + (block[-1] + length) * HOP
                mel = mel_frames(normalize_volume(audio[a:b]))
                batch = np.stack([mel[o - block[0]:o - block[0] + length] for o in block])
                embs.append(self.encoder.embed(batch))
                spans.extend((start + o * STEP, start + (o + length) * STEP) for o in block)
        if not embs:
            return _Windows(np.zeros((0, 2)), np.zeros((0, 256), dtype=np.float32))
        return _Windows(np.asarray(spans), np.concatenate(embs))

    # ------------------------------------------------------------------ turns

    def _turns(self, spans: np.ndarray, labels: np.ndarray,
               regions: list[tuple[float, float]]) -> list[Turn]:
        k = int(labels.max()) + 1
        centres = spans.mean(axis=1)
        turns: list[Turn] = []
        for start, end in regions:
            n = int(round((end - start) / STEP))
            if n <= 0:
                continue
            votes = np.zeros((n, k))
            for i in np.flatnonzero((spans[:, 0] < end) & (spans[:, 1] > start)):
                a = max(0, int(round((spans[i, 0] - start) / STEP)))
                b = min(n, int(round((spans[i, 1] - start) / STEP)))
                if b > a:
                    votes[a:b, labels[i]] += np.hanning(b - a + 2)[1:-1]
            frame = votes.argmax(axis=1)
            empty = votes.sum(axis=1) == 0
            if empty.any():  # too short for a window: the speaker of the nearest window
                times = start + (np.flatnonzero(empty) + 0.5) * STEP
                frame[empty] = labels[np.abs(centres[None, :] - times[:, None]).argmin(axis=1)]
            runs = smooth_runs(_runs(frame), int(round(self.settings.min_turn / STEP)))
            turns.extend(Turn(start + a * STEP, min(end, start + b * STEP), str(lab))
                         for a, b, lab in runs)
        return turns


def _runs(frame: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end, label) runs of equal labels; end exclusive."""
    edges = np.flatnonzero(np.diff(frame)) + 1
    bounds = [0, *edges.tolist(), len(frame)]
    return [(bounds[i], bounds[i + 1], int(frame[bounds[i]])) for i in range(len(bounds) - 1)]


def smooth_runs(runs: list[tuple[int, int, int]], min_len: int) -> list[tuple[int, int, int]]:
    """Fold runs shorter than `min_len` into the longer neighbour, shortest first."""
    runs = list(runs)
    while len(runs) > 1:
        i = min(range(len(runs)), key=lambda j: runs[j][1] - runs[j][0])
        a, b, _ = runs[i]
        if b - a >= min_len:
            break
        left = runs[i - 1] if i > 0 else None
        right = runs[i + 1] if i + 1 < len(runs) else None
        into = left if right is None or (left and left[1] - left[0] >= right[1] - right[0]) \
            else right
        j = runs.index(into)
        runs[j] = (min(into[0], a), max(into[1], b), into[2])
        del runs[i]
        merged: list[tuple[int, int, int]] = []
        for r in runs:  # neighbours that now share a label become one run
            if merged and merged[-1][2] == r[2]:
                merged[-1] = (merged[-1][0], r[1], r[2])
            else:
                merged.append(r)
        runs = merged
    return runs
