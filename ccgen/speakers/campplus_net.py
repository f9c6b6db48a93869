"""The CAM++ speaker-embedding network (3D-Speaker's ``CAMPPlus``), written from its paper so
that the 3D-Speaker checkpoint loads strictly into it. Apart from :mod:`ccgen.speakers.campplus`
because it needs torch at import: that module imports this one on first use only, so a run
without the campplus diarizer never imports torch."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional

from ccgen.speakers.campplus import EMBEDDING_DIM, N_MELS, SEGMENT_FRAMES


def OrderedDictOf(**modules: object) -> OrderedDict:  # nn.Sequential wants an OrderedDict
    return OrderedDict(modules)


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
