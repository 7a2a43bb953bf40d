"""``ctc evaluate``: score a result with the official CTC measures."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from ctc.cli.commands import summary
from ctc.errors import CTCInputError

DESCRIPTION = """\
Score a result against the ground truth exactly as the official CTC
evaluation software does (SEGMeasure, DETMeasure, TRAMeasure), and print the
measures with the AOGM error counts:

  SEG    mean Jaccard index of the reference objects (0 when unmatched)
  DET    1 - AOGM-D/AOGM-D0,  AOGM-D = 5 NS + 10 FN + FP
  TRA    1 - AOGM/AOGM0,      AOGM = AOGM-D + ED + 1.5 EA + EC
  LNK    1 - AOGM-A/AOGM-A0,  AOGM-A = ED + 1.5 EA + EC
  OP_CSB (SEG + DET) / 2;  OP_CTB (SEG + TRA) / 2

Two ways to name the folders, like the official tools:
  ctc evaluate DATASET_DIR SEQ     reads DATASET_DIR/SEQ_GT and DATASET_DIR/SEQ_RES
  ctc evaluate --gt GT --res RES   any NN_GT and NN_RES folders
"""

EPILOG = """\
examples:
  ctc evaluate Fluo-N2DH-SIM+ 01
  ctc evaluate Fluo-N2DH-SIM+ 01 --metrics SEG,DET --json
  ctc evaluate --gt 01_GT --res 01_RES --errors tra_errors.txt
  ctc evaluate DIC-C2DH-HeLa 01 --truth ST --metrics SEG   # SEG against silver truth
  ctc evaluate Fluo-N3DH-CE 01 --no-fp-penalty              # DET without FP term

exit status: 0 scored, 1 invalid result (breaks the CTC rules; not scored unless
--allow-invalid), 2 unusable input (missing folders or frames, bad files).
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help=summary("evaluate"), description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", nargs="?", metavar="DATASET_DIR",
                   help="dataset folder holding SEQ_GT and SEQ_RES")
    p.add_argument("sequence", nargs="?", metavar="SEQ", help="sequence name, e.g. 01")
    p.add_argument("--gt", metavar="GT_DIR", help="ground-truth folder (NN_GT)")
    p.add_argument("--res", metavar="RES_DIR", help="result folder (NN_RES)")
    p.add_argument("--metrics", default=None, metavar="LIST",
                   help="comma-separated among SEG,DET,TRA,LNK,OP_CSB,OP_CTB "
                        "(default: all the ground truth allows)")
    p.add_argument("--truth", choices=("GT", "ST"), default="GT",
                   help="reference segmentation for SEG: gold (NN_GT/SEG, default) or "
                        "silver truth (NN_ST/SEG)")
    p.add_argument("--no-fp-penalty", action="store_true",
                   help="DET without the false-positive term (official option used for "
                        "some 3D embryo datasets)")
    p.add_argument("--errors", metavar="FILE",
                   help="write every AOGM error (frame, labels) to FILE, like TRA_log.txt")
    p.add_argument("--allow-invalid", action="store_true",
                   help="score a result that breaks the CTC rules (the official tools refuse "
                        "it, and so does this command by default, with exit status 1)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON object: the measures (SEG ... OP_CTB) and the AOGM "
                        "error counts (NS FN FP ED EA EC)")
    p.set_defaults(run=run)


def resolve_folders(args: argparse.Namespace) -> tuple[Path, Path, Path | None]:
    """(GT folder, RES folder, SEG reference folder or None for the default)."""
    if args.gt or args.res:
        if not (args.gt and args.res) or args.dataset:
            raise CTCInputError("give either DATASET_DIR SEQ or both --gt and --res")
        gt, res = Path(args.gt), Path(args.res)
        name = gt.name.split("_")[0]
    else:
        if not (args.dataset and args.sequence):
            raise CTCInputError("give DATASET_DIR and SEQ (e.g. 'ctc evaluate "
                                "Fluo-N2DH-SIM+ 01'), or --gt and --res")
        dataset = Path(args.dataset)
        name = args.sequence
        gt, res = dataset / f"{name}_GT", dataset / f"{name}_RES"
    seg = gt.parent / f"{name}_ST" / "SEG" if args.truth == "ST" else None
    return gt, res, seg


def format_table(scores, label: str) -> str:
    rows = [f"{label}"]
    for key in ("SEG", "DET", "TRA", "LNK", "OP_CSB", "OP_CTB"):
        value = getattr(scores, key)
        if value is not None:
            rows.append(f"  {key:7s}{value:.6f}" if not math.isnan(value) else f"  {key:7s}nan")
    counts = [f"{k}={getattr(scores, k)}" for k in ("NS", "FN", "FP", "ED", "EA", "EC")
              if getattr(scores, k) is not None]
    if counts:
        rows.append("  AOGM errors: " + " ".join(counts))
    sizes = []
    if scores.n_seg_objects is not None:
        sizes.append(f"{scores.n_seg_objects} reference objects (SEG)")
    if scores.n_vertices is not None:
        sizes.append(f"{scores.n_vertices} vertices, {scores.n_edges} edges (TRA graph)")
    if sizes:
        rows.append("  " + "; ".join(sizes))
    rows.append(f"  {scores.seconds:.2f} s")
    return "\n".join(rows)


def run(args: argparse.Namespace) -> int:
    from ctc.metrics import evaluate  # numba loads only when the command runs

    gt, res, seg = resolve_folders(args)
    if args.errors:  # checked before the work, not after it
        errors = Path(args.errors)
        if errors.is_dir():
            raise CTCInputError("--errors needs a file name, this is a folder", errors)
        if not errors.parent.is_dir():
            raise CTCInputError("--errors: the folder of this file does not exist", errors)
    scores = evaluate(gt, res, args.metrics, seg_dir=seg, penalize_fp=not args.no_fp_penalty,
                      collect_errors=bool(args.errors), allow_invalid=args.allow_invalid,
                      progress=not args.json)
    if args.errors:
        if scores.errors is None:
            raise CTCInputError("--errors needs DET, TRA or LNK (tracking ground truth)")
        measure, value = ("TRA", scores.TRA) if scores.TRA is not None else ("DET", scores.DET)
        Path(args.errors).write_text(scores.errors.to_text(measure, value))
    if args.json:
        print(json.dumps(scores.to_dict()))
    else:
        print(format_table(scores, f"{res} vs {gt}"))
    return 0
