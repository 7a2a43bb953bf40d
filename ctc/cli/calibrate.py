"""``ctc calibrate``: choose a trained model's post-processing on held-out training frames."""

from __future__ import annotations

import argparse
import json

from ctc.cli.commands import summary

DESCRIPTION = """\
Segment the gold frames that training held out (--val-frames per sequence,
the same frames 'ctc train' picks) with every post-processing setting of a
small grid, and write the best (mean of SEG and DET) into the model's
config.json: connected components of the cell class, or a seeded watershed
whose seeds are the pixels with cell probability above 0.5 ... 0.95; models
trained with --markers also try seeds from their marker channel (above 0.3,
0.5 or 0.7, with or without a shape split of the regions no marker seeds).
Every setting is tried first with the clump split, then without: objects
less convex (area over convex-hull area) than 99% of the gold objects of the
training data are cut at the necks of their distance transform, for touching
nuclei returned as one; a tie keeps the split. The probabilities are
predicted once. Then, with the chosen setting, every gold frame of the
training sequences is segmented and each object's outline redrawn at a
fraction (0.15 ... 0.4) of its own brightness above its local background
(for fluorescent nuclei whose brightness varies between sequences); the best
fraction is kept if it beats no redrawing by more than 0.005 SEG.
'ctc train' already does this at the end of training; use this for models
trained before, or after editing a config.

With --tracking, the smallest object and the shortest track worth keeping
are chosen too: every training sequence is segmented whole (slow: each of its
frames is predicted). A model trained on one dataset first tries size floors
of 0.375, 0.5, 0.75 and 1 times the 1% quantile of the gold object sizes
(above its own floor): objects smaller than each are removed, every track is
kept, and the largest floor whose SEG, DET and TRA on the gold truth stay
within 0.002 of its own floor's becomes its min_size (false objects somewhat
smaller than the cells go). Then the masks are tracked with and without
cutting apart objects into which two cells of the previous frame moved (at
the neck between them): the cut is kept where it raises TRA by more than
0.002 and costs no SEG, DET or TRA. Then the masks are tracked again with a
minimum track length of 0, 2, 3, 4, 5, 6 or 8 frames (tracks shorter than that, in
no lineage, are removed: one-frame debris); the longest minimum whose SEG,
DET and TRA stay within 0.002 of keeping every track is written to the
model's tracking parameters. A model trained on several datasets is
calibrated per dataset, each with its own held-out frames, and keeps its
size floors.
Give the data the model was trained on, never the data it will be tested on.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help=summary("calibrate"), description=DESCRIPTION,
                       epilog="example:\n  ctc calibrate runs/hela02 DIC-C2DH-HeLa "
                              "--sequences 02\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help="model folder (config.json is rewritten)")
    p.add_argument("datasets", nargs="+", metavar="DATASET_DIR",
                   help="the dataset folder(s) the model was trained on")
    p.add_argument("--sequences", metavar="LIST",
                   help="comma-separated training sequences (default: all in each dataset)")
    p.add_argument("--val-frames", type=int, default=3,
                   help="gold frames held out per sequence, as in training (3)")
    p.add_argument("--tracking", action="store_true",
                   help="also choose the smallest object, whether merged objects are cut "
                        "apart, and the minimum track length kept on the whole training "
                        "sequences (slow)")
    p.add_argument("--device", default="auto", help="'auto', 'cpu' or 'cuda:N'")
    p.add_argument("--json", action="store_true", help="print the scored grid as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ctc.cli.train import training_data  # torch loads only when the command runs
    from ctc.segmentation.calibrate import calibrate_model, calibrate_tracking

    data = training_data(args.datasets, args.sequences)
    log = (lambda *_: None) if args.json else print
    config = calibrate_model(args.model, data, val_frames=args.val_frames, device=args.device,
                             log=log, progress=not args.json)
    if args.tracking:
        config = calibrate_tracking(args.model, data, device=args.device, log=log,
                                    progress=not args.json)
    if args.json:
        print(json.dumps({"postprocess": config.postprocess,
                          "dataset_postprocess": config.dataset_postprocess,
                          "grid": config.scores.get("calibration", []),
                          "refine": config.scores.get("refine_calibration", []),
                          "tracking": config.tracking,
                          "size_floors": config.scores.get("size_floor_calibration", []),
                          "track_lengths": config.scores.get("track_length_calibration", [])},
                         indent=2))
    return 0
