"""A picture of a result's errors: vertex errors over chosen frames, edge and division
errors on both lineage trees.

Frames (one panel each, raw image when given, else the result mask) get the
result's outlines and a mark per AOGM vertex error: FN at the centre of the
missed GT marker (red x), FP at the centre of the false result object
(orange o), NS at the centre of the result object that covers several markers
(magenta square). The GT lineage tree shows the edges the result lacks (EA,
red) and the GT divisions no result division matches (red ring on the
mother's end); the result's tree shows its redundant edges (ED, orange), its
edges of the wrong kind (EC, purple) and its false divisions (orange ring).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ctc.errors import CTCInputError
from ctc.io.naming import RAW_PREFIX, RES_PREFIX, TRA_PREFIX, find_frames
from ctc.io.tiff import read_frame, read_mask
from ctc.lineage import TrackTable
from ctc.metrics.aogm import AOGMErrors
from ctc.metrics.divisions import DivisionCounts
from ctc.report import draw_lineage
from ctc.tracking.features import frame_objects

__all__ = ["error_frames", "write_error_report"]


def error_frames(errors: AOGMErrors, count: int = 3) -> list[int]:
    """The `count` frames with the most vertex errors (NS, FN, FP), in frame order."""
    per_frame: dict[int, int] = {}
    for t, *_ in errors.NS + errors.FN + errors.FP:
        per_frame[t] = per_frame.get(t, 0) + 1
    worst = sorted(per_frame, key=lambda t: (-per_frame[t], t))[:count]
    return sorted(worst)


def _centres(mask: np.ndarray) -> dict[int, tuple[float, float]]:
    """Label -> (row, column) of its centre (3D: of its projection along z)."""
    objects = frame_objects(mask.max(0) if mask.ndim == 3 else mask)
    return {int(k): (float(r), float(c))
            for k, (r, c) in zip(objects.labels, objects.centroid, strict=True)}


def _tree(ax, table: TrackTable, title: str) -> dict[int, float]:
    x = draw_lineage(ax, table, track_color="0.35", link_color="0.6", track_lw=1.0,
                     link_lw=0.7)
    ax.set_title(title)
    return x


def _edge_marks(ax, x: dict[int, float], edges, color: str, label: str) -> None:
    pts = [(x[b[1]], b[0]) for _, b in edges if b[1] in x]
    if pts:
        xs, ys = zip(*pts, strict=True)
        ax.scatter(xs, ys, s=16, color=color, label=f"{label} ({len(edges)})", zorder=3)


def _division_marks(ax, x: dict[int, float], divisions, color: str, label: str) -> None:
    pts = [(x[d.mother], d.end + 1) for d in divisions if d.mother in x]
    if pts:
        xs, ys = zip(*pts, strict=True)
        ax.scatter(xs, ys, s=60, facecolors="none", edgecolors=color, linewidths=1.5,
                   label=f"{label} ({len(divisions)})", zorder=4)


def write_error_report(errors: AOGMErrors, gt_dir: str | Path, res_dir: str | Path,
                       png: str | Path, ref_tracks: TrackTable, res_tracks: TrackTable | None,
                       *, frames: list[int] | None = None, raw_dir: str | Path | None = None,
                       divisions: DivisionCounts | None = None, title: str = "") -> Path:
    """Draw the AOGM errors of a scored result into a PNG.

    Parameters
    ----------
    errors : AOGMErrors
        From ``evaluate(..., collect_errors=True)``.
    gt_dir, res_dir : path
        The ``NN_GT`` folder (its ``TRA`` markers) and the ``NN_RES`` folder.
    png : path
        The picture to write.
    ref_tracks, res_tracks : TrackTable
        ``man_track.txt`` and ``res_track.txt`` (None: no result tree).
    frames : list of int, optional
        Frames to draw (default: the three with the most vertex errors).
    raw_dir : path, optional
        The raw sequence, drawn under the marks.
    divisions : DivisionCounts, optional
        From ``evaluate(..., divisions=True)``: marks false and missed divisions.
    title : str
        Heading of the page.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from skimage.segmentation import find_boundaries

    frames = error_frames(errors) if frames is None else sorted(frames)
    res_files = find_frames(res_dir, RES_PREFIX)
    frames = frames or res_files.frames[:1]
    absent = [t for t in frames if t not in res_files.paths]
    if absent:
        raise CTCInputError(f"frames {absent} are not in the result (it has frames "
                            f"{res_files.frames[0]}-{res_files.frames[-1]})", res_dir)
    tra_files = find_frames(Path(gt_dir) / "TRA", TRA_PREFIX)
    raw_files = find_frames(raw_dir, RAW_PREFIX) if raw_dir is not None else None
    n_trees = 2 if res_tracks is not None else 1
    fig, axes = plt.subplots(1, len(frames) + n_trees,
                             figsize=(4.6 * len(frames) + 5 * n_trees, 5.4), squeeze=False)
    axes = axes[0]
    by_type = {name: {} for name in ("FN", "FP", "NS")}
    for name in by_type:
        for item in getattr(errors, name):
            by_type[name].setdefault(item[0], []).append(item[1])
    for ax, t in zip(axes, frames, strict=False):
        mask = read_mask(res_files.paths[t])
        if raw_files is not None and t in raw_files.paths:
            image = read_frame(raw_files.paths[t]).astype(np.float32)
        else:
            image = (mask > 0).astype(np.float32)
        if image.ndim == 3:
            image = image.max(0)
        flat = mask.max(0) if mask.ndim == 3 else mask
        lo, hi = np.percentile(image, (0.5, 99.8))
        gray = np.clip((image - lo) / max(hi - lo, 1e-6), 0, 1)
        rgb = np.dstack([gray] * 3)
        rgb[find_boundaries(flat, mode="inner")] = (1.0, 1.0, 0.0)
        ax.imshow(rgb)
        res_c = _centres(mask)
        gt_c = _centres(read_mask(tra_files.paths[t])) if t in tra_files.paths else {}
        for name, centres, marker, color in (("FN", gt_c, "x", "red"),
                                             ("FP", res_c, "o", "orange"),
                                             ("NS", res_c, "s", "magenta")):
            pts = [centres[label] for label in by_type[name].get(t, []) if label in centres]
            if pts:
                ys, xs = zip(*pts, strict=True)
                ax.scatter(xs, ys, marker=marker, s=40, linewidths=1.5, label=f"{name} "
                           f"({len(pts)})", facecolors="none" if marker != "x" else color,
                           edgecolors=color if marker != "x" else None, color=color)
        ax.set_title(f"frame {t}")
        ax.set_axis_off()
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower right", fontsize=7)
    x_gt = _tree(axes[len(frames)], ref_tracks, "GT lineage: edges missing from the result")
    _edge_marks(axes[len(frames)], x_gt, errors.EA, "red", "EA")
    if divisions is not None:
        _division_marks(axes[len(frames)], x_gt, divisions.missed, "red", "missed division")
    if axes[len(frames)].get_legend_handles_labels()[0]:
        axes[len(frames)].legend(loc="lower right", fontsize=7)
    if res_tracks is not None:
        ax = axes[len(frames) + 1]
        x_res = _tree(ax, res_tracks, "result lineage: redundant / wrong edges")
        _edge_marks(ax, x_res, errors.ED, "orange", "ED")
        _edge_marks(ax, x_res, errors.EC, "purple", "EC")
        if divisions is not None:
            _division_marks(ax, x_res, divisions.false, "orange", "false division")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower right", fontsize=7)
    sizes = {k: len(getattr(errors, k)) for k in ("FN", "FP", "ED", "EA", "EC")}
    sizes["NS"] = sum(len(g) - 1 for *_, g in errors.NS)
    counts = "  ".join(f"{k} {sizes[k]}" for k in ("NS", "FN", "FP", "ED", "EA", "EC"))
    fig.suptitle((title + "\n" if title else "") + counts)
    fig.tight_layout()
    png = Path(png)
    fig.savefig(png, dpi=90)
    plt.close(fig)
    return png
