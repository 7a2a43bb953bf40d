"""Small synthetic ground truths, generated in memory: no data files needed.

Used by the tests: label images only. Raw fluorescence frames with exact
gold truth come from the simulator in :mod:`ctc.synth`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
from skimage.draw import disk

from ctc.perturb import LabeledSequence


def toy_sequence(n_frames: int = 6, shape=(40, 56), seed: int = 0) -> LabeledSequence:
    """Four squares drifting right; 1 divides into 5 and 6 at frame 3; 4 leaves at 4."""
    rng = np.random.default_rng(seed)
    masks = [np.zeros(shape, np.uint32) for _ in range(n_frames)]
    starts = {1: (4, 4), 2: (4, 30), 3: (24, 4), 4: (24, 30)}
    for t, mask in enumerate(masks):
        for label, (y, x) in starts.items():
            if label == 4 and t >= 4:
                continue
            dx = t + int(rng.integers(0, 2))
            if label == 1 and t >= 3:
                mask[y:y + 4, x + dx:x + dx + 8] = 5
                mask[y + 5:y + 9, x + dx:x + dx + 8] = 6
            else:
                mask[y:y + 8, x + dx:x + dx + 8] = label
    return LabeledSequence(masks, {1: 0, 2: 0, 3: 0, 4: 0, 5: 1, 6: 1})


def moving_discs(n_frames: int = 30, shape=(160, 160), n_objects: int = 8,
                 divide_every: int = 12, seed: int = 0) -> LabeledSequence:
    """Discs that drift, bounce off the borders and divide into two smaller discs.

    Parameters
    ----------
    n_frames, shape : int, tuple
        Sequence length and frame size.
    n_objects : int
        Discs at frame 0, placed without overlap.
    divide_every : int
        Each disc divides after this many frames of life (give or take 3).
    seed : int
        Random seed: the same seed gives the same sequence.
    """
    rng = np.random.default_rng(seed)
    h, w = shape
    cells = []  # [label, y, x, vy, vx, radius, age, lifespan]
    next_label = 1
    for _ in range(1000 * n_objects):
        if len(cells) == n_objects:
            break
        y, x = rng.uniform(12, h - 12), rng.uniform(12, w - 12)
        if all(np.hypot(y - c[1], x - c[2]) > 22 for c in cells):
            cells.append([next_label, y, x, *rng.normal(0, 1.2, 2), 8.0, 0,
                          divide_every + int(rng.integers(-3, 4))])
            next_label += 1
    if len(cells) < n_objects:
        raise ValueError(f"cannot place {n_objects} separate discs in a {shape} frame")
    parents = {c[0]: 0 for c in cells}
    masks = []
    for _ in range(n_frames):
        mask = np.zeros(shape, np.uint32)
        for c in sorted(cells, key=lambda c: c[5]):  # smaller discs drawn last, on top
            rr, cc = disk((c[1], c[2]), c[5], shape=shape)
            mask[rr, cc] = c[0]
        masks.append(mask)
        born = []
        for c in cells:
            c[6] += 1
            if c[6] >= c[7] and c[5] >= 7:
                angle = rng.uniform(0, np.pi)
                dy, dx = 5 * np.sin(angle), 5 * np.cos(angle)
                for sign in (1, -1):
                    born.append([next_label, c[1] + sign * dy, c[2] + sign * dx,
                                 c[3] + sign * dy / 5, c[4] + sign * dx / 5, c[5] * 0.72, 0,
                                 divide_every + int(rng.integers(-3, 4))])
                    parents[next_label] = c[0]
                    next_label += 1
                c[0] = 0
            else:
                c[5] = min(c[5] + 0.15, 9.0)
                c[1] += c[3]
                c[2] += c[4]
                for axis, size in ((1, h), (2, w)):
                    if not c[5] <= c[axis] <= size - c[5]:
                        c[axis + 2] *= -1
                        c[axis] = min(max(c[axis], c[5]), size - c[5])
        cells = [c for c in cells if c[0]] + born
    return LabeledSequence(masks, parents)


def write_gt(seq: LabeledSequence, gt: str | Path) -> None:
    """Write `seq` as a ground-truth folder ``NN_GT``: TRA markers = SEG = the masks."""
    gt = Path(gt)
    masks, table = seq.to_result()
    (gt / "TRA").mkdir(parents=True)
    (gt / "SEG").mkdir()
    for t, mask in enumerate(masks):
        tifffile.imwrite(gt / "TRA" / f"man_track{t:03d}.tif", mask)
        tifffile.imwrite(gt / "SEG" / f"man_seg{t:03d}.tif", mask)
    (gt / "TRA" / "man_track.txt").write_text(table.to_text())
