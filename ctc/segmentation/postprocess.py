"""Probabilities -> instance labels (2D or 3D)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.measure import label as connected_components
from skimage.measure import regionprops
from skimage.morphology import reconstruction
from skimage.segmentation import expand_labels, watershed

from ctc.labels import drop_small
from ctc.segmentation.refine import refine_outlines
from ctc.segmentation.targets import BACKGROUND, BOUNDARY, CELL


def _clean(labels: np.ndarray, min_size: int, fill_holes: bool) -> np.ndarray:
    labels = drop_small(labels, min_size)
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


def correct_prior(prob: np.ndarray, weights, overwrite: bool = False) -> np.ndarray:
    """Undo the bias of class-weighted training: p_c / w_c (argmax only is affected).

    A classifier trained with class weights w_c estimates probabilities
    proportional to w_c times the true ones; dividing removes the pull towards
    the heavily weighted cell and boundary classes in ambiguous regions.
    `overwrite` divides `prob` itself (no copy of a 3D volume's probabilities).
    """
    if weights is None:
        return prob
    w = np.asarray(weights, dtype=prob.dtype).reshape((-1,) + (1,) * (prob.ndim - 1))
    out = prob if overwrite else prob.copy()
    out[: len(w)] /= w
    return out


def class_map(prob: np.ndarray) -> np.ndarray:
    """The most probable of the three classes (uint8), ties to the first, as
    ``prob[:3].argmax(0)`` but without its int64 volume."""
    classes = (prob[CELL] > prob[BACKGROUND]).astype(np.uint8)
    classes[prob[BOUNDARY] > np.maximum(prob[BACKGROUND], prob[CELL])] = BOUNDARY
    return classes


def prominent_peaks(image: np.ndarray, h: float) -> np.ndarray:
    """One label per maximum of `image` that rises at least `h` above its saddles.

    Each label covers the maximum's dome: the connected pixels above the level
    `h` below its top. Unlike the components of ``skimage.morphology.h_maxima``,
    which keeps only the pixels at the very top, two equally high summits of
    one ridge (the discrete distance transform of an elongated nucleus has
    several, a fraction of a pixel apart in height) share one label.

    Parameters
    ----------
    image : ndarray
        2D or 3D, e.g. a distance transform.
    h : float
        Minimum prominence.

    Returns
    -------
    ndarray of int
        Labels of the domes, 0 elsewhere.
    """
    residue = image - reconstruction(image - h, image, method="dilation")
    # the lowest level is never a summit (the background of a distance transform)
    domes = connected_components((residue > 0) & (image > image.min()),
                                 connectivity=image.ndim)
    if not domes.any():
        return domes
    tops = ndi.maximum(residue, domes, np.arange(1, int(domes.max()) + 1))
    # the highest residue of a dome is h up to rounding when its summit is prominent
    keep = np.concatenate([[False], tops >= h - 1e-6 * max(h, 1.0)])
    return connected_components(keep[domes], connectivity=image.ndim)


def _distance_seeds(cells: np.ndarray, mask: np.ndarray, h: float,
                    spacing: tuple[float, ...] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Watershed surface and seeds of the shape split: one seed per bulge of `cells`.

    Touching round nuclei whose dividing line the network barely sees still
    have two maxima of the distance transform at least `h` pixels high
    (distances in x pixels: `spacing` gives a 3D volume's voxel size relative
    to x).
    """
    distance = ndi.distance_transform_edt(cells & mask, sampling=spacing)
    return -distance, prominent_peaks(distance, h)


def region_solidity(region) -> float:
    """:func:`object_solidity` of a ``regionprops`` region (2D: its own solidity)."""
    return float(region.solidity) if region.image.ndim == 2 else object_solidity(region.image)


_CORNERS = np.array([[i, j, k] for i in (-0.5, 0.5) for j in (-0.5, 0.5) for k in (-0.5, 0.5)])


def object_solidity(mask: np.ndarray) -> float:
    """Size over the size of the convex hull of one object (a 2D or 3D boolean mask).

    2D: as ``skimage.measure.regionprops``. 3D: the hull is that of the corners
    of the object's surface voxels, its volume taken exactly
    (``scipy.spatial.ConvexHull``) instead of rasterised, which costs seconds
    per nucleus-sized object; flat objects are fine (the corners give them
    thickness). Solidity does not depend on the voxel size.
    """
    if mask.ndim == 2:
        return float(regionprops(mask.astype(np.uint8))[0].solidity)
    from scipy.spatial import ConvexHull

    surface = mask & ~ndi.binary_erosion(mask)
    corners = (np.argwhere(surface)[:, None, :] + _CORNERS).reshape(-1, 3)
    return float(np.count_nonzero(mask) / ConvexHull(corners).volume)


def split_clumps(labels: np.ndarray, solidity: float = 0.85, prominence: float = 0.2,
                 min_fraction: float = 0.3, spacing: tuple[float, ...] | None = None
                 ) -> np.ndarray:
    """Split every object less convex than `solidity` at the necks of its shape.

    Nuclei are convex; two touching ones that the network returns as one
    object (it saw no dividing line, e.g. a pair far dimmer than any it was
    trained on) form a peanut whose solidity (area over convex-hull area) is
    low. Such an object is cut by a watershed of its distance transform, one
    seed per maximum whose prominence is at least `prominence` times the
    object's largest inscribed radius; the cut is kept only if every part
    holds at least `min_fraction` of the object, so a convex cell with a
    ragged edge stays whole. Objects at or above `solidity` are untouched.

    Parameters
    ----------
    labels : ndarray of int
        Instance labels (2D or 3D), 0 = background.
    solidity : float
        Objects below this solidity are candidates.
    prominence : float
        Minimum height of a seed's distance maximum above the saddle to the
        next one, relative to the object's largest distance.
    min_fraction : float
        Minimum size of every part, relative to the object.
    spacing : tuple of float, optional
        3D: voxel size (z, y, x) relative to x, for the distance transform.

    Returns
    -------
    ndarray
        The labels with each split object's extra parts under new labels.
    """
    if not labels.any():
        return labels.copy()
    out = labels.astype(np.int64)
    next_label = int(out.max()) + 1
    for region in regionprops(labels):
        if region_solidity(region) >= solidity:
            continue
        mask = np.pad(region.image, 1)
        distance = ndi.distance_transform_edt(mask, sampling=spacing)
        seeds = prominent_peaks(distance, max(prominence * float(distance.max()), 1.0))
        if seeds.max() < 2:
            continue
        parts = watershed(-distance, markers=seeds, mask=mask)[(slice(1, -1),) * mask.ndim]
        if np.bincount(parts.ravel())[1:].min() < min_fraction * region.area:
            continue
        box = out[region.slice]
        for k in range(2, int(seeds.max()) + 1):
            box[parts == k] = next_label
            next_label += 1
    return _sequential(out)


def _unseeded(seeds: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Pixels of the regions of `regions` that hold no seed (bool)."""
    return (regions > 0) & ~np.isin(regions, regions[seeds > 0])


def _seed_every_region(seeds: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Add each region of `regions` that holds no seed as a seed of its own."""
    return np.where(_unseeded(seeds, regions), regions + seeds.max(), seeds)


def _in_plane(function, image: np.ndarray, *args) -> np.ndarray:
    """`function` applied to each z-slice of a 3D volume (to the image itself in 2D).

    The three-class targets are drawn in 2D slices, so their boundary ring and
    the growth over it are in-plane operations, whatever the z spacing.
    """
    if image.ndim == 2:
        return function(image, *args)
    first = function(image[0], *args)
    out = np.empty((len(image), *first.shape), first.dtype)  # no list of slices beside it
    out[0] = first
    for z in range(1, len(image)):
        out[z] = function(image[z], *args)
    return out


def _farther_than(mask: np.ndarray, distance: float) -> np.ndarray:
    """Where `mask` lies more than `distance` pixels from its outside (2D)."""
    return ndi.distance_transform_edt(mask) > distance


def three_class_instances(prob: np.ndarray, *, iterations: int = 2, min_size: int = 20,
                          fill_holes: bool = True, method: str = "components",
                          seed_threshold: float = 0.85, foreground_threshold: float = 0.5,
                          h: float | None = None, spacing: tuple[float, ...] | None = None,
                          overwrite: bool = False) -> np.ndarray:
    """Instances from background/cell/boundary probabilities (C, ...).

    ``method="components"``: connected components of the cell class (argmax),
    grown by up to `iterations` pixels over the boundary class where it lies
    between cells. ``method="watershed"``: seeds are the connected regions
    where the cell probability exceeds `seed_threshold`; they flood the
    foreground (background probability below ``1 - foreground_threshold``)
    along the cell-minus-boundary probability, so cells whose dividing
    boundary is faint still get a seed each (dense DIC-C2DH-HeLa).
    ``method="distance"``: the classic shape split for round nuclei: the
    distance transform of the region where the cell probability exceeds
    `seed_threshold`, one seed per maximum at least `h` pixels high (2 if
    None), flooded over the foreground along it. ``method="markers"`` (models with a marker
    channel, ``prob[3]``, trained to peak at the centre of each tracking
    marker): one seed per connected region where it exceeds `seed_threshold`,
    flooding the foreground along the boundary-minus-cell-minus-marker
    probability, so that two touching nuclei whose dividing line is invisible
    split where their markers fade. A foreground region where the marker
    channel stays below `seed_threshold` (a cell whose centre the network is
    unsure of, such as a nucleus far dimmer than any it was trained on) is
    split by shape as in ``"distance"`` with prominence `h`, or kept whole
    when `h` is None.
    In all four,
    boundary pixels within `iterations` of the background are the ring the
    targets drew outside each cell and stay background; holes are filled and
    objects below `min_size` dropped. On a perfect prediction components and
    watershed give back the annotation (SEG 0.994-0.999 on the shared GT frames).
    3D probabilities (C, Z, Y, X), stacked from 2D predictions of the slices,
    give 3D instances: components and seeds are connected across slices, the
    boundary ring and the growth over it stay in-plane, and distances use the
    voxel `spacing` (z, y, x relative to x; isotropic when None). `overwrite` lets
    the method normalise `prob` in place, sparing a copy of a 3D volume.
    """
    classes = class_map(prob)
    between = _in_plane(_farther_than, classes != BACKGROUND, iterations)
    outer_ring = (classes == BOUNDARY) & ~between
    if method in ("watershed", "distance", "markers"):
        if overwrite:
            p = prob[:3]
            p /= np.maximum(p.sum(0), 1e-12)
        else:
            p = prob[:3] / np.maximum(prob[:3].sum(0), 1e-12)
        foreground = (p[BACKGROUND] < 1 - foreground_threshold) & ~outer_ring
        if method == "markers":
            if prob.shape[0] < 4:
                raise ValueError("method 'markers' needs a model with a marker channel")
            marker = prob[3]
            seeds = connected_components((marker > seed_threshold) & foreground,
                                         connectivity=1)
            surface = p[BOUNDARY] - p[CELL] - marker
            # cells the class channels see but the marker channel misses (the network is
            # unsure of their centres): split by shape, or kept whole
            regions = connected_components(foreground, connectivity=1)
            orphan = _unseeded(seeds, regions)
            if h is not None and orphan.any():
                shape_surface, shape_seeds = _distance_seeds(p[CELL] > 0.5, orphan, h,
                                                             spacing)
                surface = np.where(orphan, shape_surface, surface)
                seeds = np.where(shape_seeds > 0, shape_seeds + seeds.max(), seeds)
            seeds = _seed_every_region(seeds, regions)
        elif method == "watershed":
            seeds = connected_components(p[CELL] > seed_threshold, connectivity=1)
            surface = p[BOUNDARY] - p[CELL]
        else:
            surface, seeds = _distance_seeds(p[CELL] > seed_threshold, foreground,
                                             2.0 if h is None else h, spacing)
        grown = watershed(surface, markers=seeds, mask=foreground)
        return _clean(grown, min_size, fill_holes)
    if method != "components":
        raise ValueError(f"unknown post-processing method {method!r}: "
                         "use 'components', 'watershed', 'distance' or 'markers'")
    cells = connected_components(classes == CELL, connectivity=1)
    grown = _in_plane(expand_labels, cells, iterations)
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


#: Post-processing of a model with a marker channel before calibration chooses its own.
MARKER_DEFAULTS = {"method": "markers", "seed_threshold": 0.5}

#: Post-processing settings of a model config (``postprocess``) that :func:`instances` uses.
THRESHOLD_KEYS = ("method", "seed_threshold", "foreground_threshold", "h", "split", "refine")


def instances(prob: np.ndarray, task: str, *, iterations: int = 2, min_size: int = 20,
              fill_holes: bool = True, class_weights=None, method: str = "components",
              seed_threshold: float | None = None, foreground_threshold: float = 0.5,
              h: float | None = None, split: float | None = None,
              refine: float | None = None, image: np.ndarray | None = None,
              spacing: tuple[float, ...] | None = None, overwrite: bool = False
              ) -> np.ndarray:
    """Instance labels (uint16) from the probabilities of a model of `task`.

    `class_weights` are those of the training loss, whose bias is removed
    first (:func:`correct_prior`). `method` and the thresholds choose the
    three-class post-processing (:func:`three_class_instances`); the border
    task always uses its seeded watershed. A missing `seed_threshold` takes
    each method's default (0.85; 0.5 for ``markers``). A `split` solidity
    cuts the objects less convex than it at their necks (:func:`split_clumps`).
    A `refine` fraction then redraws each outline at that fraction of the
    object's own brightness in `image`, the network's input
    (:func:`ctc.segmentation.refine.refine_outlines`); it is calibrated on 2D
    frames and left out for 3D probabilities (C, Z, Y, X), whose instances are
    3D bodies (split by their 3D shape); `spacing` is their voxel size
    relative to x. `overwrite`: `prob` is scratch and may be changed (inference,
    where a 3D volume's copies would dominate the memory).
    """
    if prob.ndim == 4:
        refine = None
    if refine is not None and image is None:
        raise ValueError("post-processing 'refine' needs the image the probabilities came from")
    prob = correct_prior(prob, class_weights, overwrite)
    if seed_threshold is None and method == "markers":
        seed_threshold = MARKER_DEFAULTS["seed_threshold"]
    seed = {} if seed_threshold is None else {"seed_threshold": seed_threshold}
    if task == "border":
        labels = border_instances(prob, min_size=min_size, fill_holes=fill_holes,
                                  foreground_threshold=foreground_threshold, **seed)
    else:
        # the prior correction copied `prob` unless it may be overwritten anyway
        labels = three_class_instances(prob, iterations=iterations, min_size=min_size,
                                       fill_holes=fill_holes, method=method, spacing=spacing,
                                       foreground_threshold=foreground_threshold, h=h,
                                       overwrite=overwrite or class_weights is not None,
                                       **seed)
    if split is not None:
        labels = split_clumps(labels, split,
                              spacing=spacing if labels.ndim == 3 else None)
    return labels if refine is None else refine_outlines(labels, image, refine)
