"""Tracking drivers: in-memory arrays, streamed arrays, or a folder of masks -> CTC result."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ctc.errors import CTCInputError
from ctc.io.naming import find_numbered_frames
from ctc.io.res_writer import ResultWriter
from ctc.io.tiff import read_mask
from ctc.labels import relabel
from ctc.lineage import TrackTable
from ctc.progress import track_progress
from ctc.tracking.config import TrackingConfig
from ctc.tracking.tracker import Tracker, TrackingResult


def track(masks: Iterable[np.ndarray], config: TrackingConfig | None = None
          ) -> tuple[list[np.ndarray], TrackTable]:
    """Track in-memory label images; returns relabelled uint16 masks and the track table."""
    tracker = Tracker(config)
    kept = [tracker.add(mask) for mask in masks]
    if not kept:
        raise CTCInputError("no frames to track")
    result = tracker.finish()
    return [relabel(m, result.mappings[t]) for t, m in enumerate(kept)], result.tracks


def _digits(n_frames: int) -> int:
    return max(3, len(str(n_frames - 1)))


def _write(writer: ResultWriter, result: TrackingResult,
           read: Callable[[int], np.ndarray], progress: bool) -> None:
    for t in track_progress(range(len(result.mappings)), desc="writing tracks", unit="frame",
                            enabled=progress):
        writer.write_mask(t, relabel(read(t), result.mappings[t]))
    writer.write_tracks(result.tracks)


def track_to_result(
    masks: Iterable[np.ndarray],
    out_dir: str | Path,
    config: TrackingConfig | None = None,
    *,
    overwrite: bool = False,
    progress: bool = False,
    digits: int | None = None,
) -> TrackTable:
    """Track a stream of label images and write a CTC result folder atomically.

    Frames are consumed one at a time; each is parked in the result's
    temporary folder until the lineage is final, so memory stays bounded for
    sequences of any length.

    Parameters
    ----------
    masks : iterable of ndarray
        Instance masks of frames 0, 1, ... (labels arbitrary per frame).
    out_dir : path
        The ``NN_RES`` folder to create.
    config : TrackingConfig, optional
    overwrite : bool
        Replace an existing `out_dir` once the new result is complete.
    progress : bool
        Show progress bars.
    digits : int, optional
        Digits of the frame numbers in the file names (default: 3, more for
        sequences of over 1,000 frames).

    Returns
    -------
    TrackTable
    """
    tracker = Tracker(config)
    with ResultWriter(out_dir, overwrite=overwrite) as writer:
        park = writer.tmp_dir / ".frames"
        park.mkdir()
        for mask in track_progress(masks, desc="tracking", unit="frame", enabled=progress):
            t = tracker.n_frames
            np.save(park / f"{t}.npy", tracker.add(mask))
        if tracker.n_frames == 0:
            raise CTCInputError("no frames to track")
        result = tracker.finish()
        writer.digits = digits or _digits(tracker.n_frames)
        _write(writer, result, lambda t: np.load(park / f"{t}.npy"), progress)
        shutil.rmtree(park)
    return result.tracks


def track_folder(
    masks_dir: str | Path,
    out_dir: str | Path,
    config: TrackingConfig | None = None,
    *,
    prefix: str | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> TrackTable:
    """Track the numbered label images of a folder into a CTC result folder.

    Parameters
    ----------
    masks_dir : path
        Folder of ``PREFIXNNN.tif`` instance masks numbered 0..N-1 (any prefix:
        ``mask``, ``man_seg``, ``t``, ...).
    out_dir : path
        The ``NN_RES`` folder to create (atomically).
    config : TrackingConfig, optional
    prefix : str, optional
        File-name prefix when the folder holds several numbered series.
    overwrite, progress : bool
        As in :func:`track_to_result`.
    """
    files = find_numbered_frames(masks_dir, prefix)
    missing = files.missing_frames()
    if missing or files.frames[0] != 0:
        raise CTCInputError(
            f"frames must be numbered 0..N-1 without gaps; missing {missing[:10]}", masks_dir)
    if config is not None and config.split_merged:
        # the tracker cuts merged objects: write the masks it tracked, not the files
        return track_to_result((read_mask(files.paths[t]) for t in files.frames), out_dir,
                               config, overwrite=overwrite, progress=progress,
                               digits=files.digits)
    tracker = Tracker(config)
    for t in track_progress(files.frames, desc="tracking", unit="frame", enabled=progress):
        tracker.add(read_mask(files.paths[t]))
    result = tracker.finish()
    with ResultWriter(out_dir, digits=files.digits, n_frames=len(files),
                      overwrite=overwrite) as writer:
        _write(writer, result, lambda t: read_mask(files.paths[t]), progress)
    return result.tracks
