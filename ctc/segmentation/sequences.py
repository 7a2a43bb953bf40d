"""Training data for the recurrent embedding network: windows of consecutive frames.

Every frame is labelled with track ids (the labels of the tracking markers):
where a segmentation exists (gold, or silver with ``truth`` "ST"/"GT+ST"),
each segmented object takes the id of the marker it contains and the rest is
background, except around cells it missed (unknown there, :func:`track_labels`);
elsewhere only the marker pixels are labelled and everything else is unknown
(-1), so dot-only annotations still train the embedding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from ctc.errors import CTCInputError
from ctc.io.naming import RAW_PREFIX, SEG_PREFIX, TRA_PREFIX, find_frames
from ctc.io.tiff import read_frame, read_mask
from ctc.segmentation.data import Augment, sequence_normalization

UNKNOWN = -1


@dataclass
class LabelledFrame:
    image: np.ndarray     # float32 (H, W)
    labels: np.ndarray    # int64 (H, W): track id, 0 background, -1 unknown
    full: bool            # every cell segmented: 0 is known background
    t: int = 0            # frame number
    sequence: str = ""    # the sequence folder it comes from


#: Around a cell the segmentation missed (its marker lies outside every object), the
#: pixels within this many median object radii of the marker are unknown, not background.
MISSED_CELL_RADII = 1.5


def track_labels(seg: np.ndarray | None, markers: np.ndarray) -> tuple[np.ndarray, bool]:
    """Per-pixel track ids of a frame from its segmentation (if any) and its markers.

    Returns the labels and whether 0 means known background in the frame. With a
    segmentation it does: a cell the segmentation missed (silver truth misses some)
    keeps its marker pixels as its id, and the unlabelled pixels around that marker,
    within :data:`MISSED_CELL_RADII` median object radii, become unknown (-1) rather
    than the whole frame losing its background. Without that, frames with one missed
    cell gave the embedding loss no background term, and on DIC-C2DH-HeLa, whose silver
    truth leaves a cell out in most frames, a constant embedding scored nearly zero
    loss (the collapse the recurrent hourglass trained into).
    """
    if seg is None:
        return np.where(markers > 0, markers.astype(np.int64), UNKNOWN), False
    out = np.zeros(seg.shape, np.int64)
    for obj in np.unique(seg[seg > 0]):
        region = seg == obj
        ids, counts = np.unique(markers[region], return_counts=True)
        keep = ids > 0
        out[region] = ids[keep][np.argmax(counts[keep])] if keep.any() else UNKNOWN
    unsegmented = (markers > 0) & (out == 0)
    if not unsegmented.any():
        return out, True
    sizes = np.bincount(seg.ravel())[1:]
    sizes = sizes[sizes > 0]
    if not len(sizes):  # nothing segmented to measure a cell by: the frame has no background
        out[unsegmented] = markers[unsegmented]
        return out, False
    radius = MISSED_CELL_RADII * np.sqrt(np.median(sizes) / np.pi)
    near = ndimage.distance_transform_edt(~unsegmented) <= radius
    out[near & (out == 0)] = UNKNOWN
    out[unsegmented] = markers[unsegmented]  # cells the segmentation missed: dots
    return out, True


def load_tracked_frames(dataset_dir: str | Path, sequence: str, truth: str = "GT", *,
                        normalization: str = "percentile",
                        frames: set[int] | None = None) -> list[LabelledFrame]:
    """Every frame of a 2D sequence with its track-id labels (see the module docstring)."""
    dataset = Path(dataset_dir)
    norm = sequence_normalization(dataset / sequence, normalization)
    raw = find_frames(dataset / sequence, RAW_PREFIX)
    tra_dir = dataset / f"{sequence}_GT" / "TRA"
    if not tra_dir.is_dir():
        raise CTCInputError("embedding training needs the tracking markers", tra_dir)
    tra = find_frames(tra_dir, TRA_PREFIX)
    seg: dict[int, Path] = {}
    if "ST" in truth and (dataset / f"{sequence}_ST" / "SEG").is_dir():
        seg.update(find_frames(dataset / f"{sequence}_ST" / "SEG", SEG_PREFIX).paths)
    if "GT" in truth and (dataset / f"{sequence}_GT" / "SEG").is_dir():
        seg.update(find_frames(dataset / f"{sequence}_GT" / "SEG", SEG_PREFIX,
                               required=False).paths)
    out = []
    for t in raw.frames:
        if frames is not None and t not in frames:
            continue
        labels, full = track_labels(read_mask(seg[t]) if t in seg else None,
                                    read_mask(tra.paths[t]))
        out.append(LabelledFrame(norm(read_frame(raw.paths[t])), labels, full, t,
                                 str(dataset / sequence)))
    return out


def window_starts(frames: list[LabelledFrame], length: int) -> list[int]:
    """Indices where `length` frames of one sequence with consecutive numbers begin: a
    window never spans a held-out or missing frame, nor two sequences."""
    return [i for i in range(len(frames) - length + 1)
            if frames[i + length - 1].t - frames[i].t == length - 1
            and frames[i + length - 1].sequence == frames[i].sequence]


class WindowSampler:
    """Random windows of `length` consecutive frames, one crop location per window."""

    def __init__(self, frames: list[LabelledFrame], length: int, crop: int,
                 rng: np.random.Generator, augment: Augment | None = None):
        self.starts = window_starts(frames, length)
        if not self.starts:
            raise CTCInputError(f"no run of {length} consecutive frames among the "
                                f"{len(frames)} training frames; give a shorter --window")
        self.frames, self.length, self.crop, self.rng = frames, length, crop, rng
        self.augment = augment or Augment()

    def window(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Images (l, 1, S, S), labels (l, S, S), full (l,)."""
        start = self.starts[int(self.rng.integers(len(self.starts)))]
        chosen = self.frames[start:start + self.length]
        h, w = chosen[0].image.shape
        s = min(self.crop, h, w)
        y0, x0 = int(self.rng.integers(h - s + 1)), int(self.rng.integers(w - s + 1))
        k = int(self.rng.integers(4)) if self.augment.rot90 else 0
        flip = self.augment.flip and self.rng.random() < 0.5
        images, labels = [], []
        for f in chosen:
            pair = [np.rot90(a[y0:y0 + s, x0:x0 + s], k) for a in (f.image, f.labels)]
            if flip:
                pair = [a[:, ::-1] for a in pair]
            images.append(np.ascontiguousarray(pair[0], np.float32))
            labels.append(np.ascontiguousarray(pair[1]))
        return (torch.from_numpy(np.stack(images))[:, None],
                torch.from_numpy(np.stack(labels)),
                torch.tensor([f.full for f in chosen]))
