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
