"""Convolutional GRU with a state that persists across calls until reset."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ConvGRU(nn.Module):
    """A convolutional GRU cell (3x3 convolutions, leaky-ReLU candidate activation).

    ``forward(x)`` updates and returns the hidden state, which the module keeps
    for the next call (frame-to-frame recurrence); :meth:`reset` zeroes it.
    A state of another spatial size than the input is replaced by zeros.

    Parameters
    ----------
    in_channels, hidden : int
        Input and state channels.
    kernel : int
        Convolution size.
    """

    def __init__(self, in_channels: int, hidden: int, kernel: int = 3):
        super().__init__()
        self.hidden = hidden
        self.gates = nn.Conv2d(in_channels + hidden, 2 * hidden, kernel, padding=kernel // 2)
        self.candidate = nn.Conv2d(in_channels + hidden, hidden, kernel, padding=kernel // 2)
        self.state: torch.Tensor | None = None

    def reset(self) -> None:
        """Forget the state (start of a new sequence)."""
        self.state = None

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None) -> torch.Tensor:
        h = state if state is not None else self.state
        if h is None or h.shape[0] != x.shape[0] or h.shape[-2:] != x.shape[-2:]:
            h = x.new_zeros(x.shape[0], self.hidden, *x.shape[-2:])
        update, reset = torch.sigmoid(self.gates(torch.cat([x, h], dim=1))).chunk(2, dim=1)
        candidate = F.leaky_relu(self.candidate(torch.cat([x, reset * h], dim=1)), 0.2)
        self.state = (1 - update) * h + update * candidate
        return self.state
