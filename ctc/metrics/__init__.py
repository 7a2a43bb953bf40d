"""The CTC measures, exact and fast, and the measures the field reports beside them.

One numba matching kernel (:mod:`ctc.metrics.matching`) feeds every measure;
:func:`evaluate` scores a whole sequence frame by frame: SEG, DET, TRA, LNK,
OP_CSB, OP_CTB (:mod:`ctc.metrics.aogm`), and on request the biological
measures CT, TF, BC(i), CCA, BIO(i), OP_CLB(i) (:mod:`ctc.metrics.biological`)
and the tracking measures CHOTA, HOTA, MOTA, IDF1, MT/ML, FAF
(:mod:`ctc.metrics.mot`), all from the same matches
(:mod:`ctc.metrics.association`).
"""

from ctc.metrics.aogm import AOGMCounts, AOGMErrors, FrameVertices, count_errors
from ctc.metrics.evaluate import (
    ALL_METRICS,
    ALL_NAMES,
    SCORE_KEYS,
    Scores,
    Selection,
    evaluate,
    parse_metrics,
)
from ctc.metrics.matching import FrameMatch, match_frame
from ctc.metrics.measures import det, lnk, op_csb, op_ctb, tra

__all__ = [
    "ALL_METRICS", "ALL_NAMES", "SCORE_KEYS", "AOGMCounts", "AOGMErrors", "FrameMatch",
    "FrameVertices", "Scores", "Selection", "count_errors", "det", "evaluate", "lnk",
    "match_frame", "op_csb", "op_ctb", "parse_metrics", "tra",
]
