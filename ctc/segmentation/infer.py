"""Inference: tiled prediction with seamless blending, test-time augmentation, 3D slice-wise."""

from __future__ import annotations

import numpy as np
import torch

from ctc.segmentation.data import slice_context
from ctc.segmentation.nets import UNet

_TTA = {
    None: [(0, False)],
    "none": [(0, False)],
    "flips": [(0, False), (0, True), (2, False), (2, True)],
    "dihedral": [(k, f) for k in range(4) for f in (False, True)],
}


def _window(size: int, overlap: int) -> np.ndarray:
    """1D blending weights: linear ramps over the overlaps, never zero."""
    w = np.ones(size, np.float32)
    if overlap > 0:
        ramp = (np.arange(overlap, dtype=np.float32) + 1) / (overlap + 1)
        w[:overlap] = np.minimum(w[:overlap], ramp)
        w[-overlap:] = np.minimum(w[-overlap:], ramp[::-1])
    return w


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of overlapping tiles covering `length` (the last flush with the end)."""
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step)) + [length - tile]
    return sorted(set(starts))


@torch.no_grad()
def _predict(net: UNet, x: torch.Tensor, tta) -> torch.Tensor:
    """Channel scores of a batch (N, 1, H, W), averaged over the TTA transforms."""
    out = 0
    transforms = _TTA[tta]
    for k, flip in transforms:
        y = torch.rot90(x, k, dims=(-2, -1))
        if flip:
            y = y.flip(-1)
        p = activate(net(y))
        if flip:
            p = p.flip(-1)
        out = out + torch.rot90(p, -k, dims=(-2, -1))
    return out / len(transforms)


def activate(logits: torch.Tensor) -> torch.Tensor:
    """Softmax over the class channels; a 4th (foreground or marker) channel: a sigmoid."""
    if logits.shape[1] == 4:
        return torch.cat([logits[:, :3].softmax(1), logits[:, 3:].sigmoid()], dim=1)
    return logits.softmax(1)


def scores_of(prob: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Channel scores whose :func:`activate` is `prob` (log-probabilities of the class
    channels, the logit of a 4th channel)."""
    prob = prob.clamp(eps, 1 - eps)
    if prob.shape[1] == 4:
        return torch.cat([prob[:, :3].log(), prob[:, 3:].logit()], dim=1)
    return prob.log()


def predict_image(net: UNet, image: np.ndarray, *, tile: int = 512, overlap: int = 64,
                  tta: str | None = "flips", device: torch.device | str = "cpu") -> np.ndarray:
    """Per-pixel probabilities (C, H, W) of a normalised 2D image, tiled and blended.

    An image no larger than `tile` is predicted whole; larger images are cut
    into overlapping tiles whose predictions are blended with linear ramps.
    `image` is (H, W), or (K, H, W) for a network with K input channels (a
    slice with its context).
    """
    h, w = image.shape[-2:]
    th, tw = min(tile, h), min(tile, w)
    ys, xs = tile_starts(h, th, overlap), tile_starts(w, tw, overlap)
    weight = np.outer(_window(th, overlap if len(ys) > 1 else 0),
                      _window(tw, overlap if len(xs) > 1 else 0))
    acc = None
    norm = np.zeros((h, w), np.float32)
    for y in ys:
        for x in xs:
            patch = torch.from_numpy(np.ascontiguousarray(image[..., y:y + th, x:x + tw]))
            patch = patch[None] if patch.ndim == 3 else patch[None, None]
            p = _predict(net, patch.float().to(device), tta)[0].cpu().numpy()
            if acc is None:
                acc = np.zeros((p.shape[0], h, w), np.float32)
            acc[:, y:y + th, x:x + tw] += p * weight
            norm[y:y + th, x:x + tw] += weight
    return acc / norm


def predict_volume(net: UNet, volume: np.ndarray, *, context: int = 0, **kwargs) -> np.ndarray:
    """Probabilities (C, Z, H, W) of a 3D frame, predicted slice by slice (each with
    `context` slices on either side, :func:`ctc.segmentation.data.slice_context`)."""
    out = None
    for z in range(volume.shape[0]):  # written into place: no list of slices beside it
        prob = predict_image(net, slice_context(volume, z, context), **kwargs)
        if out is None:
            out = np.empty((prob.shape[0], volume.shape[0], *prob.shape[1:]), np.float32)
        out[:, z] = prob
    return out


def predict_frame(net: UNet, image: np.ndarray, *, context: int = 0, **kwargs) -> np.ndarray:
    """Probabilities of a 2D image (C, H, W) or, slice by slice, of a 3D volume (C, Z, H, W),
    for a network that takes `context` slices on either side of each one."""
    if image.ndim == 3:
        return predict_volume(net, image, context=context, **kwargs)
    return predict_image(net, slice_context(image, None, context), **kwargs)
