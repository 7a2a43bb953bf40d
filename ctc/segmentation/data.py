"""Training data: normalised frames with class targets, and a sampler of augmented crops.

3D sequences are learnt slice by slice: every annotated slice is a 2D sample,
optionally with its neighbouring slices as extra input channels (``context``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage as ndi
from skimage.segmentation import expand_labels

from ctc.errors import CTCInputError
from ctc.io.naming import RAW_PREFIX, SEG_PREFIX, TRA_PREFIX, find_frames, find_slice_annotations
from ctc.io.tiff import read_frame, read_mask
from ctc.segmentation.targets import (
    BACKGROUND,
    CELL,
    IGNORE,
    annotation_mask,
    border_targets,
    marker_target,
    three_class_target,
    with_ignore,
)


@dataclass(frozen=True)
class Normalization:
    """Intensity normalisation of a sequence: ``(f(x) - low) / (high - low)``.

    ``f`` is the identity, or with `log` ``log1p(max(x - offset, 0))``: a
    logarithmic scale lifts nuclei a few grey levels above the background to
    the same footing as nuclei twenty times brighter (Fluo-N2DH-GOWT1 01).
    """

    low: float
    high: float
    log: bool = False
    offset: float = 0.0

    def __call__(self, image: np.ndarray) -> np.ndarray:
        x = image.astype(np.float32)
        if self.log:
            x = np.log1p(np.maximum(x - np.float32(self.offset), 0))
        scale = self.high - self.low if self.high > self.low else 1.0
        return ((x - np.float32(self.low)) / np.float32(scale)).astype(np.float32)


#: Kinds of :func:`sequence_normalization`.
NORMALIZATIONS = ("percentile", "minmax", "log")

#: Targets of the marker channel: the tracking markers (GT TRA), or the cell distance of
#: the segmentation annotation (``load_samples(markers_from=...)``).
MARKER_SOURCES = ("tra", "segmentation")


def spread(items, count: int) -> list:
    """At most `count` of `items`, evenly spaced from the first to the last."""
    items = list(items)
    if len(items) <= count:
        return items
    return [items[i] for i in np.unique(np.linspace(0, len(items) - 1, count).round()
                                        .astype(int))]


def sequence_normalization(raw_dir: str | Path, kind: str = "percentile",
                           percentiles: tuple[float, float] = (1.0, 99.8),
                           sample: int = 16) -> Normalization:
    """Normalisation of a raw sequence from up to `sample` evenly spaced frames.

    Parameters
    ----------
    kind : {"percentile", "minmax", "log"}
        Robust percentiles of the sequence, its minimum and maximum, or the
        percentiles on a logarithmic scale above the low percentile (for
        sequences whose nuclei span a wide range of brightness).
    """
    files = find_frames(raw_dir, RAW_PREFIX)
    values = np.concatenate([read_frame(files.paths[t]).ravel()[::7]
                             for t in spread(files.frames, sample)])
    if kind == "minmax":
        return Normalization(float(values.min()), float(values.max()))
    if kind == "percentile":
        low, high = np.percentile(values, percentiles)
        return Normalization(float(low), float(high))
    if kind == "log":
        offset = float(np.percentile(values, percentiles[0]))
        logs = np.log1p(np.maximum(values.astype(np.float64) - offset, 0))
        return Normalization(0.0, float(np.percentile(logs, percentiles[1])), log=True,
                             offset=offset)
    raise ValueError(f"unknown normalization {kind!r}: use one of {NORMALIZATIONS}")


@dataclass
class Sample:
    """One annotated 2D image: normalised intensities and its class target(s)."""

    image: np.ndarray           # float32 (H, W), or (C, H, W) with slice context
    target: np.ndarray          # uint8 (H, W), IGNORE where unknown
    #: uint8 (H, W) target of the fourth output channel, IGNORE where unknown: the binary
    #: foreground (border task) or the marker centre-ness in levels of MARKER_LEVELS
    #: (models with ``markers``, :func:`ctc.segmentation.targets.marker_target`)
    extra: np.ndarray | None = None
    source: str = ""

    @property
    def annotated(self) -> bool:
        """Whether the class target labels any pixel (marker-only frames do not)."""
        return bool((self.target != IGNORE).any())


def slice_context(image: np.ndarray, z: int | None, context: int) -> np.ndarray:
    """Slice `z` of a 3D volume with `context` slices on each side, (2 context + 1, H, W).

    Slices beyond the volume repeat its first or last one; a 2D image (`z`
    None) stands for all of its neighbours. With `context` 0: the slice itself,
    2D.
    """
    if context == 0:
        return image if z is None else image[z]
    if z is None:
        return np.repeat(image[None], 2 * context + 1, axis=0)
    index = np.clip(np.arange(z - context, z + context + 1), 0, image.shape[0] - 1)
    return image[index]


def _marker_target(marks: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """The marker target of a frame (all IGNORE where the frame has no markers)."""
    return np.full(shape, IGNORE, np.uint8) if marks is None else marker_target(marks)


def balanced_weights(samples: list[Sample]) -> np.ndarray:
    """Sampling weights giving the segmented samples and the marker-only ones half each.

    Without them, 70 marker-only frames would starve the class target of a
    sequence with 20 segmented ones.
    """
    annotated = np.array([s.annotated for s in samples])
    if annotated.all() or not annotated.any():
        return np.ones(len(samples))
    return np.where(annotated, 0.5 / annotated.sum(), 0.5 / (~annotated).sum())


def make_targets(labels: np.ndarray, known: np.ndarray, task: str,
                 iterations: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Class target (and foreground target for the border task) of a label image."""
    if task == "three_class":
        return with_ignore(three_class_target(labels, iterations), known), None
    if task == "border":
        classes, fg = border_targets(labels, erosion=iterations, border_width=iterations)
        return with_ignore(classes, known), with_ignore(fg, known)
    raise ValueError(f"unknown task {task!r}: use 'three_class' or 'border'")


def load_samples(dataset_dir: str | Path, sequence: str, truth: str = "GT", *,
                 task: str = "three_class", iterations: int = 2,
                 normalization: str = "percentile", markers: bool = False,
                 frames: set[int] | None = None, context: int = 0,
                 markers_from: str = "tra") -> list[Sample]:
    """Annotated samples of one sequence.

    Parameters
    ----------
    truth : {"GT", "ST", "GT+ST"}
        Gold truth, silver truth, or both (gold overrides silver on frames
        that both annotate).
    markers : bool
        Give every sample the tracking markers (GT TRA) as the target of a
        fourth channel, and add the frames that have markers but no
        segmentation as marker-only samples (class target all IGNORE). The
        markers cover every cell of every frame, so a sequence with a few
        partly segmented frames (Fluo-N2DH-GOWT1) still shows the network all
        its cells, touching ones included.
    frames : set of int, optional
        Keep only these frame numbers.
    markers_from : {"tra", "segmentation"}
        With `markers`: the tracking markers as above, or the cell distance of
        each segmented frame's own annotation (each cell's distance to its edge,
        normalised per cell; cells the annotation leaves out are unknown), which
        needs no TRA markers and adds no marker-only frames.
    context : int
        Neighbouring slices on each side given as extra channels
        (:func:`slice_context`; 0: single-channel images).
    """
    dataset = Path(dataset_dir)
    raw_dir = dataset / sequence
    if not raw_dir.is_dir():
        raise CTCInputError("raw sequence folder not found", raw_dir)
    norm = sequence_normalization(raw_dir, normalization)
    raw = find_frames(raw_dir, RAW_PREFIX)
    sources: dict[tuple[int, int | None], Path] = {}
    for kind in truth.split("+"):
        if kind not in ("GT", "ST"):
            raise ValueError(f"truth must be GT, ST or GT+ST, got {truth!r}")
    if "ST" in truth:
        st = dataset / f"{sequence}_ST" / "SEG"
        if not st.is_dir():
            raise CTCInputError("silver truth requested but not found", st)
        sources.update({(t, None): p for t, p in find_frames(st, SEG_PREFIX).paths.items()})
    if "GT" in truth:
        gt = dataset / f"{sequence}_GT" / "SEG"
        if not gt.is_dir():
            raise CTCInputError("gold truth requested but not found", gt)
        gold = {(t, None): p for t, p in
                find_frames(gt, SEG_PREFIX, required=False).paths.items()}
        gold.update(find_slice_annotations(gt))
        for (t, z), path in gold.items():  # gold overrides silver on its frames
            sources.pop((t, None), None)
            sources[(t, z)] = path
    tra_dir = dataset / f"{sequence}_GT" / "TRA"
    tra = find_frames(tra_dir, TRA_PREFIX, required=False) if tra_dir.is_dir() else None
    if markers_from not in MARKER_SOURCES:
        raise ValueError(f"markers_from must be one of {MARKER_SOURCES}, got {markers_from!r}")
    distance = markers and markers_from == "segmentation"
    if markers and not distance and (tra is None or not tra.frames):
        raise CTCInputError("marker targets requested but no tracking markers found", tra_dir)
    if markers and task != "three_class":
        raise ValueError("marker targets go with the three_class task")
    samples = []
    for (t, z), path in sorted(sources.items(), key=lambda kv: (kv[0][0], kv[0][1] or -1)):
        if frames is not None and t not in frames:
            continue
        image = norm(read_frame(raw.paths[t]))
        labels = read_mask(path)
        marks = read_mask(tra.paths[t]) if tra is not None and t in tra.paths else None
        if z is not None:
            image = slice_context(image, z, context)
            marks = None if marks is None else marks[z]
        elif image.ndim == 2:
            image = slice_context(image, None, context)
        if labels.ndim == 3:  # a fully annotated 3D frame: all slices
            for zz in range(labels.shape[0]):
                if labels[zz].any():
                    mz = None if marks is None else marks[zz]
                    known = annotation_mask(labels[zz], mz)
                    target, extra = make_targets(labels[zz], known, task, iterations)
                    if markers:
                        extra = (with_ignore(marker_target(labels[zz]), known) if distance
                                 else _marker_target(mz, labels[zz].shape))
                    samples.append(Sample(slice_context(image, zz, context), target, extra,
                                          f"{path.name}[{zz}]"))
            continue
        known = annotation_mask(labels, marks)
        target, extra = make_targets(labels, known, task, iterations)
        if markers:
            extra = (with_ignore(marker_target(labels), known) if distance
                     else _marker_target(marks, labels.shape))
        samples.append(Sample(image, target, extra, path.name))
    if markers and not distance:
        segmented = {t for t, _ in sources}
        for t, path in sorted(tra.paths.items()):
            if t in segmented or t not in raw.paths or (frames is not None and t not in frames):
                continue
            image, marks = norm(read_frame(raw.paths[t])), read_mask(path)
            for zz in (range(marks.shape[0]) if marks.ndim == 3 else [None]):
                m = marks if zz is None else marks[zz]
                if zz is not None and not m.any():
                    continue
                samples.append(Sample(slice_context(image, zz, context),
                                      np.full(m.shape, IGNORE, np.uint8), marker_target(m),
                                      path.name if zz is None else f"{path.name}[{zz}]"))
    if not samples:
        raise CTCInputError(f"no annotated frame found for truth {truth}", dataset / sequence)
    return samples


def scale_cells(image: np.ndarray, target: np.ndarray, gain: tuple[float, float],
                rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """`image` with the signal of each annotated cell scaled, with probability `p`, by a gain.

    Parameters
    ----------
    image : ndarray
        Normalised 2D image (H, W), or its slice context (C, H, W): each
        channel is scaled alike.
    target : ndarray
        Its class target; the cells are the components of the CELL class.
    gain : (float, float)
        Range of the gains, sampled log-uniformly, one per cell.
    rng : numpy Generator
    p : float
        Probability that a cell is scaled.

    Returns
    -------
    ndarray
        ``level + (image - level) * field``, where `level` is the median of the
        background class and `field` is each scaled cell's gain over the cell and its
        boundary ring, 1 elsewhere, smoothed so that no step appears where it changes.
    """
    cells, n = ndi.label(target == CELL)
    if n == 0:
        return image
    low, high = np.log(gain)
    gains = np.where(rng.random(n) < p, np.exp(rng.uniform(low, high, n)), 1.0)
    # grown over the boundary ring so that a cell's blurred edge dims with it
    grown = expand_labels(cells, 4)
    field = ndi.gaussian_filter(np.concatenate([[1.0], gains])[grown].astype(np.float32), 1.5)
    background = target == BACKGROUND
    level = np.float32(np.median(image[..., background]) if background.any()
                       else np.percentile(image, 10))
    return (level + (image - level) * field).astype(np.float32)


def blur_image(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a 2D image (H, W) or of each channel of a slice context (C, H, W).

    Parameters
    ----------
    image : ndarray
    sigma : float
        Standard deviation in pixels, in the image plane only.

    Returns
    -------
    ndarray
        float32, the shape of `image`.
    """
    sigmas = (0.0,) * (image.ndim - 2) + (sigma, sigma)
    return ndi.gaussian_filter(image.astype(np.float32), sigmas, mode="reflect")


@dataclass(frozen=True)
class Augment:
    """Which augmentations the sampler applies (each switchable)."""

    flip: bool = True
    rot90: bool = True
    scale: tuple[float, float] | None = (0.8, 1.25)
    elastic: bool = False
    intensity: bool = True
    gain: tuple[float, float] = (0.7, 1.3)
    noise: float = 0.08
    #: range of a random gamma applied to the normalised intensities (log-uniform), or None;
    #: it changes the contrast of dim cells relative to bright ones, which a gain cannot
    gamma: tuple[float, float] | None = None
    #: range of a per-cell gain (log-uniform), drawn for each annotated cell of a crop with
    #: probability one half, or None; cells of one sequence differ in expression level
    #: (GOWT1 01 shows dim nuclei beside and touching bright ones), which a gain on the
    #: whole crop cannot show
    cell_gain: tuple[float, float] | None = None
    #: range of the standard deviation (pixels) of a Gaussian blur applied to half of the
    #: crops, or None; the labels stay put, so the network sees one outline under edges of
    #: several widths (Fluo-N2DH-SIM+ 01's nuclei fade out over wider rims than 02's)
    blur: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.blur is not None and not 0 <= self.blur[0] <= self.blur[1]:
            raise ValueError(f"blur must be two standard deviations 0 <= LOW <= HIGH pixels, "
                             f"got {self.blur[0]:g} {self.blur[1]:g}")

    def to_dict(self) -> dict:
        return asdict(self)


class CropSampler:
    """Random crops of the samples, centred on objects most of the time, augmented.

    Parameters
    ----------
    samples : list of Sample
    crop : int
        Crop size in pixels.
    rng : numpy Generator
        The source of all randomness (seeded: batches reproduce).
    augment : Augment
    object_fraction : float
        Fraction of crops centred on a cell pixel (a marker pixel in
        marker-only samples).
    weights : sequence of float, optional
        Relative frequency of each sample (default: uniform).
    """

    def __init__(self, samples: list[Sample], crop: int, rng: np.random.Generator,
                 augment: Augment = Augment(), object_fraction: float = 0.9,
                 weights=None):
        self.samples = samples
        self.crop = crop
        self.rng = rng
        self.augment = augment
        self.object_fraction = object_fraction
        self._p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
        self._cells = [np.flatnonzero(s.target.ravel() == CELL) if s.annotated or s.extra is None
                       else np.flatnonzero((s.extra.ravel() > 0) & (s.extra.ravel() != IGNORE))
                       for s in samples]

    def _crop(self, sample: Sample, cells: np.ndarray, size: int):
        h, w = sample.image.shape[-2:]
        if len(cells) and self.rng.random() < self.object_fraction:
            cy, cx = np.unravel_index(cells[self.rng.integers(len(cells))], (h, w))
        else:
            cy, cx = self.rng.integers(h), self.rng.integers(w)
        y0, x0 = int(cy) - size // 2, int(cx) - size // 2
        pads = ((max(0, -y0), max(0, y0 + size - h)), (max(0, -x0), max(0, x0 + size - w)))
        ys, xs = slice(max(0, y0), min(h, y0 + size)), slice(max(0, x0), min(w, x0 + size))
        channels = ((0, 0),) * (sample.image.ndim - 2)  # slice context: not padded
        image = np.pad(sample.image[..., ys, xs], channels + pads,
                       mode="reflect" if min(h, w) > size else "constant")
        target = np.pad(sample.target[ys, xs], pads, constant_values=IGNORE)
        extra = None if sample.extra is None else np.pad(
            sample.extra[ys, xs], pads, constant_values=IGNORE)
        return image, target, extra

    def _elastic(self, arrays: list[np.ndarray], orders: list[int]) -> list[np.ndarray]:
        shape = arrays[0].shape[-2:]
        coarse = self.rng.normal(0, 4.0, (2, 4, 4))
        field = [ndi.zoom(c, (shape[0] / 4, shape[1] / 4), order=3) for c in coarse]
        grid = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
        coords = [grid[0] + field[0], grid[1] + field[1]]
        def warp(a: np.ndarray, order: int) -> np.ndarray:
            if a.ndim == 3:  # each channel of a slice context alike
                return np.stack([warp(c, order) for c in a])
            return ndi.map_coordinates(a, coords, order=order, mode="reflect").astype(a.dtype)

        return [warp(a, o) for a, o in zip(arrays, orders, strict=True)]

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """`n` augmented crops: images (n, C, S, S), targets (n, S, S), extra targets or None.

        C is 1, or 2 context + 1 for samples with slice context."""
        images, targets, extras = [], [], []
        for _ in range(n):
            i = (int(self.rng.integers(len(self.samples))) if self._p is None
                 else int(self.rng.choice(len(self.samples), p=self._p)))
            zoom = 1.0
            if self.augment.scale is not None:
                zoom = float(np.exp(self.rng.uniform(*np.log(self.augment.scale))))
            size = max(8, int(round(self.crop / zoom)))
            image, target, extra = self._crop(self.samples[i], self._cells[i], size)
            arrays = [image, target] + ([extra] if extra is not None else [])
            if self.augment.elastic:
                arrays = self._elastic(arrays, [1] + [0] * (len(arrays) - 1))
            k = int(self.rng.integers(4)) if self.augment.rot90 else 0
            flip = self.augment.flip and self.rng.random() < 0.5
            arrays = [np.rot90(a, k, axes=(-2, -1)) for a in arrays]
            if flip:
                arrays = [a[..., ::-1] for a in arrays]
            image = np.ascontiguousarray(arrays[0])
            if self.augment.intensity:
                # Gain (log-uniform), offset and noise: sequences of one dataset differ in
                # brightness and in noise relative to the cells (Fluo-N2DH-GOWT1 02 has
                # twice the normalised background noise of 01, whose annotated nuclei
                # are half of them six times dimmer than the rest).
                if self.augment.cell_gain is not None:
                    image = scale_cells(image, arrays[1], self.augment.cell_gain, self.rng)
                if self.augment.blur is not None and self.rng.random() < 0.5:
                    image = blur_image(image, float(self.rng.uniform(*self.augment.blur)))
                if self.augment.gamma is not None:
                    gamma = float(np.exp(self.rng.uniform(*np.log(self.augment.gamma))))
                    image = np.maximum(image, 0) ** gamma
                gain = float(np.exp(self.rng.uniform(*np.log(self.augment.gain))))
                image = image * gain + self.rng.uniform(-0.1, 0.1)
                image = image + self.rng.normal(0, self.rng.uniform(0, self.augment.noise),
                                                image.shape)
            x = torch.from_numpy(image.astype(np.float32))
            x = x[None] if x.ndim == 3 else x[None, None]
            labels = [torch.from_numpy(np.ascontiguousarray(a).astype(np.float32))[None, None]
                      for a in arrays[1:]]
            if size != self.crop:
                x = F.interpolate(x, size=(self.crop, self.crop), mode="bilinear",
                                  align_corners=False)
                labels = [F.interpolate(a, size=(self.crop, self.crop), mode="nearest")
                          for a in labels]
            images.append(x[0])
            targets.append(labels[0][0, 0].long())
            if len(labels) > 1:
                extras.append(labels[1][0, 0].long())
        x = torch.stack(images)
        y = torch.stack(targets)
        f = torch.stack(extras) if extras else None
        return x, y, f
