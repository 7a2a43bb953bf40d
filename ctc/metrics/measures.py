"""The CTC measures as functions of the AOGM counts and of the SEG Jaccard sums.

Weights are those of the official evaluation software.
"""

from __future__ import annotations

W_NS, W_FN, W_FP, W_ED, W_EA, W_EC = 5.0, 10.0, 1.0, 1.0, 1.5, 1.0


def _score(cost: float, cost_empty: float) -> float:
    if cost_empty <= 0:
        return float("nan")
    return 1.0 - min(cost, cost_empty) / cost_empty


def aogm(ns: int, fn: int, fp: int, ed: int, ea: int, ec: int) -> float:
    """AOGM = 5 NS + 10 FN + FP + ED + 1.5 EA + EC."""
    return W_NS * ns + W_FN * fn + W_FP * fp + W_ED * ed + W_EA * ea + W_EC * ec


def tra(ns: int, fn: int, fp: int, ed: int, ea: int, ec: int,
        n_vertices: int, n_edges: int) -> float:
    """TRA = 1 - min(AOGM, AOGM_0) / AOGM_0 with AOGM_0 = 10 |V| + 1.5 |E|."""
    return _score(aogm(ns, fn, fp, ed, ea, ec), W_FN * n_vertices + W_EA * n_edges)


def det(ns: int, fn: int, fp: int, n_vertices: int, *, penalize_fp: bool = True) -> float:
    """DET = 1 - min(AOGM-D, 10 |V|) / (10 |V|); AOGM-D = 5 NS + 10 FN (+ FP)."""
    cost = W_NS * ns + W_FN * fn + (W_FP * fp if penalize_fp else 0.0)
    return _score(cost, W_FN * n_vertices)


def lnk(ed: int, ea: int, ec: int, n_edges: int) -> float:
    """LNK = 1 - min(AOGM-A, 1.5 |E|) / (1.5 |E|); AOGM-A = ED + 1.5 EA + EC."""
    return _score(W_ED * ed + W_EA * ea + W_EC * ec, W_EA * n_edges)


def op_csb(seg: float, det_value: float) -> float:
    """Overall performance, segmentation benchmark: (SEG + DET) / 2."""
    return (seg + det_value) / 2.0


def op_ctb(seg: float, tra_value: float) -> float:
    """Overall performance, tracking benchmark: (SEG + TRA) / 2."""
    return (seg + tra_value) / 2.0
