"""A configurable 2D U-Net covering the variants of the project's source papers.

Every component is chosen in :class:`NetConfig`: depth, base width, BatchNorm
or GroupNorm, max-pool or strided-conv downsampling, transposed-conv or
pixel-shuffle upsampling, optional ASPP at the bottleneck, VGG-style or
residual-dense blocks, and an optional entry-flow block. :data:`XBNET` is the
XB-Net-style preset. Inputs of any size are padded to a multiple of
``2**depth`` and the output cropped back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ctc.configs import from_dict


@dataclass(frozen=True)
class NetConfig:
    """Architecture of :class:`UNet` (see the module docstring)."""

    in_channels: int = 1
    out_channels: int = 3
    depth: int = 4
    base: int = 32
    norm: str = "batch"          # "batch" | "group" | "none"
    down: str = "maxpool"        # "maxpool" | "conv"
    up: str = "transpose"        # "transpose" | "pixelshuffle"
    block: str = "vgg"           # "vgg" | "residual_dense"
    aspp: bool = False
    entry: bool = False
    groups: int = 8
    dense_layers: int = 3
    growth: int = 16

    def __post_init__(self) -> None:
        choices = {"norm": ("batch", "group", "none"), "down": ("maxpool", "conv"),
                   "up": ("transpose", "pixelshuffle"), "block": ("vgg", "residual_dense")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.depth < 1 or self.base < 1:
            raise ValueError("depth and base must be >= 1")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> NetConfig:
        return from_dict(cls, values, "network")


#: XB-Net style: residual-dense blocks, GroupNorm, ASPP, pixel-shuffle, entry flow, 32 channels.
XBNET = NetConfig(norm="group", up="pixelshuffle", block="residual_dense", aspp=True,
                  entry=True, base=32)


def _norm(kind: str, channels: int, groups: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        g = max(g for g in range(1, min(groups, channels) + 1) if channels % g == 0)
        return nn.GroupNorm(g, channels)
    return nn.Identity()


def _conv(cin: int, cout: int, cfg: NetConfig, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=cfg.norm == "none"),
        _norm(cfg.norm, cout, cfg.groups), nn.ReLU(inplace=True))


class VGGBlock(nn.Module):
    """Two 3x3 convolutions, each with normalisation and ReLU."""

    def __init__(self, cin: int, cout: int, cfg: NetConfig):
        super().__init__()
        self.body = nn.Sequential(_conv(cin, cout, cfg), _conv(cout, cout, cfg))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ResidualDenseBlock(nn.Module):
    """Densely connected 3x3 layers, 1x1 local fusion, and a residual connection."""

    def __init__(self, cin: int, cout: int, cfg: NetConfig):
        super().__init__()
        self.project = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        self.layers = nn.ModuleList(
            _conv(cout + i * cfg.growth, cfg.growth, cfg) for i in range(cfg.dense_layers))
        self.fuse = nn.Conv2d(cout + cfg.dense_layers * cfg.growth, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.project(x)
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, dim=1)))
        return x + self.fuse(torch.cat(features, dim=1))


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: parallel dilated convolutions + image pooling."""

    def __init__(self, channels: int, cfg: NetConfig, rates: tuple[int, ...] = (1, 2, 4, 6)):
        super().__init__()
        self.branches = nn.ModuleList(_conv(channels, channels, cfg, r) for r in rates)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, channels, 1),
                                  nn.ReLU(inplace=True))
        self.project = nn.Sequential(nn.Conv2d(channels * (len(rates) + 1), channels, 1),
                                     _norm(cfg.norm, channels, cfg.groups), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.pool(x).expand(-1, -1, *x.shape[2:])
        return self.project(torch.cat([b(x) for b in self.branches] + [pooled], dim=1))


class EntryFlow(nn.Module):
    """Full-resolution stem: two 3x3 convolutions with a 1x1 shortcut."""

    def __init__(self, cin: int, cout: int, cfg: NetConfig):
        super().__init__()
        self.body = nn.Sequential(_conv(cin, cout, cfg), _conv(cout, cout, cfg))
        self.shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)


class UNet(nn.Module):
    """U-Net with the components selected by a :class:`NetConfig`."""

    def __init__(self, cfg: NetConfig = NetConfig()):
        super().__init__()
        self.cfg = cfg
        block = VGGBlock if cfg.block == "vgg" else ResidualDenseBlock
        widths = [cfg.base * 2 ** i for i in range(cfg.depth + 1)]
        cin = cfg.in_channels
        self.entry = EntryFlow(cin, widths[0], cfg) if cfg.entry else None
        cin = widths[0] if cfg.entry else cin
        self.encoders = nn.ModuleList()
        self.downs = nn.ModuleList()
        for i, w in enumerate(widths):
            self.encoders.append(block(cin, w, cfg))
            cin = w
            if i < cfg.depth:
                self.downs.append(nn.MaxPool2d(2) if cfg.down == "maxpool"
                                  else nn.Conv2d(w, w, 3, stride=2, padding=1))
        self.aspp = ASPP(widths[-1], cfg) if cfg.aspp else None
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for i in reversed(range(cfg.depth)):
            if cfg.up == "transpose":
                self.ups.append(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2))
            else:
                self.ups.append(nn.Sequential(nn.Conv2d(widths[i + 1], widths[i] * 4, 1),
                                              nn.PixelShuffle(2)))
            self.decoders.append(block(widths[i] * 2, widths[i], cfg))
        self.head = nn.Conv2d(widths[0], cfg.out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        m = 2 ** self.cfg.depth
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            mode = "reflect" if ph < h and pw < w else "replicate"
            x = F.pad(x, (0, pw, 0, ph), mode=mode)
        if self.entry is not None:
            x = self.entry(x)
        skips = []
        for i, encoder in enumerate(self.encoders):
            x = encoder(x)
            if i < self.cfg.depth:
                skips.append(x)
                x = self.downs[i](x)
        if self.aspp is not None:
            x = self.aspp(x)
        for up, decoder in zip(self.ups, self.decoders, strict=True):
            x = decoder(torch.cat([up(x), skips.pop()], dim=1))
        return self.head(x)[..., :h, :w]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
