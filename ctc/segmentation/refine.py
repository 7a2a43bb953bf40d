"""Outline refinement of fluorescent objects by a threshold on each object's own brightness.

A network draws the edge of a nucleus where its training data taught it the
intensity falls off. Across sequences that edge is biased by brightness: a
nucleus brighter than the training nuclei comes out too large (its blurred
halo is still far above the background) and one dimmer comes out too small
(Fluo-N2DH-GOWT1 01, whose nuclei span a 10-fold range of brightness). Gold
outlines of fluorescent nuclei sit much nearer a fixed *fraction* of each
nucleus's own signal above its local background than a fixed level (GOWT1:
at 0.3-0.5 of it for nuclei 6 and 55 grey levels above the background), so
each predicted object is redrawn at such a fraction: the network decides
what and where an object is, its own intensity decides its edge. Whether
and at which fraction is calibrated per model on its training data
(:func:`ctc.segmentation.calibrate.calibrate_refine`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: Percentile of an object's (smoothed) intensity taken as its signal.
PEAK_PERCENTILE = 75.0

#: An object is refined only where its signal stands this many noise standard
#: deviations above its background: elsewhere there is no fluorescent edge to find.
MIN_CONTRAST = 3.0

MAD_TO_SIGMA = 1.4826


def _backgrounds(smooth: np.ndarray, distance: np.ndarray, nearest: np.ndarray, n: int,
                 ring: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Median intensity around each object and its noise (index = label; NaN where none).

    The pixels between ``ring[0]`` and ``ring[1]`` from every object (`distance`
    to the nearest object, whose label is `nearest`), assigned to that object.
    Objects without such pixels (crowded, or at the image edge) take all pixels
    farther than ``ring[0]`` from any object; NaN when there are none. The noise
    is the standard deviation estimated from the median absolute deviation.
    """
    far = distance > ring[0]
    owner = np.where(far & (distance <= ring[1]), nearest, 0)
    counts = np.bincount(owner.ravel(), minlength=n + 1)
    level, noise = np.full(n + 1, np.nan), np.full(n + 1, np.nan)
    if far.any():
        level[:] = np.median(smooth[far])
        noise[:] = np.median(np.abs(smooth[far] - level[0]))
    index = np.flatnonzero(counts[1:] >= 20) + 1
    if len(index):
        level[index] = ndi.median(smooth, owner, index)
        noise[index] = ndi.median(np.abs(smooth - level[owner]), owner, index)
    return level, MAD_TO_SIGMA * noise


def refine_outlines(labels: np.ndarray, image: np.ndarray, fraction: float, *,
                    reach: int = 8, sigma: float = 1.0, percentile: float = PEAK_PERCENTILE,
                    ring: tuple[float, float] = (12.0, 25.0),
                    min_contrast: float = MIN_CONTRAST) -> np.ndarray:
    """Redraw each object's outline at `fraction` of its signal above its local background.

    Parameters
    ----------
    labels : ndarray of int
        Instance labels (2D or 3D), 0 the background.
    image : ndarray
        The intensities the labels were predicted from (any increasing affine
        normalisation of them: the result does not change), bright objects
        on a dark background.
    fraction : float
        In (0, 1). Each object becomes the pixels within `reach` of it (and
        nearer to it than to any other object) brighter than
        ``background + fraction * (peak - background)``, where ``peak`` is
        the `percentile` percentile of the object and
        ``background`` the median of the ring between ``ring[0]`` and
        ``ring[1]`` pixels around it; holes are filled and, of the parts,
        the one overlapping the object most is kept.
    reach : int
        How far (pixels) an object may grow.
    sigma : float
        Gaussian smoothing (pixels) of `image` before thresholding, against
        pixel noise.
    percentile : float
        Percentile of the smoothed intensities over the object taken as its
        signal; below the top, so a bright spot inside a dim nucleus does not
        set the level (75 won over 50 and 90 on the Fluo-N2DH-GOWT1 training
        frames).
    min_contrast : float
        Objects whose signal stands less than this many noise standard
        deviations (of the smoothed image, around the object) above their
        background keep the network's outline.

    Returns
    -------
    ndarray
        Labels of the same dtype, one object per input object. An object is
        kept as it was where no threshold applies: its signal not
        :data:`MIN_CONTRAST` noise deviations above its background, no
        background found, or nothing above the threshold overlapping it.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"refine fraction must lie in (0, 1), got {fraction}")
    if labels.shape != image.shape:
        raise ValueError(f"labels {labels.shape} and image {image.shape} differ in shape")
    if not labels.any():
        return labels.copy()
    smooth = ndi.gaussian_filter(image.astype(np.float32), sigma)
    # one distance transform serves the background rings and the growth zones (what
    # skimage's expand_labels computes for each distance)
    distance, index = ndi.distance_transform_edt(labels == 0, return_indices=True)
    nearest = labels[tuple(index)]
    backgrounds, noise = _backgrounds(smooth, distance, nearest, int(labels.max()), ring)
    zones = np.where(distance <= reach, nearest, 0)
    out = np.zeros_like(labels)
    for label, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        box = tuple(slice(max(s.start - reach, 0), s.stop + reach) for s in box)
        own = labels[box] == label
        values = smooth[box]
        peak = np.percentile(values[own], percentile)
        background = backgrounds[label]
        part = None
        if np.isfinite(background) and peak - background > min_contrast * noise[label]:
            bright = ndi.binary_fill_holes((zones[box] == label)
                                           & (values > background + fraction * (peak - background)))
            parts, n = ndi.label(bright)
            overlap = np.bincount(parts[own], minlength=n + 1)
            overlap[0] = 0
            if overlap.max() > 0:
                part = parts == overlap.argmax()
        region = out[box]
        region[own if part is None else part] = label
    return out
