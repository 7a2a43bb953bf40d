"""``ctc train``: train a segmentation model on CTC data (one dataset or universal)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ctc.cli.commands import summary
from ctc.errors import CTCInputError
from ctc.io.folders import list_sequences
from ctc.segmentation.data import NORMALIZATIONS, Augment
from ctc.segmentation.gruunet import GRUUConfig
from ctc.segmentation.losses import LOSSES
from ctc.segmentation.model import ModelConfig, resolve_device
from ctc.segmentation.nets import XBNET, NetConfig
from ctc.segmentation.postprocess import MARKER_DEFAULTS
from ctc.segmentation.rshn import RSHN_LR, RSHNConfig
from ctc.segmentation.train import SELECTIONS, VALIDATIONS, TrainConfig, default_lr, train

DESCRIPTION = """\
Train a U-Net-family model on the annotations of one or more CTC datasets and
write a model folder (config.json + weights.pt of the best validation).

Training data configuration (the challenge's six):
  one DATASET_DIR with --truth GT, ST or GT+ST       -> per-dataset model
  several DATASET_DIRs with --truth GT, ST or GT+ST  -> allGT / allST /
        allGT+allST: one minibatch from every dataset per optimizer step

3D datasets are learnt from 2D slices: every annotated slice of a fully
annotated volume, or the slice of a single-slice annotation (man_seg_TTT_ZZZ);
with --context the slices above and below come as extra channels. Validation
and calibration segment the held-out volumes in 3D (slice predictions stacked,
3D instances) and score them in 3D, or on their annotated slice.

Gold truth overrides silver truth on the frames both annotate; with several
datasets and GT+ST (allGT+allST) a sequence without silver truth gives its
gold truth alone. Cells that the
tracking markers show but the segmentation annotation leaves out are
excluded from the loss. A few gold frames per sequence are held out and
segmented whole every --val-every steps; their SEG and DET (the toolkit's own
measures) select the best checkpoint, and at the end the post-processing
(cell components, or a seeded watershed and its seed threshold) that scores
best on them. Interrupted? Run the same command with
--resume. Runs are deterministic for a given --seed on a given device.
"""

EPILOG = """\
examples:
  ctc train Fluo-N2DH-SIM+ --sequences 01 --out runs/sim01 --minutes 10
  ctc train DIC-C2DH-HeLa --truth GT+ST --preset xbnet --out runs/hela
  ctc train DIC-C2DH-HeLa Fluo-N2DH-GOWT1 --truth GT --out runs/allGT
  ctc train ... --out runs/sim01 --resume                # continue after an interruption
  ctc train Fluo-N3DH-CHO --context 1 --out runs/cho   # 3D: slices with their neighbours
  ctc train PhC-C2DH-U373 --init models/universal-2d --truth GT+ST --minutes 8 --out runs/u373
                                                         # fine-tune the universal model
"""

PRESETS = {
    "unet": NetConfig(base=16),
    "unet32": NetConfig(base=32),
    "xbnet": XBNET,
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help=summary("train"), description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("datasets", nargs="+", metavar="DATASET_DIR", help="dataset folder(s)")
    p.add_argument("--out", required=True, metavar="MODEL_DIR",
                   help="model folder to write (keep it outside the repository while training)")
    p.add_argument("--sequences", metavar="LIST",
                   help="comma-separated training sequences (default: all of each dataset)")
    p.add_argument("--truth", default="GT", choices=("GT", "ST", "GT+ST"),
                   help="annotations to learn from (default GT)")
    p.add_argument("--arch", default="unet", choices=("unet", "gruunet", "rshn"),
                   help="network family: U-Net (with --preset), GRU-U-Net (trained with the "
                        "normalized focal loss), or the recurrent stacked hourglass with "
                        "cosine embeddings (segments and tracks at once)")
    p.add_argument("--preset", default="unet", choices=sorted(PRESETS),
                   help="U-Net architecture: unet (base 16, ~2M parameters), unet32, xbnet")
    p.add_argument("--task", default="three_class", choices=("three_class", "border"),
                   help="targets: background/cell/boundary, or eroded cells + borders with "
                        "a foreground channel and seeded watershed")
    p.add_argument("--markers", action="store_true",
                   help="add a fourth output channel that learns the tracking markers (GT TRA) "
                        "of every frame, segmented or not, and seed the watershed with its "
                        "markers (three_class task; for sequences with few segmented frames "
                        "or touching nuclei)")
    p.add_argument("--distance", action="store_true",
                   help="like --markers, but the fourth channel learns each cell's distance to "
                        "its edge, normalised per cell, from the segmentation annotation (the "
                        "cell distance of the KIT distance-map method; no TRA markers needed, "
                        "every segmented frame, silver ones included); its peaks seed the "
                        "watershed")
    p.add_argument("--context", type=int, default=0, metavar="SLICES",
                   help="3D data, U-Net: give the network this many neighbouring z-slices on "
                        "each side as extra input channels (2.5D; default 0). It tells a "
                        "nucleus from the blurred light of one above or below it; 2D images "
                        "stand for their own neighbours")
    p.add_argument("--loss", default="wce", choices=sorted(LOSSES),
                   help="loss (default wce; nfl for gruunet)")
    p.add_argument("--init", metavar="MODEL_DIR",
                   help="fine-tune: start from this trained model's weights, with its "
                        "architecture, targets, loss and normalisation (--arch, --preset, "
                        "--task, --markers, --loss, --normalization are ignored); e.g. the "
                        "universal model models/universal-2d")
    p.add_argument("--model-config", metavar="JSON",
                   help="full model configuration (overrides --preset/--task/--loss)")
    p.add_argument("--normalization", default="percentile", choices=NORMALIZATIONS,
                   help="per-sequence intensity scaling: robust percentiles (default), "
                        "minimum/maximum, or percentiles on a log scale (nuclei of widely "
                        "different brightness)")
    t = TrainConfig()
    p.add_argument("--steps", type=int, default=t.steps, help=f"optimizer steps ({t.steps})")
    p.add_argument("--minutes", type=float, help="stop after this much training time")
    p.add_argument("--batch", type=int, default=t.batch, help=f"crops per batch ({t.batch})")
    p.add_argument("--crop", type=int, default=t.crop, help=f"crop size ({t.crop})")
    p.add_argument("--lr", type=float,
                   help=f"AdamW learning rate ({t.lr}; {RSHN_LR} for --arch rshn, whose loss "
                        "stalled at 2e-3 on a window it fits at 1e-4)")
    p.add_argument("--restart", type=int, default=t.restart,
                   help=f"steps per cosine warm-restart cycle ({t.restart})")
    p.add_argument("--val-every", type=int, default=t.val_every,
                   help="steps between validations on the held-out frames, each also a "
                        "checkpoint and a line of OUT/progress.jsonl (default %(default)s)")
    p.add_argument("--validation", default=t.validation, choices=VALIDATIONS,
                   help="how held-out frames are segmented to choose the best checkpoint: "
                        "with the model's default post-processing (fixed, the default), or "
                        "with the best setting of the calibration grid (calibrated: the "
                        "checkpoint is ranked as it will be used)")
    p.add_argument("--select", default=t.select, choices=SELECTIONS,
                   help="which weights may become the model: any validated step (default), "
                        "or only the ends of the restart cycles, where the learning rate is "
                        "lowest (restarts; a run shorter than one cycle keeps its last "
                        "weights). With restarts the validations between cycle ends only "
                        "report progress: --val-every equal to --restart skips them (with "
                        "--validation calibrated, a one-thread DIC-HeLa run went from 0.55 "
                        "to 0.64 steps per second)")
    p.add_argument("--snapshots", action="store_true",
                   help="also keep the weights at the end of every restart cycle in "
                        "OUT/snapshots/ (for learning curves and snapshot ensembles)")
    p.add_argument("--val-frames", type=int, default=t.val_frames,
                   help="gold frames held out per sequence for validation")
    p.add_argument("--window", type=int, default=t.window,
                   help=f"consecutive frames per training window, rshn only ({t.window})")
    p.add_argument("--seed", type=int, default=t.seed)
    p.add_argument("--device", default="auto", help="'auto', 'cpu' or 'cuda:N'")
    p.add_argument("--bf16", action="store_true",
                   help="bfloat16 autocast for the forward pass (weights and optimiser stay "
                        "float32): faster on GPUs and on CPUs with AVX512-BF16 or AMX; see "
                        "the README for its speed and accuracy here")
    for name in ("flip", "rot90", "scale", "intensity"):
        p.add_argument(f"--no-{name}", action="store_true", help=f"disable {name} augmentation")
    p.add_argument("--elastic", action="store_true", help="enable elastic augmentation")
    p.add_argument("--gain", nargs=2, type=float, default=(0.7, 1.3), metavar=("LOW", "HIGH"),
                   help="brightness augmentation range, sampled log-uniformly (0.7 1.3); "
                        "reach lower for datasets with dim cells")
    p.add_argument("--gamma", nargs=2, type=float, metavar=("LOW", "HIGH"),
                   help="random gamma range for the normalised intensities, sampled "
                        "log-uniformly (off by default; e.g. 0.5 2)")
    p.add_argument("--cell-gain", nargs=2, type=float, metavar=("LOW", "HIGH"),
                   help="per-cell brightness range, sampled log-uniformly for half of the "
                        "annotated cells of each crop (off by default: on Fluo-N2DH-GOWT1 "
                        "02->01, 0.1 1 lost SEG, see the README)")
    p.add_argument("--blur", nargs=2, type=float, metavar=("LOW", "HIGH"),
                   help="Gaussian blur of half of the crops, its standard deviation drawn "
                        "uniformly between LOW and HIGH pixels, the labels unchanged (off by "
                        "default; e.g. 0.5 1.5 for sequences whose edges are sharper or "
                        "softer than the training data's)")
    p.add_argument("--noise", type=float, default=0.08,
                   help="largest standard deviation of the added Gaussian noise (0.08)")
    p.add_argument("--tracking", action="store_true",
                   help="after training and calibration, also choose the smallest object "
                        "and the shortest track kept ('ctc calibrate --tracking': the "
                        "training sequences are segmented whole; the largest size floor, "
                        "then the longest minimum track length (0-8 frames), that costs no "
                        "SEG, DET or TRA is written, and merged cells are cut apart where "
                        "that raises TRA). Slower; removes false objects smaller than the "
                        "cells and one-frame debris tracks")
    p.add_argument("--no-calibrate", action="store_true",
                   help="keep the configured post-processing instead of choosing it at the "
                        "end on the held-out frames, and the outline refinement on every gold "
                        "frame of the training data (see 'ctc calibrate')")
    p.add_argument("--resume", action="store_true", help="continue the run in MODEL_DIR")
    p.set_defaults(run=run)


def model_config(args: argparse.Namespace) -> ModelConfig:
    if args.init:
        from ctc.segmentation.model import load_config

        config = load_config(args.init)
        config.scores, config.training = {}, {}
        return config
    if args.model_config:
        try:
            return ModelConfig.from_dict(json.loads(Path(args.model_config).read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise CTCInputError(f"invalid model configuration ({exc})", args.model_config) from None
    if args.markers and args.distance:
        raise CTCInputError("give --markers or --distance, not both: they are two targets of "
                            "the same fourth channel")
    markers = {}
    if args.markers or args.distance:  # one fourth channel, two possible targets
        markers = {"markers": True, "markers_from": "segmentation" if args.distance else "tra",
                   "postprocess": {**ModelConfig().postprocess, **MARKER_DEFAULTS}}
    try:  # ModelConfig says which combinations are allowed (markers: three_class only)
        context = {"context": args.context} if args.context else {}
        if args.arch == "gruunet":
            return ModelConfig(arch="gruunet", **context, net=GRUUConfig(), task=args.task,
                               loss={"name": "nfl" if args.loss == "wce" else args.loss},
                               normalization=args.normalization, **markers)
        if args.arch == "rshn":
            return ModelConfig(arch="rshn", net=RSHNConfig(), task="embedding", **context,
                               normalization=args.normalization, **markers)
        return ModelConfig(net=PRESETS[args.preset], task=args.task, loss={"name": args.loss},
                           **context,
                           normalization=args.normalization, **markers)
    except ValueError as exc:
        raise CTCInputError(f"invalid options ({exc})") from None


def training_data(datasets: list[str], sequences: str | None) -> list[tuple[str, list[str]]]:
    """(dataset folder, sequences) pairs: the comma-separated `sequences`, or all present."""
    return [(dataset, sequences.split(",") if sequences else [
        s for s in list_sequences(dataset) if (Path(dataset) / s).is_dir()])
        for dataset in datasets]


def run(args: argparse.Namespace) -> int:
    resolve_device(args.device)  # a wrong device fails now, not after loading the data
    data = training_data(args.datasets, args.sequences)
    try:
        settings = train_settings(args)
    except ValueError as exc:
        raise CTCInputError(f"invalid options ({exc})") from None
    if args.tracking and args.no_calibrate:
        raise CTCInputError("--tracking calibrates, --no-calibrate forbids it: give one")
    config = train(model_config(args), data, args.out, settings, resume=args.resume,
                   init=args.init, progress=True)
    if args.tracking:
        from ctc.segmentation.calibrate import calibrate_tracking

        config = calibrate_tracking(args.out, data, device=args.device)
    print(f"{args.out}: best validation {config.scores.get('validation')} at step "
          f"{config.scores.get('step')}; {config.training.get('minutes', 0):.1f} min")
    return 0


def train_settings(args: argparse.Namespace) -> TrainConfig:
    """The optimisation settings of the command line (ValueError when out of range)."""
    return TrainConfig(
        steps=args.steps, batch=args.batch, crop=args.crop,
        lr=args.lr if args.lr is not None else default_lr(args.arch),
        restart=args.restart,
        val_every=args.val_every, val_frames=args.val_frames, seed=args.seed,
        truth=args.truth, device=args.device, max_minutes=args.minutes, window=args.window,
        augment=Augment(flip=not args.no_flip, rot90=not args.no_rot90,
                        scale=None if args.no_scale else (0.8, 1.25),
                        elastic=args.elastic, intensity=not args.no_intensity,
                        gain=tuple(args.gain), noise=args.noise,
                        gamma=tuple(args.gamma) if args.gamma else None,
                        cell_gain=tuple(args.cell_gain) if args.cell_gain else None,
                        blur=tuple(args.blur) if args.blur else None),
        calibrate=not args.no_calibrate, bf16=args.bf16, snapshots=args.snapshots,
        validation=args.validation, select=args.select)
