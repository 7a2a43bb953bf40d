"""Build CTC results from ground truth, perfect or with controlled errors.

Used to test and benchmark the measures and the tracker: each perturbation
imitates a typical segmentation or tracking mistake. Perturbations edit the
masks and the declared parent of each label; :meth:`LabeledSequence.to_result`
then derives a valid track table from the masks (the same rules as
:mod:`ctc.repair`), so every result built here passes ``ctc validate``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from skimage.draw import disk
from skimage.segmentation import expand_labels, find_boundaries

from ctc.io.naming import find_frames
from ctc.io.res_writer import ResultWriter
from ctc.io.tiff import read_mask
from ctc.labels import present_labels, relabel
from ctc.lineage import Track, TrackTable, read_tracks
from ctc.repair import plan_repair


@dataclass
class LabeledSequence:
    """In-memory label images (frame i of the list is frame i) and declared parents."""

    masks: list[np.ndarray]
    parents: dict[int, int] = field(default_factory=dict)
    next_label: int = 0

    @classmethod
    def from_folder(cls, folder: str | Path, prefix: str, track_file: str,
                    frames: range | None = None) -> LabeledSequence:
        """Read a tracking folder, optionally only `frames` (renumbered from 0)."""
        files = find_frames(folder, prefix)
        frames = frames if frames is not None else range(len(files))
        masks = [read_mask(files.paths[t]).astype(np.uint32) for t in frames]
        table = read_tracks(Path(folder) / track_file)
        return cls(masks, {t.label: t.parent for t in table})

    def copy(self) -> LabeledSequence:
        return LabeledSequence([m.copy() for m in self.masks], dict(self.parents),
                               self.next_label)

    def labels(self) -> np.ndarray:
        """Every label present in some frame."""
        present = [present_labels(m) for m in self.masks]
        return np.unique(np.concatenate(present)) if present else np.zeros(0, np.int64)

    def fresh_label(self) -> int:
        """A label not used anywhere yet."""
        if not self.next_label:
            used = set(self.labels().tolist()) | set(self.parents)
            self.next_label = max(used, default=0) + 1
        label = self.next_label
        self.next_label += 1
        self.parents[label] = 0
        return label

    def to_result(self) -> tuple[list[np.ndarray], TrackTable]:
        """Masks (uint16) and a track table consistent with them."""
        presence: dict[int, list[int]] = {}
        for t, mask in enumerate(self.masks):
            for label in present_labels(mask).tolist():
                presence.setdefault(label, []).append(t)
        declared = [Track(label, 0, 0, parent) for label, parent in self.parents.items()]
        table, segments = plan_repair(presence, declared, [])
        masks = []
        for t, mask in enumerate(self.masks):
            mapping = {old: new for old, runs in segments.items()
                       for new, b, e in runs if b <= t <= e}
            masks.append(relabel(mask, mapping))
        return masks, table

    def write(self, target: str | Path, *, overwrite: bool = False) -> TrackTable:
        """Write as a valid result folder; returns its track table."""
        masks, table = self.to_result()
        with ResultWriter(target, n_frames=len(masks), overwrite=overwrite) as res:
            for t, mask in enumerate(masks):
                res.write_mask(t, mask)
            res.write_tracks(table)
        return table


def _choose(rng: np.random.Generator, labels: np.ndarray, fraction: float) -> np.ndarray:
    if not len(labels):
        return labels
    k = max(1, int(round(fraction * len(labels))))
    return rng.choice(labels, size=min(k, len(labels)), replace=False)


def erode(seq: LabeledSequence, rng: np.random.Generator, fraction: float = 0.3) -> None:
    """Remove the boundary pixels of a fraction of the objects of each frame."""
    for mask in seq.masks:
        chosen = _choose(rng, present_labels(mask), fraction)
        edge = find_boundaries(mask, mode="inner")
        mask[edge & np.isin(mask, chosen)] = 0


def dilate(seq: LabeledSequence, rng: np.random.Generator, fraction: float = 0.3,
           pixels: int = 2) -> None:
    """Grow a fraction of the objects of each frame into the background."""
    for mask in seq.masks:
        chosen = _choose(rng, present_labels(mask), fraction)
        grown = expand_labels(mask, pixels)
        take = (mask == 0) & np.isin(grown, chosen)
        mask[take] = grown[take]


def drop(seq: LabeledSequence, rng: np.random.Generator, fraction: float = 0.05) -> None:
    """Delete a fraction of the objects of each frame (missed detections)."""
    for mask in seq.masks:
        mask[np.isin(mask, _choose(rng, present_labels(mask), fraction))] = 0


def merge(seq: LabeledSequence, rng: np.random.Generator, fraction: float = 0.1,
          reach: int = 8) -> None:
    """Merge objects with a neighbour within `reach` pixels (under-segmentation)."""
    for mask in seq.masks:
        for label in _choose(rng, present_labels(mask), fraction):
            region = expand_labels(np.where(mask == label, mask, 0), reach) == label
            near = np.unique(mask[region])
            near = near[(near != 0) & (near != label)]
            if len(near):
                mask[mask == rng.choice(near)] = label


def false_positives(seq: LabeledSequence, rng: np.random.Generator, per_frame: int = 2,
                    radius: int = 4) -> None:
    """Add small blobs in the background (on one slice in 3D), each a one-frame track."""
    for mask in seq.masks:
        plane = mask if mask.ndim == 2 else mask[int(rng.integers(mask.shape[0]))]
        for _ in range(per_frame):
            y, x = (int(rng.integers(radius, s - radius)) for s in plane.shape)
            rr, cc = disk((y, x), radius, shape=plane.shape)
            free = plane[rr, cc] == 0
            plane[rr[free], cc[free]] = seq.fresh_label()


def _track_frames(seq: LabeledSequence) -> dict[int, list[int]]:
    frames: dict[int, list[int]] = {}
    for t, mask in enumerate(seq.masks):
        for label in present_labels(mask).tolist():
            frames.setdefault(label, []).append(t)
    return frames


def _relabel_from(seq: LabeledSequence, mapping: dict[int, int], start: int) -> None:
    for mask in seq.masks[start:]:
        old = mask.copy()
        for a, b in mapping.items():
            mask[old == a] = b


def break_links(seq: LabeledSequence, rng: np.random.Generator, fraction: float = 0.1) -> None:
    """Cut tracks in two: the later part becomes a new track without parent."""
    frames = _track_frames(seq)
    long = np.array([label for label, f in frames.items() if len(f) >= 3])
    for label in _choose(rng, long, fraction):
        f = frames[int(label)]
        cut = int(rng.integers(f[1], f[-1] + 1))
        _relabel_from(seq, {int(label): seq.fresh_label()}, cut)


def swap_links(seq: LabeledSequence, rng: np.random.Generator, pairs: int = 3) -> None:
    """Swap the identities of two tracks that coexist, from a frame on."""
    frames = _track_frames(seq)
    for _ in range(pairs):
        t = int(rng.integers(1, len(seq.masks)))
        alive = [label for label, f in frames.items() if t - 1 in f and t in f]
        if len(alive) < 2:
            continue
        a, b = (int(v) for v in rng.choice(alive, 2, replace=False))
        _relabel_from(seq, {a: b, b: a}, t)
        frames = _track_frames(seq)


def false_divisions(seq: LabeledSequence, rng: np.random.Generator, count: int = 3) -> None:
    """Turn a track continuation into a division with one daughter."""
    frames = _track_frames(seq)
    long = np.array([label for label, f in frames.items() if len(f) >= 3])
    for label in _choose(rng, long, count / max(len(long), 1)):
        f = frames[int(label)]
        cut = int(rng.integers(f[1], f[-1] + 1))
        child = seq.fresh_label()
        _relabel_from(seq, {int(label): child}, cut)
        seq.parents[child] = int(label)


def miss_divisions(seq: LabeledSequence, rng: np.random.Generator, count: int = 3) -> None:
    """Make the mother continue into one daughter and orphan the other."""
    frames = _track_frames(seq)
    divisions = {}
    for child, parent in seq.parents.items():
        if parent and parent in frames and child in frames:
            divisions.setdefault(parent, []).append(child)
    mothers = [p for p, kids in divisions.items() if len(kids) >= 2]
    for mother in _choose(rng, np.array(mothers), count / max(len(mothers), 1)):
        kid_a, kid_b = sorted(divisions[int(mother)])[:2]
        _relabel_from(seq, {kid_a: int(mother)}, 0)
        seq.parents[kid_b] = 0
        for child, parent in seq.parents.items():
            if parent == kid_a:
                seq.parents[child] = int(mother)


def permute_labels(seq: LabeledSequence, rng: np.random.Generator,
                   high: int = 65535) -> None:
    """Give every label a random distinct new label in 1..`high`."""
    labels = np.union1d(seq.labels(), np.array(list(seq.parents), dtype=np.int64))
    new = rng.choice(np.arange(1, high + 1), size=len(labels), replace=False)
    mapping = dict(zip(labels.tolist(), new.tolist(), strict=True))
    seq.masks = [relabel(m, mapping).astype(np.uint32) for m in seq.masks]
    seq.parents = {mapping[c]: mapping.get(p, 0) for c, p in seq.parents.items()}
    seq.next_label = 0


def shuffle_labels_per_frame(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Give the objects of one frame random distinct labels in 1..65535 (uint16).

    Applied to every frame, this removes all tracking information from a
    ground truth: the input a tracker gets from a segmentation network.
    """
    labels = present_labels(mask)
    new = rng.choice(np.arange(1, 65536), size=len(labels), replace=False)
    return relabel(mask, dict(zip(labels.tolist(), new.tolist(), strict=True)))


PERTURBATIONS: dict[str, Callable[[LabeledSequence, np.random.Generator], None]] = {
    "erode": erode,
    "dilate": dilate,
    "drop": drop,
    "merge": merge,
    "false_positives": false_positives,
    "break_links": break_links,
    "swap_links": swap_links,
    "false_divisions": false_divisions,
    "miss_divisions": miss_divisions,
}


def perturbed(seq: LabeledSequence, kinds: list[str], seed: int = 0,
              permute_high: int | None = None) -> LabeledSequence:
    """A perturbed copy of `seq`: apply each perturbation of `kinds` in turn."""
    rng = np.random.default_rng(seed)
    out = seq.copy()
    for kind in kinds:
        PERTURBATIONS[kind](out, rng)
    if permute_high is not None:
        permute_labels(out, rng, permute_high)
    return out
