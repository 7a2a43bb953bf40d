"""The ``ctc`` command line: one program, one subcommand per task."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import warnings
from collections.abc import Sequence

from ctc import __version__
from ctc.cli.commands import COMMANDS
from ctc.errors import CTCError, CTCWarning

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
exit status: 0 success/valid, 1 invalid result, 2 unusable input or usage error,
3 internal error (a bug: CTC_DEBUG=1 shows the traceback), 130 interrupted.
"""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``ctc`` parser; only `command`'s module is imported and given its full options.

    Every other command gets a placeholder with its one-line help, so the
    top-level help lists them all without importing any.
    """
    parser = argparse.ArgumentParser(
        prog="ctc", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    if command in COMMANDS:
        importlib.import_module(COMMANDS[command][0]).add_parser(sub)
    for name, (_, help_line) in COMMANDS.items():
        if name not in sub.choices:
            sub.add_parser(name, help=help_line, add_help=False)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv`: its first argument that is not an option."""
    return next((a for a in argv if not a.startswith("-")), None)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ctc`` console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_of(argv))
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always", CTCWarning)
        warnings.showwarning = _show_warning
        previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            return int(args.run(args) or 0)
        except _Terminated:  # the work folders were removed on the way out
            print(f"ctc {args.command}: terminated", file=sys.stderr)
            return 143
        except CTCError as exc:
            print(f"ctc {args.command}: error: {exc}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            print(f"ctc {args.command}: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:  # `ctc ... | head`: the reader left; not an error of ours
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
        except OSError as exc:  # permissions, full disk, vanished files: name the file
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"ctc {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
            return 2
        except Exception as exc:
            if _interrupted(exc):  # Ctrl-C inside a numba kernel surfaces as SystemError
                print(f"ctc {args.command}: interrupted", file=sys.stderr)
                return 130
            if os.environ.get("CTC_DEBUG"):
                raise
            print(f"ctc {args.command}: internal error: {type(exc).__name__}: {exc}\n"
                  "This is a bug of ctc-toolkit, not of your data: please report it with "
                  "the command line; CTC_DEBUG=1 shows the traceback.", file=sys.stderr)
            return 3
        finally:
            signal.signal(signal.SIGTERM, previous)


class _Terminated(BaseException):
    """SIGTERM, raised as an exception so that atomic writers clean up their work folders."""


def _terminate(signum, frame) -> None:
    raise _Terminated


def _interrupted(exc: BaseException) -> bool:
    """Whether `exc` was caused by a KeyboardInterrupt (raised inside compiled code)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


if __name__ == "__main__":
    sys.exit(main())
