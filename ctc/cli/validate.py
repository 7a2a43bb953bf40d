"""``ctc validate``: check a result or tracking annotation against the CTC rules."""

from __future__ import annotations

import argparse
import json

from ctc.cli.commands import summary

DESCRIPTION = """\
Check every CTC rule on a result folder (maskTTT.tif + res_track.txt) or a
tracking annotation folder (man_trackTTT.tif + man_track.txt) and report
every problem found, each with its file, frame and label:

  - frames numbered 0..N-1 with one zero-padding width, all of one shape;
  - masks are unsigned integer label images, labels <= 65535 (uint16);
  - res_track.txt has 4 integer columns 'L B E P', unique labels, B <= E;
  - every declared label is present in every frame from B to E, every
    label in a mask is declared and lies inside its [B, E];
  - a parent exists and ends before its child begins.

Empty frames are reported as warnings (legal, but the official DET/TRA tools
refuse them). The expected frame count N comes from --frames, else from the
raw sequence beside the folder (DATASET/01 for DATASET/01_RES), else from
the last frame found.
"""

EPILOG = """\
exit status: 0 valid, 1 invalid (problems listed), 2 unusable input
(missing folder, no frames, mixed frame-number widths).

examples:
  ctc validate DIC-C2DH-HeLa/01_RES
  ctc validate --frames 84 --json DIC-C2DH-HeLa/01_RES > report.json
  ctc validate --seg-only ctc-evaluation-testset/01_RES
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help=summary("validate"), description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", metavar="FOLDER", help="NN_RES or NN_GT/TRA folder to check")
    p.add_argument("--frames", type=int, metavar="N",
                   help="expected number of frames (default: from the raw sequence beside it)")
    p.add_argument("--seg-only", action="store_true",
                   help="segmentation-only result: do not require res_track.txt")
    p.add_argument("--json", action="store_true",
                   help="print the report as JSON on stdout instead of text")
    p.add_argument("--quiet", "-q", action="store_true", help="print the verdict line only")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ctc.validation import validate_result  # numba loads only when the command runs

    report = validate_result(args.folder, n_frames=args.frames, seg_only=args.seg_only,
                             progress=not args.json)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        if not args.quiet:
            for problem in report.problems:
                print(problem)
        print(report.summary())
    return report.exit_code
