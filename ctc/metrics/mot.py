"""Multi-object-tracking measures: CHOTA, HOTA (DetA, AssA), MOTA, IDF1, MT/ML, FAF.

All are computed from one :class:`~ctc.metrics.association.TrackConfusion`
(tracks joined across gaps, as py-ctcmetrics does), with the CTC matching
(|R ∩ S| > 0.5 |R|) as the detection test at a single threshold:

- **HOTA** (Luiten et al., 2021) = sqrt(DetA · AssA) with DetA = TP/(TP+FN+FP)
  and AssA = (1/TP) Σ_c A(c), A = TPA/(TPA+FNA+FPA) of the matched track pair
  of detection c;
- **CHOTA** (Kaiser et al., 2024): HOTA whose association counts each track's
  whole lineage (its ancestors, itself and its descendants) on both sides;
- **MOTA** (Bernardin & Stiefelhagen, 2008) as py-ctcmetrics 1.3.3 defines
  it on this matching: 1 - (FN + FP + IDSW + MA)/(TP + FN), where a result
  object matched by k reference objects adds k-1 multi-assignments MA, and
  IDSW counts the matched reference vertices whose
  result track differs from the one of their previous match;
- **IDF1** (Ristani et al., 2016): 2 IDTP / (2 IDTP + IDFP + IDFN) for the
  one-to-one track assignment that maximises IDTP;
- **MT / ML**: the fractions of reference tracks matched to one result track
  in at least 80 % / under 20 % of their frames. py-ctcmetrics 1.3.3 takes
  the maximum over a row that includes the missed frames, so a track missed
  in 80 % of its frames counts there as mostly tracked; here only result
  tracks count;
- **FAF**: result vertices that are not matched to exactly one reference
  vertex, per frame.
"""

from __future__ import annotations

import numba
import numpy as np

from ctc.lineage import TrackTable
from ctc.metrics.aogm import DetectionTest
from ctc.metrics.association import JoinedTracks, TrackConfusion, track_confusion


def hota(c: TrackConfusion) -> dict:
    """HOTA with its detection (DetA) and association (AssA) parts."""
    tp, det_total = c.TP, c.TP + c.FN + c.FP
    if tp == 0:
        return {"HOTA": 0.0, "DetA": tp / det_total if det_total else 0.0, "AssA": 0.0}
    n = c.pair_count.astype(np.float64)
    a = n / (c.row_total[c.pair_ref] + c.col_total[c.pair_res] - n)
    s = float(np.sum(n * a))
    return {"HOTA": float(np.sqrt(s / det_total)), "DetA": tp / det_total, "AssA": s / tp}


def _euler(tracks: JoinedTracks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pre-order numbering of the forest: (tin, tout, node of each tin)."""
    n = len(tracks.labels)
    children: list[list[int]] = [[] for _ in range(n)]
    for node, p in enumerate(tracks.parent.tolist()):
        if p >= 0:
            children[p].append(node)
    tin = np.zeros(n, np.int64)
    tout = np.zeros(n, np.int64)
    order = np.zeros(n, np.int64)
    clock = 0
    for r in np.flatnonzero(tracks.parent < 0).tolist():
        stack = [(r, False)]
        while stack:
            node, done = stack.pop()
            if done:
                tout[node] = clock
                continue
            tin[node] = clock
            order[clock] = node
            clock += 1
            stack.append((node, True))
            stack.extend((ch, False) for ch in reversed(children[node]))
    return tin, tout, order


def _clique_totals(tracks: JoinedTracks, total: np.ndarray, tin: np.ndarray,
                   tout: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Per track: the sum of `total` over its ancestors, itself and its descendants."""
    prefix = np.r_[0, np.cumsum(total[order])]
    below = prefix[tout] - prefix[tin]
    above = np.zeros(len(total), total.dtype)
    for node in order.tolist():  # parents come before their children in pre-order
        p = tracks.parent[node]
        if p >= 0:
            above[node] = above[p] + total[p]
    return below + above


@numba.njit(cache=True)
def _row_in_lineage(a, j, pair_res, pair_count, row_start, res_tin, res_tout):
    """Σ count(a, b) over the columns b of row a in the lineage of column j."""
    acc = 0.0
    for q in range(row_start[a], row_start[a + 1]):
        b = pair_res[q]
        if (res_tin[j] <= res_tin[b] < res_tout[j]) or (res_tin[b] <= res_tin[j] < res_tout[b]):
            acc += pair_count[q]
    return acc


@numba.njit(cache=True)
def _clique_overlaps(pair_ref, pair_res, pair_count, row_start, ref_parent, ref_tin,
                     ref_tout, ref_order, res_tin, res_tout):
    """Per pair (i, j): Σ count(a, b) over a in lineage(i), b in lineage(j)."""
    out = np.zeros(len(pair_ref), np.float64)
    for p in range(len(pair_ref)):
        i, j = pair_ref[p], pair_res[p]
        acc = 0.0
        # descendants of i (itself included) are the pre-order range [tin, tout)
        for k in range(ref_tin[i], ref_tout[i]):
            acc += _row_in_lineage(ref_order[k], j, pair_res, pair_count, row_start,
                                   res_tin, res_tout)
        a = ref_parent[i]
        while a >= 0:  # strict ancestors of i
            acc += _row_in_lineage(a, j, pair_res, pair_count, row_start, res_tin, res_tout)
            a = ref_parent[a]
        out[p] = acc
    return out


def chota(c: TrackConfusion) -> float:
    """CHOTA: HOTA with lineage-wide association."""
    det_total = c.TP + c.FN + c.FP
    if c.TP == 0:
        return 0.0
    ref_tin, ref_tout, ref_order = _euler(c.ref)
    res_tin, res_tout, res_order = _euler(c.res)
    row_start = np.searchsorted(c.pair_ref, np.arange(len(c.ref.labels) + 1))
    tpa = _clique_overlaps(c.pair_ref, c.pair_res, c.pair_count.astype(np.float64), row_start,
                           c.ref.parent, ref_tin, ref_tout, ref_order, res_tin, res_tout)
    ref_sum = _clique_totals(c.ref, c.row_total, ref_tin, ref_tout, ref_order)
    res_sum = _clique_totals(c.res, c.col_total, res_tin, res_tout, res_order)
    denominator = ref_sum[c.pair_ref] + res_sum[c.pair_res] - tpa
    s = float(np.sum(c.pair_count * tpa / denominator))
    return float(np.sqrt(s / det_total))


def idf1(c: TrackConfusion) -> dict:
    """IDF1 with its precision (IDP), recall (IDR) and counts."""
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n_ref, n_res = len(c.ref.labels), len(c.res.labels)
    idtp = 0
    if len(c.pair_ref):
        graph = coo_matrix((np.ones(len(c.pair_ref)), (c.pair_ref, n_ref + c.pair_res)),
                           shape=(n_ref + n_res,) * 2)
        _, comp = connected_components(graph, directed=False)
        pair_comp = comp[c.pair_ref]
        sizes = np.bincount(pair_comp)
        single = sizes[pair_comp] == 1
        idtp += int(c.pair_count[single].sum())
        for k in np.flatnonzero(sizes > 1).tolist():
            sel = np.flatnonzero(pair_comp == k)
            rows, r_inv = np.unique(c.pair_ref[sel], return_inverse=True)
            cols, c_inv = np.unique(c.pair_res[sel], return_inverse=True)
            weight = np.zeros((len(rows), len(cols)))
            weight[r_inv, c_inv] = c.pair_count[sel]
            ri, ci = linear_sum_assignment(weight, maximize=True)
            idtp += int(weight[ri, ci].sum())
    idfn = int(c.row_total.sum()) - idtp
    idfp = int(c.col_total.sum()) - idtp
    return {"IDF1": 2 * idtp / (2 * idtp + idfp + idfn) if idtp else 0.0,
            "IDP": idtp / (idtp + idfp) if idtp else 0.0,
            "IDR": idtp / (idtp + idfn) if idtp else 0.0,
            "IDTP": idtp, "IDFP": idfp, "IDFN": idfn}


def mt_ml(c: TrackConfusion) -> dict:
    """Mostly tracked (>= 80 % of frames with one result track) and mostly lost (< 20 %)."""
    total = c.row_total
    best = np.zeros(len(total), np.int64)
    np.maximum.at(best, c.pair_ref, c.pair_count)
    valid = total > 0
    if not valid.any():
        return {"MT": 0.0, "ML": 0.0}
    ratio = best[valid] / total[valid]
    return {"MT": float(np.mean(ratio >= 0.8)), "ML": float(np.mean(ratio < 0.2))}


def mota(c: TrackConfusion, test: DetectionTest) -> dict:
    """MOTA (py-ctcmetrics' form) with its identity switches IDSW."""
    hits = test.hits
    multi = int(np.sum(hits[hits > 1] - 1))
    order = np.lexsort((test.ref_keys[test.ref_idx] >> 32, c.match_row))
    row, col = c.match_row[order], c.match_col[order]
    idsw = int(np.count_nonzero((row[1:] == row[:-1]) & (col[1:] != col[:-1])))
    gt = c.TP + c.FN
    return {"MOTA": 1.0 - (c.FN + c.FP + idsw + multi) / gt if gt else 0.0, "IDSW": idsw}


def faf(hits: np.ndarray, n_frames: int) -> float:
    """False alarms per frame: result vertices not matched to exactly one reference vertex."""
    return int(np.count_nonzero(hits != 1)) / n_frames if n_frames else 0.0


def mot_measures(test: DetectionTest, ref_tracks: TrackTable, res_tracks: TrackTable,
                 n_frames: int) -> dict:
    """All the multi-object-tracking measures, under py-ctcmetrics' names.

    Returns
    -------
    dict
        ``CHOTA``, ``HOTA``, ``DetA``, ``AssA``, ``MOTA``, ``IDSW``, ``IDF1``,
        ``IDP``, ``IDR``, ``IDTP``, ``IDFP``, ``IDFN``, ``MT``, ``ML``, ``FAF``.
    """
    c = track_confusion(test, ref_tracks, res_tracks)
    out = {"CHOTA": chota(c)}
    out.update(hota(c))
    out.update(mota(c, test))
    out.update(idf1(c))
    out.update(mt_ml(c))
    out["FAF"] = faf(test.hits, n_frames)
    return out
