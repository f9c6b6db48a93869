"""Resemblyzer's GE2E voice encoder, run without importing Resemblyzer's audio stack.

Why our own front end: ``import resemblyzer`` pulls librosa (numba JIT, seconds of import) and
webrtcvad for preprocessing that ccgen already does (Silero VAD). The network is three lines of
torch; the mel front end below reproduces ``librosa.feature.melspectrogram`` (Slaney mel, power
spectrum, centred frames with zero padding) to float precision, and the tests check that the
embeddings equal Resemblyzer's own ``embed_utterance`` on a real clip. Only the weights file
``resemblyzer/pretrained.pt`` (17 MB, Apache-2.0) is read, with ``weights_only=True``.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from ccgen.errors import CcgenError, InputError

SAMPLE_RATE = 16000
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


class VoiceEncoder:
    """The GE2E speaker encoder: (batch, frames, 40) mel → (batch, 256) unit-norm embeddings."""

    def __init__(self, device: str = "cpu", weights: str | Path | None = None) -> None:
        import torch
        from torch import nn

        path = Path(weights) if weights else weights_path()
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
        except Exception as exc:  # noqa: BLE001 - an unreadable checkpoint: one line for users
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise CcgenError(f"cannot load the voice encoder {path}: {reason}") from exc
        self.torch = torch
        self.device = torch.device(device)
        self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)
        self.lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
        self.linear.load_state_dict({k[7:]: v for k, v in state.items()
                                     if k.startswith("linear.")})
        for module in (self.lstm, self.linear):
            module.to(self.device).eval()

    def embed(self, mels: np.ndarray) -> np.ndarray:
        """Embed a batch of equal-length mel windows; returns float32 (batch, 256)."""
        torch = self.torch
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(mels, dtype=np.float32)).to(self.device)
            _, (hidden, _) = self.lstm(x)
            raw = torch.relu(self.linear(hidden[-1]))
            out = raw / torch.linalg.norm(raw, dim=1, keepdim=True).clamp_min(1e-8)
        return out.cpu().numpy()
