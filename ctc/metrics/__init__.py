"""The CTC measures SEG, DET, TRA, LNK, OP_CSB and OP_CTB, exact and fast.

One numba matching kernel (:mod:`ctc.metrics.matching`) feeds every measure;
:func:`evaluate` scores a whole sequence frame by frame.
"""

from ctc.metrics.aogm import AOGMCounts, AOGMErrors, FrameVertices, count_errors
from ctc.metrics.evaluate import ALL_METRICS, SCORE_KEYS, Scores, evaluate
from ctc.metrics.matching import FrameMatch, match_frame
from ctc.metrics.measures import det, lnk, op_csb, op_ctb, tra

__all__ = [
    "ALL_METRICS", "SCORE_KEYS", "AOGMCounts", "AOGMErrors", "FrameMatch", "FrameVertices",
    "Scores", "count_errors", "det", "evaluate", "lnk", "match_frame", "op_csb", "op_ctb",
    "tra",
]
