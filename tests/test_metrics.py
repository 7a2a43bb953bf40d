"""The measures: official values, slices, silver truth, bad input."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
import tifffile

from ctc.errors import CTCFormatError, CTCInputError, CTCInvalidResultError, CTCWarning
from ctc.metrics import evaluate, measures
from ctc.toy import toy_sequence, write_gt

from .conftest import write_res


def test_official_testset_values(ctc_data):
    t = ctc_data / "ctc-evaluation-testset"
    assert f"{evaluate(t / '01_GT', t / '01_RES').SEG:.6f}" == "0.232874"
    scores = evaluate(t / "03_GT", t / "03_RES")
    assert f"{scores.TRA:.6f}" == "0.622980"
    assert f"{scores.DET:.6f}" == "0.688000"
    assert f"{evaluate(t / '03_GT', t / '03_RES', penalize_fp=False).DET:.6f}" == "0.700000"
    assert (scores.NS, scores.FN, scores.FP, scores.ED, scores.EA, scores.EC) == (
        5, 5, 3, 1, 16, 2)


def test_error_list_matches_counts(ctc_data):
    t = ctc_data / "ctc-evaluation-testset"
    scores = evaluate(t / "03_GT", t / "03_RES", collect_errors=True)
    e = scores.errors
    assert sum(len(g) - 1 for _, _, g in e.NS) == scores.NS
    assert (len(e.FN), len(e.FP), len(e.ED), len(e.EA), len(e.EC)) == (
        scores.FN, scores.FP, scores.ED, scores.EA, scores.EC)
    assert (0, 1, [1, 2]) in e.NS and (2, 4) in e.FN and (0, 2) in e.FP
    text = e.to_text("TRA", scores.TRA)
    assert "TRA measure: 0.622980" in text and "[T=4 Label=15] -> [T=6 Label=11]" in text


def test_measure_formulas():
    assert measures.tra(0, 0, 0, 0, 0, 0, 10, 5) == 1.0
    assert measures.tra(0, 10, 0, 0, 5, 0, 10, 5) == 0.0
    assert measures.det(1, 1, 2, 10) == pytest.approx(1 - 17 / 100)
    assert measures.det(1, 1, 2, 10, penalize_fp=False) == pytest.approx(1 - 15 / 100)
    assert measures.lnk(1, 2, 1, 4) == pytest.approx(1 - 5 / 6)
    assert measures.tra(100, 100, 0, 0, 0, 0, 1, 1) == 0.0  # capped at AOGM_0


def test_perfect_toy_result_and_defaults(tmp_path):
    seq = toy_sequence()
    write_gt(seq, tmp_path / "01_GT")
    seq.write(tmp_path / "01_RES")
    s = evaluate(tmp_path / "01_GT", tmp_path / "01_RES")
    assert (s.SEG, s.DET, s.TRA, s.LNK, s.OP_CSB, s.OP_CTB) == (1, 1, 1, 1, 1, 1)
    # frames 0-2: 4 objects; 3: 1 divided into 5, 6 (5 objects); 4-5: 4 has left
    assert s.n_vertices == 4 * 3 + 5 + 4 + 4
    assert s.n_edges == 4 + 4 + 3 + 4 + 4 + 2  # track links + two division links
    assert (s.NS, s.FN, s.FP, s.ED, s.EA, s.EC) == (0,) * 6


def test_single_slice_annotations(tmp_path):
    """Each man_seg_TTT_ZZZ.tif is scored on its own against page ZZZ of maskTTT.tif."""
    res = np.zeros((3, 8, 8), np.uint16)
    res[0, 0:4, 0:4] = 1     # slice 0: object 1 covers the reference exactly
    res[2, 0:4, 0:2] = 1     # slice 2: object 1 covers half of the reference
    res[2, 0:4, 2:4] = 2
    write_res(tmp_path / "01_RES", [res], None)
    seg = tmp_path / "01_GT" / "SEG"
    seg.mkdir(parents=True)
    ref = np.zeros((8, 8), np.uint16)
    ref[0:4, 0:4] = 1        # the same label in two slice files: two objects
    tifffile.imwrite(seg / "man_seg_000_000.tif", ref)
    tifffile.imwrite(seg / "man_seg_000_002.tif", ref)
    s = evaluate(tmp_path / "01_GT", tmp_path / "01_RES", "SEG")
    assert s.n_seg_objects == 2 and s.SEG == pytest.approx((1.0 + 0.0) / 2)
    tifffile.imwrite(seg / "man_seg_000_005.tif", ref)
    with pytest.raises(CTCFormatError, match="slice 5 but the result frame has 3 slices"):
        evaluate(tmp_path / "01_GT", tmp_path / "01_RES", "SEG")


def test_seg_against_silver_truth(ctc_data, tmp_path):
    dataset = ctc_data / "DIC-C2DH-HeLa"
    res = tmp_path / "01_RES"
    res.mkdir()
    for path in sorted((dataset / "01_ST" / "SEG").glob("man_seg*.tif"))[:84]:
        shutil.copy(path, res / path.name.replace("man_seg", "mask"))
    s = evaluate(dataset / "01_GT", res, "SEG", seg_dir=dataset / "01_ST" / "SEG")
    assert s.SEG == 1.0 and s.n_seg_objects > 84 * 5
    gold = evaluate(dataset / "01_GT", res, "SEG")
    assert 0.5 < gold.SEG < 1.0  # silver truth is good, not perfect


def test_missing_and_empty_frames(tmp_path):
    seq = toy_sequence()
    write_gt(seq, tmp_path / "01_GT")
    seq.write(tmp_path / "01_RES")
    mask = tmp_path / "01_RES" / "mask004.tif"
    tifffile.imwrite(mask, np.zeros_like(tifffile.imread(mask)))
    with pytest.warns(CTCWarning, match=r"frames \[4\] have no objects"):
        with pytest.raises(CTCFormatError):  # and its tracks now contradict the masks
            evaluate(tmp_path / "01_GT", tmp_path / "01_RES")
    with pytest.warns(CTCWarning, match="no objects"):  # DET alone checks the lineage too
        with pytest.raises(CTCInvalidResultError, match="absent from frames 4"):
            evaluate(tmp_path / "01_GT", tmp_path / "01_RES", "SEG,DET")
    with pytest.warns(CTCWarning, match="no objects"):
        assert evaluate(tmp_path / "01_GT", tmp_path / "01_RES", "SEG,DET",
                        allow_invalid=True).DET < 1
    mask.unlink()
    with pytest.raises(CTCFormatError, match=r"no result mask for frames \[4\]"):
        evaluate(tmp_path / "01_GT", tmp_path / "01_RES")


def test_bad_requests(tmp_path):
    seq = toy_sequence()
    write_gt(seq, tmp_path / "01_GT")
    seq.write(tmp_path / "01_RES")
    with pytest.raises(CTCInputError, match="unknown measure 'XYZ'"):
        evaluate(tmp_path / "01_GT", tmp_path / "01_RES", "SEG,XYZ")
    (tmp_path / "01_RES" / "res_track.txt").unlink()
    with pytest.raises(CTCInputError, match="res_track.txt not found"):
        evaluate(tmp_path / "01_GT", tmp_path / "01_RES", "TRA")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert evaluate(tmp_path / "01_GT", tmp_path / "01_RES", "DET").DET == 1.0
    shutil.rmtree(tmp_path / "01_GT" / "TRA")
    with pytest.raises(CTCInputError, match="need GT tracking markers"):
        evaluate(tmp_path / "01_GT", tmp_path / "01_RES", "DET")
    assert evaluate(tmp_path / "01_GT", tmp_path / "01_RES").SEG == 1.0
