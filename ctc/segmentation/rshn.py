"""Recurrent stacked hourglass network (RSHN) predicting per-pixel cosine embeddings.

Two hourglasses; the second sees the first's embeddings concatenated with the
image. Each hourglass: single 3x3 convolution blocks of 64 channels (group
normalisation by default, ``RSHNConfig.norm``; the published network has none),
max-pool down, nearest up, additive merges, and a convolutional GRU in every skip path
whose state persists from frame to frame (call :meth:`RSHN.reset` at the
start of a sequence). The output is a d-dimensional embedding per pixel from
each hourglass; the loss applies to both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ctc.segmentation.convgru import ConvGRU

#: Its default learning rate: on one fixed window of SIM+ cells its loss stalled at 2e-3
#: and fitted at 1e-4 (README: "Can the recurrent networks learn at all?").
RSHN_LR = 1e-4

#: Normalisation after each convolution block: "group" (GroupNorm, independent of the
#: batch, which is two windows here) or "none" (the published network).
RSHN_NORMS = ("group", "none")


@dataclass(frozen=True)
class RSHNConfig:
    in_channels: int = 1
    embedding: int = 16      # d
    channels: int = 64
    levels: int = 4
    norm: str = "group"
    groups: int = 8

    def __post_init__(self) -> None:
        if self.norm not in RSHN_NORMS:
            raise ValueError(f"norm must be one of {RSHN_NORMS}, got {self.norm!r}")
        if self.norm == "group" and self.channels % self.groups:
            raise ValueError(f"channels ({self.channels}) must be a multiple of groups "
                             f"({self.groups})")

    def to_dict(self) -> dict:
        return asdict(self)


def _block(cin: int, cout: int, cfg: RSHNConfig) -> nn.Sequential:
    # Without normalisation the cosine loss let the embeddings' norm grow unchecked
    # (about 300 after 100 steps on DIC-HeLa, against 1 at the start); its gradient
    # falls as one over that norm, and training stalled in a nearly constant direction.
    norm = [nn.GroupNorm(cfg.groups, cout)] if cfg.norm == "group" else []
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), *norm,
                         nn.LeakyReLU(0.1, inplace=True))


class Hourglass(nn.Module):
    def __init__(self, cin: int, cfg: RSHNConfig):
        super().__init__()
        c = cfg.channels
        self.entry = _block(cin, c, cfg)
        self.down = nn.ModuleList(_block(c, c, cfg) for _ in range(cfg.levels))
        self.skips = nn.ModuleList(ConvGRU(c, c) for _ in range(cfg.levels))
        self.up = nn.ModuleList(_block(c, c, cfg) for _ in range(cfg.levels))
        self.bottom = _block(c, c, cfg)
        self.out = nn.Conv2d(c, cfg.embedding, 1)

    def reset(self) -> None:
        for gru in self.skips:
            gru.reset()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.entry(x)
        skips = []
        for down, gru in zip(self.down, self.skips, strict=True):
            x = down(x)
            skips.append(gru(x))
            x = F.max_pool2d(x, 2)
        x = self.bottom(x)
        for up in self.up:
            x = up(F.interpolate(x, scale_factor=2, mode="nearest") + skips.pop())
        return self.out(x)


def _he_init(module: nn.Module) -> None:
    # Without normalisation layers (norm "none", as the network first was), PyTorch's
    # default initialisation shrank the signal about threefold per convolution, so at the output the
    # embedding was the biases' constant direction (|cos| to the mean direction
    # 0.9999 on a DIC-HeLa crop) and training sat in that collapse. He initialisation
    # for the leaky ReLUs, with zero biases, keeps the signal's scale through the layers.
    if isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, a=0.1, nonlinearity="leaky_relu")
        nn.init.zeros_(module.bias)


class RSHN(nn.Module):
    """Two stacked recurrent hourglasses; ``forward`` returns both embeddings (N, d, H, W)."""

    def __init__(self, cfg: RSHNConfig = RSHNConfig()):
        super().__init__()
        self.cfg = cfg
        self.first = Hourglass(cfg.in_channels, cfg)
        self.second = Hourglass(cfg.in_channels + cfg.embedding, cfg)
        self.apply(_he_init)

    def reset(self) -> None:
        """Zero the recurrent states: call at the start of every sequence."""
        self.first.reset()
        self.second.reset()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = x.shape[-2:]
        m = 2 ** self.cfg.levels
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        e1 = self.first(x)
        e2 = self.second(torch.cat([e1, x], dim=1))
        return e1[..., :h, :w], e2[..., :h, :w]
