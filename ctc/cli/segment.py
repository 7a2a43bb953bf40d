"""``ctc segment`` and ``ctc run``: a trained model applied to a raw sequence."""

from __future__ import annotations

import argparse

from ctc.cli.commands import summary

SEGMENT_DESCRIPTION = """\
Apply a trained model (a folder with config.json and weights.pt) to every
frame of a raw sequence (tTTT.tif) and write one instance mask per frame
(maskTTT.tif, labels arbitrary per frame). Frames are predicted in
overlapping tiles blended seamlessly, with the model's test-time augmentation
(flips / rotations); 3D frames slice by slice. Input 'ctc track' to link them.
"""

RUN_DESCRIPTION = """\
The full pipeline of a CTC executable: read DATASET_DIR/SEQ, segment every
frame with the model, track the instance masks (the model's tracking
parameters), and write DATASET_DIR/SEQ_RES atomically; the result is then
checked with 'ctc validate'. Frames stream: memory stays bounded on long
sequences.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("segment", help=summary("segment"), description=SEGMENT_DESCRIPTION,
                       epilog="example:\n  ctc segment models/Fluo-N2DH-SIM+ "
                              "Fluo-N2DH-SIM+/02 /tmp/02_SEG\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help="model folder")
    p.add_argument("raw_dir", metavar="RAW_DIR", help="raw sequence folder (tTTT.tif)")
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder for the instance masks")
    _common(p)
    p.set_defaults(run=run_segment)

    p = sub.add_parser("run", help=summary("run"), description=RUN_DESCRIPTION,
                       epilog="examples:\n  ctc run DIC-C2DH-HeLa 01 --model models/DIC-C2DH-HeLa"
                              "\n  ctc run Fluo-N2DH-SIM+ 02 --model m/ --out /tmp/02_RES\n"
                              "\nexit status: 0 valid result, 1 invalid, 2 bad input.\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", metavar="DATASET_DIR", help="dataset folder holding SEQ")
    p.add_argument("sequence", metavar="SEQ", help="sequence name, e.g. 01")
    p.add_argument("--model", required=True, metavar="MODEL", help="model folder")
    p.add_argument("--out", metavar="RES_DIR", help="result folder (default DATASET_DIR/SEQ_RES)")
    _common(p)
    p.set_defaults(run=run_run)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto",
                   help="'auto' (CUDA when present, else CPU), 'cpu' or 'cuda:N'")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output folder once the new one is complete")


def run_segment(args: argparse.Namespace) -> int:
    from ctc.pipeline import segment_folder  # torch loads only when a model runs

    n = segment_folder(args.model, args.raw_dir, args.out_dir, device=args.device,
                       overwrite=args.overwrite, progress=True)
    print(f"{args.out_dir}: {n} instance masks")
    return 0


def run_run(args: argparse.Namespace) -> int:
    from ctc.pipeline import run_sequence

    report = run_sequence(args.dataset, args.sequence, args.model, out_dir=args.out,
                          device=args.device, overwrite=args.overwrite,
                          progress=True)
    print(report.summary())
    return report.exit_code
