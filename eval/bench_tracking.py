"""Benchmark: `ctc track` vs laptrack's overlap tracker on segmentations of the shared data.

Inputs (labels randomly permuted in every frame, so no tracking information
leaks): Fluo-N2DH-SIM+ 01 and 02 from GT/SEG (every frame annotated) and
DIC-C2DH-HeLa 01 and 02 from ST/SEG. Both trackers read the same mask files
and write a CTC result; both are scored with `ctc.metrics` against GT/TRA.

laptrack runs with the settings of its overlap-tracking example
(``docs/examples/overlap_tracking.ipynb``: cutoff 0.9, ``1 - overlap`` for
linking and gap closing over 1 frame, splitting cutoff 0.9 with
``1 - ratio_2``), and with an IoU variant of them; the better of the two
(by TRA) per sequence is laptrack's figure.

Usage::

    python eval/bench_tracking.py [--data ../shared/data/ctc] [--sequences SIM+01,...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import tifffile  # noqa: E402

from ctc.io import find_frames, read_mask  # noqa: E402
from ctc.labels import relabel  # noqa: E402
from ctc.metrics import evaluate  # noqa: E402
from ctc.perturb import LabeledSequence, shuffle_labels_per_frame  # noqa: E402
from ctc.tracking import TrackingConfig, track_folder  # noqa: E402
from ctc.validation import validate_result  # noqa: E402

SEQUENCES = {
    "SIM+01": ("Fluo-N2DH-SIM+", "01", "GT"),
    "SIM+02": ("Fluo-N2DH-SIM+", "02", "GT"),
    "HeLa01": ("DIC-C2DH-HeLa", "01", "ST"),
    "HeLa02": ("DIC-C2DH-HeLa", "02", "ST"),
}

LAPTRACK_SETTINGS = {
    "docs": dict(cutoff=0.9, metric_coefs=(1.0, -1.0, 0.0, 0.0, 0.0),
                 gap_closing_metric_coefs=(1.0, -1.0, 0.0, 0.0, 0.0),
                 gap_closing_max_frame_count=1, splitting_cutoff=0.9,
                 splitting_metric_coefs=(1.0, 0.0, 0.0, 0.0, -1.0)),
    "docs-iou": dict(cutoff=0.9, metric_coefs=(1.0, 0.0, -1.0, 0.0, 0.0),
                     gap_closing_metric_coefs=(1.0, 0.0, -1.0, 0.0, 0.0),
                     gap_closing_max_frame_count=1, splitting_cutoff=0.9,
                     splitting_metric_coefs=(1.0, 0.0, 0.0, 0.0, -1.0)),
}


def permuted_input(source: Path, target: Path, seed: int) -> None:
    """Copy the label images of `source` with labels permuted at random per frame."""
    rng = np.random.default_rng(seed)
    target.mkdir(parents=True)
    for t, path in find_frames(source, "man_seg").paths.items():
        tifffile.imwrite(target / f"mask{t:03d}.tif",
                         shuffle_labels_per_frame(read_mask(path), rng))


def run_laptrack(inputs: Path, res: Path, settings: dict) -> None:
    """laptrack's overlap tracker on the masks of `inputs`, written as a CTC result."""
    from laptrack import OverLapTrack

    files = find_frames(inputs, "mask")
    masks = np.stack([read_mask(files.paths[t]) for t in files.frames])
    track_df, split_df, _ = OverLapTrack(**settings).predict_overlap_dataframe(masks)
    track_df = track_df.reset_index()
    out = [np.zeros(m.shape, np.uint16) for m in masks]
    for frame, group in track_df.groupby("frame"):
        out[frame] = relabel(masks[frame], dict(zip(group["label"].astype(int),
                                                    group["track_id"].astype(int) + 1,
                                                    strict=True)))
    parents = {int(c) + 1: int(p) + 1 for p, c in zip(split_df["parent_track_id"],
                                                      split_df["child_track_id"], strict=True)}
    # Tracks with gaps become parent -> child tracks, as the CTC format requires.
    LabeledSequence(out, parents).write(res)


def score(gt: Path, res: Path) -> dict:
    s = evaluate(gt, res, "DET,TRA,LNK", divisions=True)
    return s.to_dict(extra=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("CTC_DATA", REPO.parent / "shared/data/ctc")))
    parser.add_argument("--sequences", default=",".join(SEQUENCES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-laptrack", action="store_true")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ctc-bench-track-"))
    header = (f"{'sequence':8s} {'tracker':16s} {'TRA':>8s} {'DET':>8s} {'LNK':>8s} "
              f"{'NS':>4s} {'FN':>4s} {'FP':>4s} {'ED':>4s} {'EA':>4s} {'EC':>4s} "
              f"{'divTP':>5s} {'divFP':>5s} {'divFN':>5s} {'seconds':>8s}")
    rows = []
    for name in args.sequences.split(","):
        dataset, seq, truth = SEQUENCES[name]
        inputs = tmp / name / "input"
        permuted_input(args.data / dataset / f"{seq}_{truth}" / "SEG", inputs, args.seed)
        gt = args.data / dataset / f"{seq}_GT"
        res = tmp / name / "ctc_RES"
        start = time.perf_counter()
        track_folder(inputs, res, TrackingConfig())
        seconds = time.perf_counter() - start
        assert validate_result(res).valid
        rows.append((name, "ctc track", score(gt, res), seconds))
        print(f"{name}: ctc track {seconds:.1f} s", flush=True)
        if args.no_laptrack:
            continue
        for setting, params in LAPTRACK_SETTINGS.items():
            res = tmp / name / f"laptrack_{setting}_RES"
            start = time.perf_counter()
            run_laptrack(inputs, res, params)
            seconds = time.perf_counter() - start
            rows.append((name, f"laptrack {setting}", score(gt, res), seconds))
            print(f"{name}: laptrack {setting} {seconds:.1f} s", flush=True)
    print("\n" + header)
    for name, tracker, s, seconds in rows:
        print(f"{name:8s} {tracker:16s} {s['TRA']:8.6f} {s['DET']:8.6f} {s['LNK']:8.6f} "
              f"{s['NS']:4d} {s['FN']:4d} {s['FP']:4d} {s['ED']:4d} {s['EA']:4d} {s['EC']:4d} "
              f"{s['DIV_TP']:5d} {s['DIV_FP']:5d} {s['DIV_FN']:5d} {seconds:8.2f}")
    print(f"\ninputs and results in {tmp}")


if __name__ == "__main__":
    main()
