"""A one-page picture of a result: raw frame, segmentation overlay, lineage tree."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ctc.io.naming import RAW_PREFIX, RES_PREFIX, find_frames
from ctc.io.tiff import read_frame, read_mask
from ctc.lineage import TrackTable, read_tracks

__all__ = ["draw_lineage", "lineage_positions", "write_report"]


def lineage_positions(table: TrackTable) -> dict[int, float]:
    """Horizontal position of every track in a drawn lineage forest.

    Leaves take consecutive integer positions in depth-first order (roots by
    label); a parent sits at the mean of its children.
    """
    children: dict[int, list[int]] = {}
    for track in table:
        children.setdefault(track.parent, []).append(track.label)
    labels = set(table.labels)
    roots = sorted(t.label for t in table if t.parent == 0 or t.parent not in labels)
    position: dict[int, float] = {}
    next_leaf = 0.0
    stack: list[tuple[int, bool]] = [(r, False) for r in reversed(roots)]
    while stack:  # iterative post-order: deep lineages must not hit the recursion limit
        label, expanded = stack.pop()
        kids = sorted(children.get(label, []))
        if not kids:
            position[label] = next_leaf
            next_leaf += 1
        elif expanded:
            position[label] = float(np.mean([position[k] for k in kids]))
        else:
            stack.append((label, True))
            stack.extend((k, False) for k in reversed(kids))
    return position


def draw_lineage(ax, table: TrackTable, track_color: str | None = None,
                 link_color: str = "0.4", track_lw: float = 1.2,
                 link_lw: float = 0.8) -> dict[int, float]:
    """Draw a lineage forest on matplotlib axes: frames downwards, one column per track.

    Tracks are vertical lines (colour `track_color`, or red for tracks with a
    parent and blue for roots), joined to their parent by horizontal links.

    Returns
    -------
    dict
        The horizontal position of every track (:func:`lineage_positions`).
    """
    x = lineage_positions(table)
    for track in table:
        color = track_color or ("tab:red" if track.parent else "tab:blue")
        ax.plot([x[track.label]] * 2, [track.begin, track.end + 1], lw=track_lw, color=color)
        if track.parent in x:
            ax.plot([x[track.parent], x[track.label]], [track.begin] * 2, lw=link_lw,
                    color=link_color)
    ax.invert_yaxis()
    ax.set_ylabel("frame")
    ax.set_xticks([])
    return x


def write_report(raw_dir: str | Path, res_dir: str | Path, png: str | Path, *,
                 frame: int | None = None, title: str = "",
                 scores: dict[str, float] | None = None,
                 spacing: tuple[float, ...] | None = None) -> Path:
    """Draw raw frame, segmentation overlay and lineage tree of a result into a PNG.

    Parameters
    ----------
    raw_dir, res_dir : path
        The raw sequence (``tTTT.tif``) and its result (``maskTTT.tif`` +
        ``res_track.txt``); 3D frames are shown as maximum projections, with
        an xz and a yz section through the middle of the volume below.
    png : path
        The picture to write.
    frame : int, optional
        Frame to show (default: the middle one).
    title : str
        Heading of the page.
    scores : dict, optional
        Measures to print under the heading.
    spacing : tuple of float, optional
        3D: voxel size (z, y, x) relative to x, so that sections keep their
        proportions.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from skimage.color import label2rgb
    from skimage.segmentation import find_boundaries

    raw_files = find_frames(raw_dir, RAW_PREFIX)
    res_files = find_frames(res_dir, RES_PREFIX)
    frames = sorted(set(raw_files.frames) & set(res_files.frames))
    t = frames[len(frames) // 2] if frame is None else frame
    volume = read_frame(raw_files.paths[t]).astype(np.float32)
    labels = read_mask(res_files.paths[t])
    image, mask = (volume.max(0), labels.max(0)) if volume.ndim == 3 else (volume, labels)
    lo, hi = np.percentile(image, (0.5, 99.8))

    def shade(picture: np.ndarray) -> np.ndarray:
        return np.clip((picture - lo) / max(hi - lo, 1e-6), 0, 1)

    def outline(picture: np.ndarray, objects: np.ndarray) -> np.ndarray:
        gray = shade(picture)
        overlay = label2rgb(objects, gray, alpha=0.3, bg_label=0)
        overlay[find_boundaries(objects, mode="inner")] = (1.0, 1.0, 0.0)
        return overlay

    table = read_tracks(Path(res_dir) / "res_track.txt")
    if volume.ndim == 3:
        fig = plt.figure(figsize=(16, 9.5))
        grid = fig.add_gridspec(2, 3, width_ratios=[1, 1, 1.3], height_ratios=[2.2, 1])
        axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]),
                fig.add_subplot(grid[:, 2])]
        aspect = spacing[0] if spacing else 1.0
        cy, cx = volume.shape[1] // 2, volume.shape[2] // 2
        for k, (section, objects, name) in enumerate((
                (volume[:, cy], labels[:, cy], f"xz section at y={cy}"),
                (volume[:, :, cx], labels[:, :, cx], f"yz section at x={cx}"))):
            ax = fig.add_subplot(grid[1, k])
            ax.imshow(outline(section, objects), aspect=aspect)
            ax.set_title(name)
            ax.set_axis_off()
    else:
        fig, axes = plt.subplots(1, 3, figsize=(16, 5.6),
                                 gridspec_kw={"width_ratios": [1, 1, 1.3]})
    projection = " (maximum projection)" if volume.ndim == 3 else ""
    axes[0].imshow(shade(image), cmap="gray")
    axes[0].set_title(f"raw frame {t}{projection}")
    axes[1].imshow(outline(image, mask))
    axes[1].set_title(f"segmentation: {len(np.unique(labels)) - 1} objects")
    for ax in axes[:2]:
        ax.set_axis_off()
    ax = axes[2]
    draw_lineage(ax, table)
    ax.axhline(t + 0.5, color="0.7", lw=0.6, ls="--")
    divisions = len({tr.parent for tr in table if tr.parent})
    ax.set_title(f"lineage: {len(table)} tracks, {divisions} divisions")
    heading = title
    if scores:
        heading += ("\n" if heading else "") + "   ".join(
            f"{k} {v:.3f}" for k, v in scores.items())
    if heading:
        fig.suptitle(heading)
    fig.tight_layout()
    png = Path(png)
    fig.savefig(png, dpi=90)
    plt.close(fig)
    return png
