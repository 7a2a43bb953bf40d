"""Small vectorised operations on label images shared across the toolkit."""

from __future__ import annotations

import numpy as np


def present_labels(mask: np.ndarray) -> np.ndarray:
    """Sorted non-zero labels of an unsigned label image."""
    if mask.dtype.itemsize <= 2 and mask.dtype.kind == "u":
        return np.flatnonzero(np.bincount(mask.ravel(), minlength=1)[1:]) + 1
    labels = np.unique(mask)
    return labels[labels != 0]


def relabel(mask: np.ndarray, mapping: dict[int, int]) -> np.ndarray:
    """Apply ``old -> new`` to a label image as uint16; labels not in `mapping` become 0."""
    keys = sorted(mapping)
    old = np.array([0, *keys], dtype=np.int64)
    new = np.array([0, *(mapping[k] for k in keys)], dtype=np.uint16)
    index = np.minimum(np.searchsorted(old, mask), len(old) - 1)
    return np.where(old[index] == mask, new[index], np.uint16(0))


def drop_small(mask: np.ndarray, min_size: int) -> np.ndarray:
    """`mask` with the objects of fewer than `min_size` pixels (voxels) set to 0."""
    sizes = np.bincount(mask.ravel())
    small = sizes < min_size
    small[0] = False
    return np.where(small[mask], 0, mask).astype(mask.dtype, copy=False)
