"""The ``ctc`` command line: one program, one subcommand per task."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from ctc import __version__
from ctc.cli import (
    batch_eval,
    calibrate,
    demo,
    evaluate,
    repair,
    segment,
    submission,
    synth,
    track,
    train,
    validate,
)
from ctc.errors import CTCError, CTCWarning

SUBCOMMANDS = (demo, synth, validate, repair, evaluate, batch_eval, track, train, calibrate,
               segment, submission)

DESCRIPTION = """\
ctc-toolkit: take part in the Cell Tracking Challenge end to end.

Results follow the challenge's folder layout: a dataset folder holds raw
sequences (01, 02: tTTT.tif), annotations (01_GT/SEG, 01_GT/TRA, 01_ST/SEG)
and results (01_RES: maskTTT.tif + res_track.txt).
"""

EPILOG = """\
examples:
  ctc demo                                     the whole flow on synthetic data, offline
  ctc synth /tmp/Fluo-N2DH-SYNTH               a SIM+-style dataset with exact gold truth
  ctc validate Fluo-N2DH-SIM+/01_RES          check a result before submitting it
  ctc validate --json DIC-C2DH-HeLa/01_GT/TRA  machine-readable report
  ctc repair 01_RES 01_RES_fixed               fix lineage problems, then re-check
  ctc evaluate Fluo-N2DH-SIM+ 01               SEG, DET, TRA, LNK of 01_RES vs 01_GT
  ctc batch-eval /data/ctc --out scores.csv    score every DATASET/NN_RES in parallel
  ctc track masks/ 01_RES                      instance masks -> tracks + lineage
  ctc train Fluo-N2DH-SIM+ --out runs/sim      train a segmentation model
  ctc calibrate runs/sim Fluo-N2DH-SIM+        re-choose its post-processing thresholds
  ctc run Fluo-N2DH-SIM+ 02 --model runs/sim   segment + track -> 02_RES, validated
  ctc package --datasets DIC-C2DH-HeLa --root /data/ctc --out submission.zip --check

Run 'ctc COMMAND --help' for the options of each command.
exit status: 0 success/valid, 1 invalid result, 2 unusable input or usage error.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ctc", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ctc`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always", CTCWarning)
        warnings.showwarning = _show_warning
        try:
            return int(args.run(args) or 0)
        except CTCError as exc:
            print(f"ctc {args.command}: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"ctc {args.command}: interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
