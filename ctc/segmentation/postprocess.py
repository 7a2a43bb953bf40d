"""Probabilities -> instance labels (2D or 3D)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.measure import label as connected_components
from skimage.segmentation import expand_labels, watershed

from ctc.segmentation.targets import BACKGROUND, BOUNDARY, CELL


def _clean(labels: np.ndarray, min_size: int, fill_holes: bool) -> np.ndarray:
    sizes = np.bincount(labels.ravel())
    small = sizes < min_size
    small[0] = False
    labels = np.where(small[labels], 0, labels)
    if fill_holes:
        for i, box in enumerate(ndi.find_objects(labels), start=1):
            if box is not None:
                region = labels[box]
                filled = ndi.binary_fill_holes(region == i)
                region[filled & (region == 0)] = i
    return _sequential(labels)


def _sequential(labels: np.ndarray) -> np.ndarray:
    present = np.unique(labels)
    present = present[present > 0]
    lut = np.zeros(int(labels.max()) + 1, np.uint16)
    lut[present] = np.arange(1, len(present) + 1, dtype=np.uint16)
    return lut[labels]


def correct_prior(prob: np.ndarray, weights) -> np.ndarray:
    """Undo the bias of class-weighted training: p_c / w_c (argmax only is affected).

    A classifier trained with class weights w_c estimates probabilities
    proportional to w_c times the true ones; dividing removes the pull towards
    the heavily weighted cell and boundary classes in ambiguous regions.
    """
    if weights is None:
        return prob
    w = np.asarray(weights, dtype=prob.dtype).reshape((-1,) + (1,) * (prob.ndim - 1))
    out = prob.copy()
    out[: len(w)] /= w
    return out


def three_class_instances(prob: np.ndarray, *, iterations: int = 2, min_size: int = 20,
                          fill_holes: bool = True) -> np.ndarray:
    """Instances from background/cell/boundary probabilities (C, ...).

    Connected components of the cell class, grown by up to `iterations`
    pixels over the boundary class where it lies between cells: boundary
    pixels within `iterations` of the background are the ring the targets
    drew outside each cell, and stay background. Holes are filled and objects
    below `min_size` dropped. On a perfect prediction this gives back the
    annotation (SEG 0.994-0.999 on the shared GT frames).
    """
    classes = prob.argmax(0)
    cells = connected_components(classes == CELL, connectivity=1)
    grown = expand_labels(cells, iterations)
    between = ndi.distance_transform_edt(classes != BACKGROUND) > iterations
    grown[~((cells > 0) | ((classes == BOUNDARY) & between))] = 0
    return _clean(grown, min_size, fill_holes)


def border_instances(prob: np.ndarray, *, min_size: int = 20, fill_holes: bool = True,
                     seed_threshold: float = 0.5, foreground_threshold: float = 0.5
                     ) -> np.ndarray:
    """Instances of the border approach: seeded watershed of the foreground.

    Seeds are connected components of the eroded-cell class; the watershed on
    the inverted seed probability floods the foreground channel.
    """
    seeds = connected_components(prob[CELL] > seed_threshold, connectivity=1)
    foreground = prob[3] > foreground_threshold
    labels = watershed(-prob[CELL], markers=seeds, mask=foreground)
    return _clean(labels, min_size, fill_holes)


def instances(prob: np.ndarray, task: str, *, iterations: int = 2, min_size: int = 20,
              fill_holes: bool = True, class_weights=None) -> np.ndarray:
    """Instance labels (uint16) from the probabilities of a model of `task`.

    `class_weights` are those of the training loss, whose bias is removed
    first (:func:`correct_prior`).
    """
    prob = correct_prior(prob, class_weights)
    if task == "border":
        return border_instances(prob, min_size=min_size, fill_holes=fill_holes)
    return three_class_instances(prob, iterations=iterations, min_size=min_size,
                                 fill_holes=fill_holes)
