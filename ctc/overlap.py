"""The pixel-overlap kernel shared by the measures and the tracker.

One numba pass over the pixels of two label images of the same shape counts
the area of every label of each image and the area of every overlapping
(label, label) pair. Counts are kept in hash maps keyed by label, so label
values anywhere in 0..2**31 cost the same and no label x label matrix is
ever built. Runs of identical pairs along the raster are accumulated before
a map is touched, which makes the kernel about as fast as reading the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numba import types
from numba.typed import Dict

from ctc.errors import CTCFormatError


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
class Overlaps:
    """Areas of the labels of two images and of their overlapping pairs (int64 arrays).

    ``a_labels``/``a_area`` and ``b_labels``/``b_area`` are ascending;
    ``pair_a``, ``pair_b``, ``pair_area`` list every overlapping pair,
    sorted by ``pair_a`` then ``pair_b``.
    """

    a_labels: np.ndarray
    a_area: np.ndarray
    b_labels: np.ndarray
    b_area: np.ndarray
    pair_a: np.ndarray
    pair_b: np.ndarray
    pair_area: np.ndarray

    def area_of_pair_a(self) -> np.ndarray:
        return self.a_area[np.searchsorted(self.a_labels, self.pair_a)]

    def area_of_pair_b(self) -> np.ndarray:
        return self.b_area[np.searchsorted(self.b_labels, self.pair_b)]


def _flat_labels(image: np.ndarray, name: str) -> np.ndarray:
    if image.dtype.kind not in "ui":
        raise CTCFormatError(f"{name} is a {image.dtype} image; labels must be integers")
    if image.dtype.kind == "i" and image.size and image.min() < 0:
        raise CTCFormatError(f"{name} has negative labels")
    return np.ascontiguousarray(image).reshape(-1)


def overlaps(a: np.ndarray, b: np.ndarray, names: tuple[str, str] = ("first image",
                                                                      "second image")) -> Overlaps:
    """Areas and pairwise overlaps of the labels of `a` and `b` (same shape, 0 = background)."""
    if a.shape != b.shape:
        raise CTCFormatError(f"{names[0]} shape {a.shape} differs from {names[1]} "
                             f"shape {b.shape}")
    return Overlaps(*overlap_counts(_flat_labels(a, names[0]), _flat_labels(b, names[1])))
