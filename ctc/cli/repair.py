"""``ctc repair``: make a nearly-valid result valid without inventing objects."""

from __future__ import annotations

import argparse
import json

from ctc.cli.commands import summary

DESCRIPTION = """\
Repair a result folder into a new folder, trusting the masks and rewriting
res_track.txt to match them. Changes made, each reported:

  - a track with gaps is split into one track per run of frames, each run the
    child of the previous (the CTC way to write a disappearing object);
  - declared labels absent from every mask are dropped;
  - labels in the masks but not declared are added as tracks;
  - declared frame ranges are corrected to where the label is present;
  - labels above 65535 get free labels; parent links that point to a missing
    track or to one that does not end before the child begins are removed.

Nothing is invented: missing or unreadable frames and frames of different
shapes are refused with an explanation. The output is written atomically and
validated.
"""

EPILOG = """\
exit status: 0 repaired result is valid, 1 still invalid (e.g. empty frames
are warnings only; other remaining problems are listed), 2 cannot repair.

example:
  ctc repair DIC-C2DH-HeLa/01_RES /tmp/01_RES_fixed && ctc validate /tmp/01_RES_fixed
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("repair", help=summary("repair"), description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("res_dir", metavar="RES_DIR", help="result folder to repair (not modified)")
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder to write the repaired result to")
    p.add_argument("--frames", type=int, metavar="N", help="expected number of frames")
    p.add_argument("--overwrite", action="store_true", help="replace OUT_DIR if it exists")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ctc.repair import repair_result  # numba loads only when the command runs

    report = repair_result(args.res_dir, args.out_dir, n_frames=args.frames,
                           overwrite=args.overwrite,
                           progress=not args.json)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for change in report.changes:
            print(f"changed: {change}")
        if not report.changes:
            print("nothing to change: the lineage already matches the masks")
        for problem in report.validation.problems:
            print(problem)
        print(report.validation.summary())
    return report.validation.exit_code
