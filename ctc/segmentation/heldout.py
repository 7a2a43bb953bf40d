"""Held-out annotated frames: which to hold out, loading them, and scoring predictions.

Training validates on them (best-checkpoint selection) and post-processing
thresholds are calibrated on them; neither ever looks at the test data.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from skimage.measure import regionprops

from ctc.datasets import relative_spacing
from ctc.io.naming import (
    RAW_PREFIX,
    SEG_PREFIX,
    TRA_PREFIX,
    find_frames,
    find_slice_annotations,
)
from ctc.io.tiff import read_frame, read_mask
from ctc.metrics import measures
from ctc.metrics.aogm import FrameVertices, detection_test
from ctc.metrics.matching import match_frame
from ctc.segmentation.data import sequence_normalization
from ctc.segmentation.model import ModelConfig
from ctc.segmentation.postprocess import region_solidity
from ctc.segmentation.segment import segment_image


@dataclass
class ValFrame:
    """A held-out frame: normalised image, gold segmentation, TRA markers (or None).

    A 3D frame's gold segmentation is the full volume, or one annotated slice
    `z` (a 2D array); `spacing` is its voxel size relative to x; `dataset` the name
    of the dataset it comes from (per-dataset calibration of universal models); `t`
    its frame number.
    """

    image: np.ndarray
    seg: np.ndarray | None
    markers: np.ndarray | None
    z: int | None = None
    spacing: tuple[float, ...] | None = None
    dataset: str = ""
    t: int | None = None

    def seg_of(self, labels: np.ndarray) -> np.ndarray:
        """The part of predicted `labels` that the gold segmentation annotates."""
        return labels if self.z is None else labels[self.z]


def validation_frames(dataset_dir: Path, sequence: str, count: int) -> list[int]:
    """`count` evenly spaced frames with gold segmentation, held out of training."""
    seg_dir = dataset_dir / f"{sequence}_GT" / "SEG"
    frames = gold_frames(dataset_dir, sequence) or (
        sorted({t for t, _ in find_slice_annotations(seg_dir)}) if seg_dir.is_dir() else [])
    if len(frames) < 2 or count <= 0:
        return []
    count = min(count, len(frames) // 3 or 1)
    picks = np.linspace(0, len(frames) - 1, count + 2)[1:-1].round().astype(int)
    return sorted({frames[i] for i in picks})


def training_frames(dataset_dir: Path, sequence: str, held: list[int]) -> set[int] | None:
    """The raw frames of a sequence that training may learn from: all but `held` (None,
    meaning every frame, when nothing is held out)."""
    if not held:
        return None
    return set(find_frames(dataset_dir / sequence, RAW_PREFIX).frames) - set(held)


def load_validation(dataset_dir: Path, sequence: str, frames: list[int],
                    normalization: str) -> list[ValFrame]:
    """The frames among `frames` with gold segmentation (2D, 3D, or slices of 3D),
    normalised as the model expects."""
    return list(iter_validation(dataset_dir, sequence, frames, normalization))


def iter_validation(dataset_dir: Path, sequence: str, frames: list[int], normalization: str
                    ) -> Iterator[ValFrame]:
    """:func:`load_validation` one frame at a time, for frame sets too large to hold."""
    norm = sequence_normalization(dataset_dir / sequence, normalization)
    raw = find_frames(dataset_dir / sequence, RAW_PREFIX)
    seg_dir = dataset_dir / f"{sequence}_GT" / "SEG"
    seg = find_frames(seg_dir, SEG_PREFIX, required=False)
    slices: dict[int, tuple[int, Path]] = {}
    if seg_dir.is_dir():  # 3D slice annotations: the first annotated slice of each frame
        for (t, z), path in reversed(find_slice_annotations(seg_dir).items()):
            slices[t] = (z, path)
    tra_dir = dataset_dir / f"{sequence}_GT" / "TRA"
    tra = find_frames(tra_dir, TRA_PREFIX, required=False) if tra_dir.is_dir() else None
    spacing = relative_spacing(dataset_dir / sequence)
    for t in frames:
        if t not in seg.paths and t not in slices:
            continue
        image = norm(read_frame(raw.paths[t]))
        markers = read_mask(tra.paths[t]) if tra is not None and t in tra.paths else None
        if t in seg.paths:
            gold, z = read_mask(seg.paths[t]), None
        else:
            z, path = slices[t]
            gold = read_mask(path)
        if (image.ndim == 2 and (gold.ndim != 2 or z is not None)) or (
                image.ndim == 3 and z is None and gold.ndim != 3):
            continue  # annotation and frame disagree in dimension: `ctc validate` says so
        yield ValFrame(image, gold, markers, z, spacing if image.ndim == 3 else None,
                       Path(dataset_dir).resolve().name, t)


def gold_frames(dataset_dir: Path, sequence: str) -> list[int]:
    """Every frame of a sequence with a full 2D gold segmentation (``man_segTTT.tif``)."""
    seg_dir = dataset_dir / f"{sequence}_GT" / "SEG"
    if not seg_dir.is_dir():
        return []
    return sorted(find_frames(seg_dir, SEG_PREFIX, required=False).frames)


def gold_solidities(dataset_dir: Path, sequence: str, min_size: int = 0) -> np.ndarray:
    """Solidity (area or volume over that of the convex hull) of every gold object of a
    sequence, 2D or 3D (fully annotated volumes).

    Objects smaller than `min_size` pixels, whose solidity is mostly pixel
    rounding, are left out; so are slice-annotated 3D frames.
    """
    seg_dir = Path(dataset_dir) / f"{sequence}_GT" / "SEG"
    if not seg_dir.is_dir():
        return np.empty(0)
    seg = find_frames(seg_dir, SEG_PREFIX, required=False)
    values = []
    for path in seg.paths.values():
        values += [region_solidity(r) for r in regionprops(read_mask(path))
                   if r.area >= min_size]
    return np.asarray(values, float)


def gold_sizes(dataset_dir: Path, sequence: str) -> np.ndarray:
    """Size (pixels, or voxels of fully annotated volumes) of every gold object of a
    sequence."""
    seg_dir = Path(dataset_dir) / f"{sequence}_GT" / "SEG"
    if not seg_dir.is_dir():
        return np.empty(0)
    seg = find_frames(seg_dir, SEG_PREFIX, required=False)
    counts = [np.bincount(read_mask(path).ravel())[1:] for path in seg.paths.values()]
    sizes = np.concatenate(counts or [np.empty(0, int)])
    return sizes[sizes > 0]


def jaccard_sum(gold: np.ndarray, pred: np.ndarray) -> tuple[float, int]:
    """Sum of the SEG Jaccard indices of the gold objects of one frame, and their count."""
    m = match_frame(gold, pred)
    return float(m.jaccard().sum()), len(m.ref_labels)


def score_predictions(frames: list[ValFrame], predictions: list[np.ndarray]) -> dict:
    """SEG (and DET where markers exist) of instance masks predicted for `frames`."""
    seg_sum, seg_n = 0.0, 0
    detections: list[FrameVertices] = []
    for i, (f, pred) in enumerate(zip(frames, predictions, strict=True)):
        total, count = jaccard_sum(f.seg, f.seg_of(pred))
        seg_sum += total
        seg_n += count
        if f.markers is not None:
            d = match_frame(f.markers, pred)
            detections.append(FrameVertices(i, d.ref_labels, d.res_labels, d.match_ref,
                                            d.match_res))
    out = {"SEG": seg_sum / seg_n if seg_n else math.nan}
    if detections:
        v = detection_test(detections)
        out["DET"] = measures.det(v.NS, v.FN, v.FP, len(v.ref_keys))
    return out


def evaluate_frames(net, frames: list[ValFrame], config: ModelConfig,
                    device: torch.device) -> dict:
    """SEG (and DET where markers exist) of the network on held-out frames."""
    net.eval()
    return score_predictions(frames, [segment_image(net, config, f.image, device,
                                                    spacing=f.spacing) for f in frames])


def score(scores: dict) -> float:
    """One number to rank by: the mean of SEG and DET (those present and defined)."""
    values = [v for k, v in scores.items() if k in ("SEG", "DET") and not math.isnan(v)]
    return float(np.mean(values)) if values else -math.inf
