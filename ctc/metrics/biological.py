"""The biological measures of the CTC linking benchmark: CT, TF, BC(i), CCA, BIO(i), OP_CLB(i).

Definitions (Ulman et al., Nature Methods 2017; celltrackingchallenge.net),
all from the unique assignment of :mod:`ctc.metrics.association`:

- **CT** (complete tracks): a reference track is complete when every one of
  its vertices is assigned to the same result track, and that track starts
  and ends in the same frames. CT = 2 T_rc / (T_ref + T_res), the F-score of
  complete tracks over the track counts of both tables.
- **TF** (track fractions): for every reference track, the longest run of
  consecutive frames assigned to one result track, as a fraction of the
  reference track's length; averaged over the reference tracks with a
  non-zero fraction. This is the published definition, independent of label
  order; py-ctcmetrics 1.3.3 keeps a ``break`` from older code that skips
  the other reference tracks of a result track once it covers one reference
  track entirely, so its TF can depend on the labels' order.
- **BC(i)** (branching correctness): the F-score of division detection with
  a tolerance of i frames (:mod:`ctc.metrics.divisions`); undefined (None)
  when the reference has no division.
- **CCA** (cell-cycle accuracy): 1 minus the largest difference between the
  cumulative distributions of the lengths of complete cell cycles (tracks
  that start at a division and end in one) of the reference and the result;
  None when the reference has no complete cycle, 0 when the result has none.
- **BIO(i)**: the mean of those of CT, TF, BC(i), CCA that are defined.
- **OP_CLB(i)** = (LNK + BIO(i)) / 2.
"""

from __future__ import annotations

import numpy as np

from ctc.lineage import TrackTable
from ctc.metrics.aogm import lookup_sorted
from ctc.metrics.association import Assignment, children_per_parent
from ctc.metrics.divisions import count_divisions

#: Tolerances of BC(i) reported by default, as py-ctcmetrics does.
BC_TOLERANCES = (0, 1, 2, 3)


def _spans(tracks: TrackTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels (ascending) with their first and last frames."""
    rows = tracks.to_array()
    rows = rows[np.argsort(rows[:, 0])]
    return rows[:, 0], rows[:, 1], rows[:, 2]


def _by_track(a: Assignment) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label, frame and assigned label of every reference vertex, sorted by label then frame."""
    order = np.lexsort((a.frame, a.label))
    return a.label[order], a.frame[order], a.assigned[order]


def complete_tracks(a: Assignment, ref_tracks: TrackTable, res_tracks: TrackTable) -> float:
    """CT = 2 T_rc / (T_ref + T_res)."""
    label, _, assigned = _by_track(a)
    if not len(label):
        return 0.0
    starts = np.flatnonzero(np.r_[True, label[1:] != label[:-1]])
    lo = np.minimum.reduceat(assigned, starts)
    hi = np.maximum.reduceat(assigned, starts)
    ref_label = label[starts]
    candidate = (lo == hi) & (lo > 0)
    ref_l, ref_b, ref_e = _spans(ref_tracks)
    res_l, res_b, res_e = _spans(res_tracks)
    ri = np.searchsorted(ref_l, ref_label[candidate])
    si, known = lookup_sorted(res_l, lo[candidate])
    complete = known & (ref_b[ri] == res_b[si]) & (ref_e[ri] == res_e[si])
    return 2.0 * int(complete.sum()) / (len(ref_tracks) + len(res_tracks))


def track_fractions(a: Assignment, ref_tracks: TrackTable) -> float:
    """TF: mean over detected reference tracks of their longest assigned run / length."""
    label, frame, assigned = _by_track(a)
    if not len(label):
        return 0.0
    new_run = np.r_[True, (label[1:] != label[:-1]) | (frame[1:] != frame[:-1] + 1)
                    | (assigned[1:] != assigned[:-1])]
    run_id = np.cumsum(new_run) - 1
    run_len = np.bincount(run_id)
    run_start = np.flatnonzero(new_run)
    keep = assigned[run_start] > 0
    if not keep.any():
        return 0.0
    run_label, run_len = label[run_start][keep], run_len[keep]
    ref_l, ref_b, ref_e = _spans(ref_tracks)
    tracks_of_runs, inverse = np.unique(run_label, return_inverse=True)
    best = np.zeros(len(tracks_of_runs), np.int64)
    np.maximum.at(best, inverse, run_len)
    ri = np.searchsorted(ref_l, tracks_of_runs)
    return float(np.mean(best / (ref_e[ri] - ref_b[ri] + 1)))


def branching_correctness(tp: int, fp: int, fn: int) -> float | None:
    """BC: F-score of division detection (None without reference divisions)."""
    if tp + fn == 0:
        return None
    return 2.0 * tp / (2 * tp + fp + fn) if tp else 0.0


def _cycle_lengths(tracks: TrackTable) -> np.ndarray:
    parents, counts = children_per_parent(tracks)
    dividing = parents[counts > 1]
    rows = tracks.to_array()
    full = np.isin(rows[:, 0], dividing) & np.isin(rows[:, 3], dividing)
    return rows[full, 2] - rows[full, 1]


def cell_cycle_accuracy(ref_tracks: TrackTable, res_tracks: TrackTable) -> float | None:
    """CCA = 1 - max |F_ref - F_res| over the cumulative cycle-length distributions."""
    ref, res = _cycle_lengths(ref_tracks), _cycle_lengths(res_tracks)
    if not len(ref):
        return None
    if not len(res):
        return 0.0
    n = int(max(ref.max(), res.max())) + 1
    cdf_ref = np.cumsum(np.bincount(ref, minlength=n)) / len(ref)
    cdf_res = np.cumsum(np.bincount(res, minlength=n)) / len(res)
    return float(1.0 - np.max(np.abs(cdf_ref - cdf_res)))


def bio(*parts: float | None) -> float | None:
    """Mean of the defined parts (None when none is)."""
    defined = [p for p in parts if p is not None]
    return float(sum(defined) / len(defined)) if defined else None


def biological_measures(a: Assignment, ref_tracks: TrackTable, res_tracks: TrackTable,
                        lnk: float | None = None,
                        tolerances: tuple[int, ...] = BC_TOLERANCES,
                        assigned: dict[int, int] | None = None) -> dict:
    """All the biological measures, under py-ctcmetrics' names.

    `assigned` is ``a.lookup()`` when the caller already has it.

    Returns
    -------
    dict
        ``CT``, ``TF``, ``CCA``, and per tolerance i: ``tp_div(i)``,
        ``fp_div(i)``, ``fn_div(i)``, ``BC(i)``, ``BIO(i)`` and, given `lnk`,
        ``OP_CLB(i)``; plus ``gt_divisions``.
    """
    out: dict = {"CT": complete_tracks(a, ref_tracks, res_tracks),
                 "TF": track_fractions(a, ref_tracks),
                 "CCA": cell_cycle_accuracy(ref_tracks, res_tracks)}
    assigned = a.lookup() if assigned is None else assigned
    for i in tolerances:
        c = count_divisions(assigned, ref_tracks, res_tracks, i)
        out["gt_divisions"] = c.TP + c.FN
        out[f"tp_div({i})"], out[f"fp_div({i})"], out[f"fn_div({i})"] = c.TP, c.FP, c.FN
        out[f"BC({i})"] = branching_correctness(c.TP, c.FP, c.FN)
    for i in tolerances:
        out[f"BIO({i})"] = bio(out["CT"], out["TF"], out[f"BC({i})"], out["CCA"])
        if lnk is not None and out[f"BIO({i})"] is not None:
            out[f"OP_CLB({i})"] = (lnk + out[f"BIO({i})"]) / 2.0
    return out
