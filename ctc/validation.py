"""Validation of a CTC result (``NN_RES``) or tracking annotation (``NN_GT/TRA``).

Every rule of the CTC format is checked and *every* violation is reported,
each with the file, frame and label concerned and a one-line explanation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ctc.errors import CTCError
from ctc.io.naming import (
    GT_TRACK_FILE,
    RAW_PREFIX,
    RES_PREFIX,
    RES_TRACK_FILE,
    TRA_PREFIX,
    FrameFiles,
    find_frames,
)
from ctc.io.tiff import MAX_LABEL, frame_info, label_dtype_problem, read_frame
from ctc.labels import present_labels
from ctc.lineage import Track, check_tracks, parse_tracks
from ctc.progress import track_progress

ERROR = "error"
WARNING = "warning"

EXIT_VALID, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


@dataclass(frozen=True)
class Problem:
    """One finding of the validator.

    Attributes
    ----------
    severity : {"error", "warning"}
    code : str
        Stable identifier of the rule, e.g. ``"track-gap"``.
    message : str
        One-line explanation.
    file, frame, label
        Where the problem is, when it has a place.
    """

    severity: str
    code: str
    message: str
    file: str | None = None
    frame: int | None = None
    label: int | None = None

    def __str__(self) -> str:
        where = " ".join(
            part for part in (
                self.file or "",
                f"frame {self.frame}" if self.frame is not None else "",
                f"label {self.label}" if self.label is not None else "",
            ) if part
        )
        prefix = f"{where}: " if where else ""
        return f"{self.severity.upper():7s} [{self.code}] {prefix}{self.message}"


@dataclass
class ValidationReport:
    """All problems found in one folder, and what was checked."""

    folder: Path
    kind: str = "unknown"
    n_frames: int | None = None
    frames_source: str | None = None
    n_tracks: int | None = None
    usable: bool = True
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def valid(self) -> bool:
        return self.usable and not self.errors

    @property
    def exit_code(self) -> int:
        """0 valid, 1 invalid, 2 unusable input."""
        if not self.usable:
            return EXIT_UNUSABLE
        return EXIT_INVALID if self.errors else EXIT_VALID

    def add(self, severity: str, code: str, message: str, *, file: str | Path | None = None,
            frame: int | None = None, label: int | None = None) -> None:
        name = None if file is None else Path(file).name
        self.problems.append(Problem(severity, code, message, name, frame, label))

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {
            "folder": str(self.folder),
            "kind": self.kind,
            "valid": self.valid,
            "exit_code": self.exit_code,
            "n_frames": self.n_frames,
            "frames_source": self.frames_source,
            "n_tracks": self.n_tracks,
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "problems": [asdict(p) for p in self.problems],
        }

    def summary(self) -> str:
        verdict = "VALID" if self.valid else ("UNUSABLE" if not self.usable else "INVALID")
        parts = [f"{verdict}: {self.folder} ({self.kind}"]
        if self.n_frames is not None:
            parts.append(f", {self.n_frames} frames")
        if self.n_tracks is not None:
            parts.append(f", {self.n_tracks} tracks")
        parts.append(f"; {len(self.errors)} errors, {len(self.warnings)} warnings)")
        return "".join(parts)


@dataclass
class MaskScan:
    """What one pass over the masks of a folder found (labels per frame, shapes)."""

    files: FrameFiles
    labels: dict[int, np.ndarray] = field(default_factory=dict)
    shape: tuple[int, ...] | None = None
    dtype: np.dtype | None = None

    def presence(self) -> dict[int, list[int]]:
        """Label -> ascending frames where it is present."""
        frames_of: dict[int, list[int]] = {}
        for frame in sorted(self.labels):
            for label in self.labels[frame].tolist():
                frames_of.setdefault(label, []).append(frame)
        return frames_of


def scan_masks(files: FrameFiles, report: ValidationReport, *, progress: bool = False) -> MaskScan:
    """Read every mask once, recording labels, and report per-file problems.

    Checks: readable TIFF, integer unsigned dtype, one shape for all frames,
    labels within 0..65535, and warns on empty frames and non-uint16 dtypes.
    """
    scan = MaskScan(files)
    for frame, path in track_progress(files.paths.items(), desc="reading masks", unit="frame",
                                      enabled=progress):
        try:
            mask = read_frame(path)
        except CTCError as exc:
            report.add(ERROR, "unreadable", exc.message, file=path, frame=frame)
            continue
        check_mask(mask, path, frame, scan, report)
    return scan


def check_mask(mask: np.ndarray, path: Path, frame: int, scan: MaskScan,
               report: ValidationReport) -> np.ndarray | None:
    """Check one mask as :func:`scan_masks` does; record and return its labels.

    Returns None when no labels can be read from it (float or negative values).
    """
    dtype_problem = label_dtype_problem(mask.dtype)
    if dtype_problem:
        report.add(ERROR, "mask-dtype", dtype_problem, file=path, frame=frame)
        integral = mask.dtype.kind in "iub" or bool(np.all(np.mod(mask, 1) == 0))
        if not integral or (mask.size and mask.min() < 0):
            return None  # labels cannot be read from this mask
        mask = mask.astype(np.int64)
    elif mask.dtype != np.uint16:
        report.add(WARNING, "mask-dtype", f"{mask.dtype} mask; CTC results are uint16",
                   file=path, frame=frame)
    if scan.shape is None:
        scan.shape, scan.dtype = mask.shape, mask.dtype
    elif mask.shape != scan.shape:
        report.add(ERROR, "shape-mismatch",
                   f"shape {mask.shape} ({mask.ndim}D) differs from the first frame's "
                   f"{scan.shape} ({len(scan.shape)}D); all frames need one shape",
                   file=path, frame=frame)
    labels = present_labels(mask)
    too_large = labels[labels > MAX_LABEL]
    if too_large.size:
        report.add(ERROR, "label-too-large",
                   f"labels {_short_list(too_large.tolist())} exceed 65535 (uint16); "
                   "relabel them (`ctc repair` does it)", file=path, frame=frame)
    if not labels.size:
        report.add(WARNING, "empty-frame",
                   "no objects; SEG accepts it but the official DET/TRA tools refuse "
                   "an empty frame", file=path, frame=frame)
    scan.labels[frame] = labels
    return labels


def check_mask_headers(files: FrameFiles, skip: set[int], scan: MaskScan,
                       report: ValidationReport) -> None:
    """Check the masks not read (all frames but `skip`) from their TIFF headers.

    Dtype and shape come from the header; only masks wider than uint16, which
    may hold labels above 65535, are read. Their labels are not recorded.
    """
    for frame, path in files.paths.items():
        if frame in skip:
            continue
        try:
            info = frame_info(path)
        except CTCError as exc:
            report.add(ERROR, "unreadable", exc.message, file=path, frame=frame)
            continue
        if label_dtype_problem(info.dtype) or info.dtype.itemsize > 2:
            try:
                check_mask(read_frame(path), path, frame, MaskScan(files, shape=scan.shape),
                           report)
            except CTCError as exc:
                report.add(ERROR, "unreadable", exc.message, file=path, frame=frame)
        elif scan.shape is not None and info.shape != scan.shape:
            report.add(ERROR, "shape-mismatch",
                       f"shape {info.shape} ({info.ndim}D) differs from the other frames' "
                       f"{scan.shape} ({len(scan.shape)}D); all frames need one shape",
                       file=path, frame=frame)


def validate_result(
    folder: str | Path,
    *,
    n_frames: int | None = None,
    seg_only: bool = False,
    progress: bool = False,
) -> ValidationReport:
    """Check a result (``NN_RES``) or tracking annotation (``NN_GT/TRA``) folder.

    Parameters
    ----------
    folder : path
        The folder; its kind is recognised from the file names (``maskTTT.tif``
        + ``res_track.txt``, or ``man_trackTTT.tif`` + ``man_track.txt``).
    n_frames : int, optional
        Expected number of frames. By default taken from the raw sequence
        beside the folder (``DATASET/NN`` for ``DATASET/NN_RES``) when present,
        else from the last frame found.
    seg_only : bool
        Check a segmentation-only result: masks without ``res_track.txt``.
    progress : bool
        Show a progress bar while reading masks.

    Returns
    -------
    ValidationReport
        ``report.valid`` and ``report.exit_code`` summarise; ``report.problems``
        lists everything found.
    """
    folder = Path(folder)
    report = ValidationReport(folder)
    if not folder.is_dir():
        report.usable = False
        report.add(ERROR, "missing-folder",
                   "folder not found" if not folder.exists() else "not a folder", file=folder)
        return report
    prefix, track_name = _folder_kind(folder)
    report.kind = "RES" if prefix == RES_PREFIX else "GT TRA"
    try:
        files = find_frames(folder, prefix)
    except CTCError as exc:
        report.usable = False
        report.add(ERROR, "no-frames" if "no '" in exc.message else "frame-names",
                   exc.message, file=folder)
        return report

    report.n_frames, report.frames_source = expected_frames(folder, files, n_frames)
    check_frame_numbers(files, report)
    scan = scan_masks(files, report, progress=progress)
    check_against_raw(folder, scan, report)

    track_path = folder / track_name
    if not track_path.is_file():
        if not seg_only:
            report.add(ERROR, "missing-track-file",
                       f"{track_name} not found; it is required for DET/TRA/LNK "
                       "(use --seg-only to check a segmentation-only result)", file=track_path)
        return report
    try:
        text = track_path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        report.add(ERROR, "unreadable", f"unreadable track file ({exc})", file=track_path)
        return report
    tracks, syntax = parse_tracks(text)
    report.n_tracks = len(tracks)
    for p in syntax:
        report.add(ERROR, p.code, p.message, file=track_path, label=p.label)
    check_lineage(tracks, scan, track_path, report)
    return report


def check_lineage(tracks: list[Track], scan: MaskScan, track_path: Path,
                  report: ValidationReport) -> None:
    """Every lineage rule on parsed `tracks`, and their agreement with the masks of `scan`.

    The frame range comes from ``report.n_frames``.
    """
    for p in check_tracks(tracks, report.n_frames):
        report.add(ERROR, p.code, p.message, file=track_path, label=p.label)
    check_presence(tracks, scan, track_path, report)


def _folder_kind(folder: Path) -> tuple[str, str]:
    if any(folder.glob(f"{TRA_PREFIX}*.tif")) and not any(folder.glob(f"{RES_PREFIX}*.tif")):
        return TRA_PREFIX, GT_TRACK_FILE
    return RES_PREFIX, RES_TRACK_FILE


def _raw_folder(folder: Path) -> Path | None:
    """The raw sequence ``DATASET/NN`` belonging to ``NN_RES`` or ``NN_GT/TRA``."""
    res = re.match(r"^([0-9]+)_RES$", folder.name)
    if res:
        raw = folder.parent / res.group(1)
    else:
        gt = re.match(r"^([0-9]+)_GT$", folder.parent.name)
        if not gt:
            return None
        raw = folder.parent.parent / gt.group(1)
    return raw if raw.is_dir() else None


def expected_frames(folder: Path, files: FrameFiles, n_frames: int | None) -> tuple[int, str]:
    """Expected frame count of a result folder and where it comes from.

    `n_frames` when given, else the raw sequence beside the folder, else the
    last frame found.
    """
    if n_frames is not None:
        return n_frames, "--frames"
    raw = _raw_folder(folder)
    if raw is not None:
        try:
            raw_files = find_frames(raw, RAW_PREFIX)
            return max(raw_files.frames) + 1, f"raw sequence {raw}"
        except CTCError:
            pass
    return max(files.frames) + 1, "last frame found"


def check_frame_numbers(files: FrameFiles, report: ValidationReport) -> None:
    """Report frames missing from, or beyond, ``0 .. report.n_frames - 1``."""
    n = report.n_frames
    missing = files.missing_frames(n)
    extra = [t for t in files.frames if t >= n]
    if missing:
        report.add(ERROR, "frame-missing",
                   f"{len(missing)} of {n} frames have no {files.prefix} file: "
                   f"{format_ranges(missing)} (source of the count: {report.frames_source})",
                   frame=missing[0])
    if extra:
        report.add(ERROR, "frame-extra",
                   f"{len(extra)} frames beyond the expected {n}: {format_ranges(extra)} "
                   f"(source of the count: {report.frames_source})", frame=extra[0])


def check_against_raw(folder: Path, scan: MaskScan, report: ValidationReport) -> None:
    """Report masks whose shape differs from the raw frames beside the folder."""
    raw = _raw_folder(folder)
    if raw is None or scan.shape is None:
        return
    try:
        raw_files = find_frames(raw, RAW_PREFIX)
        raw_shape = frame_info(next(iter(raw_files.paths.values()))).shape
    except CTCError:
        return
    if raw_shape != scan.shape:
        report.add(ERROR, "shape-mismatch",
                   f"mask shape {scan.shape} differs from the raw frames' {raw_shape} in {raw}")


def check_presence(tracks: list[Track], scan: MaskScan, track_path: Path,
                   report: ValidationReport) -> None:
    """Report every disagreement between the declared tracks and the labels in the masks."""
    declared: dict[int, Track] = {}
    for t in tracks:
        declared.setdefault(t.label, t)
    frames_of = scan.presence()
    readable = set(scan.labels)
    for label, frames in frames_of.items():
        track = declared.get(label)
        if track is None:
            report.add(ERROR, "label-undeclared",
                       f"present in frames {format_ranges(frames)} but not declared in "
                       f"{track_path.name}", file=scan.files.paths[frames[0]],
                       frame=frames[0], label=label)
            continue
        outside = [f for f in frames if not track.begin <= f <= track.end]
        if outside:
            report.add(ERROR, "label-outside-track",
                       f"present in frames {format_ranges(outside)}, outside its track "
                       f"[{track.begin}, {track.end}]", file=scan.files.paths[outside[0]],
                       frame=outside[0], label=label)
    readable_frames = np.array(sorted(readable), np.int64)
    for label, track in declared.items():
        present = frames_of.get(label, ())
        # over the frames read, not range(begin, end + 1): a track may claim far more
        inside = readable_frames[(readable_frames >= track.begin)
                                 & (readable_frames <= track.end)]
        absent = inside[~np.isin(inside, present)].tolist()
        if not present:
            report.add(ERROR, "track-absent",
                       f"declared with frames [{track.begin}, {track.end}] but absent from "
                       "every mask", file=track_path, label=label)
        elif absent:
            report.add(ERROR, "track-gap",
                       f"absent from frames {format_ranges(absent)} inside its track "
                       f"[{track.begin}, {track.end}]; a track that disappears must continue "
                       "as a new label with this one as parent",
                       file=scan.files.paths.get(absent[0], track_path),
                       frame=absent[0], label=label)


def format_ranges(values: Iterable[int]) -> str:
    """Compact list of integers, e.g. ``"3-5, 9"``."""
    values = sorted(values)
    out: list[str] = []
    start = prev = None
    for v in values:
        if start is None:
            start = prev = v
        elif v == prev + 1:
            prev = v
        else:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = v
    if start is not None:
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
    return _short_list(out)


def _short_list(items: list, limit: int = 12) -> str:
    text = ", ".join(str(i) for i in items[:limit])
    return text + (f", ... ({len(items)} in all)" if len(items) > limit else "")
