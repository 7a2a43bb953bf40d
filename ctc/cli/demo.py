"""``ctc demo``: the toolkit's flow on a synthetic sequence, offline, in seconds."""

from __future__ import annotations

import argparse
import tempfile

from ctc.demo import run_demo

HELP = "run the offline demo: synthetic nuclei -> segmentations -> tracking -> scores"

DESCRIPTION = """\
Show the toolkit's flow on a synthetic sequence without any download:

  1. a seeded synthetic ground truth of moving, dividing nuclei (GT SEG + TRA);
  2. per-frame instance masks with segmentation errors and labels shuffled
     in every frame, the hand-over format of a segmentation network;
  3. 'ctc track' links them into a CTC result with lineage;
  4. 'ctc validate' checks it; 5. 'ctc evaluate' scores it (SEG, DET, TRA,
     LNK) and counts found, false and missed divisions.

Everything is written under --out for inspection. (Training a network on the
synthetic data joins the demo with the segmentation models.)
"""

EPILOG = """\
examples:
  ctc demo
  ctc demo --out /tmp/ctc-demo --seed 3 --frames 60
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help=HELP, description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", metavar="DIR",
                   help="folder for the demo's files (default: a new temporary folder)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--frames", type=int, default=40, help="sequence length (default 40)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = args.out or tempfile.mkdtemp(prefix="ctc-demo-")
    result = run_demo(out, seed=args.seed, n_frames=args.frames)
    return result.validation.exit_code
