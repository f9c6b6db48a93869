"""The pyannote subclasses behind the campplus diarizer: CAM++ as a pyannote embedding model,
clustering bounded for long inputs, and the pipeline that cuts a local track where it pauses.
Apart from :mod:`ccgen.speakers.segmentation` because defining them imports pyannote.audio and
torch (slow): that module imports this one on first use only, with telemetry already off."""

from __future__ import annotations

import numpy as np

from ccgen.speakers import campplus
from ccgen.speakers.pyannote import import_pipeline
from ccgen.speakers.segmentation import MIN_FRAMES, SAMPLE_RATE, split_tracks

import_pipeline()  # telemetry off before pyannote.audio is imported

import torch  # noqa: E402
from pyannote.audio import Model  # noqa: E402
from pyannote.audio.core.task import Problem, Resolution, Specifications  # noqa: E402
from pyannote.audio.pipelines import SpeakerDiarization  # noqa: E402
from pyannote.audio.pipelines.clustering import AgglomerativeClustering  # noqa: E402
from pyannote.core import SlidingWindowFeature  # noqa: E402


class CamPlusPlus(Model):
    """CAM++ as a pyannote embedding model: waveforms (+ frame weights) → (B, 192).

    The frames a local speaker holds (weights > 0.5) are picked from the chunk's fbank,
    mean-normalised and embedded; a speaker with no frames gets NaN, which pyannote's
    clustering skips.
    """

    def __init__(self, network: torch.nn.Module, max_seconds: float = 10.0) -> None:
        super().__init__(sample_rate=SAMPLE_RATE, num_channels=1)
        self.network = network
        self.max_frames = max(MIN_FRAMES, int(max_seconds / campplus.FRAME_SHIFT))
        self.specifications = Specifications(problem=Problem.REPRESENTATION,
                                             resolution=Resolution.CHUNK, duration=10.0)
        self._last: tuple[torch.Tensor, np.ndarray] | None = None

    @property
    def dimension(self) -> int:
        return campplus.EMBEDDING_DIM

    def _fbank(self, waveform: torch.Tensor) -> np.ndarray:
        # the 3 local speakers of one chunk share its waveform: one fbank for the three
        if self._last is not None and self._last[0].shape == waveform.shape \
                and torch.equal(self._last[0], waveform):
            return self._last[1]
        feats = campplus.fbank(waveform.detach().cpu().numpy(), normalize=False)
        if not len(feats):
            raise ValueError(f"{waveform.shape[-1]} samples is too short for CAM++")
        self._last = (waveform.detach().clone(), feats)
        return feats

    def forward(self, waveforms: torch.Tensor,
                weights: torch.Tensor | None = None) -> torch.Tensor:
        out = torch.full((len(waveforms), self.dimension), float("nan"))
        for i, waveform in enumerate(waveforms[:, 0]):
            feats = self._fbank(waveform)
            if weights is not None:
                w = weights[i].detach().cpu().numpy()
                centres = (np.arange(len(feats)) * campplus.FRAME_SHIFT
                           + campplus.FRAME_LENGTH / 2) * SAMPLE_RATE
                index = np.minimum((centres / waveform.shape[-1] * len(w)).astype(int),
                                   len(w) - 1)
                feats = feats[w[index] > 0.5]
            if not len(feats):
                continue
            if len(feats) > self.max_frames:
                start = (len(feats) - self.max_frames) // 2
                feats = feats[start:start + self.max_frames]
            if len(feats) < MIN_FRAMES:
                feats = np.tile(feats, (-(-MIN_FRAMES // len(feats)), 1))
            x = torch.from_numpy(feats - feats.mean(axis=0, keepdims=True))[None]
            with torch.inference_mode():
                out[i] = self.network(x.to(self.device))[0].cpu()
        return out

class BoundedClustering(AgglomerativeClustering):
    """pyannote's AHC on at most ``max_points`` embeddings; the rest join the nearest
    centroid (the full linkage needs n² memory: 20 000 embeddings would be 1.6 GB)."""

    max_points = 3000

    def cluster(self, embeddings: np.ndarray, min_clusters: int | None = None,
                max_clusters: int | None = None,
                num_clusters: int | None = None) -> np.ndarray:
        n = len(embeddings)
        if n <= self.max_points:
            return super().cluster(embeddings, min_clusters, max_clusters, num_clusters)
        subset = np.linspace(0, n - 1, self.max_points).round().astype(int)
        labels = super().cluster(embeddings[subset].copy(), min_clusters, max_clusters,
                                 num_clusters)
        unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True),
                                       1e-8)
        cents = np.stack([unit[subset][labels == k].mean(axis=0)
                          for k in range(int(labels.max()) + 1)])
        return np.argmax(unit @ cents.T, axis=1)


class PauseSplitDiarization(SpeakerDiarization):
    """pyannote's pipeline, with each local track cut at long pauses (``split_pause``):
    segmentation-3.0 can keep two voices that alternate without overlap on one track,
    and a track gets one embedding, so without the cut no clustering can part them."""

    split_frames = 0
    # windows segmented per pass: pyannote's Inference copies every 10 s window of what it is
    # given into one tensor (2x the audio at a 5 s step: 0.9 GB for 2 h at once)
    block_chunks = 120

    def get_segmentations(self, file, hook=None) -> SlidingWindowFeature:
        seg = self._in_blocks(file, hook)
        if self.split_frames <= 0:
            return seg
        return SlidingWindowFeature(split_tracks(seg.data, self.split_frames),
                                    seg.sliding_window)

    def _in_blocks(self, file, hook) -> SlidingWindowFeature:
        """pyannote's segmentation of `file`, run on stretches of ``block_chunks`` whole
        windows, so memory stays bounded on long inputs. Each pass but the last ends where
        its last window ends (no padded window): the windows, hence the result, are the ones
        one pass over the whole file gives (tests/test_speakers.py compares them)."""
        waveform = file.get("waveform")
        if self.training or waveform is None:  # the bench's cache, or audio read by pyannote
            return super().get_segmentations(file, hook=hook)
        inference = self._segmentation
        window = inference.model.audio.get_num_samples(inference.duration)
        step = round(inference.step * file["sample_rate"])
        total = waveform.shape[-1]
        whole = 1 + (total - window) // step if total >= window else 0
        if whole <= self.block_chunks:
            return super().get_segmentations(file, hook=hook)
        parts = []
        for first in range(0, whole, self.block_chunks):
            last = min(first + self.block_chunks, whole)
            end = total if last == whole else (last - 1) * step + window
            piece = {**file, "waveform": waveform[:, first * step:end]}
            parts.append(super().get_segmentations(piece))
        return SlidingWindowFeature(np.concatenate([p.data for p in parts]),
                                    parts[0].sliding_window)
