"""The biological and multi-object-tracking measures on small cases computed by hand.

Each case is a few frames of 8 x 40 pixels with one 3 x 3 object per slot;
the expected values are worked out in the comments from the definitions in
:mod:`ctc.metrics.biological` and :mod:`ctc.metrics.mot`.
"""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest

from ctc.lineage import TrackTable
from ctc.metrics import evaluate
from ctc.metrics.biological import cell_cycle_accuracy
from tests.conftest import write_res

SHAPE = (8, 40)


def frame(**slots: int) -> np.ndarray:
    """Objects by slot: ``frame(s0=1, s2=5)`` puts label 1 in slot 0 and 5 in slot 2."""
    mask = np.zeros(SHAPE, np.uint16)
    for key, label in slots.items():
        i = int(key[1:])
        mask[2:5, 1 + 4 * i: 4 + 4 * i] = label
    return mask


def folders(tmp_path, gt_frames, gt_tracks, res_frames, res_tracks):
    gt = tmp_path / "01_GT"
    write_res(gt / "TRA", gt_frames, gt_tracks, prefix="man_track", track_name="man_track.txt")
    res = write_res(tmp_path / "01_RES", res_frames, res_tracks)
    return gt, res


def py_ctcmetrics(gt, res, metrics):
    evaluate_sequence = pytest.importorskip("ctc_metrics.scripts.evaluate").evaluate_sequence
    with contextlib.redirect_stdout(io.StringIO()):
        return evaluate_sequence(str(res), str(gt), metrics=list(metrics), threads=1)


def test_track_fractions_complete_tracks_and_branching(tmp_path):
    # GT: mother 1 (frames 0-3, slot 0) divides into 2 (4-7, slot 0) and 3 (4-7, slot 1).
    # RES: 5 follows slot 0 over frames 0-6 without dividing, 8 takes slot 0 at frame 7,
    # 7 follows slot 1 over frames 4-7.
    gt_frames = [frame(s0=1)] * 4 + [frame(s0=2, s1=3)] * 4
    res_frames = [frame(s0=5)] * 4 + [frame(s0=5, s1=7)] * 3 + [frame(s0=8, s1=7)]
    gt, res = folders(tmp_path, gt_frames, "1 0 3 0\n2 4 7 1\n3 4 7 1\n",
                      res_frames, "5 0 6 0\n7 4 7 0\n8 7 7 0\n")
    m = evaluate(gt, res, "all").measures
    # CT: only GT 3 is one result track (7) with the same first and last frames:
    # 2 * 1 / (3 GT tracks + 3 RES tracks).
    assert m["CT"] == pytest.approx(1 / 3)
    # TF: GT 1 -> 4/4 (track 5), GT 2 -> 3/4 (track 5, frames 4-6), GT 3 -> 4/4.
    assert m["TF"] == pytest.approx((1 + 0.75 + 1) / 3)
    # The one GT division is missed: BC = 0 at every tolerance; no complete cycle: CCA None.
    assert (m["tp_div(0)"], m["fp_div(0)"], m["fn_div(0)"]) == (0, 0, 1)
    assert m["BC(3)"] == 0.0
    assert m["CCA"] is None
    assert m["BIO(0)"] == pytest.approx((1 / 3 + 11 / 12 + 0) / 3)
    assert m["OP_CLB(0)"] == pytest.approx((evaluate(gt, res, "LNK").LNK + m["BIO(0)"]) / 2)


def test_track_fractions_do_not_depend_on_label_order(tmp_path):
    """py-ctcmetrics 1.3.3 stops reading a result track's fractions once one is 1.

    Result track 5 covers GT 1 entirely and GT 2 in frames 4-6 (3 of 4); it
    is read first and its fraction for GT 1 is 1, so py-ctcmetrics never
    records the 0.75 of GT 2 and keeps the 0.25 of track 8 instead:
    TF = (1 + 0.25 + 1) / 3 = 0.75 there. The published definition (the
    longest fraction of each GT track) gives (1 + 0.75 + 1) / 3.
    """
    gt_frames = [frame(s0=1)] * 4 + [frame(s0=2, s1=3)] * 4
    res_frames = [frame(s0=5)] * 4 + [frame(s0=5, s1=7)] * 3 + [frame(s0=8, s1=7)]
    gt, res = folders(tmp_path, gt_frames, "1 0 3 0\n2 4 7 1\n3 4 7 1\n",
                      res_frames, "5 0 6 0\n7 4 7 0\n8 7 7 0\n")
    ours = evaluate(gt, res, "TF").measures["TF"]
    assert ours == pytest.approx(11 / 12)
    assert py_ctcmetrics(gt, res, ["TF"])["TF"] == pytest.approx(0.75)


def test_branching_correctness_tolerance(tmp_path):
    # GT: 1 (0-2, slot 0) divides into 2 (3-5, slot 0) and 3 (3-5, slot 1).
    # RES divides one frame late: 1 (0-3), daughters 2 and 3 from frame 4.
    gt_frames = [frame(s0=1)] * 3 + [frame(s0=2, s1=3)] * 3
    res_frames = [frame(s0=1)] * 4 + [frame(s0=2, s1=3)] * 2
    gt, res = folders(tmp_path, gt_frames, "1 0 2 0\n2 3 5 1\n3 3 5 1\n",
                      res_frames, "1 0 3 0\n2 4 5 1\n3 4 5 1\n")
    m = evaluate(gt, res, "BC").measures
    assert (m["tp_div(0)"], m["fp_div(0)"], m["fn_div(0)"], m["BC(0)"]) == (0, 1, 1, 0.0)
    for i in (1, 2, 3):  # mothers end 1 frame apart, daughters start 1 frame apart
        assert (m[f"tp_div({i})"], m[f"fp_div({i})"], m[f"fn_div({i})"]) == (1, 0, 0)
        assert m[f"BC({i})"] == 1.0
    assert m["gt_divisions"] == 1
    theirs = py_ctcmetrics(gt, res, ["BC"])
    assert all(theirs[k] == m[k] for k in ("BC(0)", "BC(1)", "tp_div(2)", "fn_div(0)"))


def test_cell_cycle_accuracy():
    # Complete cycles (a track born at a division that divides itself): GT lengths
    # (end - begin) 3 and 1, result 2 and 3. Cumulative distributions at 0..3:
    # GT 0, .5, .5, 1; result 0, 0, .5, 1: largest gap .5 -> CCA = .5.
    gt = TrackTable.from_array([[1, 0, 1, 0], [2, 2, 5, 1], [3, 2, 3, 1], [4, 6, 7, 2],
                                [5, 6, 7, 2], [6, 4, 7, 3], [7, 4, 7, 3]])
    res = TrackTable.from_array([[1, 0, 1, 0], [2, 2, 5, 1], [3, 2, 4, 1], [4, 6, 7, 2],
                                 [5, 6, 7, 2], [6, 5, 7, 3], [7, 5, 7, 3]])
    assert cell_cycle_accuracy(gt, res) == pytest.approx(0.5)
    assert cell_cycle_accuracy(gt, gt) == 1.0
    no_cycle = TrackTable.from_array([[1, 0, 7, 0]])
    assert cell_cycle_accuracy(no_cycle, res) is None
    assert cell_cycle_accuracy(gt, no_cycle) == 0.0


def test_identity_switch_measures(tmp_path):
    # One GT track (frames 0-3) followed by result 5 in frames 0-1 and 6 in frames 2-3.
    gt_frames = [frame(s0=1)] * 4
    res_frames = [frame(s0=5)] * 2 + [frame(s0=6)] * 2
    gt, res = folders(tmp_path, gt_frames, "1 0 3 0\n", res_frames, "5 0 1 0\n6 2 3 0\n")
    m = evaluate(gt, res, "all").measures
    # HOTA: TP 4, FN = FP = 0; each pair A = 2 / (4 + 2 - 2) = .5 -> AssA .5, DetA 1.
    assert (m["DetA"], m["AssA"]) == (1.0, 0.5)
    assert m["HOTA"] == pytest.approx(math.sqrt(0.5))
    assert m["CHOTA"] == pytest.approx(math.sqrt(0.5))  # no lineage links on either side
    # IDF1: the best one-to-one assignment keeps 2 frames: 2*2 / (2*2 + 2 + 2).
    assert (m["IDF1"], m["IDTP"], m["IDFP"], m["IDFN"]) == (0.5, 2, 2, 2)
    assert (m["MOTA"], m["IDSW"]) == (0.75, 1)  # one switch over 4 GT vertices
    assert (m["MT"], m["ML"], m["FAF"]) == (0.0, 0.0, 0.0)
    assert (m["CT"], m["TF"]) == (0.0, 0.5)


def test_chota_joins_lineages(tmp_path):
    # The same, with result 6 declared the continuation of 5 (its parent, one child):
    # joined into one track, every association measure is perfect.
    gt_frames = [frame(s0=1)] * 4
    res_frames = [frame(s0=5)] * 2 + [frame(s0=6)] * 2
    gt, res = folders(tmp_path, gt_frames, "1 0 3 0\n", res_frames, "5 0 1 0\n6 2 3 5\n")
    m = evaluate(gt, res, "all").measures
    assert m["HOTA"] == m["CHOTA"] == m["IDF1"] == m["MOTA"] == m["MT"] == 1.0
    assert m["IDSW"] == 0


def test_mostly_tracked_counts_only_result_tracks(tmp_path):
    """A GT track found in 1 of its 10 frames is mostly lost.

    py-ctcmetrics 1.3.3 takes the largest entry of the track's row of the
    confusion matrix including its missed frames (9 of 10), so it reports it
    mostly tracked (MT = 1, ML = 0).
    """
    gt_frames = [frame(s0=1)] * 10
    res_frames = [frame(s0=5)] + [frame(s2=6)] * 9  # 6 is elsewhere: a false positive
    gt, res = folders(tmp_path, gt_frames, "1 0 9 0\n", res_frames, "5 0 0 0\n6 1 9 0\n")
    m = evaluate(gt, res, ["MT", "ML", "FAF"]).measures
    assert (m["MT"], m["ML"]) == (0.0, 1.0)
    assert m["FAF"] == pytest.approx(9 / 10)
    theirs = py_ctcmetrics(gt, res, ["MTML"])
    assert (theirs["MT"], theirs["ML"]) == (1.0, 0.0)


def test_labels_near_the_uint16_limit(tmp_path):
    """A perfect result labelled up to 65535 scores 1 everywhere (py-ctcmetrics adds an
    offset to the result's uint16 labels, which wraps around there)."""
    gt_frames = [frame(s0=1)] * 3 + [frame(s0=2, s1=3)] * 3
    res_frames = [frame(s0=65533)] * 3 + [frame(s0=65534, s1=65535)] * 3
    gt, res = folders(tmp_path, gt_frames, "1 0 2 0\n2 3 5 1\n3 3 5 1\n",
                      res_frames, "65533 0 2 0\n65534 3 5 65533\n65535 3 5 65533\n")
    s = evaluate(gt, res, "all")
    assert s.TRA == 1.0
    for key in ("CT", "TF", "BC(0)", "BIO(0)", "OP_CLB(0)", "CHOTA", "HOTA", "MOTA", "IDF1",
                "MT"):
        assert s.measures[key] == 1.0, key
    assert s.measures["CCA"] is None and s.measures["ML"] == 0.0


def test_metric_selection(tmp_path):
    gt_frames = [frame(s0=1)] * 3
    gt, res = folders(tmp_path, gt_frames, "1 0 2 0\n", gt_frames, "1 0 2 0\n")
    assert set(evaluate(gt, res, "HOTA").measures) == {"HOTA", "DetA", "AssA"}
    assert set(evaluate(gt, res, "BC(2)").measures) >= {"BC(2)", "tp_div(2)"}
    s = evaluate(gt, res, "OP_CLB")
    assert s.LNK == 1.0 and s.measures["OP_CLB(0)"] == 1.0 and s.SEG is None
    default = evaluate(gt, res)
    assert default.measures == {} and default.TRA == 1.0


def test_evaluate_cli_all_json_csv_and_recursive(tmp_path, capsys):
    import csv
    import json

    from ctc.cli import main

    gt_frames = [frame(s0=1)] * 4
    res_frames = [frame(s0=5)] * 2 + [frame(s0=6)] * 2
    root = tmp_path / "root"
    gt, res = folders(root / "TOY", gt_frames, "1 0 3 0\n", res_frames, "5 0 1 0\n6 2 3 0\n")
    assert main(["evaluate", "--gt", str(gt), "--res", str(res), "--metrics", "all",
                 "--json", "--csv", str(tmp_path / "one.csv")]) == 0
    out = json.loads(capsys.readouterr().out)
    names = {"CT", "TF", "BC(0)", "BC(3)", "tp_div(1)", "fp_div(2)", "fn_div(3)", "CCA",
             "BIO(0)", "OP_CLB(3)", "CHOTA", "HOTA", "MOTA", "IDF1", "MT", "ML", "FAF"}
    assert names <= set(out) and out["IDSW"] == 1 and out["TRA"] is not None
    with open(tmp_path / "one.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 and float(rows[0]["HOTA"]) == pytest.approx(out["HOTA"])

    assert main(["evaluate", "--recursive", str(root), "--metrics", "HOTA,BC", "--json",
                 "--csv", str(tmp_path / "all.csv")]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["dataset"], r["sequence"]) for r in listed] == [("TOY", "01")]
    assert listed[0]["HOTA"] == pytest.approx(out["HOTA"]) and "BC(0)" in listed[0]
    assert main(["evaluate", "--recursive", str(root), "--gt", str(gt)]) == 2
    assert main(["evaluate", "--recursive", str(tmp_path / "missing")]) == 2
    assert main(["evaluate", "--gt", str(gt), "--res", str(res), "--metrics", "BOGUS"]) == 2


def test_tra_log_repeats_a_split_once_per_extra_marker(tmp_path):
    # Result object 7 covers GT markers 1, 2 and 3 in frame 0: 2 splits, 2 log lines.
    merged = frame(s0=7)
    merged[2:5, 1:12] = 7
    gt, res = folders(tmp_path, [frame(s0=1, s1=2, s2=3)], "1 0 0 0\n2 0 0 0\n3 0 0 0\n",
                      [merged], "7 0 0 0\n")
    s = evaluate(gt, res, ["TRA"], collect_errors=True)
    assert s.NS == 2 and s.errors.NS == [(0, 7, [1, 2, 3])]
    text = s.errors.to_text("TRA", s.TRA)
    section = text.split("----------False Negative")[0].splitlines()[1:]
    assert section == ["T=0 Label=7", "T=0 Label=7"]


def test_error_report_png(tmp_path, capsys):
    from ctc.cli import main

    # GT: 1 divides into 2 and 3 at frame 3; the result misses the division (3 starts
    # without parent), adds a false positive at frame 4 and merges 2 and 3 at frame 5.
    gt_frames = [frame(s0=1)] * 3 + [frame(s0=2, s1=3)] * 3
    merged = frame(s0=2)
    merged[2:5, 1:8] = 2
    res_frames = ([frame(s0=1)] * 3 + [frame(s0=2, s1=3), frame(s0=2, s1=3, s3=9)]
                  + [merged])
    gt, res = folders(tmp_path, gt_frames, "1 0 2 0\n2 3 5 1\n3 3 5 1\n",
                      res_frames, "1 0 2 0\n2 3 5 1\n3 3 4 0\n9 4 4 0\n")
    png = tmp_path / "errors.png"
    assert main(["evaluate", "--gt", str(gt), "--res", str(res), "--report", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    s = evaluate(gt, res, divisions=True, collect_errors=True)
    assert [d.mother for d in s.divisions.missed] == [1] and s.divisions.false == ()
    assert (s.NS, s.FP) == (1, 1)
    assert main(["evaluate", "--gt", str(gt), "--res", str(res), "--report", str(png),
                 "--report-frames", "4,5"]) == 0
    assert main(["evaluate", "--gt", str(gt), "--res", str(res), "--report", str(png),
                 "--report-frames", "99"]) == 2
    assert "not in the result" in capsys.readouterr().err
    assert main(["evaluate", "--gt", str(gt), "--res", str(res), "--report", str(png),
                 "--report-frames", "x"]) == 2
