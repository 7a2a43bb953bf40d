"""GRU-U-Net: a full-resolution ConvGRU stream refined over the scales of a pooling stream.

The pooling stream goes down by max-pooling and up by bilinear upsampling, a
unit per scale step. Each unit max-pools the recurrent state to its
resolution, concatenates it with the pooling-stream features, applies
BatchNorm + 1x1 convolution and a dense block of k layers; a 1x1 convolution
and nearest upsampling bring its output back to full resolution as the input
of one GRU step. The state after the last unit gives the class logits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ctc.segmentation.convgru import ConvGRU


@dataclass(frozen=True)
class GRUUConfig:
    in_channels: int = 1
    out_channels: int = 3
    scales: int = 4          # pooling levels: 2 * scales - 1 units
    features: int = 32       # pooling-stream channels
    hidden: int = 32         # recurrent-stream channels
    dense_layers: int = 4    # k
    growth: int = 12

    def to_dict(self) -> dict:
        return asdict(self)


class DenseBlock(nn.Module):
    def __init__(self, channels: int, layers: int, growth: int):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(channels + i * growth), nn.ReLU(inplace=True),
                          nn.Conv2d(channels + i * growth, growth, 3, padding=1))
            for i in range(layers))
        self.out_channels = channels + layers * growth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.cat([x, layer(x)], dim=1)
        return x


class GRUUnit(nn.Module):
    def __init__(self, cfg: GRUUConfig):
        super().__init__()
        c = cfg.features + cfg.hidden
        self.fuse = nn.Sequential(nn.BatchNorm2d(c), nn.Conv2d(c, cfg.features, 1))
        self.dense = DenseBlock(cfg.features, cfg.dense_layers, cfg.growth)
        self.squeeze = nn.Conv2d(self.dense.out_channels, cfg.features, 1)
        self.to_gru = nn.Conv2d(cfg.features, cfg.hidden, 1)

    def forward(self, features, state, scale):
        pooled = F.max_pool2d(state, scale) if scale > 1 else state
        x = self.squeeze(self.dense(self.fuse(torch.cat([features, pooled], dim=1))))
        gru_in = self.to_gru(x)
        if scale > 1:
            gru_in = F.interpolate(gru_in, scale_factor=scale, mode="nearest")
        return x, gru_in


class GRUUNet(nn.Module):
    """GRU-U-Net (see the module docstring)."""

    def __init__(self, cfg: GRUUConfig = GRUUConfig()):
        super().__init__()
        self.cfg = cfg
        self.stem = nn.Conv2d(cfg.in_channels, cfg.features, 3, padding=1)
        self.init_state = nn.Conv2d(cfg.in_channels, cfg.hidden, 3, padding=1)
        self.units = nn.ModuleList(GRUUnit(cfg) for _ in range(2 * cfg.scales - 1))
        self.gru = ConvGRU(cfg.hidden, cfg.hidden)
        self.head = nn.Conv2d(cfg.hidden, cfg.out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        m = 2 ** (self.cfg.scales - 1)
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        features = self.stem(x)
        state = torch.tanh(self.init_state(x))
        levels = list(range(self.cfg.scales)) + list(range(self.cfg.scales - 2, -1, -1))
        current = 0
        for unit, level in zip(self.units, levels, strict=True):
            if level > current:
                features = F.max_pool2d(features, 2)
            elif level < current:
                features = F.interpolate(features, scale_factor=2, mode="bilinear",
                                         align_corners=False)
            current = level
            features, gru_in = unit(features, state, 2 ** level)
            state = self.gru(gru_in, state)
        self.gru.reset()  # the recurrence runs over scales within one frame
        return self.head(state)[..., :h, :w]
