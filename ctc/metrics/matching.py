"""Per-frame object matching between a reference (GT/ST) and a result label image.

One numba pass over the pixels counts the area of every reference and result
label and the area of every overlapping (reference, result) pair. Counts are
kept in hash maps keyed by label, so label values anywhere in 0..2**31 cost
the same and no label x label matrix is ever built. Runs of identical
(reference, result) pairs along the raster are accumulated before a map is
touched, which makes the kernel about as fast as reading the pixels.

Every measure (SEG, DET, TRA, LNK) is derived from these overlap tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numba import types
from numba.typed import Dict

from ctc.errors import CTCFormatError

_PAIR_SHIFT = np.int64(32)


@numba.njit(cache=True, nogil=True)
def _flush(ref_area, res_area, pairs, g, r, run):
    if g != 0:
        ref_area[g] = ref_area.get(g, 0) + run
        if r != 0:
            key = (g << 32) | r
            pairs[key] = pairs.get(key, 0) + run
    if r != 0:
        res_area[r] = res_area.get(r, 0) + run


@numba.njit(cache=True, nogil=True)
def _dict_to_arrays(d):
    keys = np.empty(len(d), np.int64)
    values = np.empty(len(d), np.int64)
    i = 0
    for k, v in d.items():
        keys[i] = k
        values[i] = v
        i += 1
    order = np.argsort(keys)
    return keys[order], values[order]


@numba.njit(cache=True, nogil=True)
def overlap_counts(ref, res):
    """Areas and pairwise overlaps of two flattened label images of equal size.

    Returns
    -------
    ref_labels, ref_area, res_labels, res_area : int64 arrays
        Non-zero labels (ascending) and their pixel counts.
    pair_ref, pair_res, pair_area : int64 arrays
        Every overlapping (reference, result) pair and its intersection size,
        sorted by reference then result label.
    """
    ref_area = Dict.empty(key_type=types.int64, value_type=types.int64)
    res_area = Dict.empty(key_type=types.int64, value_type=types.int64)
    pairs = Dict.empty(key_type=types.int64, value_type=types.int64)
    n = ref.size
    if n > 0:
        g = np.int64(ref[0])
        r = np.int64(res[0])
        run = np.int64(0)
        for i in range(n):
            gi = np.int64(ref[i])
            ri = np.int64(res[i])
            if gi == g and ri == r:
                run += 1
            else:
                _flush(ref_area, res_area, pairs, g, r, run)
                g = gi
                r = ri
                run = np.int64(1)
        _flush(ref_area, res_area, pairs, g, r, run)
    ref_labels, ref_counts = _dict_to_arrays(ref_area)
    res_labels, res_counts = _dict_to_arrays(res_area)
    pair_keys, pair_counts = _dict_to_arrays(pairs)
    pair_ref = pair_keys >> 32
    pair_res = pair_keys & 0xFFFFFFFF
    return ref_labels, ref_counts, res_labels, res_counts, pair_ref, pair_res, pair_counts


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


def _as_label_array(image: np.ndarray, name: str) -> np.ndarray:
    if image.dtype.kind not in "ui":
        raise CTCFormatError(f"{name} is a {image.dtype} image; labels must be integers")
    if image.dtype.kind == "i" and image.size and image.min() < 0:
        raise CTCFormatError(f"{name} has negative labels")
    return np.ascontiguousarray(image).reshape(-1)


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
    if ref.shape != res.shape:
        raise CTCFormatError(
            f"reference shape {ref.shape} differs from result shape {res.shape}"
        )
    (ref_labels, ref_area, res_labels, res_area,
     pair_ref, pair_res, pair_area) = overlap_counts(_as_label_array(ref, "reference"),
                                                     _as_label_array(res, "result"))
    area_of_pair_ref = ref_area[np.searchsorted(ref_labels, pair_ref)]
    keep = 2 * pair_area > area_of_pair_ref  # |R ∩ S| > 0.5 |R|, in integers
    return FrameMatch(ref_labels, ref_area, res_labels, res_area,
                      pair_ref[keep], pair_res[keep], pair_area[keep])
