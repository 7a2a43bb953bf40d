"""Per-frame object features used for linking: labels, sizes, centroids."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ctc.errors import CTCFormatError

_DENSE_LIMIT = 1 << 20  # above this label value, compress labels before counting


@dataclass(frozen=True)
class FrameObjects:
    """The objects of one label image.

    Attributes
    ----------
    labels : ndarray of int64
        Non-zero labels, ascending.
    area : ndarray of int64
        Pixel (voxel) count of each label.
    centroid : ndarray of float64, shape (n, ndim)
        Centre of mass of each label, in pixel coordinates (times the spacing
        of each axis, when one was given).
    voxel : float
        Size of one pixel (voxel) in those units: 1 unless a spacing was given.
    """

    labels: np.ndarray
    area: np.ndarray
    centroid: np.ndarray
    voxel: float = 1.0

    def __len__(self) -> int:
        return len(self.labels)

    def index(self, labels: np.ndarray) -> np.ndarray:
        """Positions of `labels` in :attr:`labels`."""
        return np.searchsorted(self.labels, labels)

    @property
    def radius(self) -> np.ndarray:
        """Radius of the disc (2D) or ball (3D) of the same size."""
        if self.centroid.shape[1] == 3:
            return np.cbrt(3.0 * self.area * self.voxel / (4.0 * np.pi))
        return np.sqrt(self.area * self.voxel / np.pi)


def check_label_image(mask: np.ndarray, where: str = "mask") -> np.ndarray:
    """Return `mask` if it is an integer label image, else raise a clear error."""
    mask = np.asarray(mask)
    if mask.dtype.kind not in "ui":
        raise CTCFormatError(f"{where}: {mask.dtype} image; instance masks must hold "
                             "integer labels (0 = background)")
    if mask.ndim not in (2, 3):
        raise CTCFormatError(f"{where}: {mask.ndim}D array; expected a 2D or 3D label image")
    if mask.dtype.kind == "i" and mask.size and mask.min() < 0:
        raise CTCFormatError(f"{where}: negative labels")
    return mask


def frame_objects(mask: np.ndarray, spacing: tuple[float, ...] | None = None) -> FrameObjects:
    """Labels, areas and centroids of a 2D or 3D label image (vectorised bincounts).

    `spacing` (one size per axis, relative to x) scales centroids and radii to
    x-pixel units; a spacing for another number of axes is ignored.
    """
    flat = mask.reshape(-1)
    top = int(flat.max()) if flat.size else 0
    if top < _DENSE_LIMIT:
        index = flat.astype(np.intp, copy=False)
        counts = np.bincount(index, minlength=top + 1)
        labels = np.flatnonzero(counts[1:]) + 1
    else:
        uniq, index = np.unique(flat, return_inverse=True)
        counts = np.bincount(index)
        keep = uniq != 0
        labels = uniq[keep].astype(np.int64)
    sums = []
    for axis, size in enumerate(mask.shape):
        shape = [1] * mask.ndim
        shape[axis] = size
        coord = np.broadcast_to(np.arange(size, dtype=np.float64).reshape(shape), mask.shape)
        sums.append(np.bincount(index, weights=coord.reshape(-1), minlength=len(counts)))
    slots = labels if top < _DENSE_LIMIT else np.flatnonzero(keep)
    area = counts[slots].astype(np.int64)
    centroid = np.stack([s[slots] for s in sums], axis=1) / np.maximum(area, 1)[:, None]
    if spacing is not None and len(spacing) == mask.ndim:
        return FrameObjects(labels.astype(np.int64), area,
                            centroid * np.asarray(spacing, np.float64),
                            float(np.prod(spacing)))
    return FrameObjects(labels.astype(np.int64), area, centroid)
