"""``ctc synth``: a synthetic CTC dataset in the style of Fluo-N2DH-SIM+ (or N3DH-SIM+)."""

from __future__ import annotations

import argparse
import time

from ctc.cli.commands import summary
from ctc.errors import CTCInputError
from ctc.synth import SynthConfig, synth_dataset

DESCRIPTION = """\
Simulate fluorescent nuclei in the style of Fluo-N2DH-SIM+ and write them as a
CTC dataset folder OUT_DIR:

  OUT_DIR/01/tTTT.tif                  raw frames (uint16)
  OUT_DIR/01_GT/SEG/man_segTTT.tif     exact segmentation of every frame
  OUT_DIR/01_GT/TRA/man_trackTTT.tif   tracking markers (the full masks)
  OUT_DIR/01_GT/TRA/man_track.txt      lineage: L B E P
  (and 02, ... with --sequences), plus synth.json with the settings.

Nuclei of varied size, shape and texture move with persistent random motion,
touch, round up and brighten before they divide, and enter and leave the
field; frames get uneven illumination, blur, photon and read-out noise.
Seeded: the same settings give the same dataset (sequence i uses seed+i).

With --depth the frames are 3D volumes (Z x ROWS x COLS, Fluo-N3DH-SIM+ style):
flattened nuclei that also move in z, slices --z-step pixels apart (voxels
longer along z, as in the real 3D datasets), a PSF longer along z, deeper
slices dimmer. The truth is then the full 3D volumes, or with --slice-gt one
annotated slice per frame (man_seg_TTT_ZZZ.tif), as the real 3D datasets have.
The folder is written beside OUT_DIR and moved into place when complete.
"""

EPILOG = """\
examples:
  ctc synth /tmp/Fluo-N2DH-SYNTH                      two 50-frame 512x512 sequences
  ctc synth /tmp/small --size 256 256 --frames 30 --cells 10 --noise 6
  ctc synth /tmp/crowded --cells 60 --entries 1 --seed 7 --sequences 01
  ctc synth /tmp/Fluo-N3DH-SYNTH --depth 30 --z-step 4 --size 256 256 --frames 20
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = SynthConfig()
    p = sub.add_parser("synth", help=summary("synth"), description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", metavar="OUT_DIR", help="dataset folder to create")
    p.add_argument("--sequences", default="01,02",
                   help="comma-separated sequence names (default 01,02)")
    p.add_argument("--size", type=int, nargs=2, default=d.shape, metavar=("ROWS", "COLS"),
                   help=f"frame size (default {d.shape[0]} {d.shape[1]})")
    p.add_argument("--frames", type=int, default=d.frames,
                   help=f"frames per sequence (default {d.frames})")
    p.add_argument("--cells", type=int, default=d.cells,
                   help=f"cells at the first frame (default {d.cells})")
    p.add_argument("--radius", type=float, nargs=2, default=d.radius, metavar=("LOW", "HIGH"),
                   help=f"nucleus radius range in pixels (default {d.radius[0]:g} "
                        f"{d.radius[1]:g})")
    p.add_argument("--speed", type=float, default=d.speed,
                   help=f"typical speed, pixels per frame (default {d.speed:g})")
    p.add_argument("--cycle", type=int, nargs=2, default=d.cycle, metavar=("LOW", "HIGH"),
                   help=f"frames from birth to division (default {d.cycle[0]} {d.cycle[1]})")
    p.add_argument("--entries", type=float, default=d.entries,
                   help=f"mean cells entering per frame (default {d.entries:g})")
    p.add_argument("--blur", type=float, default=d.blur,
                   help=f"PSF standard deviation in pixels (default {d.blur:g})")
    p.add_argument("--noise", type=float, default=d.noise,
                   help=f"read-out noise standard deviation, grey levels (default {d.noise:g})")
    p.add_argument("--gain", type=float, default=d.gain,
                   help=f"grey levels per photon; larger is noisier (default {d.gain:g})")
    p.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    p.add_argument("--depth", type=int, default=d.depth,
                   help="slices per frame: 3D volumes (default 0: 2D frames)")
    p.add_argument("--z-step", type=float, default=d.z_step,
                   help=f"3D: distance between slices in pixels of x, the voxel's z/x ratio "
                        f"(default {d.z_step:g})")
    p.add_argument("--blur-z", type=float, default=d.blur_z,
                   help=f"3D: PSF standard deviation along z in pixels of x "
                        f"(default {d.blur_z:g})")
    p.add_argument("--slice-gt", action="store_true",
                   help="3D: annotate one slice per frame (man_seg_TTT_ZZZ.tif) instead of "
                        "writing full 3D segmentation truth")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT_DIR")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = SynthConfig(shape=tuple(args.size), frames=args.frames, cells=args.cells,
                             radius=tuple(args.radius), speed=args.speed,
                             cycle=tuple(args.cycle), entries=args.entries, blur=args.blur,
                             noise=args.noise, gain=args.gain, seed=args.seed,
                             depth=args.depth, z_step=args.z_step, blur_z=args.blur_z)
    except ValueError as exc:
        raise CTCInputError(str(exc)) from None
    sequences = tuple(s for s in args.sequences.split(",") if s)
    start = time.perf_counter()
    if args.slice_gt and not config.depth:
        raise CTCInputError("--slice-gt annotates slices of 3D volumes: give --depth too")
    tables = synth_dataset(args.out, config, sequences, overwrite=args.overwrite,
                           slice_gt=args.slice_gt)
    size = "x".join(str(n) for n in ((config.depth,) if config.depth else ()) + config.shape)
    for seq, table in tables.items():
        divisions = len({t.parent for t in table if t.parent})
        print(f"{args.out}/{seq}: {config.frames} frames {size}, "
              f"{len(table)} tracks, {divisions} divisions")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0
