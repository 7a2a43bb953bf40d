"""The offline demo: the toolkit's flow on a synthetic sequence, no downloads.

Steps: a seeded synthetic ground truth of moving, dividing nuclei
(:func:`ctc.toy.moving_discs`) -> per-frame instance masks with segmentation
errors and labels shuffled in every frame (what a segmentation network would
hand over) -> tracking -> validation -> scoring with the CTC measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from ctc.metrics import Scores, evaluate
from ctc.perturb import perturbed, shuffle_labels_per_frame
from ctc.toy import moving_discs, write_gt
from ctc.tracking import track_folder
from ctc.validation import ValidationReport, validate_result


@dataclass
class DemoResult:
    dataset: Path
    validation: ValidationReport
    scores: Scores


def run_demo(out: str | Path, *, seed: int = 0, n_frames: int = 40,
             log=print) -> DemoResult:
    """Run the demo in folder `out` (created; must not hold a previous demo)."""
    dataset = Path(out) / "toy-nuclei"
    dataset.mkdir(parents=True, exist_ok=False)
    truth = moving_discs(n_frames=n_frames, seed=seed)
    write_gt(truth, dataset / "01_GT")
    log(f"1. ground truth: {n_frames} frames, {len(truth.parents)} tracks -> "
        f"{dataset / '01_GT'}")
    segmented = perturbed(truth, ["erode", "dilate"], seed=seed)
    rng = np.random.default_rng(seed)
    seg_dir = dataset / "01_SEG"
    seg_dir.mkdir()
    for t, mask in enumerate(segmented.masks):
        tifffile.imwrite(seg_dir / f"mask{t:03d}.tif", shuffle_labels_per_frame(mask, rng))
    log(f"2. segmentations with boundary errors, labels shuffled per frame -> {seg_dir}")
    tracks = track_folder(seg_dir, dataset / "01_RES")
    log(f"3. tracked: {len(tracks)} tracks -> {dataset / '01_RES'}")
    report = validate_result(dataset / "01_RES")
    log(f"4. {report.summary()}")
    scores = evaluate(dataset / "01_GT", dataset / "01_RES", divisions=True)
    log("5. scores: " + "  ".join(f"{k} {getattr(scores, k):.4f}"
                                   for k in ("SEG", "DET", "TRA", "LNK")))
    log(f"   divisions: {scores.DIV_TP} found, {scores.DIV_FP} false, {scores.DIV_FN} missed")
    return DemoResult(dataset, report, scores)
