"""Which cells does a result miss, and how much of DET do they cost?

A diagnosis of a tracking result against its gold truth: the AOGM errors of
``ctc evaluate`` grouped by gold track. For each gold track it counts the
frames where its marker is missed (false negatives, weight 10) and the frames
where it is merged with another marker (its share of the splitting operations,
weight 5), and prints DET as it would read if that track alone were found.
A few tracks that the network never sees can hold most of the loss; these
point at the data (an unseen kind of cell) rather than at the thresholds.
With ``--png`` it writes, for the worst tracks, a 256-pixel crop of the raw
frame where each is first missed, the result's outlines in red and the gold
marker in green. For each track it also counts the frames in which the
sequence's segmentation annotations (``SEQ_GT/SEG``, ``SEQ_ST/SEG``) leave
its cell out: no annotated object touches its marker. Use it to explain a
result, never to choose a setting.

Usage::

    python eval/missed_tracks.py DATASET_DIR SEQ RES_DIR [--top 10] [--png OUT.png] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ctc.io.naming import RAW_PREFIX, RES_PREFIX, SEG_PREFIX, TRA_PREFIX, find_frames  # noqa: E402
from ctc.io.tiff import read_frame, read_mask  # noqa: E402
from ctc.lineage import read_tracks  # noqa: E402
from ctc.metrics import evaluate  # noqa: E402
from ctc.metrics.measures import det  # noqa: E402
from ctc.segmentation.targets import unannotated_markers  # noqa: E402

CROP = 256


def missed_tracks(gt_dir: Path, res_dir: Path) -> tuple[dict, list[dict]]:
    """Score `res_dir` and group its detection errors by gold track.

    Returns
    -------
    totals : dict
        DET and the AOGM-D counts of the whole sequence.
    rows : list of dict
        One per gold track with an error, worst first: ``track``, its
        ``first`` and ``last`` frames, ``FN`` and ``NS`` frames, the first
        missed frame, and ``DET_if_found`` (DET with this track's
        misses and merges forgiven) and ``DET_if_these_found`` (with those of
        this track and of every worse one forgiven).
    """
    scores = evaluate(gt_dir, res_dir, metrics=["DET"], collect_errors=True)
    errors = scores.errors

    def det_forgiving(fn_forgiven: float, ns_forgiven: float) -> float:
        return det(scores.NS - ns_forgiven, scores.FN - fn_forgiven, scores.FP,
                   scores.n_vertices)

    fn = Counter(g for _, g in errors.FN)
    ns: Counter = Counter()
    for _, _, covered in errors.NS:
        # The official NS count charges k - 1 splits to an object that covers k markers;
        # each covered marker carries its share.
        for g in covered:
            ns[g] += (len(covered) - 1) / len(covered)
    first_miss = {}
    for t, g in sorted(errors.FN):
        first_miss.setdefault(g, t)
    spans = {track.label: (track.begin, track.end)
             for track in read_tracks(gt_dir / "TRA" / "man_track.txt")}
    rows = []
    for g in set(fn) | set(ns):
        first, last = spans.get(g, (None, None))
        rows.append({"track": int(g), "first": first, "last": last, "FN": fn[g],
                     "NS": round(ns[g], 2), "first_missed": first_miss.get(g),
                     "DET_if_found": det_forgiving(fn[g], ns[g])})
    rows.sort(key=lambda r: (-r["DET_if_found"], r["track"]))
    fn_sum = ns_sum = 0.0
    for row in rows:
        fn_sum, ns_sum = fn_sum + fn[row["track"]], ns_sum + ns[row["track"]]
        row["DET_if_these_found"] = det_forgiving(fn_sum, ns_sum)
    totals = {"DET": scores.DET, "NS": scores.NS, "FN": scores.FN, "FP": scores.FP,
              "vertices": scores.n_vertices, "gold_tracks": len(spans),
              "tracks_with_misses": len(fn)}
    return totals, rows


def left_out(seg_dir: Path, tra_dir: Path) -> tuple[int, Counter]:
    """How often a segmentation annotation leaves out a marked cell.

    Returns the number of annotated frames and, per gold track, the frames of
    `seg_dir` in which no annotated object touches its marker (the cells that
    training ignores only around the marker, :func:`annotation_mask`).
    """
    segs, markers = find_frames(seg_dir, SEG_PREFIX), find_frames(tra_dir, TRA_PREFIX)
    counts: Counter = Counter()
    for t, path in segs.paths.items():
        if t in markers.paths:
            counts.update(int(g) for g in unannotated_markers(read_mask(path),
                                                             read_mask(markers.paths[t])))
    return len(segs), counts


def crop_png(raw_dir: Path, gt_dir: Path, res_dir: Path, rows: list[dict], out: Path) -> None:
    """Write crops of the first missed frame of each row side by side."""
    from skimage.io import imsave
    from skimage.segmentation import find_boundaries

    raws, markers = find_frames(raw_dir, RAW_PREFIX), find_frames(gt_dir / "TRA", TRA_PREFIX)
    results = find_frames(res_dir, RES_PREFIX)
    tiles = []
    for row in rows:
        t, g = row["first_missed"], row["track"]
        raw = read_frame(raws.paths[t]).astype(np.float32)
        marker = read_mask(markers.paths[t]) == g
        result = read_mask(results.paths[t])
        ys, xs = np.nonzero(marker)
        y0 = int(np.clip(ys.mean() - CROP // 2, 0, max(raw.shape[0] - CROP, 0)))
        x0 = int(np.clip(xs.mean() - CROP // 2, 0, max(raw.shape[1] - CROP, 0)))
        window = np.s_[y0:y0 + CROP, x0:x0 + CROP]
        lo, hi = np.percentile(raw[window], (1, 99))
        grey = np.clip((raw[window] - lo) / max(hi - lo, 1e-6), 0, 1)
        rgb = np.repeat(grey[..., None], 3, axis=-1)
        rgb[find_boundaries(result[window])] = (1, 0, 0)
        rgb[marker[window]] = (0, 1, 0)
        tile = np.zeros((CROP, CROP, 3), np.float32)
        tile[:rgb.shape[0], :rgb.shape[1]] = rgb
        tiles.append(tile)
    imsave(out, (np.concatenate(tiles, axis=1) * 255).astype(np.uint8), check_contrast=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="dataset folder (holds SEQ and SEQ_GT)")
    parser.add_argument("seq")
    parser.add_argument("res", type=Path, help="the result folder (maskTTT.tif, res_track.txt)")
    parser.add_argument("--top", type=int, default=10, help="tracks to print (default 10)")
    parser.add_argument("--png", type=Path, help="crops of the worst tracks' first miss")
    parser.add_argument("--json", action="store_true", help="print totals and rows as JSON")
    args = parser.parse_args()
    gt_dir = args.dataset / f"{args.seq}_GT"
    totals, rows = missed_tracks(gt_dir, args.res)
    top = rows[:args.top]
    kinds = [k for k in ("GT", "ST") if (args.dataset / f"{args.seq}_{k}" / "SEG").is_dir()]
    for kind in kinds:
        frames, counts = left_out(args.dataset / f"{args.seq}_{kind}" / "SEG", gt_dir / "TRA")
        totals[f"{kind}_SEG_frames"] = frames
        totals[f"{kind}_SEG_left_out"] = sum(counts.values())
        for row in top:
            row[f"left_out_{kind}"] = counts[row["track"]]
    if args.png and top:
        missed = [r for r in top if r["first_missed"] is not None]
        crop_png(args.dataset / args.seq, gt_dir, args.res, missed, args.png)
    if args.json:
        print(json.dumps({"totals": totals, "tracks": top}, indent=1))
        return
    fn_top = sum(r["FN"] for r in top)
    print(f"DET {totals['DET']:.4f}: NS {totals['NS']}, FN {totals['FN']} in "
          f"{totals['tracks_with_misses']} of {totals['gold_tracks']} gold tracks, "
          f"FP {totals['FP']}; the {len(top)} worst tracks hold {fn_top} of the FN")
    for kind in kinds:
        print(f"{kind} segmentation: {totals[f'{kind}_SEG_frames']} frames, "
              f"{totals[f'{kind}_SEG_left_out']} marked cells left out")
    print("track  frames    FN   NS  first missed  DET if found  with the worse ones"
          + "".join(f"  left out ({k})" for k in kinds))
    for r in top:
        span = f"{r['first']}-{r['last']}"
        missed = "-" if r["first_missed"] is None else str(r["first_missed"])
        print(f"{r['track']:5d}  {span:>8}  {r['FN']:3d}  {r['NS']:4.1f}  {missed:>12}"
              f"  {r['DET_if_found']:12.4f}  {r['DET_if_these_found']:18.4f}"
              + "".join(f"  {r[f'left_out_{k}']:14d}" for k in kinds))


if __name__ == "__main__":
    main()
