"""``ctc datasets``: the registry of CTC datasets (datasets.txt) as a table."""

from __future__ import annotations

import argparse
import json

from ctc.cli.commands import summary

DESCRIPTION = """\
Print the registry of the Cell Tracking Challenge datasets (datasets.txt at the
top of the repository): dimensionality, modality, pixel or voxel size (µm),
time step (min), frames of the two training sequences, digits of the frame
numbers, typical object diameter (px), silver truth, the model the
dataset's executables use ('untrained': none yet), whether that model was
trained on the dataset (model_saw: 'no' means the dataset is new to it), and
whether DET counts false positives there (det_fp_penalty; 'no' for the partially annotated
embryos DRO, TRIC and TRIF, as the challenge scores them). Where the two training
sequences differ, both values are shown as 01/02.
"""

EPILOG = """\
examples:
  ctc datasets                       the whole table
  ctc datasets --json                machine-readable, one object per dataset
  ctc datasets --registry my.txt     another registry file
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("datasets", help=summary("datasets"), description=DESCRIPTION,
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--registry", metavar="FILE", help="registry file (default datasets.txt)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(run=run)


def _both(values) -> str:
    if values is None:
        return "-"
    text = ["x".join(f"{v:g}" for v in v) if isinstance(v, tuple) else f"{v:g}"
            for v in values]
    return text[0] if text[0] == text[1] else "/".join(text)


def run(args: argparse.Namespace) -> int:
    from ctc.datasets import read_registry

    registry = read_registry(args.registry)
    rows = [{"name": i.name, "dims": f"{i.dims}D", "modality": i.modality,
             "objects": i.objects, "pixel_size_um": _both(i.pixel_size_um),
             "time_step_min": _both(i.time_step_min),
             "frames": "/".join("-" if f is None else str(f) for f in i.frames),
             "digits": i.digits,
             "object_diameter_px": "-" if i.object_diameter_px is None
             else i.object_diameter_px,
             "silver_truth": {True: "yes", False: "no", None: "-"}[i.silver_truth],
             "model": i.model or "untrained",
             "model_saw": {True: "yes", False: "no", None: "-"}[i.model_saw],
             "det_fp_penalty": "yes" if i.det_fp_penalty else "no"}
            for i in registry.values()]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys).rstrip())
    for r in rows:
        print("  ".join(str(r[k]).ljust(widths[k]) for k in keys).rstrip())
    return 0
