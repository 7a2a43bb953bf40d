"""Are a segmentation's outlines biased, and would a simple correction fix them?

A diagnosis of instance masks (``ctc segment`` or ``ctc run`` output) against
the gold segmentation of the same sequence: SEG as it is, the median size of
each matched object relative to its gold object, SEG after every object is
grown or shrunk by 1-2 pixels, and SEG after the outline refinement
(:func:`ctc.segmentation.refine.refine_outlines`) at each fraction, applied
only to objects whose signal stands at least K noise deviations above their
background. It looks at the masks it is given, so run it on a model's own
training sequence to see what calibration could see, and on the test
sequence only to explain a result, never to choose a setting.

Usage::

    python eval/outline_bias.py DATASET_DIR SEQ MASKS [--every 5] [--json OUT]

(`MASKS` holds maskTTT.tif; every `--every`-th gold frame is used.)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from skimage.segmentation import expand_labels

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ctc.io.folders import sequence_folders  # noqa: E402
from ctc.io.naming import RES_PREFIX, SEG_PREFIX, find_frames  # noqa: E402
from ctc.io.tiff import read_frame, read_mask  # noqa: E402
from ctc.metrics.matching import match_frame  # noqa: E402
from ctc.segmentation.refine import refine_outlines  # noqa: E402
from ctc.segmentation.targets import erode_labels  # noqa: E402

FRACTIONS = (0.2, 0.25, 0.3, 0.35, 0.4)
CONTRASTS = (3.0, 8.0, 16.0, 32.0)


def variants(labels: np.ndarray, image: np.ndarray, fractions, contrasts) -> dict:
    """Each correction of `labels` by name."""
    out = {"as is": labels, "shrink 2": erode_labels(labels, 2),
           "shrink 1": erode_labels(labels, 1), "grow 1": expand_labels(labels, 1),
           "grow 2": expand_labels(labels, 2)}
    for fraction in fractions:
        for k in contrasts:
            out[f"refine {fraction}, contrast >= {k:g}"] = refine_outlines(
                labels, image, fraction, min_contrast=k)
    return out


def diagnose(dataset: Path, seq: str, masks: Path, every: int = 5,
             fractions=FRACTIONS, contrasts=CONTRASTS) -> dict:
    """SEG of every correction and the median size ratio, over every `every`-th gold frame."""
    folders = sequence_folders(dataset, seq)
    if folders.gt_seg is None or folders.raw is None:
        raise SystemExit(f"{dataset}: sequence {seq} needs its raw frames and {seq}_GT/SEG")
    gold = find_frames(folders.gt_seg, SEG_PREFIX).paths
    raw = find_frames(folders.raw, "t").paths
    result = find_frames(masks, RES_PREFIX).paths
    frames = [t for t in sorted(gold) if t in result and t in raw][::every]
    if not frames:
        raise SystemExit(f"{masks}: no mask for any gold frame of {dataset.name} {seq}")
    sums: dict[str, float] = {}
    count, ratios = 0, []
    for t in frames:
        seg, labels = read_mask(gold[t]), read_mask(result[t])
        if seg.ndim != 2:
            raise SystemExit(f"{gold[t]}: 2D frames only")
        image = read_frame(raw[t]).astype(np.float32)
        m = match_frame(seg, labels)
        area = dict(zip(m.res_labels.tolist(), m.res_area.tolist(), strict=True))
        gold_area = dict(zip(m.ref_labels.tolist(), m.ref_area.tolist(), strict=True))
        ratios += [area[s] / gold_area[r] for r, s in zip(m.match_ref.tolist(),
                                                          m.match_res.tolist(), strict=True)]
        count += len(m.ref_labels)
        for name, corrected in variants(labels, image, fractions, contrasts).items():
            sums[name] = sums.get(name, 0.0) + float(match_frame(seg, corrected).jaccard().sum())
    return {"dataset": dataset.name, "sequence": seq, "masks": str(masks), "frames": frames,
            "objects": count, "median_size_ratio": float(np.median(ratios)) if ratios else None,
            "SEG": {name: total / count for name, total in sums.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("seq")
    parser.add_argument("masks", type=Path)
    parser.add_argument("--every", type=int, default=5, help="use every N-th gold frame (5)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    out = diagnose(args.dataset, args.seq, args.masks, args.every)
    print(f"{out['dataset']} {out['sequence']}: {len(out['frames'])} gold frames, "
          f"{out['objects']} objects, median size / gold size "
          f"{out['median_size_ratio']:.2f}")
    for name, value in out["SEG"].items():
        print(f"  {name:32s} SEG {value:.4f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
