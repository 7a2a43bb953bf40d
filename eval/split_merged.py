"""Merged objects cut apart by the tracker, scored: a model's masks tracked with and without.

Segments a sequence with a model once (as ``ctc segment``; the masks are kept in
``--masks`` and reused), then tracks them with the model's tracking
parameters, once as they are and once with ``split_merged`` (objects into which
two or more objects of the previous frame moved, cut apart at their neck:
``ctc.tracking.merges``), each with every track kept and with the model's
shortest track. Prints SEG, DET, TRA, false-positive vertices and track counts
against the sequence's gold truth; ``--json`` prints the rows.

Usage::

    python eval/split_merged.py MODEL DATASET_DIR SEQ [--masks DIR] [--json]

Score the training sequence to see what ``ctc calibrate --tracking`` would
choose, the other sequence for the cross-video estimate.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ctc.datasets import relative_spacing  # noqa: E402
from ctc.pipeline import segment_folder  # noqa: E402
from ctc.segmentation.model import load_config  # noqa: E402
from ctc.tracking import TrackingConfig  # noqa: E402
from ctc.tracking.calibrate import score_track_lengths  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("seq")
    parser.add_argument("--masks", type=Path,
                        help="folder of the model's masks of the sequence (written when "
                             "absent; default /tmp/split_merged/MODEL-on-SEQ)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    raw, gt = args.dataset / args.seq, args.dataset / f"{args.seq}_GT"
    masks = args.masks or Path("/tmp/split_merged") / f"{args.model.name}-on-{args.seq}"
    if not masks.is_dir():
        segment_folder(args.model, raw, masks, progress=True)
    tracking = replace(TrackingConfig.from_dict(load_config(args.model).tracking),
                       spacing=relative_spacing(raw))
    lengths = tuple(sorted({0, tracking.min_track_length}))
    rows = []
    for split in (False, True):
        for r in score_track_lengths([(masks, gt)], replace(tracking, split_merged=split),
                                     lengths):
            rows.append({"split_merged": split, "min_track_length": r["min_track_length"],
                         **r["sequences"][0]})
    if args.json:
        print(json.dumps(rows))
        return
    print(f"{args.model.name} on {args.dataset.name} {args.seq}")
    print(f"{'split_merged':>12s} {'tracks >=':>9s} {'SEG':>6s} {'DET':>6s} {'TRA':>6s} "
          f"{'FP':>5s} {'tracks':>6s}")
    for r in rows:
        seg = f"{r['SEG']:6.4f}" if r["SEG"] is not None else "     -"
        print(f"{str(r['split_merged']):>12s} {r['min_track_length']:9d} {seg} "
              f"{r['DET']:6.4f} {r['TRA']:6.4f} {r['FP']:5d} {r['tracks']:6d}")


if __name__ == "__main__":
    main()
