"""Resemblyzer's GE2E voice encoder, run without importing Resemblyzer's audio stack.

Why our own front end: ``import resemblyzer`` pulls librosa (numba JIT, seconds of import) and
webrtcvad for preprocessing that ccgen already does (Silero VAD). The network (3 LSTM layers
and a linear layer) runs in onnxruntime, built from the checkpoint once; the mel front end
below reproduces ``librosa.feature.melspectrogram`` (Slaney mel, power
spectrum, centred frames with zero padding) to float precision, and the tests check that the
embeddings equal Resemblyzer's own ``embed_utterance`` on a real clip. Only the weights file
``resemblyzer/pretrained.pt`` (17 MB, Apache-2.0) is read, with ``weights_only=True``.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from ccgen.errors import CcgenError, InputError, first_line
from ccgen.media.audio import SAMPLE_RATE  # what every model here was trained on

N_FFT = 400  # 25 ms window
HOP = 160  # 10 ms step: one mel frame per 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # the encoder was trained on 1.6 s partial utterances
TARGET_DBFS = -30.0  # Resemblyzer's volume normalisation (increase only)
INT16_MAX = 2**15 - 1


def weights_path() -> Path:
    """Where pip put Resemblyzer's pretrained.pt, found without importing the package."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the embedded diarizer needs Resemblyzer's pretrained voice encoder: "
                         "pip install 'ccgen[models]' (or: pip install resemblyzer)")
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise CcgenError(f"Resemblyzer is installed but {path} is missing; reinstall resemblyzer")
    return path


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, log above."""
    f = np.asarray(f, dtype=np.float64)
    mel = f / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log_part, mel)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    lin = m * (200.0 / 3)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
    return np.where(m >= 15.0, log_part, lin)


@lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    """(40, 201) Slaney-normalised triangular filters, as ``librosa.filters.mel`` builds them."""
    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return weights.astype(np.float32)


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """(n_frames, 40) power mel spectrogram, frame i centred on sample i * 160.

    Same framing as librosa (centre=True, zero padding, periodic Hann), so frame indices map
    to time as ``i / 100`` seconds.
    """
    wav = np.asarray(wav, dtype=np.float32)
    padded = np.pad(wav, (N_FFT // 2, N_FFT // 2))
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    if n_frames <= 0:
        return np.zeros((0, N_MELS), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:n_frames]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power.astype(np.float32) @ mel_filters().T).astype(np.float32)


def normalize_volume(wav: np.ndarray) -> np.ndarray:
    """Raise quiet audio to -30 dBFS RMS (never lower it), as Resemblyzer's preprocessing does.

    The encoder reads a linear (not log) mel spectrogram, so its input level matters.
    """
    rms = float(np.sqrt(np.mean((wav.astype(np.float64) * INT16_MAX) ** 2))) if wav.size else 0.0
    if rms <= 0:
        return wav
    change = TARGET_DBFS - 20 * np.log10(rms / INT16_MAX)
    return wav if change < 0 else (wav * 10 ** (change / 20)).astype(np.float32)


def numpy_weights(path: Path) -> dict[str, np.ndarray]:
    """The checkpoint as plain arrays, converted once into ccgen's cache.

    torch is needed only for that first conversion; every later run loads an .npz, so the
    CPU path of the diarizer neither imports torch (seconds) nor holds it in memory (~700 MB).
    Only the CUDA path and the one-time ONNX build read these arrays.
    """
    import hashlib

    from ccgen.speech.models import cache_dir
    from ccgen.writers.atomic import replace_atomic

    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    cached = cache_dir() / "models" / f"resemblyzer-{digest}.npz"
    if cached.is_file():
        with np.load(cached) as data:
            return {k: data[k] for k in data.files}
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
    except Exception as exc:  # an unreadable checkpoint: one line for users
        raise CcgenError(f"cannot load the voice encoder {path}: {first_line(exc)}") from exc
    arrays = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in state.items()
              if k.startswith(("lstm.", "linear."))}
    replace_atomic(cached, lambda fh: np.savez(fh, **arrays))
    return arrays


def _onnx_graph(p: dict[str, np.ndarray]) -> bytes:
    """The encoder as an ONNX graph: three LSTM layers, the linear layer and its ReLU.

    onnxruntime's LSTM kernel runs the encoder about three times faster than torch on two
    cores, and needs no torch at all. ONNX orders an LSTM's gates i, o, f, c where torch
    orders them i, f, g(c), o, so the weight blocks are reordered.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def reorder(w: np.ndarray) -> np.ndarray:
        i, f, g, o = np.split(w, 4, axis=0)
        return np.concatenate([i, o, f, g], axis=0)

    inits, nodes, x = [], [], "x"
    for layer in range(3):
        weights = {
            f"W{layer}": reorder(p[f"lstm.weight_ih_l{layer}"])[None],
            f"R{layer}": reorder(p[f"lstm.weight_hh_l{layer}"])[None],
            f"B{layer}": np.concatenate([reorder(p[f"lstm.bias_ih_l{layer}"]),
                                         reorder(p[f"lstm.bias_hh_l{layer}"])])[None],
        }
        inits += [numpy_helper.from_array(a.astype(np.float32), n) for n, a in weights.items()]
        nodes.append(helper.make_node("LSTM", ["x" if layer == 0 else x, *weights],
                                      [f"Y{layer}", f"H{layer}"], hidden_size=256))
        x = f"S{layer}"  # (frames, batch, 256): the input of the next layer
        nodes.append(helper.make_node("Squeeze", [f"Y{layer}", "axis1"], [x]))
    inits += [numpy_helper.from_array(np.array([1], np.int64), "axis1"),
              numpy_helper.from_array(np.array([0], np.int64), "axis0"),
              numpy_helper.from_array(p["linear.weight"].astype(np.float32), "LW"),
              numpy_helper.from_array(p["linear.bias"].astype(np.float32), "LB")]
    nodes += [helper.make_node("Squeeze", ["H2", "axis0"], ["last"]),
              helper.make_node("Gemm", ["last", "LW", "LB"], ["linear"], transB=1),
              helper.make_node("Relu", ["linear"], ["out"])]
    graph = helper.make_graph(
        nodes, "ge2e", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["t", "b", 40])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["b", 256])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


class VoiceEncoder:
    """The GE2E speaker encoder: (batch, frames, 40) mel → (batch, 256) unit-norm embeddings.

    On the CPU it runs in onnxruntime from a graph built once from the checkpoint (cached); on
    CUDA in torch.
    """

    def __init__(self, device: str = "cpu", weights: str | Path | None = None) -> None:
        path = Path(weights) if weights else weights_path()
        self.device = "cuda" if device == "cuda" else "cpu"
        if self.device == "cuda":
            self._torch = self._torch_modules(numpy_weights(path))
            return
        import onnxruntime as ort

        graph = _cached_graph(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, len(os.sched_getaffinity(0)))
        self._session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    @staticmethod
    def _torch_modules(params: dict[str, np.ndarray]):
        import torch
        from torch import nn

        lstm, linear = nn.LSTM(N_MELS, 256, 3, batch_first=True), nn.Linear(256, 256)
        tensors = {k: torch.from_numpy(v) for k, v in params.items()}
        lstm.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("lstm.")})
        linear.load_state_dict({k[7:]: v for k, v in tensors.items()
                                if k.startswith("linear.")})
        return torch, lstm.to("cuda").eval(), linear.to("cuda").eval()

    def embed(self, mels: np.ndarray) -> np.ndarray:
        """Embed a batch of equal-length mel windows; returns float32 (batch, 256)."""
        mels = np.ascontiguousarray(mels, dtype=np.float32)
        if len(mels) == 0:
            return np.zeros((0, 256), np.float32)
        if self.device == "cuda":
            torch, lstm, linear = self._torch
            with torch.inference_mode():
                _, (hidden, _) = lstm(torch.from_numpy(mels).to("cuda"))
                raw = torch.relu(linear(hidden[-1])).cpu().numpy()
        else:
            frames_first = np.ascontiguousarray(mels.transpose(1, 0, 2))
            raw = self._session.run(None, {"x": frames_first})[0]
        norm = np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-8)
        return (raw / norm).astype(np.float32)


def _cached_graph(path: Path) -> bytes:
    """The ONNX encoder for this checkpoint, built once into ccgen's cache."""
    import hashlib

    from ccgen.speech.models import cache_dir
    from ccgen.writers.atomic import replace_atomic

    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    cached = cache_dir() / "models" / f"resemblyzer-{digest}.onnx"
    if cached.is_file():
        return cached.read_bytes()
    graph = _onnx_graph(numpy_weights(path))
    replace_atomic(cached, lambda fh: fh.write(graph))
    return graph
