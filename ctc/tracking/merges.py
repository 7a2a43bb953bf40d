"""Objects that merge two cells of the previous frame, cut apart along them.

A segmentation network often returns two touching cells as one object for a
few frames, although it saw them apart just before. The CTC measures charge
such an object as a split error (DET) and every track it ends as missing
edges (TRA); the previous frame already holds the answer. An object of frame
t into which two or more objects of frame t-1 have moved (most of each lies
inside it) is cut into as many parts: each part is seeded with the pixels of
its predecessor that it covers, and the rest of the object is flooded along
its distance transform, so the cut follows the neck between the cells. The
cut is made only where there is a neck: where the object is no narrower
along the cut than inside a part, it is one cell.

Cells do not fuse, so in cell tracking such an object is almost always a
segmentation error. A cell the network cut in two in frame t-1 would be cut
again, and again in every later frame, but for the neck test (on
DIC-C2DH-HeLa 02, segmented by a model trained on it, 27 of 38 cuts were such
chains without it, 1 of 11 with it). The tracker applies this only where asked
(``TrackingConfig.split_merged``, chosen on the training sequences by
``ctc calibrate --tracking``).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.segmentation import watershed

from ctc.overlap import Overlaps, overlaps

#: A predecessor counts when at least this fraction of it lies inside the object ...
INSIDE = 0.5
#: ... and it is at least this fraction of the object's size (debris does not cut a cell).
SHARE = 0.2


def split_merged(prev: np.ndarray, curr: np.ndarray, ov: Overlaps | None = None, *,
                 inside: float = INSIDE, share: float = SHARE,
                 spacing: tuple[float, ...] | None = None) -> np.ndarray:
    """`curr` with every object that merges objects of `prev` cut into one part per object.

    Parameters
    ----------
    prev, curr : ndarray of int
        Label images of frames t-1 and t (2D or 3D, same shape; 0 = background).
    ov : Overlaps, optional
        ``overlaps(prev, curr)`` where the caller has it already.
    inside : float
        An object of `prev` is a predecessor of an object of `curr` when at least
        this fraction of it lies inside that object ...
    share : float
        ... and it is at least this fraction of that object's size.
    spacing : tuple of float, optional
        Pixel or voxel size per axis, for the distance transform (isotropic if None).

    Returns
    -------
    ndarray
        `curr` itself when nothing merges; otherwise a copy (uint32 when the new
        labels need it) whose merged objects keep their label for the part seeded
        by the first predecessor and take new labels for the others. An object is cut
        only when every part gets pixels of its own and the parts meet at a neck.
    """
    if ov is None:
        ov = overlaps(prev, curr, ("previous frame", "current frame"))
    a_area, b_area = ov.area_of_pair_a(), ov.area_of_pair_b()
    moved = (ov.pair_area >= inside * a_area) & (a_area >= share * b_area)
    labels, counts = np.unique(ov.pair_b[moved], return_counts=True)
    merged = labels[counts >= 2]
    if not len(merged):
        return curr
    next_label = int(ov.b_labels[-1]) + 1
    top = next_label - 1 + int(counts[counts >= 2].sum())
    out = curr.astype(np.uint32 if top > np.iinfo(curr.dtype).max else curr.dtype)
    boxes = ndi.find_objects(curr.astype(np.intp, copy=False), max_label=int(merged.max()))
    for label in merged.tolist():
        box = boxes[label - 1]
        region = curr[box] == label
        sources = ov.pair_a[moved & (ov.pair_b == label)]
        seeds = np.zeros(region.shape, np.int32)
        for i, source in enumerate(sources.tolist(), start=1):
            seeds[(prev[box] == source) & region] = i
        depth = ndi.distance_transform_edt(region, sampling=spacing)
        parts = watershed(-depth, seeds, mask=region)
        if len(np.unique(parts[region])) < len(sources) or not _at_a_neck(parts, depth):
            continue
        view = out[box]
        for i in range(2, len(sources) + 1):
            view[parts == i] = next_label
            next_label += 1
    return out


def _at_a_neck(parts: np.ndarray, depth: np.ndarray) -> bool:
    """Whether the parts (labels 1..k over an object, 0 outside) meet at a neck: the
    deepest point of the cut (`depth`: distance to the object's edge) lies below the
    deepest point of every part. A cut through the widest point of a convex object
    (one cell the previous frame held as two) is no neck."""
    footprint = np.ones((3,) * parts.ndim, bool)
    inside = parts > 0
    highest = ndi.maximum_filter(parts, footprint=footprint)
    lowest = ndi.minimum_filter(np.where(inside, parts, parts.max() + 1), footprint=footprint)
    cut = inside & ((highest != parts) | (lowest != parts)) & ndi.binary_erosion(inside)
    if not cut.any():
        return False
    peaks = ndi.maximum(depth, parts, index=np.unique(parts[inside]))
    return float(depth[cut].max()) < float(np.min(peaks))
