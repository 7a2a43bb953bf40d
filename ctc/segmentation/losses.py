"""Pixel-wise losses for class-map segmentation (logits ``(N, C, ...)``, targets ``(N, ...)``).

Target pixels equal to :data:`ctc.segmentation.targets.IGNORE` are excluded.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ctc.segmentation.targets import IGNORE

#: Default class weights, indexed by class: background 1, cell 5, boundary 10.
DEFAULT_WEIGHTS = (1.0, 5.0, 10.0)


def _valid(target: torch.Tensor) -> torch.Tensor:
    return target != IGNORE


def _per_pixel_ce(logits, target, weights=None):
    w = None if weights is None else torch.as_tensor(weights, dtype=logits.dtype,
                                                     device=logits.device)
    return F.cross_entropy(logits, target.long(), weight=w, ignore_index=IGNORE,
                           reduction="none")


def weighted_ce(logits: torch.Tensor, target: torch.Tensor,
                weights: Sequence[float] = DEFAULT_WEIGHTS) -> torch.Tensor:
    """Class-weighted cross-entropy, averaged over the weight of the valid pixels."""
    w = torch.as_tensor(weights, dtype=logits.dtype, device=logits.device)
    return F.cross_entropy(logits, target.long(), weight=w, ignore_index=IGNORE)


def _soft_onehot(logits, target):
    valid = _valid(target)
    prob = logits.softmax(dim=1)
    onehot = F.one_hot(torch.where(valid, target, 0).long(), logits.shape[1])
    onehot = onehot.movedim(-1, 1).to(prob.dtype)
    mask = valid.unsqueeze(1).to(prob.dtype)
    return prob * mask, onehot * mask, mask


def youden_j_term(logits: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """1 - mean soft Youden's J (sensitivity + specificity - 1) over the classes."""
    prob, onehot, mask = _soft_onehot(logits, target)
    dims = [0] + list(range(2, logits.ndim))
    tp = (prob * onehot).sum(dims)
    pos = onehot.sum(dims)
    tn = ((mask - prob) * (mask - onehot)).sum(dims)
    neg = (mask - onehot).sum(dims)
    j = tp / (pos + eps) + tn / (neg + eps) - 1.0
    present = pos > 0
    return (1.0 - j[present]).mean() if present.any() else logits.sum() * 0


def ce_j(logits, target, weights=DEFAULT_WEIGHTS, lam: float = 1.0) -> torch.Tensor:
    """Weighted cross-entropy with J-regularization."""
    return weighted_ce(logits, target, weights) + lam * youden_j_term(logits, target)


def dice_term(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """1 - mean soft Dice over the classes."""
    prob, onehot, _ = _soft_onehot(logits, target)
    dims = [0] + list(range(2, logits.ndim))
    inter = (prob * onehot).sum(dims)
    total = prob.sum(dims) + onehot.sum(dims)
    return 1.0 - ((2 * inter + eps) / (total + eps)).mean()


def ce_dice(logits, target, weights=DEFAULT_WEIGHTS) -> torch.Tensor:
    """Weighted cross-entropy plus soft Dice."""
    return weighted_ce(logits, target, weights) + dice_term(logits, target)


def normalized_focal(logits: torch.Tensor, target: torch.Tensor,
                     gamma: float = 2.0) -> torch.Tensor:
    """Focal loss whose focal weights ``(1 - p_t)**gamma`` are normalised to sum to one.

    Normalising over the batch keeps the loss scale of cross-entropy while the
    weights concentrate the gradient on the hard pixels.
    """
    ce = _per_pixel_ce(logits, target)
    valid = _valid(target)
    p_t = torch.exp(-ce)
    focal = (1.0 - p_t) ** gamma * valid
    weights = focal / focal.sum().clamp_min(1e-12)
    return (weights * ce).sum()


def top_k(logits: torch.Tensor, target: torch.Tensor, fraction: float = 0.1,
          weights=None) -> torch.Tensor:
    """Mean cross-entropy of the hardest `fraction` of the valid pixels."""
    ce = _per_pixel_ce(logits, target, weights)[_valid(target)]
    if ce.numel() == 0:
        return logits.sum() * 0
    k = max(1, int(round(fraction * ce.numel())))
    return ce.topk(k).values.mean()


def ce_top_k(logits, target, weights=DEFAULT_WEIGHTS, fraction: float = 0.1) -> torch.Tensor:
    """Weighted cross-entropy plus the top-K hard-pixel term."""
    return weighted_ce(logits, target, weights) + top_k(logits, target, fraction)


LOSSES = {
    "wce": weighted_ce,
    "wce+j": ce_j,
    "ce+dice": ce_dice,
    "nfl": normalized_focal,
    "wce+topk": ce_top_k,
}


def class_weights(loss: dict) -> tuple[float, ...] | None:
    """Class weights a loss configuration trains with (None for unweighted losses)."""
    if loss.get("name") == "nfl":
        return None
    return tuple(loss.get("weights", DEFAULT_WEIGHTS))


def make_loss(name: str, **params):
    """The loss called `name` (see :data:`LOSSES`) with its parameters bound."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose among {', '.join(LOSSES)}")
    fn = LOSSES[name]
    return lambda logits, target: fn(logits, target, **params)
