"""Frame-to-frame association: overlap-based assignment, distance fallback, mitosis."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ctc.overlap import Overlaps
from ctc.tracking.config import TrackingConfig
from ctc.tracking.features import FrameObjects

_FORBIDDEN = 1e9
_NO_LINK = 1.0  # cost of ending a track, and of starting one


@dataclass
class FrameLinks:
    """How the objects of frame t relate to those of frame t-1 (labels of each frame)."""

    continuation: dict[int, int] = field(default_factory=dict)  # current -> previous
    mother: dict[int, int] = field(default_factory=dict)        # daughter -> mother


def _candidates(prev: FrameObjects, curr: FrameObjects, ov: Overlaps,
                config: TrackingConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linkable (prev index, curr index, cost) triples."""
    inter = ov.pair_area.astype(np.float64)
    area_p = ov.area_of_pair_a().astype(np.float64)
    area_c = ov.area_of_pair_b().astype(np.float64)
    iou = inter / (area_p + area_c - inter)
    frac = np.maximum(inter / area_p, inter / area_c)
    ok = (iou >= config.min_iou) | (frac >= config.min_overlap)
    p_idx, c_idx = prev.index(ov.pair_a[ok]), curr.index(ov.pair_b[ok])
    cost = 1.0 - iou[ok]  # overlap links cost less than 1 ...
    if config.max_displacement > 0 and len(prev) and len(curr):
        lonely_p = np.setdiff1d(np.arange(len(prev)), p_idx)
        lonely_c = np.setdiff1d(np.arange(len(curr)), c_idx)
        if len(lonely_p) and len(lonely_c):
            tree = cKDTree(curr.centroid[lonely_c])
            near = tree.query_ball_point(prev.centroid[lonely_p], config.max_displacement)
            dp = np.repeat(lonely_p, [len(n) for n in near])
            dc = lonely_c[np.concatenate([np.asarray(n, dtype=np.intp) for n in near])] \
                if len(dp) else np.zeros(0, np.intp)
            dist = np.linalg.norm(prev.centroid[dp] - curr.centroid[dc], axis=1)
            # ... distance links between 1 and 2, so overlap always wins.
            p_idx = np.concatenate([p_idx, dp])
            c_idx = np.concatenate([c_idx, dc])
            cost = np.concatenate([cost, 1.0 + dist / config.max_displacement])
    return p_idx, c_idx, cost


def assign(n_prev: int, n_curr: int, p_idx: np.ndarray, c_idx: np.ndarray,
           cost: np.ndarray) -> list[tuple[int, int]]:
    """Minimum-cost assignment with the option not to link, on a sparse candidate set.

    The candidate graph is split into connected components; each component is
    solved with :func:`scipy.optimize.linear_sum_assignment` on its small
    augmented matrix (links, track ends, track starts).
    """
    if not len(cost):
        return []
    graph = coo_matrix((np.ones(len(cost)), (p_idx, n_prev + c_idx)),
                       shape=(n_prev + n_curr, n_prev + n_curr))
    _, component = connected_components(graph, directed=False)
    pairs: list[tuple[int, int]] = []
    edge_comp = component[p_idx]
    order = np.argsort(edge_comp, kind="stable")
    bounds = np.flatnonzero(np.diff(edge_comp[order])) + 1
    for edges in np.split(order, bounds):
        ps, pi = np.unique(p_idx[edges], return_inverse=True)
        cs, ci = np.unique(c_idx[edges], return_inverse=True)
        if len(ps) == 1 and len(cs) == 1:
            if cost[edges].min() < 2 * _NO_LINK:
                pairs.append((int(ps[0]), int(cs[0])))
            continue
        n, m = len(ps), len(cs)
        big = np.full((n + m, m + n), _FORBIDDEN)
        big[pi, ci] = cost[edges]
        big[np.arange(n), m + np.arange(n)] = _NO_LINK
        big[n + np.arange(m), np.arange(m)] = _NO_LINK
        big[n:, m:] = 0.0
        rows, cols = linear_sum_assignment(big)
        for r, c in zip(rows, cols, strict=True):
            if r < n and c < m and big[r, c] < _FORBIDDEN:
                pairs.append((int(ps[r]), int(cs[c])))
    return pairs


def link_frames(prev: FrameObjects, curr: FrameObjects, ov: Overlaps,
                config: TrackingConfig) -> FrameLinks:
    """Link the objects of two consecutive frames and detect divisions.

    Parameters
    ----------
    prev, curr : FrameObjects
        Objects of frames t-1 and t.
    ov : Overlaps
        Overlaps of the label image of t-1 (``a``) with that of t (``b``).
    config : TrackingConfig

    Returns
    -------
    FrameLinks
        Continuations (same track) and mother of each daughter (new tracks).
    """
    p_idx, c_idx, cost = _candidates(prev, curr, ov, config)
    pairs = assign(len(prev), len(curr), p_idx, c_idx, cost)
    links = FrameLinks(continuation={int(curr.labels[c]): int(prev.labels[p])
                                     for p, c in pairs})
    if config.division and len(prev) and len(curr):
        _divisions(prev, curr, ov, pairs, links, config)
    return links


def _divisions(prev: FrameObjects, curr: FrameObjects, ov: Overlaps,
               pairs: list[tuple[int, int]], links: FrameLinks,
               config: TrackingConfig) -> None:
    """Turn a mother and the new objects that appeared over it into a division."""
    linked_c = {c for _, c in pairs}
    born = np.array([c for c in range(len(curr)) if c not in linked_c], dtype=np.intp)
    if not len(born):
        return
    # Score of each (mother, born object): the fraction of the newcomer lying in
    # the mother's previous footprint, else closeness in mother radii.
    score: dict[int, tuple[float, int]] = {}
    inside = ov.pair_area / ov.area_of_pair_b()
    c_of_pair = curr.index(ov.pair_b)
    p_of_pair = prev.index(ov.pair_a)
    is_born = np.isin(c_of_pair, born)
    for p, c, f in zip(p_of_pair[is_born], c_of_pair[is_born], inside[is_born], strict=True):
        if f >= config.division_min_overlap and f > score.get(int(c), (-1.0, -1))[0]:
            score[int(c)] = (float(f), int(p))
    far = [c for c in born.tolist() if c not in score]
    if far:
        tree = cKDTree(prev.centroid)
        reach = config.division_max_distance * prev.radius.max()
        for c in far:
            for p in tree.query_ball_point(curr.centroid[c], reach):
                d = np.linalg.norm(prev.centroid[p] - curr.centroid[c]) / prev.radius[p]
                if d <= config.division_max_distance and -d > score.get(c, (-np.inf, -1))[0]:
                    score[c] = (-float(d), int(p))
    by_mother: dict[int, list[tuple[float, int]]] = {}
    for c, (s, p) in score.items():
        by_mother.setdefault(p, []).append((s, c))
    continued = {p: c for p, c in pairs}
    for p, newcomers in by_mother.items():
        newcomers.sort(reverse=True)
        daughters = [continued[p]] if p in continued else []
        chosen = newcomers[: config.max_daughters - len(daughters)]
        daughters += [c for _, c in chosen]
        if len(daughters) < 2:
            continue
        sizes = curr.area[daughters]
        if sizes.min() < config.daughter_size_ratio * sizes.max():
            continue
        if _max_iou(prev, curr, ov, p, daughters) >= config.division_max_iou:
            continue
        by_proximity = any(s < 0 for s, _ in chosen)
        if by_proximity and not (p in continued and curr.area[continued[p]]
                                 <= config.division_shrink * prev.area[p]):
            continue
        mother = int(prev.labels[p])
        for c in daughters:
            label = int(curr.labels[c])
            links.continuation.pop(label, None)
            links.mother[label] = mother


def _max_iou(prev: FrameObjects, curr: FrameObjects, ov: Overlaps, p: int,
             daughters: list[int]) -> float:
    """Largest IoU between mother `p` and any of `daughters` (indices)."""
    sel = (ov.pair_a == prev.labels[p]) & np.isin(ov.pair_b, curr.labels[daughters])
    if not sel.any():
        return 0.0
    inter = ov.pair_area[sel].astype(np.float64)
    union = prev.area[p] + ov.area_of_pair_b()[sel] - inter
    return float(np.max(inter / union))
