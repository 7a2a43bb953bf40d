"""A tiny synthetic tracking ground truth, independent of the shared data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from ctc.perturb import LabeledSequence


def toy_sequence(n_frames: int = 6, shape=(40, 56), seed: int = 0) -> LabeledSequence:
    """Squares drifting right; object 1 divides into 5 and 6 at frame 3; 4 leaves at 4."""
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


def write_gt(seq: LabeledSequence, gt: Path) -> None:
    """Write `seq` as a GT folder: TRA markers = SEG = the masks."""
    masks, table = seq.to_result()
    (gt / "TRA").mkdir(parents=True)
    (gt / "SEG").mkdir()
    for t, mask in enumerate(masks):
        tifffile.imwrite(gt / "TRA" / f"man_track{t:03d}.tif", mask)
        tifffile.imwrite(gt / "SEG" / f"man_seg{t:03d}.tif", mask)
    (gt / "TRA" / "man_track.txt").write_text(table.to_text())
