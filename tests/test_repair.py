"""`repair_result`: nearly-valid results become valid, nothing is invented."""

from __future__ import annotations

import numpy as np
import pytest

from ctc.errors import CTCFormatError, CTCWarning
from ctc.io import read_mask
from ctc.labels import relabel
from ctc.lineage import Track, read_tracks
from ctc.repair import repair_result

from .conftest import with_objects, write_res


def test_gap_split_absent_dropped_undeclared_added(tmp_path):
    masks = [with_objects(1), with_objects(1, 4), with_objects(4), with_objects(1, 4)]
    res = write_res(tmp_path / "01_RES", masks, "1 0 3 0\n9 0 2 0\n")
    report = repair_result(res, tmp_path / "fixed")
    assert report.validation.valid, [str(p) for p in report.validation.problems]
    table = read_tracks(tmp_path / "fixed" / "res_track.txt")
    # label 1 (frames 0-1, 3) split into 1 and a new label 2 (the lowest free one)
    assert sorted(table) == [Track(1, 0, 1, 0), Track(2, 3, 3, 1), Track(4, 1, 3, 0)]
    text = "\n".join(report.changes)
    assert "label 9: declared but absent" in text
    assert "label 4: present in frames 1-3 but undeclared" in text
    assert "label 1: gaps in frames 2" in text
    np.testing.assert_array_equal(read_mask(tmp_path / "fixed" / "mask003.tif"),
                                  with_objects(2, 4))
    np.testing.assert_array_equal(read_mask(tmp_path / "fixed" / "mask000.tif"), masks[0])
    # the source is untouched
    assert (res / "res_track.txt").read_text() == "1 0 3 0\n9 0 2 0\n"


def test_children_follow_the_split_parent(tmp_path):
    masks = [with_objects(1), blank_like(), with_objects(1), with_objects(2, 3)]
    res = write_res(tmp_path / "01_RES", masks, "1 0 2 0\n2 3 3 1\n3 3 3 1\n")
    with pytest.warns(CTCWarning, match="frame 1 has no objects"):
        report = repair_result(res, tmp_path / "fixed")
    table = read_tracks(tmp_path / "fixed" / "res_track.txt")
    assert sorted(table) == [Track(1, 0, 0, 0), Track(2, 3, 3, 4), Track(3, 3, 3, 4),
                             Track(4, 2, 2, 1)]
    assert report.validation.exit_code == 0  # the empty frame is only a warning
    assert [p.code for p in report.validation.problems] == ["empty-frame"]


def test_labels_above_65535_and_bad_parents(tmp_path):
    big = with_objects(1, 2).astype(np.uint32)
    big[big == 2] = 100000
    res = write_res(tmp_path / "01_RES", [big, with_objects(3)],
                    "1 0 0 0\n100000 0 0 0\n3 1 1 1\n3 1 1 0\nx y\n")
    report = repair_result(res, tmp_path / "fixed")
    assert report.validation.valid
    table = read_tracks(tmp_path / "fixed" / "res_track.txt")
    assert sorted(table) == [Track(1, 0, 0, 0), Track(2, 0, 0, 0), Track(3, 1, 1, 1)]
    text = "\n".join(report.changes)
    assert "label 100000 exceeds 65535: relabelled 2" in text
    assert "line 5" in text and "declared more than once" in text
    out = read_mask(tmp_path / "fixed" / "mask000.tif")
    assert out.dtype == np.uint16 and set(np.unique(out)) == {0, 1, 2}


def test_parent_that_does_not_end_first_loses_link(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(1, 2), with_objects(1, 2)],
                    "1 0 1 0\n2 0 1 1\n")
    report = repair_result(res, tmp_path / "fixed")
    assert report.validation.valid
    assert "label 2: parent 1 does not end before frame 0; link removed" in report.changes


def test_valid_result_unchanged(ctc_data, tmp_path):
    report = repair_result(ctc_data / "ctc-evaluation-testset/03_RES", tmp_path / "fixed")
    assert report.changes == [] and report.validation.valid
    assert read_tracks(tmp_path / "fixed/res_track.txt") == read_tracks(
        ctc_data / "ctc-evaluation-testset/03_RES/res_track.txt")


def test_refuses_to_invent_frames(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(1)] * 3, "1 0 2 0\n")
    (res / "mask001.tif").unlink()
    with pytest.raises(CTCFormatError, match="cannot invent frames"):
        repair_result(res, tmp_path / "fixed")
    assert not (tmp_path / "fixed").exists()


def test_relabel_vectorised():
    mask = np.array([[0, 5, 5], [7, 0, 9]], np.uint16)
    np.testing.assert_array_equal(relabel(mask, {5: 1, 7: 70, 9: 2}),
                                  [[0, 1, 1], [70, 0, 2]])
    assert relabel(mask, {5: 1}).tolist() == [[0, 1, 1], [0, 0, 0]]


def blank_like():
    return np.zeros_like(with_objects(1))
