"""Cosine embeddings: the training loss, mean-shift clustering, and frame-pair merging.

Instances are represented by directions in a d-dimensional embedding space;
the background has the fixed direction ``(1, 0, ..., 0)``. Because the loss
uses squared cosines, a direction and its opposite denote the same instance.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def background_direction(d: int, like: torch.Tensor | None = None):
    e = torch.zeros(d) if like is None else like.new_zeros(d)
    e[0] = 1.0
    return e


def _dilate(masks: torch.Tensor, gap: int) -> torch.Tensor:
    """Boolean masks (n, H, W) grown by `gap` pixels in a square neighbourhood."""
    grown = masks[:, None].float()
    grown = F.max_pool2d(grown, (2 * gap + 1, 1), stride=1, padding=(gap, 0))
    grown = F.max_pool2d(grown, (1, 2 * gap + 1), stride=1, padding=(0, gap))
    return grown[:, 0] > 0


def cosine_embedding_loss(embeddings: torch.Tensor, labels: torch.Tensor,
                          full: torch.Tensor | None = None,
                          neighbour_gap: int = 20) -> torch.Tensor:
    """Cosine embedding loss of a sequence of frames.

    Parameters
    ----------
    embeddings : Tensor (T, d, H, W)
    labels : Tensor (T, H, W) of int
        Instance (track) labels, the same label for the same cell in every
        frame; 0 background; -1 unknown (e.g. around dot-only markers).
    full : Tensor (T,) of bool, optional
        Frames whose every cell is labelled: only there is 0 known to be
        background. Frames with dot-only tracking markers have ``False``.
    neighbour_gap : int
        Instances whose masks come within this many pixels of each other (square
        neighbourhood) are neighbours. A gap between masks rather than a distance
        between centres, so that large touching cells (DIC-C2DH-HeLa's, 100 px
        across, whose centres lie farther apart than any fixed radius suited to
        nuclei) are pushed apart too.

    Returns
    -------
    Tensor
        Per instance ``1 - mean cos^2`` to its mean embedding, plus mean cos^2
        against neighbouring instances and against the background; plus
        ``1 - mean cos^2`` of background pixels to the background direction.
    """
    t, d, h, w = embeddings.shape
    e = F.normalize(embeddings, dim=1).permute(0, 2, 3, 1).reshape(t, h * w, d)
    lab = labels.reshape(t, h * w)
    full = torch.ones(t, dtype=torch.bool) if full is None else full
    bg_dir = background_direction(d, embeddings)
    ids = torch.unique(lab[lab > 0])
    if ids.numel() == 0:
        return embeddings.sum() * 0
    means = torch.stack([F.normalize(e[lab == i].mean(0), dim=0) for i in ids])
    terms = []
    for k, i in enumerate(ids):
        member = lab == i
        terms.append(1 - ((e[member] @ means[k]) ** 2).mean())
        terms.append(((e[member] @ bg_dir) ** 2).mean())
    for f in range(t):
        present = [k for k, i in enumerate(ids) if (lab[f] == i).any()]
        if len(present) > 1:
            # each present instance's mask once: for the neighbour test and the terms
            flat = torch.stack([lab[f] == ids[k] for k in present])
            near = _dilate(flat.reshape(-1, h, w), neighbour_gap).reshape(len(present), -1)
            for a_pos, a in enumerate(present):
                for b_pos in range(len(present)):
                    if a_pos != b_pos and (near[a_pos] & flat[b_pos]).any():
                        terms.append(((e[f][flat[b_pos]] @ means[a]) ** 2).mean())
        if full[f] and (lab[f] == 0).any():
            terms.append(1 - ((e[f][lab[f] == 0] @ bg_dir) ** 2).mean())
    return torch.stack(terms).mean()


def cluster_embeddings(embeddings: np.ndarray, *, bandwidth: float = 0.1,
                       coord_scale: float = 0.002, min_size: int = 20,
                       max_points: int = 3000, max_seeds: int = 300, iterations: int = 30,
                       seed: int = 0) -> np.ndarray:
    """Instances of an embedding image (d, H, W) or volume (d, Z, H, W) by mean shift.

    Background: pixels with ``cos^2`` to ``(1, 0, ...)`` above 0.5. The rest
    are clustered by mean shift with a flat kernel on cosine similarity
    (``cos^2 >= 1 - bandwidth``) and on the pixel coordinates scaled by
    `coord_scale`: up to `max_seeds` seeds climb on up to `max_points` sampled
    pixels, converged modes closer than the bandwidth merge, and every pixel
    joins its nearest mode. Instances below `min_size` are dropped.
    """
    d = embeddings.shape[0]
    spatial = embeddings.shape[1:]
    e = embeddings.reshape(d, -1).T.astype(np.float64)
    e /= np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    coords = np.stack(np.unravel_index(np.arange(e.shape[0]), spatial), 1) * coord_scale
    fg = np.flatnonzero(e[:, 0] ** 2 <= 0.5)
    labels = np.zeros(e.shape[0], np.int64)
    if not len(fg):
        return labels.reshape(spatial).astype(np.uint16)
    rng = np.random.default_rng(seed)
    sample = fg if len(fg) <= max_points else rng.choice(fg, max_points, replace=False)
    pe, pc = e[sample], coords[sample]
    seeds = rng.choice(len(sample), min(max_seeds, len(sample)), replace=False)
    modes_e, modes_c = pe[seeds], pc[seeds]
    for _ in range(iterations):
        cos = modes_e @ pe.T                                   # (seeds, points)
        near = (cos ** 2 >= 1 - bandwidth) & (
            ((modes_c[:, None, :] - pc[None]) ** 2).sum(-1) <= bandwidth)
        new_e = (np.sign(cos) * near) @ pe
        new_e /= np.maximum(np.linalg.norm(new_e, axis=1, keepdims=True), 1e-12)
        new_c = (near @ pc) / np.maximum(near.sum(1, keepdims=True), 1)
        done = np.allclose(new_e, modes_e) and np.allclose(new_c, modes_c)
        modes_e, modes_c = new_e, new_c
        if done:
            break
    support = near.sum(1)
    kept: list[int] = []
    for i in np.argsort(-support, kind="stable"):  # densest modes first absorb the others
        if kept:
            close = ((modes_e[kept] @ modes_e[i]) ** 2 >= 1 - bandwidth / 2) & (
                ((modes_c[kept] - modes_c[i]) ** 2).sum(1) <= bandwidth)
            if close.any():
                continue
        kept.append(int(i))
    kept_e, kept_c = modes_e[kept], modes_c[kept]
    for start in range(0, len(fg), 65536):  # bounded memory on large images
        part = fg[start:start + 65536]
        score = (e[part] @ kept_e.T) ** 2 - (
            (coords[part][:, None, :] - kept_c[None]) ** 2).sum(-1)
        labels[part] = score.argmax(1) + 1
    sizes = np.bincount(labels, minlength=len(kept) + 1)
    labels[sizes[labels] < min_size] = 0
    present = np.unique(labels[labels > 0])
    lut = np.zeros(len(kept) + 1, np.uint16)
    lut[present] = np.arange(1, len(present) + 1)
    return lut[labels].reshape(spatial)


def link_frame_pair(previous: np.ndarray, pair_previous: np.ndarray, pair_current: np.ndarray,
                    next_id: int) -> tuple[np.ndarray, dict[int, int], int]:
    """Carry sequence-wide ids into the next frame from a clustered frame pair.

    Parameters
    ----------
    previous : ndarray
        Frame t-1 with its sequence-wide ids.
    pair_previous, pair_current : ndarray
        Frames t-1 and t clustered together (one id per instance for both).
    next_id : int
        First unused sequence-wide id.

    Returns
    -------
    current : ndarray
        Frame t with sequence-wide ids: a pair instance takes the id of the
        ``previous`` object it overlaps most (IoU) in frame t-1; instances
        absent from frame t-1 of the pair get new ids.
    parents : dict
        New id -> id of the object of frame t-1 it overlaps most (mitosis),
        for new instances that overlap one.
    next_id : int
    """
    current = np.zeros(pair_current.shape, np.int64)
    parents: dict[int, int] = {}
    used: set[int] = set()
    for pid in np.unique(pair_current[pair_current > 0]):
        region_prev = pair_previous == pid
        target = None
        if region_prev.any():
            target = _best_iou(previous, region_prev)
        if target is not None and target not in used:
            used.add(target)
            current[pair_current == pid] = target
            continue
        current[pair_current == pid] = next_id
        parent = _best_iou(previous, pair_current == pid)
        if parent is not None:
            parents[next_id] = parent
        next_id += 1
    return current, parents, next_id


def _best_iou(labels: np.ndarray, region: np.ndarray) -> int | None:
    hits = labels[region]
    hits = hits[hits > 0]
    if not len(hits):
        return None
    candidates, inter = np.unique(hits, return_counts=True)
    areas = np.array([np.count_nonzero(labels == c) for c in candidates])
    iou = inter / (areas + np.count_nonzero(region) - inter)
    return int(candidates[np.argmax(iou)])
