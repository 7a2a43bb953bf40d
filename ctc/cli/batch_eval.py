"""``ctc batch-eval``: score every result under a root folder, in parallel."""

from __future__ import annotations

import argparse

from ctc.cli.commands import summary

DESCRIPTION = """\
Find every DATASET/NN_RES under ROOT that has a matching DATASET/NN_GT, score
each with the measures of 'ctc evaluate' in parallel, write one CSV row per
result set (dataset, sequence, SEG, DET, TRA, LNK, OP_CSB, OP_CTB, the AOGM
counts NS FN FP ED EA EC, graph sizes, seconds, then the biological and
tracking measures CT, TF, BC(i), CCA, BIO(i), OP_CLB(i), CHOTA, HOTA, MOTA,
IDF1, MT, ML, FAF, and error) and print a summary.

By default the work runs on a local Dask cluster with one process per core;
on machines with 2 cores or fewer (or for a single result set) it runs in
this process, where starting a cluster costs more than it saves.
With --scheduler it runs on an existing Dask cluster: start one with
'dask scheduler' and 'dask worker ADDRESS' on machines that see ROOT at the
same path and have ctc-toolkit installed. A result set that fails is
reported in the 'error' column; the others are still scored.
"""

EPILOG = """\
examples:
  ctc batch-eval /data/ctc --out scores.csv
  ctc batch-eval /data/ctc --scheduler tcp://10.0.0.5:8786 --out scores.csv
  ctc batch-eval /data/ctc --workers 1 --metrics SEG,DET    # no Dask, one process

exit status: 0 all scored, 1 some result sets failed or were invalid (see the
'error' column), 2 nothing to score.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch-eval", help=summary("batch-eval"), description=DESCRIPTION,
                       epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("root", metavar="ROOT", help="folder holding dataset folders")
    p.add_argument("--out", default="ctc_scores.csv", metavar="CSV",
                   help="CSV file to write (default: ctc_scores.csv)")
    p.add_argument("--metrics", default="all", metavar="LIST",
                   help="comma-separated measures, as for `ctc evaluate` (default: all "
                        "the ground truth allows, the biological and tracking measures "
                        "included)")
    penalty = p.add_mutually_exclusive_group()
    penalty.add_argument("--no-fp-penalty", dest="fp_penalty", action="store_const",
                         const=False, default=None,
                         help="DET without the false-positive term, for every dataset "
                              "(default: as datasets.txt says: without it for Fluo-N3DL-DRO, "
                              "-TRIC and -TRIF, whose GT annotates only some nuclei)")
    penalty.add_argument("--fp-penalty", dest="fp_penalty", action="store_const", const=True,
                         help="DET with the false-positive term for every dataset, DRO, TRIC "
                              "and TRIF included")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="address of an existing Dask scheduler (default: local cluster)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes of a local Dask cluster; 1 = no Dask, in this process "
                        "(default: 1 on machines with 2 cores or fewer, else one per core)")
    p.add_argument("--allow-invalid", action="store_true",
                   help="score results that break the CTC rules (by default they are "
                        "reported as failed, as the official tools refuse them)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ctc.batch import batch_evaluate, summary  # pandas and dask load only when used

    table = batch_evaluate(args.root, metrics=args.metrics,
                           penalize_fp=args.fp_penalty, scheduler=args.scheduler,
                           workers=args.workers, allow_invalid=args.allow_invalid,
                           progress=True)
    table.to_csv(args.out, index=False)
    print(summary(table))
    print(f"wrote {args.out} ({len(table)} result sets)")
    return 1 if (table["error"] != "").any() else 0
