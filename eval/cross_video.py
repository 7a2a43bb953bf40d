"""Cross-video evaluation: train on sequence 01, evaluate on 02, and the reverse.

The protocol of the GRUU-Net paper, for Fluo-N2DH-GOWT1, DIC-C2DH-HeLa and
Fluo-N2DH-SIM+ of the shared data. Each model trains for a fixed time budget;
then ``run_sequence`` (segment + track) writes the other sequence's result,
which is scored with the toolkit's measures against its gold truth. The
post-processing (cell components or seeded watershed, seed threshold) is
chosen on frames of the training sequence held out of training.
Prints SEG, DET, TRA, training minutes and steps; writes ``cross_video.json``
in the runs folder. Models and checkpoints stay in the runs folder (outside
the repository); an interrupted run continues where it stopped.

Usage::

    python eval/cross_video.py [--minutes 8] [--runs /work/runs/cross_video]
                               [--datasets Fluo-N2DH-GOWT1,DIC-C2DH-HeLa,Fluo-N2DH-SIM+]
                               [--arch unet|gruunet|rshn] [--train-on 01,02]
                               [--postprocess calibrated|components]
                               [--gain LOW HIGH] [--gamma LOW HIGH]
                               [--cell-gain LOW HIGH] [--blur LOW HIGH] [--elastic] [--seed N]
                               [--normalization percentile|minmax|log] [--markers | --distance]
                               [--recalibrate] [--steps N [--extend]] [--val-every N]
                               [--batch N] [--crop PX] [--bf16]

``--extend`` continues finished runs from their checkpoint up to ``--steps``
(a longer budget for the same run, e.g. the recurrent hourglass).
``--arch`` picks the network at the same time budget: the base-16 U-Net with
weighted cross-entropy, GRUU-Net with the normalized focal loss, or the
recurrent stacked hourglass (cosine embeddings, mean shift, tracks as it
segments). Rows carry the parameter count and inference seconds per frame
(segment + track + write), so the architectures compare side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ctc.lineage import read_tracks  # noqa: E402
from ctc.metrics import evaluate  # noqa: E402
from ctc.pipeline import run_sequence  # noqa: E402
from ctc.segmentation.calibrate import calibrate_model, calibrate_tracking  # noqa: E402
from ctc.segmentation.data import NORMALIZATIONS, Augment  # noqa: E402
from ctc.segmentation.gruunet import GRUUConfig  # noqa: E402
from ctc.segmentation.model import (  # noqa: E402
    DATASET_KEYS,
    ModelConfig,
    build_net,
    load_config,
    write_config,
)
from ctc.segmentation.nets import NetConfig, count_parameters  # noqa: E402
from ctc.segmentation.postprocess import MARKER_DEFAULTS, THRESHOLD_KEYS  # noqa: E402
from ctc.segmentation.rshn import RSHNConfig  # noqa: E402
from ctc.segmentation.train import (  # noqa: E402
    CHECKPOINT,
    SELECTIONS,
    VALIDATIONS,
    TrainConfig,
    default_lr,
    train,
)

#: Per dataset: training truth, crop size, minimum object size (pixels), brightness range.
SETTINGS = {
    # GOWT1: half of the annotated nuclei of 01 are six times dimmer than the rest, so
    # brightness augmentation reaches far down. (A log intensity scale, tried for them,
    # lost them altogether when trained on 02: SEG 0.542 against 0.638.)
    "Fluo-N2DH-GOWT1": dict(truth="GT", crop=192, min_size=100, gain=(0.1, 1.5)),
    "DIC-C2DH-HeLa": dict(truth="GT+ST", crop=256, min_size=200, gain=(0.7, 1.3)),
    # SIM+ 02: after normalisation its background is brighter and noisier than 01's and
    # its dimmest cells sit at background level.
    "Fluo-N2DH-SIM+": dict(truth="GT", crop=192, min_size=50, gain=(0.1, 1.5)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("CTC_DATA", REPO.parent / "shared/data/ctc")))
    parser.add_argument("--runs", type=Path, default=Path("/work/runs/cross_video"))
    parser.add_argument("--datasets", default=",".join(SETTINGS))
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--steps", type=int, default=100000)
    parser.add_argument("--batch", type=int, default=6)
    parser.add_argument("--crop", type=int,
                        help="crop size in pixels (default: the dataset's, 128 for rshn)")
    parser.add_argument("--bf16", action="store_true",
                        help="bfloat16 autocast on CPU (GRUU-Net trains 2.2x faster so)")
    parser.add_argument("--val-every", type=int, default=50,
                        help="steps between held-out validations (50)")
    parser.add_argument("--extend", action="store_true",
                        help="continue finished runs from their checkpoint up to --steps "
                             "(a longer budget for the same run)")
    parser.add_argument("--lr", type=float,
                        help="AdamW learning rate (2e-3; 1e-4 for --arch rshn, as ctc train)")
    parser.add_argument("--validation", default=TrainConfig.validation, choices=VALIDATIONS,
                        help="how held-out frames rank checkpoints (ctc train --validation)")
    parser.add_argument("--select", default=TrainConfig.select, choices=SELECTIONS,
                        help="which weights may become the model (ctc train --select)")
    parser.add_argument("--snapshots", action="store_true",
                        help="keep the weights at every restart (eval/learning_curve.py "
                             "scores them)")
    parser.add_argument("--tta", default="none", choices=("none", "flips", "dihedral"))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--arch", default="unet", choices=("unet", "gruunet", "rshn"))
    parser.add_argument("--postprocess", default="calibrated", choices=("calibrated", "components"),
                        help="the post-processing chosen on held-out training frames (default), "
                             "or plain cell components for an ablation (use another --runs "
                             "folder holding copies of the models)")
    parser.add_argument("--gain", nargs=2, type=float, metavar=("LOW", "HIGH"),
                        help="override the dataset's brightness augmentation range (ablation)")
    parser.add_argument("--gamma", nargs=2, type=float, metavar=("LOW", "HIGH"),
                        help="add random-gamma augmentation (ablation; off by default)")
    parser.add_argument("--cell-gain", nargs=2, type=float, metavar=("LOW", "HIGH"),
                        help="add per-cell gain augmentation (ablation; off by default)")
    parser.add_argument("--seed", type=int, default=0,
                        help="training seed (0); another seed shows run-to-run spread")
    parser.add_argument("--blur", nargs=2, type=float, metavar=("LOW", "HIGH"),
                        help="add Gaussian-blur augmentation, sigma in pixels (ablation; off "
                             "by default)")
    parser.add_argument("--elastic", action="store_true",
                        help="add elastic deformation of the crops (ablation; off by default)")
    parser.add_argument("--normalization", choices=NORMALIZATIONS,
                        help="override the dataset's intensity normalisation (ablation)")
    parser.add_argument("--markers", action="store_true",
                        help="U-Net with a fourth channel learning the tracking markers of "
                             "every frame, seeding the watershed (use another --runs folder)")
    parser.add_argument("--distance", action="store_true",
                        help="marker channel learning the cell distance of the segmentation "
                             "annotation (ctc train --distance) instead of the TRA markers")
    parser.add_argument("--recalibrate", action="store_true",
                        help="choose the post-processing of finished models again with the "
                             "current grid (held-out training frames) before evaluating")
    parser.add_argument("--tracking", action="store_true",
                        help="also drop tracks shorter than a minimum chosen on the whole "
                             "training sequence (ctc calibrate --tracking) before evaluating")
    parser.add_argument("--train-on", default="01,02",
                        help="training sequences to run (default both: 01->02 and 02->01)")
    args = parser.parse_args()
    args.runs.mkdir(parents=True, exist_ok=True)
    results = args.runs / "cross_video.json"
    rows = json.loads(results.read_text()) if results.exists() else []
    for name in args.datasets.split(","):
        s = SETTINGS[name]
        for train_seq, test_seq in (("01", "02"), ("02", "01")):
            if train_seq not in args.train_on.split(","):
                continue
            tag = f"{name}-{train_seq}" + ("" if args.arch == "unet" else f"-{args.arch}")
            model_dir = args.runs / tag
            finished = (model_dir / "config.json").exists() and "minutes" in load_config(
                model_dir).training
            if finished and args.extend:
                finished = load_config(model_dir).training.get("steps_done", 0) >= args.steps
            if not finished:
                config = model_config(args.arch, s["min_size"], args.tta)
                if args.markers or args.distance:
                    # validation during training selects checkpoints by what the model is for
                    config = replace(config, markers=True,
                                     markers_from="segmentation" if args.distance else "tra",
                                     postprocess={**config.postprocess, **MARKER_DEFAULTS})
                config.normalization = args.normalization or s.get("normalization",
                                                                    "percentile")
                # The recurrent hourglass sees windows of frames at full width: smaller crops
                # and batches keep a step affordable on CPU.
                crop, batch = ((min(s["crop"], 128), 2) if args.arch == "rshn"
                               else (s["crop"], args.batch))
                crop = args.crop or crop
                augment = Augment(gain=tuple(args.gain or s["gain"]),
                                  gamma=tuple(args.gamma) if args.gamma else s.get("gamma"),
                                  cell_gain=(tuple(args.cell_gain) if args.cell_gain
                                             else s.get("cell_gain")),
                                  blur=tuple(args.blur) if args.blur else s.get("blur"),
                                  elastic=args.elastic)
                settings = TrainConfig(steps=args.steps, batch=batch, crop=crop,
                                       lr=(args.lr if args.lr is not None
                                           else default_lr(args.arch)),
                                       restart=400, val_every=args.val_every,
                                       val_frames=3, truth=s["truth"], device=args.device,
                                       max_minutes=args.minutes, augment=augment,
                                       snapshots=args.snapshots,
                                       validation=args.validation, select=args.select,
                                       bf16=args.bf16, seed=args.seed)
                print(f"== training {args.arch} {name} {train_seq} ({s['truth']}, "
                      f"{args.minutes} min)",
                      flush=True)
                train(config, [(args.data / name, [train_seq])], model_dir, settings,
                      resume=(model_dir / CHECKPOINT).exists(), progress=False)
            config = load_config(model_dir)
            if (args.postprocess == "calibrated"
                    and ("calibration" not in config.scores or args.recalibrate)):
                # models trained before training calibrated its post-processing, or
                # asked to choose again with the current grid
                config = calibrate_model(model_dir, [(args.data / name, [train_seq])],
                                         device=args.device)
            config.postprocess["tta"] = args.tta
            if args.postprocess == "components" and config.task != "embedding":
                config.postprocess = {k: v for k, v in config.postprocess.items()
                                      if k not in THRESHOLD_KEYS} | {"method": "components"}
            write_config(model_dir, config)
            if args.tracking and config.task != "embedding":
                # drop tracks shorter than a minimum weighed on the training sequence
                config = calibrate_tracking(model_dir, [(args.data / name, [train_seq])],
                                            device=args.device, progress=False)
            res = args.runs / f"{tag}-on-{test_seq}_RES"
            measured = score_run(args.data / name, test_seq, model_dir, res, args.device)
            frames = len(list((args.data / name / test_seq).glob("t*.tif")))
            row = {"dataset": name, "arch": args.arch, "train": train_seq, "test": test_seq,
                   "truth": s["truth"], "markers": config.markers,
                   "markers_from": config.markers_from, **measured,
                   "training_minutes": config.training.get("minutes"),
                   "lr": config.training.get("lr"),
                   "steps": config.training.get("steps_done"),
                   **{k: config.training.get(k) for k in ("batch", "crop", "bf16", "seed")},
                   "elastic": config.training.get("augment", {}).get("elastic", False),
                   "best_step": config.scores.get("step"),
                   "postprocess": {k: config.postprocess[k] for k in (*DATASET_KEYS,
                                                                      "bandwidth")
                                   if k in config.postprocess},
                   "split_merged": config.tracking.get("split_merged", False),
                   "min_track_length": config.tracking.get("min_track_length", 0),
                   "seconds_per_frame": measured["inference_seconds"] / max(frames, 1),
                   "parameters": count_parameters(build_net(config))}
            print(json.dumps(row), flush=True)
            rows = record(results, row)  # kept even if a later run is interrupted
    print(f"\n{'dataset':16s} {'arch':8s} {'train->test':11s} {'SEG':>6s} {'DET':>6s} "
          f"{'TRA':>6s} {'FP':>5s} {'tracks':>9s} {'CT':>6s} {'TF':>6s} {'minutes':>7s} "
          f"{'steps':>6s} {'params':>9s} {'s/frame':>7s} post")
    for r in sorted(rows, key=key):
        params = r.get("parameters")
        per_frame = r.get("seconds_per_frame")
        print(f"{r['dataset']:16s} {r.get('arch', 'unet'):8s} {r['train']}->{r['test']:7s} "
              f"{r['SEG']:6.3f} {r['DET']:6.3f} {r['TRA']:6.3f} {r.get('FP', '-'):>5} "
              f"{r.get('tracks', '-'):>4}/{r.get('gt_tracks', '-'):<4} "
              f"{_number(r.get('CT'))} {_number(r.get('TF'))} {r['training_minutes']:7.1f} "
              f"{r['steps']:6d} {params if params else '-':>9} "
              f"{f'{per_frame:.2f}' if per_frame else '-':>7} {post_label(r)}")


def _number(value: float | None) -> str:
    return f"{value:6.3f}" if value is not None else f"{'-':>6s}"


def score_run(dataset: Path, sequence: str, model_dir: Path, res: Path, device: str) -> dict:
    """Segment and track ``dataset/sequence`` with the model into `res` (replaced), and
    score it: SEG, DET, TRA, FP, CT, TF, result and GT track counts, validity, seconds."""
    if res.exists():
        shutil.rmtree(res)
    start = time.perf_counter()
    report = run_sequence(dataset, sequence, model_dir, out_dir=res, device=device)
    seconds = time.perf_counter() - start
    gt = dataset / f"{sequence}_GT"
    scores = evaluate(gt, res, "SEG,DET,TRA,CT,TF")
    return {"SEG": scores.SEG, "DET": scores.DET, "TRA": scores.TRA, "FP": scores.FP,
            "CT": scores.measures.get("CT"), "TF": scores.measures.get("TF"),
            "tracks": len(read_tracks(res / "res_track.txt")),
            "gt_tracks": len(read_tracks(gt / "TRA" / "man_track.txt")),
            "valid": report.valid, "inference_seconds": seconds}


def post_label(row: dict) -> str:
    """'watershed 0.85', 'markers 0.5', 'markers 0.5 + shape h=2.0', 'distance h=2.0',
    'mean shift 0.4' (embedding models: the bandwidth), 'components', or '-' (old
    rows); ' + split 0.85' when objects less convex than that are cut at their
    necks, ' + refine 0.3' when outlines are redrawn at that fraction of each
    object's brightness."""
    post = row.get("postprocess") or {}
    if post.get("method") == "markers" and post.get("h") is not None:
        label = f"markers {post.get('seed_threshold')} + shape h={post['h']}"
    elif post.get("method") in ("watershed", "markers"):
        label = f"{post['method']} {post.get('seed_threshold')}"
    elif post.get("method") == "distance":
        label = f"distance h={post.get('h')}"
    elif post.get("bandwidth") is not None:
        label = f"mean shift {post['bandwidth']}"
    else:
        label = post.get("method", "-")
    label += f" + split {post['split']}" if post.get("split") is not None else ""
    return label + (f" + refine {post['refine']}" if post.get("refine") is not None else "")


def key(row: dict) -> tuple:
    return row["dataset"], row.get("arch", "unet"), row["train"]


def record(results: Path, row: dict) -> list[dict]:
    """Add (or replace) one row of the results file, atomically; returns all rows."""
    rows = json.loads(results.read_text()) if results.exists() else []
    rows = [r for r in rows if key(r) != key(row)] + [row]
    tmp = results.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rows, indent=2))
    os.replace(tmp, results)
    return rows


def model_config(arch: str, min_size: int, tta: str) -> ModelConfig:
    """The network of `arch` with the post-processing shared by all three."""
    postprocess = {"min_size": min_size, "fill_holes": True, "tile": 1024, "overlap": 64,
                   "tta": tta}
    if arch == "gruunet":
        return ModelConfig(arch="gruunet", net=GRUUConfig(), loss={"name": "nfl"},
                           postprocess=postprocess)
    if arch == "rshn":
        return ModelConfig(arch="rshn", net=RSHNConfig(), task="embedding",
                           postprocess={"min_size": min_size, "tile": 1024, "overlap": 64})
    return ModelConfig(net=NetConfig(base=16), loss={"name": "wce"}, postprocess=postprocess)


if __name__ == "__main__":
    main()
