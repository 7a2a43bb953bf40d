"""Differential tests: ctc.metrics against py-ctcmetrics on RES built from every shared dataset.

Each sequence is cut to a window of frames around a division (renumbered
from 0); results are the GT tracking annotation (and, for DIC-C2DH-HeLa, the
silver-truth segmentation) with each perturbation of :mod:`ctc.perturb`, all
of them at once, and none, with labels permuted below 60,000 (py-ctcmetrics
overflows uint16 beyond). Scores must agree to 1e-9, error counts exactly.
"""

from __future__ import annotations

import contextlib
import io
import shutil

import numpy as np
import pytest
import tifffile

from ctc.io import find_frames
from ctc.lineage import read_tracks
from ctc.metrics import evaluate
from ctc.perturb import PERTURBATIONS, LabeledSequence, perturbed
from ctc.validation import validate_result

ctc_metrics_evaluate = pytest.importorskip("ctc_metrics.scripts.evaluate")

SEQUENCES = [(d, s) for d in ("Fluo-N2DH-SIM+", "Fluo-N2DH-GOWT1", "DIC-C2DH-HeLa")
             for s in ("01", "02")]
VARIANTS = ["perfect", *PERTURBATIONS, "all", "silver"]
CASES = [(d, s, v) for d, s in SEQUENCES for v in VARIANTS
         if v != "silver" or d == "DIC-C2DH-HeLa"]  # the only one with silver truth
WINDOW = 8


def division_window(gt) -> range:
    """WINDOW frames around the first division that leaves room before it."""
    table = read_tracks(gt / "TRA" / "man_track.txt")
    n = len(find_frames(gt / "TRA", "man_track"))
    births = sorted(t.begin for t in table if t.parent and t.begin >= WINDOW // 2)
    start = min(births[0] - WINDOW // 2 if births else 0, n - WINDOW)
    return range(start, start + WINDOW)


@pytest.fixture(scope="module")
def windows(ctc_data, tmp_path_factory):
    """Per sequence: (GT folder of the window, GT LabeledSequence, silver or None)."""
    out = {}
    for dataset, seq in SEQUENCES:
        src = ctc_data / dataset / f"{seq}_GT"
        frames = division_window(src)
        gt = tmp_path_factory.mktemp(f"{dataset}-{seq}") / f"{seq}_GT"
        tra = LabeledSequence.from_folder(src / "TRA", "man_track", "man_track.txt", frames)
        masks, table = tra.to_result()
        (gt / "TRA").mkdir(parents=True)
        (gt / "SEG").mkdir()
        for i, mask in enumerate(masks):
            tifffile.imwrite(gt / "TRA" / f"man_track{i:03d}.tif", mask)
        (gt / "TRA" / "man_track.txt").write_text(table.to_text())
        seg = find_frames(src / "SEG", "man_seg")
        for i, t in enumerate(frames):
            if t in seg.paths:
                shutil.copy(seg.paths[t], gt / "SEG" / f"man_seg{i:03d}.tif")
        silver = None
        st = ctc_data / dataset / f"{seq}_ST" / "SEG"
        if st.is_dir():
            files = find_frames(st, "man_seg")
            silver = LabeledSequence(
                [tifffile.imread(files.paths[t]).astype(np.uint32) for t in frames])
        out[(dataset, seq)] = (gt, tra, silver)
    return out


def py_ctcmetrics(res, gt, metrics):
    with contextlib.redirect_stdout(io.StringIO()):
        r = ctc_metrics_evaluate.evaluate_sequence(str(res), str(gt), metrics=list(metrics),
                                                   threads=1)
    scores = {m: r[m] for m in metrics}
    if "TRA" in metrics:
        scores.update({k: int(r[f"AOGM_{k}"]) for k in ("NS", "FN", "FP", "ED", "EA", "EC")})
    return scores


@pytest.mark.parametrize("dataset,seq,variant", CASES)
def test_agrees_with_py_ctcmetrics(windows, tmp_path, dataset, seq, variant):
    gt, tra, silver = windows[(dataset, seq)]
    seed = VARIANTS.index(variant)
    if variant == "silver":
        source = perturbed(silver, [], seed=seed, permute_high=59999)
    else:
        kinds = {"perfect": [], "all": list(PERTURBATIONS)}.get(variant, [variant])
        source = perturbed(tra, kinds, seed=seed, permute_high=59999)
    res = tmp_path / f"{seq}_RES"
    source.write(res)
    assert validate_result(res, seg_only=False).valid
    metrics = ["DET", "TRA", "LNK"]
    if any((gt / "SEG").iterdir()):
        metrics.insert(0, "SEG")
    theirs = py_ctcmetrics(res, gt, metrics)
    ours = evaluate(gt, res, metrics)
    for key, value in theirs.items():
        assert getattr(ours, key) == pytest.approx(value, abs=1e-9, rel=0), key
    if variant == "perfect":
        assert ours.TRA == 1.0


# --- The biological and multi-object-tracking measures ------------------------------------
#
# Longer windows (so that tracks, divisions and some complete cell cycles fit) on every
# shared sequence with tracking GT, and the whole of two sequences. py-ctcmetrics is right
# except in three places, each checked here against the definition instead and shown on a
# hand-computed case in test_metrics_lineage.py:
# - TF: it stops reading a result track's fractions once one of them is 1 (a `break` kept
#   from older code), so its TF can depend on label order; the definition is the longest
#   fraction of each GT track, computed here from py-ctcmetrics' own fractions (and BIO,
#   OP_CLB from it and py-ctcmetrics' other parts).
# - MT/ML: it takes the row maximum of its confusion matrix including the missed column;
#   here only result tracks count, computed from py-ctcmetrics' own matrix.
# - CHOTA: when it joins a track with its single-child continuation it keeps the parent of
#   whichever row comes first in the file, which is the joined track itself when the
#   continuation is listed first; the lineage is then cut. The result tables are therefore
#   written sorted by first frame for it (still valid CTC), and ours must not depend on
#   the order.

LINEAGE_SEQUENCES = SEQUENCES + [("Fluo-C2DL-MSC", "01"), ("Fluo-C2DL-MSC", "02"),
                                 ("PhC-C2DH-U373", "02")]
LINEAGE_VARIANTS = {
    "perfect": [],
    "divisions": ["false_divisions", "miss_divisions"],
    "links": ["break_links", "swap_links"],
    "detections": ["drop", "merge", "false_positives"],
    "all": list(PERTURBATIONS),
}
LINEAGE_WINDOW = 20
PY_LINEAGE = ["CHOTA", "BC", "CT", "CCA", "TF", "TRA", "LNK", "MOTA", "HOTA", "IDF1", "MTML", "FAF",
              "BIO", "OP_CLB"]
COMPARED = ("CT", "CCA", "LNK", "CHOTA", "HOTA", "MOTA", "IDF1", "IDP", "IDR", "IDTP",
            "IDFP", "IDFN", "FAF", "gt_divisions",
            *(f"{k}({i})" for i in range(4)
              for k in ("BC", "tp_div", "fp_div", "fn_div", "BIO", "OP_CLB")))


def _window_gt(ctc_data, dataset, seq, target, length):
    src = ctc_data / dataset / f"{seq}_GT"
    n = len(find_frames(src / "TRA", "man_track"))
    if length is None:
        frames = range(n)
    else:
        table = read_tracks(src / "TRA" / "man_track.txt")
        births = sorted(t.begin for t in table if t.parent and t.begin >= length // 3)
        start = max(0, min(births[0] - length // 3 if births else 0, n - length))
        frames = range(start, min(start + length, n))
    tra = LabeledSequence.from_folder(src / "TRA", "man_track", "man_track.txt", frames)
    masks, table = tra.to_result()
    (target / "TRA").mkdir(parents=True)
    for i, mask in enumerate(masks):
        tifffile.imwrite(target / "TRA" / f"man_track{i:03d}.tif", mask)
    (target / "TRA" / "man_track.txt").write_text(table.to_text())
    return tra


def _sort_table_by_begin(res):
    rows = np.loadtxt(res / "res_track.txt", dtype=np.int64, ndmin=2)
    rows = rows[np.lexsort((rows[:, 0], rows[:, 1]))]
    (res / "res_track.txt").write_text("".join(f"{a} {b} {c} {d}\n" for a, b, c, d in rows))


def _py_lineage(res, gt):
    from ctc_metrics.metrics.biological.tf import calculate_fractions_fo_computed_tracks
    from ctc_metrics.scripts.evaluate import calculate_metrics, load_data
    from ctc_metrics.utils.representations import track_confusion_matrix

    with contextlib.redirect_stdout(io.StringIO()):
        comp, ref, traj, segm, _, valid = load_data(str(res), str(gt), True, False, 1)
        out = calculate_metrics(comp, ref, traj, segm, list(PY_LINEAGE), valid)
    fractions = calculate_fractions_fo_computed_tracks(ref, traj["labels_ref"],
                                                       traj["mapped_ref"], traj["mapped_comp"])
    best: dict = {}
    for per_ref in fractions.values():
        for label, f in per_ref.items():
            best[label] = max(best.get(label, 0.0), f)
    detected = [f for f in best.values() if f > 0]
    out["TF (definition)"] = float(np.mean(detected)) if detected else 0.0
    for i in range(4):  # BIO and OP_CLB with that TF, from py-ctcmetrics' other parts
        parts = [out[k] for k in ("CT", "TF (definition)", f"BC({i})", "CCA")
                 if out[k] is not None]
        out[f"BIO({i})"] = sum(parts) / len(parts)
        out[f"OP_CLB({i})"] = (out["LNK"] + out[f"BIO({i})"]) / 2
    matrix = track_confusion_matrix(traj["labels_ref_merged"], traj["labels_comp_merged"],
                                    traj["mapped_ref_merged"], traj["mapped_comp_merged"])
    total = matrix[1:].sum(axis=1)
    ratio = matrix[1:, 1:].max(axis=1) / np.maximum(total, 1)
    ratio = ratio[total > 0]
    out["MT (result tracks)"] = float(np.mean(ratio >= 0.8))
    out["ML (result tracks)"] = float(np.mean(ratio < 0.2))
    return out


# Every sequence with all perturbations at once, one kind of error alone on the sequences
# with small frames (rotating, to keep the suite short), the perfect result on the
# smallest, and one whole sequence.
_ROTATION = ["divisions", "links", "detections"]
LINEAGE_CASES = ([(d, s, "all", LINEAGE_WINDOW) for d, s in LINEAGE_SEQUENCES]
                 + [(d, s, _ROTATION[k % 3], LINEAGE_WINDOW)
                    for k, (d, s) in enumerate(LINEAGE_SEQUENCES)
                    if d in ("Fluo-N2DH-SIM+", "DIC-C2DH-HeLa", "PhC-C2DH-U373")]
                 + [("DIC-C2DH-HeLa", "01", "perfect", LINEAGE_WINDOW),
                    ("Fluo-N2DH-SIM+", "02", "all", None)])


@pytest.mark.parametrize("dataset,seq,variant,length", LINEAGE_CASES)
def test_lineage_measures_agree_with_py_ctcmetrics(ctc_data, tmp_path, dataset, seq, variant,
                                                   length):
    gt = tmp_path / f"{seq}_GT"
    tra = _window_gt(ctc_data, dataset, seq, gt, length)
    res = tmp_path / f"{seq}_RES"
    perturbed(tra, LINEAGE_VARIANTS[variant], seed=len(variant),
              permute_high=59999).write(res)
    assert validate_result(res, seg_only=False).valid
    by_label = evaluate(gt, res, "all").to_dict()
    _sort_table_by_begin(res)
    ours = evaluate(gt, res, "all").to_dict()
    assert ours == by_label  # the order of the table's lines does not matter
    theirs = _py_lineage(res, gt)
    for key in COMPARED:
        if theirs[key] is None:
            assert ours[key] is None, key
        else:
            assert ours[key] == pytest.approx(float(theirs[key]), abs=1e-9, rel=0), key
    assert ours["TF"] == pytest.approx(theirs["TF (definition)"], abs=1e-9, rel=0)
    assert ours["MT"] == pytest.approx(theirs["MT (result tracks)"], abs=1e-9, rel=0)
    assert ours["ML"] == pytest.approx(theirs["ML (result tracks)"], abs=1e-9, rel=0)
    if variant == "perfect":
        assert all(ours[k] == 1.0 for k in ("CT", "TF", "CHOTA", "HOTA", "MOTA", "IDF1"))
