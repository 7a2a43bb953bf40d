"""``ctc demo``: the whole challenge workflow on simulated data, offline."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

from ctc.cli.commands import summary
from ctc.demo import THRESHOLDS
from ctc.io.atomic import user_mode

DESCRIPTION = f"""\
Show the whole workflow of a challenge participant on simulated data, without
any download (a few minutes on 2 CPU cores, faster with a GPU):

  1. 'ctc synth' simulates Fluo-N2DH-SYNTH: two sequences of fluorescent
     nuclei that move, touch, divide, enter and leave, with exact gold truth;
  2. a small U-Net trains on sequence 01 (seeded, fixed number of steps);
  3. the dataset's CTC executables are generated into SW/ with the model in
     SW/models, and 'cd SW && ./Fluo-N2DH-SYNTH-02.sh' segments and tracks
     sequence 02 into ../Fluo-N2DH-SYNTH/02_RES, exactly as the organisers
     run submissions;
  4. the result is validated and scored against 02_GT (SEG, DET, TRA, LNK,
     divisions);
  5. a report (raw frame, segmentation overlay, lineage tree) is saved as
     Fluo-N2DH-SYNTH/02_RES_report.png next to the result.

With --3d the dataset is Fluo-N3DH-SYNTH, 3D volumes whose slices lie 1.6
pixels apart (the voxel geometry of Fluo-N3DH-SIM+); the U-Net learns from
the slices of sequence 01, the executable stacks its slice predictions into
3D nuclei and tracks them in 3D, and the report adds an xz and a yz section.

Exit status 0 when the result is valid and reaches
{", ".join(f"{k} >= {v}" for k, v in THRESHOLDS.items())}, 1 otherwise.
"""

EPILOG = """\
examples:
  ctc demo                          everything in a new temporary folder
  ctc demo --out /tmp/ctc-demo      keep the files where you want them
  ctc demo --quick --json           shorter sequences and training; scores as JSON
  ctc demo --3d                     the same with 3D volumes (Fluo-N3DH-SYNTH)
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help=summary("demo"), description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", metavar="DIR",
                   help="empty or new folder for the demo's files (default: a new temporary "
                        "folder)")
    p.add_argument("--quick", action="store_true",
                   help="shorter sequences and training (about a third of the time)")
    p.add_argument("--3d", dest="three_d", action="store_true",
                   help="the same on 3D volumes (Fluo-N3DH-SYNTH): the U-Net learns from "
                        "slices, the executable builds 3D nuclei from the stacked slice "
                        "predictions; the report adds orthogonal sections")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--json", action="store_true",
                   help="print the scores, timings and paths as JSON on stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ctc.demo import run_demo

    out = args.out
    if out is None:
        out = tempfile.mkdtemp(prefix="ctc-demo-")
        os.chmod(out, user_mode(directory=True))  # mkdtemp makes it private (0700)
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    result = run_demo(out, quick=args.quick, seed=args.seed, device=args.device,
                      dims=3 if args.three_d else 2, progress=True, log=log)
    passed = result.passed()
    if args.json:
        print(json.dumps({
            "dataset": str(result.dataset), "result": str(result.result),
            "report": str(result.report), "valid": result.validation.valid,
            **{k: getattr(result.scores, k) for k in ("SEG", "DET", "TRA", "LNK")},
            "divisions": {"found": result.scores.DIV_TP, "false": result.scores.DIV_FP,
                          "missed": result.scores.DIV_FN},
            "seconds": result.seconds, "passed": passed}, indent=2))
    else:
        total = sum(result.seconds.values())
        verdict = "reached" if passed else "did NOT reach"
        print(f"{verdict} the demo thresholds "
              f"({', '.join(f'{k} >= {v}' for k, v in THRESHOLDS.items())}) in {total:.0f} s")
    return 0 if passed else 1
