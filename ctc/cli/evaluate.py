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

With --metrics all (or any of their names), also the biological measures of
the linking benchmark and the multi-object-tracking measures, under the names
py-ctcmetrics prints:

  CT, TF, BC(i), tp_div(i)/fp_div(i)/fn_div(i), CCA, BIO(i), OP_CLB(i)  (i = 0..3)
  CHOTA, HOTA (DetA, AssA), MOTA (IDSW), IDF1 (IDP, IDR), MT, ML, FAF

Three ways to name the folders, like the official tools:
  ctc evaluate DATASET_DIR SEQ     reads DATASET_DIR/SEQ_GT and DATASET_DIR/SEQ_RES
  ctc evaluate --gt GT --res RES   any NN_GT and NN_RES folders
  ctc evaluate --recursive ROOT    every ROOT/DATASET/NN_RES with its NN_GT
"""

EPILOG = """\
examples:
  ctc evaluate Fluo-N2DH-SIM+ 01
  ctc evaluate Fluo-N2DH-SIM+ 01 --metrics SEG,DET --json
  ctc evaluate --gt 01_GT --res 01_RES --errors tra_errors.txt
  ctc evaluate DIC-C2DH-HeLa 01 --truth ST --metrics SEG   # SEG against silver truth
  ctc evaluate Fluo-N3DH-CE 01 --no-fp-penalty              # DET without FP term
  ctc evaluate Fluo-N2DH-SIM+ 01 --metrics all --json        # every measure
  ctc evaluate Fluo-N2DH-SIM+ 01 --metrics HOTA,IDF1,BC      # a subset by name
  ctc evaluate --recursive results/ --metrics all --csv scores.csv

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
    p.add_argument("--recursive", metavar="ROOT",
                   help="score every ROOT/DATASET/NN_RES that has a ROOT/DATASET/NN_GT")
    p.add_argument("--metrics", default=None, metavar="LIST",
                   help="comma-separated among SEG,DET,TRA,LNK,OP_CSB,OP_CTB, "
                        "CT,TF,BC,BC(i),CCA,BIO,OP_CLB, CHOTA,HOTA,MOTA,IDF1,MT,ML,FAF, or "
                        "'all' (default: SEG,DET,TRA,LNK as far as the ground truth allows)")
    p.add_argument("--truth", choices=("GT", "ST"), default="GT",
                   help="reference segmentation for SEG: gold (NN_GT/SEG, default) or "
                        "silver truth (NN_ST/SEG)")
    p.add_argument("--no-fp-penalty", action="store_true",
                   help="DET without the false-positive term (official option used for "
                        "some 3D embryo datasets; --recursive applies it where datasets.txt "
                        "says so: Fluo-N3DL-DRO, -TRIC, -TRIF)")
    p.add_argument("--errors", metavar="FILE",
                   help="write every AOGM error (frame, labels) to FILE, like TRA_log.txt")
    p.add_argument("--report", metavar="PNG",
                   help="draw the errors into PNG: FN/FP/NS marks on the frames of "
                        "--report-frames, EA/ED/EC and division errors on both lineage trees")
    p.add_argument("--report-frames", metavar="LIST",
                   help="comma-separated frames for --report (default: the three with the "
                        "most vertex errors)")
    p.add_argument("--raw", metavar="RAW_DIR",
                   help="raw sequence drawn under the --report marks (default: DATASET_DIR/SEQ "
                        "when it exists)")
    p.add_argument("--allow-invalid", action="store_true",
                   help="score a result that breaks the CTC rules (the official tools refuse "
                        "it, and so does this command by default, with exit status 1)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON object: the measures (SEG ... OP_CTB), the AOGM "
                        "error counts (NS FN FP ED EA EC) and the measures asked for "
                        "(a list of objects with --recursive)")
    p.add_argument("--csv", metavar="FILE",
                   help="also write the scores to FILE as CSV, one row per sequence")
    p.set_defaults(run=run)


def resolve_folders(args: argparse.Namespace) -> tuple[Path, Path, Path | None]:
    """(GT folder, RES folder, SEG reference folder or None for the default)."""
    if args.recursive and (args.gt or args.res or args.dataset):
        raise CTCInputError("--recursive takes the root folder alone (no DATASET_DIR SEQ, "
                            "--gt or --res)")
    if args.recursive:
        return Path(args.recursive), Path(args.recursive), None
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
    for key, value in scores.measures.items():
        shown = "n/a" if value is None else (f"{value:.6f}" if isinstance(value, float)
                                              else str(value))
        rows.append(f"  {key:13s}{shown}")
    sizes = []
    if scores.n_seg_objects is not None:
        sizes.append(f"{scores.n_seg_objects} reference objects (SEG)")
    if scores.n_vertices is not None:
        sizes.append(f"{scores.n_vertices} vertices, {scores.n_edges} edges (TRA graph)")
    if sizes:
        rows.append("  " + "; ".join(sizes))
    rows.append(f"  {scores.seconds:.2f} s")
    return "\n".join(rows)


def _check_output(path: str | None, option: str) -> None:
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise CTCInputError(f"{option} needs a file name, this is a folder", target)
    if not target.parent.is_dir():
        raise CTCInputError(f"{option}: the folder of this file does not exist", target)


def write_csv(path: str | Path, rows: list[dict]) -> None:
    """Write score rows (dicts) as CSV, columns in first-seen order."""
    import csv

    columns = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)


def _frame_list(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        frames = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        frames = []
    if not frames or min(frames) < 0:
        raise CTCInputError(f"--report-frames needs frame numbers like 3,10,42, not {text!r}")
    return frames


def _write_report(args, gt: Path, res: Path, scores, frames: list[int] | None) -> None:
    from ctc.io.naming import RES_TRACK_FILE
    from ctc.lineage import read_tracks
    from ctc.metrics.error_report import write_error_report

    if scores.errors is None:
        raise CTCInputError("--report needs DET, TRA or LNK (tracking ground truth)")
    raw = Path(args.raw) if args.raw else (Path(args.dataset) / args.sequence
                                           if args.dataset else None)
    if raw is not None and not raw.is_dir():
        if args.raw:
            raise CTCInputError("--raw: folder not found", raw)
        raw = None
    ref_tracks = read_tracks(gt / "TRA" / "man_track.txt")
    res_tracks = read_tracks(res / RES_TRACK_FILE) if (res / RES_TRACK_FILE).is_file() else None
    write_error_report(scores.errors, gt, res, args.report, ref_tracks, res_tracks,
                       frames=frames, raw_dir=raw, divisions=scores.divisions,
                       title=f"{res} vs {gt}")


def _run_recursive(args: argparse.Namespace) -> int:
    from ctc.batch import find_result_sets, fp_penalties
    from ctc.errors import CTCError
    from ctc.metrics import evaluate

    sets = find_result_sets(args.recursive)
    if not sets:
        raise CTCInputError("no DATASET/NN_RES folder with its NN_GT found under it",
                            args.recursive)
    rows, failed = [], 0
    penalties = fp_penalties(sets, False if args.no_fp_penalty else None)
    for result, penalize in zip(sets, penalties, strict=True):
        row = {"dataset": result.dataset, "sequence": result.sequence}
        try:
            if not penalize and not args.no_fp_penalty and not args.json:
                print(f"{result.dataset} {result.sequence}: DET without the false-positive "
                      "penalty (datasets.txt: extra detections not penalised there)")
            scores = evaluate(result.gt, result.res, args.metrics, penalize_fp=penalize,
                              allow_invalid=args.allow_invalid, progress=not args.json)
            row.update(scores.to_dict())
            row["error"] = ""
            if not args.json:
                print(format_table(scores, f"{result.dataset} {result.sequence}"))
        except CTCError as exc:
            failed += 1
            row["error"] = str(exc)
            if not args.json:
                print(f"{result.dataset} {result.sequence}\n  not scored: {exc}")
        rows.append(row)
    if args.csv:
        write_csv(args.csv, rows)
    if args.json:
        print(json.dumps(rows))
    return 1 if failed else 0


def run(args: argparse.Namespace) -> int:
    from ctc.metrics import evaluate  # numba loads only when the command runs

    _check_output(args.csv, "--csv")  # checked before the work, not after it
    if args.recursive:
        if args.errors:
            raise CTCInputError("--errors writes one sequence's log; not with --recursive")
        resolve_folders(args)
        return _run_recursive(args)
    gt, res, seg = resolve_folders(args)
    _check_output(args.errors, "--errors")
    _check_output(args.report, "--report")
    report_frames = _frame_list(args.report_frames)
    scores = evaluate(gt, res, args.metrics, seg_dir=seg, penalize_fp=not args.no_fp_penalty,
                      collect_errors=bool(args.errors or args.report),
                      divisions=bool(args.report), allow_invalid=args.allow_invalid,
                      progress=not args.json)
    if args.report:
        _write_report(args, gt, res, scores, report_frames)
    if args.errors:
        if scores.errors is None:
            raise CTCInputError("--errors needs DET, TRA or LNK (tracking ground truth)")
        measure, value = ("TRA", scores.TRA) if scores.TRA is not None else ("DET", scores.DET)
        Path(args.errors).write_text(scores.errors.to_text(measure, value))
    if args.csv:
        write_csv(args.csv, [scores.to_dict()])
    if args.json:
        print(json.dumps(scores.to_dict()))
    else:
        print(format_table(scores, f"{res} vs {gt}"))
    return 0
