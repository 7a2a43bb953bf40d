"""``ctc track``: per-frame instance masks -> CTC result with lineage."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import fields

from ctc.cli.commands import summary
from ctc.errors import CTCInputError
from ctc.tracking import TrackingConfig, track_folder
from ctc.validation import validate_result

DESCRIPTION = """\
Turn a folder of per-frame instance masks (numbered label images, labels
arbitrary per frame: mask000.tif, mask001.tif, ...) into a CTC result:
maskTTT.tif relabelled by track plus res_track.txt.

Objects of consecutive frames are associated by overlap (IoU, or the overlap
fraction for small or fast objects) as a sparse assignment problem, with a
centroid-distance fallback for objects that moved off their footprint.
A track replaced by two new objects that lie in its footprint ends, and both
start as its daughters (mitosis). Optional: gap closing (--max-gap), removal
of short isolated tracks (--min-track-length), undoing of divisions whose
daughters merge back (--merge-window) and cutting apart objects that merge
cells of the previous frame (--split-merged). The result is written
atomically and checked with 'ctc validate'.
"""

EPILOG = """\
examples:
  ctc track segmentations/ Fluo-N2DH-SIM+/01_RES
  ctc track masks/ 01_RES --max-displacement 50 --max-gap 2 --overwrite
  ctc track masks/ 01_RES --config tracking.json      # parameters from a JSON file
  ctc track masks/ 01_RES --config '{"max_gap": 2}'    # ... or given inline

exit status: 0 valid result written, 2 bad input (message names the file).
"""


def _attribute_help() -> dict[str, str]:
    """Parameter descriptions from the numpydoc 'Attributes' section of TrackingConfig."""
    text = TrackingConfig.__doc__.split("Attributes")[1]
    parts = re.split(r"^    (\w+) : .*$", text, flags=re.M)
    return {name: " ".join(desc.split()) for name, desc in zip(parts[1::2], parts[2::2],
                                                                  strict=True)}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("track", help=summary("track"), description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("masks_dir", metavar="MASKS_DIR", help="folder of numbered label images")
    p.add_argument("out_dir", metavar="OUT_RES_DIR", help="result folder to write")
    p.add_argument("--prefix", help="file-name prefix when MASKS_DIR holds several series")
    p.add_argument("--config", metavar="JSON",
                   help="tracking parameters: a JSON file, or a JSON object given inline "
                        "(e.g. '{\"max_gap\": 2}'); the options below override it")
    defaults = TrackingConfig()
    helps = _attribute_help()
    for f in fields(TrackingConfig):
        flag = "--" + f.name.replace("_", "-")
        value = getattr(defaults, f.name)
        if isinstance(value, bool) and value:
            p.add_argument(f"--no-{f.name.replace('_', '-')}", dest=f.name,
                           action="store_false", default=None,
                           help=f"do not: {helps.get(f.name, '')}")
        elif isinstance(value, bool):
            p.add_argument(flag, dest=f.name, action="store_true", default=None,
                           help=f"{helps.get(f.name, '')} (default off)")
        else:
            p.add_argument(flag, dest=f.name, type=type(value), default=None,
                           metavar=f.name.split("_")[-1].upper(),
                           help=f"{helps.get(f.name, '')} (default {value})")
    p.add_argument("--overwrite", action="store_true", help="replace OUT_RES_DIR if it exists")
    p.set_defaults(run=run)


def config_from_args(args: argparse.Namespace) -> TrackingConfig:
    values = {}
    inline = bool(args.config) and args.config.lstrip().startswith("{")
    if args.config:
        try:
            if inline:
                loaded = json.loads(args.config)
            else:
                with open(args.config) as fh:
                    loaded = json.load(fh)
        except (OSError, ValueError) as exc:
            what = "the inline JSON object" if inline else args.config
            raise CTCInputError(f"cannot read tracking parameters from {what} ({exc})") from None
        if not isinstance(loaded, dict):
            raise CTCInputError(f"--config must hold a JSON object of parameters, not "
                                f"{type(loaded).__name__}")
        values.update(loaded)
    for f in fields(TrackingConfig):
        if getattr(args, f.name, None) is not None:
            values[f.name] = getattr(args, f.name)
    try:
        return TrackingConfig.from_dict(values)
    except (TypeError, ValueError) as exc:
        raise CTCInputError(f"invalid tracking parameters: {exc}",
                            None if inline else args.config) from None


def run(args: argparse.Namespace) -> int:
    table = track_folder(args.masks_dir, args.out_dir, config_from_args(args),
                         prefix=args.prefix, overwrite=args.overwrite,
                         progress=True)
    report = validate_result(args.out_dir)
    divisions = sum(1 for t in table if t.parent) // 2
    print(f"{args.out_dir}: {len(table)} tracks, about {divisions} divisions; "
          f"{report.summary()}")
    return report.exit_code
