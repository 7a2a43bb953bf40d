"""Per-frame object matching between a reference (GT/ST) and a result label image.

Built on the shared overlap kernel (:mod:`ctc.overlap`): every measure (SEG,
DET, TRA, LNK) is derived from these matches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ctc.overlap import overlaps


@dataclass(frozen=True)
class FrameMatch:
    """Matching of one reference frame to one result frame.

    A reference object R matches the result object S when
    ``|R ∩ S| > 0.5 |R|`` (strict); each R matches at most one S.

    Attributes
    ----------
    ref_labels, ref_area : ndarray
        Reference labels present (ascending) and their sizes.
    res_labels, res_area : ndarray
        Result labels present (ascending) and their sizes.
    match_ref, match_res, match_inter : ndarray
        Matched pairs (reference label, result label, intersection size),
        sorted by reference label.
    """

    ref_labels: np.ndarray
    ref_area: np.ndarray
    res_labels: np.ndarray
    res_area: np.ndarray
    match_ref: np.ndarray
    match_res: np.ndarray
    match_inter: np.ndarray

    def jaccard(self) -> np.ndarray:
        """Jaccard index of every matched pair, in the order of `match_ref`."""
        area_r = self.ref_area[np.searchsorted(self.ref_labels, self.match_ref)]
        area_s = self.res_area[np.searchsorted(self.res_labels, self.match_res)]
        return self.match_inter / (area_r + area_s - self.match_inter)


def match_frame(ref: np.ndarray, res: np.ndarray) -> FrameMatch:
    """Match the objects of reference label image `ref` to those of `res`.

    Parameters
    ----------
    ref, res : ndarray
        Label images of the same shape (2D or 3D), 0 = background.

    Returns
    -------
    FrameMatch
    """
    o = overlaps(ref, res, ("reference", "result"))
    keep = 2 * o.pair_area > o.area_of_pair_a()  # |R ∩ S| > 0.5 |R|, in integers
    return FrameMatch(o.a_labels, o.a_area, o.b_labels, o.b_area,
                      o.pair_a[keep], o.pair_b[keep], o.pair_area[keep])
