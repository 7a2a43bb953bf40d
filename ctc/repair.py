"""Repair of a nearly-valid CTC result, without inventing objects.

The repair trusts the masks and rewrites the track table to match them:

- a track with gaps is split into one track per run of frames, each run the
  child of the previous one (the CTC way to write a track that disappears);
- declared labels absent from every mask are dropped;
- labels present in the masks but not declared become tracks of their own;
- declared frame ranges are corrected to where the label is present;
- labels above 65535 get free labels; parents that do not end before their
  child begins lose the link.

Problems that would need new pixels (missing frames, unreadable files, frames
of different shapes) are not repaired: the repair refuses and says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ctc.errors import CTCFormatError
from ctc.io.naming import RES_PREFIX, RES_TRACK_FILE, find_frames
from ctc.io.res_writer import ResultWriter
from ctc.io.tiff import MAX_LABEL, read_frame
from ctc.labels import relabel
from ctc.lineage import Track, TrackTable, check_tracks, parse_tracks
from ctc.progress import track_progress
from ctc.validation import (
    ERROR,
    ValidationReport,
    expected_frames,
    format_ranges,
    scan_masks,
    validate_result,
)


@dataclass
class RepairReport:
    """What :func:`repair_result` changed, and the validation of its output."""

    source: Path
    target: Path
    changes: list[str] = field(default_factory=list)
    validation: ValidationReport | None = None

    def to_dict(self) -> dict:
        return {
            "source": str(self.source),
            "target": str(self.target),
            "changes": self.changes,
            "valid": None if self.validation is None else self.validation.valid,
            "validation": None if self.validation is None else self.validation.to_dict(),
        }


def _runs(frames: list[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive frames, as (first, last) pairs."""
    frames_arr = np.asarray(frames)
    breaks = np.flatnonzero(np.diff(frames_arr) > 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(frames_arr) - 1]])
    return [(int(frames_arr[s]), int(frames_arr[e])) for s, e in zip(starts, ends, strict=True)]


class _LabelPool:
    """Hands out unused labels in 1..65535, smallest first."""

    def __init__(self, used: set[int]):
        self._used = used
        self._next = 1

    def take(self) -> int:
        while self._next in self._used:
            self._next += 1
        if self._next > MAX_LABEL:
            raise CTCFormatError("no free label left in 1..65535 to repair the result")
        self._used.add(self._next)
        return self._next


def plan_repair(
    presence: dict[int, list[int]], declared: list[Track], changes: list[str]
) -> tuple[TrackTable, dict[int, list[tuple[int, int, int]]]]:
    """Compute the repaired track table from the labels present in each frame.

    Parameters
    ----------
    presence : dict
        Label -> ascending frames where the masks contain it.
    declared : list of Track
        Tracks read from the table (first line wins on duplicate labels).
    changes : list of str
        Receives one line per change.

    Returns
    -------
    table : TrackTable
        The repaired tracks.
    segments : dict
        Old label -> list of ``(new_label, first, last)`` runs, used to
        relabel the masks.
    """
    by_label: dict[int, Track] = {}
    for t in declared:
        by_label.setdefault(t.label, t)
    used = {label for label in list(presence) + list(by_label) if label <= MAX_LABEL}
    pool = _LabelPool(used)
    segments: dict[int, list[tuple[int, int, int]]] = {}
    parent_of: dict[int, int] = {}
    for label in sorted(presence):
        runs = _runs(presence[label])
        first = label
        if label > MAX_LABEL:
            first = pool.take()
            changes.append(f"label {label} exceeds 65535: relabelled {first}")
        labels = [first] + [pool.take() for _ in runs[1:]]
        segments[label] = [(new, b, e) for new, (b, e) in zip(labels, runs, strict=True)]
        for prev, new in zip(labels[:-1], labels[1:], strict=True):
            parent_of[new] = prev
        track = by_label.get(label)
        span = (runs[0][0], runs[-1][1])
        if track is None:
            changes.append(f"label {label}: present in frames {span[0]}-{span[1]} but "
                           "undeclared; added as a track")
        elif (track.begin, track.end) != span:
            changes.append(f"label {label}: declared frames [{track.begin}, {track.end}] "
                           f"corrected to [{span[0]}, {span[1]}] where it is present")
        if len(runs) > 1:
            pieces = ", ".join(f"{new} ({b}-{e})" for new, b, e in segments[label])
            changes.append(f"label {label}: gaps in frames {_gaps(runs)}; split into "
                           f"{pieces}, each the parent of the next")
    for label in by_label:
        if label not in presence:
            changes.append(f"label {label}: declared but absent from every mask; dropped")
    # Declared parents: link to the run of the parent that ends last before the child.
    for label, runs in segments.items():
        track = by_label.get(label)
        if track is None or track.parent == 0:
            continue
        first_label, begin, _ = runs[0]
        candidates = [(e, new) for new, _, e in segments.get(track.parent, []) if e < begin]
        if track.parent == label or not candidates:
            reason = ("is the track itself" if track.parent == label else
                      "is absent from the masks" if track.parent not in segments else
                      f"does not end before frame {begin}")
            changes.append(f"label {label}: parent {track.parent} {reason}; link removed")
            continue
        parent_new = max(candidates)[1]
        if parent_new != track.parent:
            changes.append(f"label {label}: parent {track.parent} is now {parent_new}")
        parent_of[first_label] = parent_new
    table = TrackTable(
        Track(new, b, e, parent_of.get(new, 0))
        for runs in segments.values() for new, b, e in runs
    )
    return table, segments


def _gaps(runs: list[tuple[int, int]]) -> str:
    gaps = [f for (_, e), (b, _) in zip(runs[:-1], runs[1:], strict=True) for f in range(e + 1, b)]
    return format_ranges(gaps)


def repair_result(
    res_dir: str | Path,
    out_dir: str | Path,
    *,
    n_frames: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> RepairReport:
    """Write a repaired copy of result folder `res_dir` to `out_dir`.

    Parameters
    ----------
    res_dir : path
        The result to repair (left untouched).
    out_dir : path
        Where the repaired result is written (atomically).
    n_frames : int, optional
        Expected number of frames (default as in :func:`validate_result`).
    overwrite : bool
        Replace an existing `out_dir`.
    progress : bool
        Show progress bars.

    Returns
    -------
    RepairReport
        The list of changes and the validation of the repaired result.

    Raises
    ------
    CTCFormatError
        When the result needs more than a lineage repair (missing or
        unreadable frames, frames of different shapes).
    """
    res_dir, out_dir = Path(res_dir), Path(out_dir)
    report = RepairReport(res_dir, out_dir)
    files = find_frames(res_dir, RES_PREFIX)
    scan_report = ValidationReport(res_dir)
    expected, source = expected_frames(res_dir, files, n_frames)
    missing = files.missing_frames(expected)
    if missing or max(files.frames) >= expected:
        raise CTCFormatError(
            f"frames do not match the expected 0-{expected - 1} ({source}): missing "
            f"{format_ranges(missing) or 'none'}; a repair cannot invent frames", res_dir)
    scan = scan_masks(files, scan_report, progress=progress)
    fatal = [p for p in scan_report.problems
             if p.severity == ERROR and p.code in {"unreadable", "shape-mismatch"}
             or p.code == "mask-dtype" and p.frame not in scan.labels]
    if fatal:
        raise CTCFormatError("cannot repair: " + "; ".join(
            f"{p.file}: {p.message}" for p in fatal[:5]), res_dir)

    track_path = res_dir / RES_TRACK_FILE
    declared: list[Track] = []
    if track_path.is_file():
        declared, syntax = parse_tracks(track_path.read_text())
        report.changes += [f"{RES_TRACK_FILE} {p.message}; line dropped" for p in syntax]
        report.changes += [f"{RES_TRACK_FILE}: {p.message}; first line kept"
                           for p in check_tracks(declared) if p.code == "track-duplicate"]
    else:
        report.changes.append(f"{RES_TRACK_FILE} missing; built from the masks")
    table, segments = plan_repair(scan.presence(), declared, report.changes)

    with ResultWriter(out_dir, digits=files.digits, n_frames=expected,
                      overwrite=overwrite) as writer:
        for frame, path in track_progress(files.paths.items(), desc="writing repaired masks",
                                          unit="frame", enabled=progress):
            mapping = {old: new for old, runs in segments.items()
                       for new, b, e in runs if b <= frame <= e}
            mask = read_frame(path)
            if mask.dtype.kind == "f":
                mask = mask.astype(np.int64)
            if mask.dtype != np.uint16 and not any("dtype" in c for c in report.changes):
                report.changes.append(f"masks of dtype {mask.dtype} written as uint16")
            writer.write_mask(frame, relabel(mask, mapping))
        writer.write_tracks(table)
    report.validation = validate_result(out_dir, n_frames=expected)
    return report
