"""How far does each cell's brightness reach past its gold outline?

For every `--every`-th gold frame of each sequence: the brightness at each
distance d from the gold outline (d = -1 the objects' outermost pixels, -2
the next ring in, d = 1 the first pixels outside; pixels, rounded), above
the background (the median of the pixels more than 10 px from every gold
object) and relative to the median brightness of the nearest cell's inside.
A sequence whose profile stays higher outside its outlines has softer edges,
or draws its outlines further in, than one whose profile drops to 0 within a
pixel or two: a network that learnt where edges lie on one will misplace them
on the other. For fluorescence, where cells are brighter than the background
(DIC relief has no such profile). It reads gold masks and raw frames only;
use it to explain a cross-video result, not to choose a setting.

Usage::

    python eval/edge_profile.py DATASET_DIR [--sequences 01,02] [--every 10] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ctc.io.folders import sequence_folders  # noqa: E402
from ctc.io.naming import SEG_PREFIX, find_frames  # noqa: E402
from ctc.io.tiff import read_frame, read_mask  # noqa: E402

#: signed distances from the gold outline, in pixels (negative inside)
DISTANCES = (*range(-5, 0), *range(1, 8))
#: pixels this far from every gold object are background
BACKGROUND_GAP = 10


def edge_profile(image: np.ndarray, gold: np.ndarray,
                 distances=DISTANCES) -> tuple[np.ndarray, float]:
    """Relative brightness at each signed distance from the outlines of one 2D frame.

    Parameters
    ----------
    image : ndarray
        Raw frame (H, W).
    gold : ndarray
        Its gold instance labels (H, W); 0 is background.
    distances : sequence of int
        Signed distances (negative inside the objects).

    Returns
    -------
    profile : ndarray
        Median of ``(image - background) / signal`` over the pixels at each distance
        (the Euclidean distance to the nearest pixel across the outline, rounded),
        where `signal` is the median brightness above the background inside the
        nearest gold object (NaN where no pixel lies there).
    signal : float
        The median of the objects' signals, in raw units.
    """
    image = image.astype(np.float64)
    cells = gold > 0
    if not cells.any():
        return np.full(len(distances), np.nan), float("nan")
    outside, nearest = ndi.distance_transform_edt(~cells, return_indices=True)
    far = outside > BACKGROUND_GAP
    background = float(np.median(image[far] if far.any() else image[~cells]))
    signed = np.rint(np.where(cells, -ndi.distance_transform_edt(cells), outside))
    owner = gold[nearest[0], nearest[1]]
    labels = np.unique(gold[cells])
    signal = np.zeros(int(labels.max()) + 1)
    signal[labels] = np.asarray(ndi.median(image, gold, labels)) - background
    scale = signal[owner]
    relative = np.where(scale > 0, (image - background) / np.where(scale > 0, scale, 1), np.nan)
    profile = []
    for d in distances:
        ring = (signed == d) & np.isfinite(relative)
        profile.append(float(np.median(relative[ring])) if ring.any() else np.nan)
    return np.array(profile), float(np.median(signal[labels]))


def sequence_profile(dataset: Path, seq: str, every: int = 10) -> dict:
    """The mean profile and median signal over every `every`-th gold frame of a sequence."""
    folders = sequence_folders(dataset, seq)
    if folders.gt_seg is None or folders.raw is None:
        raise SystemExit(f"{dataset}: sequence {seq} needs its raw frames and {seq}_GT/SEG")
    gold = find_frames(folders.gt_seg, SEG_PREFIX).paths
    raw = find_frames(folders.raw, "t").paths
    frames = [t for t in sorted(gold) if t in raw][::every]
    profiles, signals = [], []
    for t in frames:
        seg = read_mask(gold[t])
        if seg.ndim != 2:
            raise SystemExit(f"{gold[t]}: 2D frames only")
        profile, signal = edge_profile(read_frame(raw[t]), seg)
        profiles.append(profile)
        signals.append(signal)
    return {"dataset": dataset.name, "sequence": seq, "frames": frames,
            "distances": list(DISTANCES),
            "profile": np.nanmean(profiles, axis=0).round(4).tolist(),
            "signal": float(np.nanmedian(signals))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--sequences", default="01,02")
    parser.add_argument("--every", type=int, default=10, help="use every N-th gold frame (10)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    rows = [sequence_profile(args.dataset, seq, args.every)
            for seq in args.sequences.split(",")]
    print("distance from the gold outline (px): " + " ".join(f"{d:5d}" for d in DISTANCES))
    for row in rows:
        print(f"{row['dataset']} {row['sequence']} ({len(row['frames'])} frames, signal "
              f"{row['signal']:.1f}): " + " ".join(f"{v:5.2f}" for v in row["profile"]))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
