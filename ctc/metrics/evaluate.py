"""Scoring one sequence: stream the frames once, match, and derive every measure."""

from __future__ import annotations

import math
import os
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ctc.errors import CTCFormatError, CTCInputError, CTCInvalidResultError, CTCWarning
from ctc.io.naming import (
    GT_TRACK_FILE,
    RES_PREFIX,
    RES_TRACK_FILE,
    SEG_PREFIX,
    TRA_PREFIX,
    FrameFiles,
    find_frames,
    find_slice_annotations,
)
from ctc.io.tiff import read_mask
from ctc.lineage import read_tracks
from ctc.metrics import measures
from ctc.metrics.aogm import AOGMErrors, FrameVertices, count_errors, detection_test
from ctc.metrics.association import assign
from ctc.metrics.biological import BC_TOLERANCES, biological_measures
from ctc.metrics.divisions import DivisionCounts, count_divisions
from ctc.metrics.matching import FrameMatch, match_frame
from ctc.metrics.mot import mot_measures
from ctc.progress import track_progress
from ctc.validation import (
    MaskScan,
    ValidationReport,
    check_against_raw,
    check_frame_numbers,
    check_lineage,
    check_mask,
    check_mask_headers,
    expected_frames,
)

ALL_METRICS = ("SEG", "DET", "TRA", "LNK")
#: Keys of :meth:`Scores.to_dict`, in order (the extra measures follow them).
SCORE_KEYS = ("SEG", "DET", "TRA", "LNK", "OP_CSB", "OP_CTB",
              "NS", "FN", "FP", "ED", "EA", "EC")
#: Biological measures (linking benchmark) and multi-object-tracking measures, by the
#: names ``--metrics`` accepts; each expands to the keys it reports.
BIO_METRICS = ("CT", "TF", "BC", "CCA", "BIO", "OP_CLB")
MOT_METRICS = ("CHOTA", "HOTA", "MOTA", "IDF1", "MT", "ML", "MTML", "FAF")
EXTRA_KEYS = {
    "CT": ("CT",), "TF": ("TF",), "CCA": ("CCA",),
    "BC": ("gt_divisions",) + tuple(f"{k}({i})" for i in BC_TOLERANCES
                                    for k in ("BC", "tp_div", "fp_div", "fn_div")),
    "BIO": tuple(f"BIO({i})" for i in BC_TOLERANCES),
    "OP_CLB": tuple(f"OP_CLB({i})" for i in BC_TOLERANCES),
    "CHOTA": ("CHOTA",), "HOTA": ("HOTA", "DetA", "AssA"), "MOTA": ("MOTA", "IDSW"),
    "IDF1": ("IDF1", "IDP", "IDR", "IDTP", "IDFP", "IDFN"), "MT": ("MT",), "ML": ("ML",),
    "MTML": ("MT", "ML"), "FAF": ("FAF",),
}
ALL_NAMES = ALL_METRICS + ("OP_CSB", "OP_CTB") + BIO_METRICS + MOT_METRICS
#: Biological names that need others: BIO is the mean of its parts, OP_CLB uses BIO.
IMPLIED = {"BIO": ("CT", "TF", "BC", "CCA", "BIO"),
           "OP_CLB": ("CT", "TF", "BC", "CCA", "BIO", "OP_CLB")}


@dataclass
class Scores:
    """Measures of one sequence (None where not computed) and the AOGM counts."""

    SEG: float | None = None
    DET: float | None = None
    TRA: float | None = None
    LNK: float | None = None
    OP_CSB: float | None = None
    OP_CTB: float | None = None
    NS: int | None = None
    FN: int | None = None
    FP: int | None = None
    ED: int | None = None
    EA: int | None = None
    EC: int | None = None
    n_seg_objects: int | None = None
    n_vertices: int | None = None
    n_edges: int | None = None
    DIV_TP: int | None = None
    DIV_FP: int | None = None
    DIV_FN: int | None = None
    seconds: float | None = None
    errors: AOGMErrors | None = field(default=None, repr=False)
    #: With ``divisions=True``: the counts and the false and missed divisions themselves.
    divisions: DivisionCounts | None = field(default=None, repr=False)
    #: Biological and multi-object-tracking measures, under py-ctcmetrics' names
    #: (``CT``, ``BC(0)``, ``HOTA``, ...), when asked for.
    measures: dict = field(default_factory=dict)

    def to_dict(self, extra: bool = False) -> dict:
        """Measures and counts, then the extra measures; with `extra`, also graph
        sizes and seconds."""
        keys = SCORE_KEYS + (("n_seg_objects", "n_vertices", "n_edges", "DIV_TP", "DIV_FP",
                              "DIV_FN", "seconds") if extra else ())
        return {**{k: getattr(self, k) for k in keys}, **self.measures}


@dataclass(frozen=True)
class Selection:
    """What a ``metrics`` argument asks for: core measures and extra keys."""

    core: tuple[str, ...]
    extra: tuple[str, ...] = ()
    #: "all": every measure the ground truth allows.
    everything: bool = False

    @property
    def biological(self) -> bool:
        return any(name in self.extra for name in BIO_METRICS)

    @property
    def mot(self) -> bool:
        return any(name in self.extra for name in MOT_METRICS)

    def extra_keys(self) -> list[str]:
        keys = [k for name in self.extra for k in EXTRA_KEYS[name]]
        return list(dict.fromkeys(keys))


def parse_metrics(metrics) -> Selection:
    """Parse a measure list (names, comma/space-separated string, or ``"all"``).

    OP_CSB / OP_CTB imply their parts; OP_CLB implies LNK and BIO; BIO implies
    CT, TF, BC and CCA; ``BC(i)`` is accepted for BC.

    Raises
    ------
    CTCInputError
        For an unknown name.
    """
    if metrics is None:
        return Selection(ALL_METRICS)
    if isinstance(metrics, str):
        metrics = [m for m in re.split(r"[,\s]+", metrics) if m]
    core: list[str] = []
    extra: list[str] = []
    for m in metrics:
        name = m.upper()
        if name == "ALL":
            core += ALL_METRICS
            extra += [n for n in BIO_METRICS + MOT_METRICS if n != "MTML"]
        elif name in ("OP_CSB", "OP_CTB"):
            core += ["SEG", "DET"] if name == "OP_CSB" else ["SEG", "TRA"]
        elif name in ALL_METRICS:
            core.append(name)
        elif re.fullmatch(r"BC\([0-9]\)", name) or name in BIO_METRICS:
            name = "BC" if name.startswith("BC") else name
            extra += IMPLIED.get(name, (name,))
            if name == "OP_CLB":
                core.append("LNK")
        elif name in MOT_METRICS:
            extra.append(name)
        else:
            raise CTCInputError(f"unknown measure {m!r}; choose among "
                                f"{', '.join(ALL_NAMES)}, BC(i) or all")
    return Selection(tuple(m for m in ALL_METRICS if m in core),
                     tuple(dict.fromkeys(extra)), everything=any(
                         m.upper() == "ALL" for m in metrics))


def evaluate(
    gt_dir: str | Path,
    res_dir: str | Path,
    metrics=None,
    *,
    seg_dir: str | Path | None = None,
    penalize_fp: bool = True,
    collect_errors: bool = False,
    divisions: bool = False,
    allow_invalid: bool = False,
    progress: bool = False,
    workers: int | None = None,
) -> Scores:
    """Score a result folder against a ground-truth folder, as the official tools do.

    Parameters
    ----------
    gt_dir : path
        The ``NN_GT`` folder (with ``SEG`` and/or ``TRA``).
    res_dir : path
        The ``NN_RES`` folder.
    metrics : str or list of str, optional
        Among SEG, DET, TRA, LNK (OP_CSB / OP_CTB imply theirs), the
        biological measures CT, TF, BC (or BC(i)), CCA, BIO, OP_CLB, the
        tracking measures CHOTA, HOTA, MOTA, IDF1, MT, ML, FAF, or ``"all"``.
        Default: SEG, DET, TRA and LNK, those the ground truth allows (SEG
        needs ``SEG``, the others ``TRA``). The extra measures land in
        ``Scores.measures`` under py-ctcmetrics' names.
    seg_dir : path, optional
        Reference segmentation folder for SEG, e.g. ``NN_ST/SEG`` to score
        against silver truth; it must exist. Default ``gt_dir/SEG``.
    penalize_fp : bool
        Count false-positive detections in DET (the official default).
    collect_errors : bool
        Also list every AOGM error in ``Scores.errors``.
    divisions : bool
        Also count correct, false and missed divisions (``DIV_TP``,
        ``DIV_FP``, ``DIV_FN``; needs the result's track table).
    allow_invalid : bool
        Score a result that breaks the CTC rules (lineage, frames, labels)
        as far as the measures allow. By default such a result is refused,
        as the official tools refuse it.
    progress : bool
        Show progress (a bar on a terminal, periodic lines otherwise).
    workers : int, optional
        Threads that read and match frames ahead of the scoring (default:
        the CPU count, at most 8). Results do not depend on it.

    Returns
    -------
    Scores

    Raises
    ------
    CTCInvalidResultError
        When the result breaks a rule that :func:`ctc.validate_result` checks
        (the message lists the first problems), unless `allow_invalid`.
    CTCInputError, CTCFormatError
        When a folder or file is missing or unusable.
    """
    start = time.perf_counter()
    gt_dir, res_dir = Path(gt_dir), Path(res_dir)
    if not gt_dir.is_dir():
        raise CTCInputError("ground-truth folder not found", gt_dir)
    if seg_dir is not None and not Path(seg_dir).is_dir():
        raise CTCInputError("reference segmentation folder not found (SEG cannot be scored "
                            "against it)", seg_dir)
    seg_dir = Path(seg_dir) if seg_dir is not None else gt_dir / "SEG"
    tra_dir = gt_dir / "TRA"
    selection = parse_metrics(metrics)
    wanted = list(selection.core)
    if metrics is None or selection.everything:  # what the ground truth allows
        wanted = [m for m in wanted if (seg_dir if m == "SEG" else tra_dir).is_dir()]
        if not wanted:
            raise CTCInputError("neither SEG nor TRA ground truth found", gt_dir)
        if not tra_dir.is_dir():
            selection = Selection(selection.core)
    if "SEG" in wanted and not seg_dir.is_dir():
        raise CTCInputError("SEG needs a reference segmentation folder, not found", seg_dir)
    tracking = [m for m in wanted if m != "SEG"] + list(selection.extra)
    if tracking and not tra_dir.is_dir():
        raise CTCInputError(f"{'/'.join(tracking)} need GT tracking markers, not found",
                            tra_dir)

    res_files = find_frames(res_dir, RES_PREFIX)
    tra_files = find_frames(tra_dir, TRA_PREFIX) if tracking else None
    seg_files, slices = _seg_inputs(seg_dir) if "SEG" in wanted else (None, {})
    _check_frames(res_files, tra_files, seg_files, slices)

    ref_tracks = res_tracks = None
    if tracking:
        ref_tracks = read_tracks(tra_dir / GT_TRACK_FILE)
    if "TRA" in wanted or "LNK" in wanted or selection.extra:
        if not (res_dir / RES_TRACK_FILE).is_file():
            raise CTCInputError(f"{RES_TRACK_FILE} not found; TRA, LNK and the lineage "
                                "measures need it (use --metrics SEG,DET for a "
                                "segmentation-only result)", res_dir)
        res_tracks = read_tracks(res_dir / RES_TRACK_FILE)
    lineage = res_tracks  # checked whenever every frame is read, even for DET alone
    if lineage is None and tracking and (res_dir / RES_TRACK_FILE).is_file():
        lineage = read_tracks(res_dir / RES_TRACK_FILE)
    validity = ValidationReport(res_dir, kind="RES")
    if tra_files is not None:
        validity.n_frames, validity.frames_source = max(tra_files.frames) + 1, str(tra_dir)
    else:
        validity.n_frames, validity.frames_source = expected_frames(res_dir, res_files, None)
    check_frame_numbers(res_files, validity)
    scan = MaskScan(res_files)

    frames = sorted(set(tra_files.frames if tra_files else ())
                    | set(seg_files.frames if seg_files else ())
                    | {t for t, _ in slices})
    slices_of: dict[int, list[tuple[int, Path]]] = {}
    for (t, z), path in slices.items():
        slices_of.setdefault(t, []).append((z, path))

    def work(t: int) -> _FrameWork:
        return _frame_work(t, res_files.paths[t],
                           tra_files.paths.get(t) if tra_files is not None else None,
                           seg_files.paths.get(t) if seg_files is not None else None,
                           slices_of.get(t, ()))

    vertices: list[FrameVertices] = []
    seg_sum, seg_count = 0.0, 0
    empty = []
    for t, done in track_progress(_in_order(work, frames, workers), total=len(frames),
                                  desc=f"scoring {res_dir.name}", unit="frame",
                                  enabled=progress):
        check_mask(done.res, done.res_path, t, scan, validity)
        if done.error is not None:
            raise done.error
        if done.tra is not None:
            if not done.res.any():
                empty.append(t)
            m = done.tra
            vertices.append(FrameVertices(t, m.ref_labels, m.res_labels, m.match_ref,
                                          m.match_res))
        for m in done.seg:
            seg_sum += float(np.sum(m.jaccard()))
            seg_count += len(m.ref_labels)
    if empty:
        warnings.warn(
            f"{res_dir}: frames {empty[:10]} have no objects; the official DET/TRA refuse "
            "empty frames; they are scored here as frames without detections",
            CTCWarning, stacklevel=2)

    scores = Scores()
    if "SEG" in wanted:
        scores.SEG = seg_sum / seg_count if seg_count else math.nan
        scores.n_seg_objects = seg_count
    check_mask_headers(res_files, set(scan.labels), scan, validity)
    if lineage is not None:
        check_lineage(list(lineage), scan, res_dir / RES_TRACK_FILE, validity)
    check_against_raw(res_dir, scan, validity)
    if validity.errors and not allow_invalid:
        listing = "; ".join(str(p) for p in validity.errors[:5])
        raise CTCInvalidResultError(
            f"invalid result, not scored ({len(validity.errors)} problems: {listing}); "
            "`ctc validate` lists them all and `ctc repair` fixes most; "
            "--allow-invalid scores it anyway", res_dir)
    if tracking:
        test = detection_test(vertices)
        counts = count_errors(vertices, ref_tracks, res_tracks, collect=collect_errors,
                              ref_source=str(tra_dir / GT_TRACK_FILE),
                              res_source=str(res_dir / RES_TRACK_FILE), test=test)
        scores.NS, scores.FN, scores.FP = counts.NS, counts.FN, counts.FP
        scores.n_vertices, scores.n_edges = counts.n_vertices, counts.n_edges
        scores.errors = counts.errors
        if "DET" in wanted:
            scores.DET = measures.det(counts.NS, counts.FN, counts.FP, counts.n_vertices,
                                      penalize_fp=penalize_fp)
        if res_tracks is not None:
            scores.ED, scores.EA, scores.EC = counts.ED, counts.EA, counts.EC
        if "TRA" in wanted:
            scores.TRA = measures.tra(counts.NS, counts.FN, counts.FP, counts.ED,
                                      counts.EA, counts.EC, counts.n_vertices,
                                      counts.n_edges)
        if "LNK" in wanted:
            scores.LNK = measures.lnk(counts.ED, counts.EA, counts.EC, counts.n_edges)
        if res_tracks is not None and (divisions or selection.biological):
            assignment = assign(test)
            assigned = assignment.lookup()
            if divisions:
                div = count_divisions(assigned, ref_tracks, res_tracks)
                scores.DIV_TP, scores.DIV_FP, scores.DIV_FN = div.TP, div.FP, div.FN
                scores.divisions = div
            if selection.biological:
                scores.measures.update(biological_measures(
                    assignment, ref_tracks, res_tracks, lnk=scores.LNK, assigned=assigned))
        if selection.mot:
            scores.measures.update(mot_measures(test, ref_tracks, res_tracks,
                                                len(tra_files.frames)))
        keys = selection.extra_keys()
        scores.measures = {k: scores.measures.get(k) for k in keys}
    if scores.SEG is not None and scores.DET is not None:
        scores.OP_CSB = measures.op_csb(scores.SEG, scores.DET)
    if scores.SEG is not None and scores.TRA is not None:
        scores.OP_CTB = measures.op_ctb(scores.SEG, scores.TRA)
    scores.seconds = time.perf_counter() - start
    return scores


@dataclass
class _FrameWork:
    """One frame read and matched (in a worker thread)."""

    res_path: Path
    res: np.ndarray | None = None
    tra: FrameMatch | None = None
    seg: list[FrameMatch] = field(default_factory=list)
    error: Exception | None = None


def _frame_work(t: int, res_path: Path, tra_path: Path | None, seg_path: Path | None,
                slices: list | tuple) -> _FrameWork:
    done = _FrameWork(res_path)
    res = done.res = read_mask(res_path)
    try:
        if tra_path is not None:
            done.tra = _match(read_mask(tra_path), res, tra_path, res_path)
        if seg_path is not None:
            done.seg.append(_match(read_mask(seg_path), res, seg_path, res_path))
        for z, path in slices:
            if res.ndim != 3 or z >= res.shape[0]:
                raise CTCFormatError(
                    f"{path.name} annotates slice {z} but the result frame has "
                    f"{res.shape[0] if res.ndim == 3 else 'no'} slices"
                    f"{'' if res.ndim == 3 else ' (it is 2D)'}", res_path)
            done.seg.append(_match(read_mask(path), res[z], path, res_path))
    except CTCFormatError as exc:  # reported after the mask's own checks, in frame order
        done.error = exc
    return done


def _in_order(work, frames: list[int], workers: int | None):
    """Yield ``(t, work(t))`` in frame order, computed by a bounded pool of threads.

    Reading (TIFF decoding) and matching (a nogil numba kernel) release the
    GIL, so threads overlap them; at most ``2 * workers`` frames are held.
    """
    n = min(os.cpu_count() or 1, 8) if workers is None else max(1, workers)
    if n == 1 or len(frames) < 2:
        for t in frames:
            yield t, work(t)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="ctc-evaluate") as pool:
        pending: deque = deque()
        it = iter(frames)
        try:
            for t in it:
                pending.append((t, pool.submit(work, t)))
                if len(pending) >= 2 * n:
                    break
            while pending:
                t, future = pending.popleft()
                yield t, future.result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append((nxt, pool.submit(work, nxt)))
        finally:
            for _, future in pending:
                future.cancel()


def _match(ref: np.ndarray, res: np.ndarray, ref_path: Path, res_path: Path):
    if ref.ndim != res.ndim:
        raise CTCFormatError(
            f"a {ref.ndim}D ground-truth frame {ref.shape} against a {res.ndim}D result frame "
            f"{res.shape} ({res_path}); both need the same dimensionality", ref_path)
    if ref.shape != res.shape:
        what = (f" ({ref.shape[0]} slices against {res.shape[0]})"
                if ref.ndim == 3 and ref.shape[1:] == res.shape[1:] else "")
        raise CTCFormatError(
            f"shape {ref.shape} differs from the result's {res.shape}{what} ({res_path})",
            ref_path)
    return match_frame(ref, res)


def _seg_inputs(seg_dir: Path) -> tuple[FrameFiles | None, dict[tuple[int, int], Path]]:
    slices = find_slice_annotations(seg_dir)
    files = find_frames(seg_dir, SEG_PREFIX, required=not slices)
    return (files if len(files) else None), slices


def _check_frames(res: FrameFiles, tra: FrameFiles | None, seg: FrameFiles | None,
                  slices: dict) -> None:
    needed: dict[int, Path] = {}
    for files in (tra, seg):
        if files is not None:
            needed.update({t: p for t, p in files.paths.items() if t not in needed})
    for (t, _), path in slices.items():
        needed.setdefault(t, path)
    missing = sorted(t for t in needed if t not in res.paths)
    if missing:
        raise CTCFormatError(
            f"no result mask for frames {missing[:10]}{' ...' if len(missing) > 10 else ''} "
            f"that the ground truth annotates (e.g. {needed[missing[0]].name}); "
            "a result needs one mask per frame", res.folder)
    if tra is not None and len(res) != len(tra):
        raise CTCFormatError(
            f"the result has {len(res)} masks but the ground truth {len(tra)} frames "
            f"({tra.folder}); a result needs exactly one mask per frame", res.folder)
