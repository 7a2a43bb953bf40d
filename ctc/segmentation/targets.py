"""Training targets built from instance annotations (2D or 3D label images).

- :func:`three_class_target`: background 0 / cell 1 / boundary 2, where the
  boundary is the background ring around each cell plus the cell pixels that
  touch another cell, so that touching cells separate into components.
- :func:`border_targets`: the border approach of the two-network + watershed
  method: eroded cells (seeds) and dilated borders between touching cells,
  with the binary foreground target of the second network.
- :func:`marker_target`: a centre-ness cone per tracking marker.
- :func:`annotation_mask`: which pixels carry a label, for partially
  annotated frames (unannotated cells must not be learnt as background).
- :func:`merge_truths`: gold truth overrides silver truth frame by frame.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

BACKGROUND, CELL, BOUNDARY = 0, 1, 2
IGNORE = 255  # target value excluded from the losses


def _structure(ndim: int, iterations: int) -> np.ndarray:
    return ndi.iterate_structure(ndi.generate_binary_structure(ndim, 1), max(iterations, 1))


def touching(labels: np.ndarray, iterations: int = 1) -> np.ndarray:
    """Pixels of a cell that lie within `iterations` steps of another cell."""
    footprint = _structure(labels.ndim, iterations)
    big = np.iinfo(np.int64).max
    lab = labels.astype(np.int64)
    upper = ndi.grey_dilation(lab, footprint=footprint)
    lower = ndi.grey_erosion(np.where(lab > 0, lab, big), footprint=footprint)
    return (lab > 0) & ((upper != lab) | ((lower != lab) & (lower != big)))


def three_class_target(labels: np.ndarray, iterations: int = 2) -> np.ndarray:
    """Background / cell / boundary classes (uint8) of an instance label image.

    Parameters
    ----------
    labels : ndarray
        2D or 3D instance labels (0 = background).
    iterations : int
        Width of the boundary in pixels (2 in 2D by default).
    """
    foreground = labels > 0
    ring = ndi.binary_dilation(foreground, _structure(labels.ndim, 1),
                               iterations=iterations) & ~foreground
    target = foreground.astype(np.uint8) * CELL
    target[ring | touching(labels, iterations)] = BOUNDARY
    return target


def erode_labels(labels: np.ndarray, iterations: int = 1) -> np.ndarray:
    """Shrink every object by `iterations` pixels (objects never merge or vanish wholly).

    A pixel survives when its whole neighbourhood carries its label; objects
    that would disappear keep their innermost pixels.
    """
    footprint = _structure(labels.ndim, iterations)
    lab = labels.astype(np.int64)
    same = (ndi.grey_erosion(np.where(lab > 0, lab, -1), footprint=footprint) == lab) & (
        ndi.grey_dilation(lab, footprint=footprint) == lab)
    eroded = np.where(same, labels, 0)
    lost = np.setdiff1d(np.unique(labels), np.unique(eroded))
    lost = lost[lost > 0]
    if len(lost):
        distance = ndi.distance_transform_edt(labels > 0)
        for label in lost:  # one per vanished object, not per pixel
            region = labels == label
            eroded[region & (distance >= distance[region].max() - 0.5)] = label
    return eroded


def border_targets(labels: np.ndarray, erosion: int = 2,
                   border_width: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Targets of the border approach: (classes, foreground).

    Returns
    -------
    classes : ndarray of uint8
        0 background, 1 eroded cell (seed), 2 border: the dilated zone where
        touching cells meet.
    foreground : ndarray of uint8
        1 inside any cell: the target of the second (foreground) network.
    """
    seeds = erode_labels(labels, erosion) > 0
    border = ndi.binary_dilation(touching(labels, 1), _structure(labels.ndim, 1),
                                 iterations=border_width)
    classes = seeds.astype(np.uint8) * CELL
    classes[border & ~seeds] = BOUNDARY
    return classes, (labels > 0).astype(np.uint8)


#: Marker targets are stored as uint8 levels 0..MARKER_LEVELS (IGNORE stays apart).
MARKER_LEVELS = 100


def marker_target(markers: np.ndarray) -> np.ndarray:
    """Centre-ness of each tracking marker (uint8 levels, 0 outside, MARKER_LEVELS at centres).

    The distance to the marker's edge, divided by its largest value in that
    marker: a cone per cell, so that two touching cells whose network output
    is unsure still show two peaks with a dip between them.
    """
    inside = (markers > 0) & ~touching(markers, 1)
    distance = ndi.distance_transform_edt(inside)
    labels = np.where(inside, markers, 0)
    peak = np.zeros(int(markers.max()) + 1)
    present = np.unique(labels[labels > 0])
    if len(present):
        peak[present] = ndi.maximum(distance, labels, present)
    scale = np.where(labels > 0, peak[labels], 1.0)
    return np.round(MARKER_LEVELS * distance / np.maximum(scale, 1e-12)).astype(np.uint8)


def unannotated_markers(labels: np.ndarray, markers: np.ndarray) -> np.ndarray:
    """Labels of the tracking markers that no annotated object touches.

    These are cells the segmentation annotation leaves out (partial
    annotations, or cells the annotators did not draw).
    """
    present = np.unique(markers[markers > 0])
    return present[~np.isin(present, markers[labels > 0])]


def annotation_mask(labels: np.ndarray, markers: np.ndarray | None,
                    margin: int = 10) -> np.ndarray:
    """Pixels whose class the annotation defines (bool).

    Where tracking markers show a cell that the segmentation annotation
    leaves out (partial annotations, e.g. Fluo-N2DH-GOWT1), the marker and a
    `margin` around it are excluded from the loss instead of being taught as
    background.
    """
    known = np.ones(labels.shape, bool)
    if markers is None:
        return known
    missing = np.isin(markers, unannotated_markers(labels, markers))
    if missing.any():
        known &= ~ndi.binary_dilation(missing, _structure(labels.ndim, 1), iterations=margin)
    return known


def merge_truths(gold: dict[int, object], silver: dict[int, object]) -> dict[int, object]:
    """Per frame, the gold annotation where it exists, else the silver one."""
    merged = dict(silver)
    merged.update(gold)
    return dict(sorted(merged.items()))


def with_ignore(target: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Set the unknown pixels of a class target to :data:`IGNORE`."""
    out = target.copy()
    out[~known] = IGNORE
    return out
