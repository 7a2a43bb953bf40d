"""``ctc executables`` and ``ctc package``: what a participating lab submits."""

from __future__ import annotations

import argparse

from ctc.cli.commands import summary
from ctc.datasets import DEFAULT_REGISTRY
from ctc.submission import check_package, generate_executables, package

REPO = DEFAULT_REGISTRY.parent


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "executables", help=summary("executables"),
        description="""\
Write, for every dataset of datasets.txt:
  DATASET-01.sh, DATASET-02.sh       the CTC executables (default model)
  DATASET-0N-ST.sh, -GT+ST.sh        variants where silver truth exists
  train-DATASET-GT.sh (-ST, -GT+ST)  training scripts per configuration
and train-allGT.sh, train-allST.sh, train-allGT+allST.sh (universal models).

Each script documents its prerequisites at its top. Run from a submission's
SW folder, DATASET-01.sh reads ../DATASET/01 and writes ../DATASET/01_RES
(atomically), and exits with status 2 and a message when its model or its
input is missing.
""",
        epilog="example:\n  ctc executables --out executables/\n",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(REPO / "executables"), metavar="DIR",
                   help="folder for the scripts (default: the repository's executables/)")
    p.set_defaults(run=run_executables)

    p = sub.add_parser(
        "package", help=summary("package"),
        description="""\
Build a submission archive:
  SW/                 the toolkit's sources, the executables and models of the
                      chosen datasets, requirements.txt and README.txt
  DATASET/NN_RES      every result found under --root, each validated first:
                      an invalid result stops the packaging, naming the problem
--check then unpacks the archive into a temporary folder and runs one
executable end to end on the raw data under --data.
""",
        epilog="examples:\n  ctc package --datasets DIC-C2DH-HeLa --root /data/ctc "
               "--out submission.zip\n  ctc package --datasets DIC-C2DH-HeLa --root /data/ctc "
               "--out s.zip --check --data /data/ctc\n",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", required=True, metavar="NAMES",
                   help="comma-separated dataset names")
    p.add_argument("--out", required=True, metavar="ZIP", help="archive to write")
    p.add_argument("--root", required=True, metavar="DIR",
                   help="folder holding DATASET/NN_RES results to include")
    p.add_argument("--executables", default=str(REPO / "executables"), metavar="DIR")
    p.add_argument("--models", default=str(REPO / "models"), metavar="DIR")
    p.add_argument("--check", action="store_true",
                   help="unpack and run the first dataset's 01 executable end to end")
    p.add_argument("--data", metavar="DIR", help="raw data root for --check (default --root)")
    p.set_defaults(run=run_package)


def run_executables(args: argparse.Namespace) -> int:
    written = generate_executables(args.out)
    print(f"{len(written)} scripts written to {args.out}")
    return 0


def run_package(args: argparse.Namespace) -> int:
    names = [n for n in args.datasets.split(",") if n]
    out = package(names, args.out, results_root=args.root, executables_dir=args.executables,
                  models_dir=args.models)
    print(f"wrote {out}")
    if args.check:
        res = check_package(out, args.data or args.root, names[0])
        print(f"check passed: {names[0]}-01.sh produced a valid result ({res})")
    return 0
