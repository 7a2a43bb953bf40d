"""`validate_result`: every CTC rule, every bad input, and the shared data."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from ctc.validation import validate_result

from .conftest import blank, with_objects, write_res


def codes(report, severity=None):
    return sorted(p.code for p in report.problems if severity in (None, p.severity))


def test_valid_result(tmp_path):
    res = write_res(tmp_path / "01_RES",
                    [with_objects(1), with_objects(1), with_objects(2, 3)],
                    "1 0 1 0\n2 2 2 1\n3 2 2 1\n")
    report = validate_result(res)
    assert report.valid and report.exit_code == 0 and report.problems == []
    assert report.n_frames == 3 and report.n_tracks == 3


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    res = write_res(tmp_path / "01_RES",
                    [with_objects(1, 4), with_objects(5), with_objects(1)],
                    "1 0 2 0\n2 0 1 0\n5 1 1 1\n")
    report = validate_result(res)
    assert report.exit_code == 1
    assert codes(report) == ["label-undeclared", "parent-not-ended", "track-absent",
                             "track-gap"]
    by_code = {p.code: p for p in report.problems}
    gap = by_code["track-gap"]
    assert (gap.file, gap.frame, gap.label) == ("mask001.tif", 1, 1)
    undeclared = by_code["label-undeclared"]
    assert (undeclared.file, undeclared.frame, undeclared.label) == ("mask000.tif", 0, 4)
    assert by_code["track-absent"].label == 2


@pytest.mark.parametrize("tracks,code", [
    ("1 0 1\n", "track-columns"),
    ("1 0 one 0\n", "track-not-integer"),
    ("1 0 1 0\n1 0 1 0\n", "track-duplicate"),
    ("1 1 0 0\n", "track-begin-after-end"),
    ("1 0 1 7\n", "parent-missing"),
    ("1 0 1 1\n", "parent-self"),
    ("1 0 5 0\n", "track-out-of-range"),
])
def test_track_file_problems(tmp_path, tracks, code):
    res = write_res(tmp_path / "01_RES", [with_objects(1), with_objects(1)], tracks)
    report = validate_result(res)
    assert code in codes(report, "error")
    assert all(p.file == "res_track.txt" for p in report.problems if p.code == code)
    assert report.exit_code == 1


def test_label_outside_track(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(1), with_objects(1)], "1 0 0 0\n")
    report = validate_result(res)
    assert codes(report) == ["label-outside-track"]
    assert report.problems[0].frame == 1


def test_missing_track_file_and_seg_only(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(1)], None)
    assert codes(validate_result(res)) == ["missing-track-file"]
    assert validate_result(res, seg_only=True).valid


def test_missing_folder_and_no_frames_are_unusable(tmp_path):
    report = validate_result(tmp_path / "nope")
    assert report.exit_code == 2 and codes(report) == ["missing-folder"]
    (tmp_path / "01_RES").mkdir()
    report = validate_result(tmp_path / "01_RES")
    assert report.exit_code == 2 and codes(report) == ["no-frames"]


def test_mixed_digits_unusable(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(1)], "1 0 0 0\n")
    tifffile.imwrite(res / "mask0001.tif", with_objects(1))
    report = validate_result(res)
    assert report.exit_code == 2 and "mixed" in report.problems[0].message


def test_frame_count_against_expected_and_raw_sequence(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(1)] * 3, "1 0 2 0\n")
    report = validate_result(res, n_frames=4)
    assert codes(report) == ["frame-missing"] and "frame" in report.problems[0].message
    assert codes(validate_result(res, n_frames=2)) == ["frame-extra", "track-out-of-range"]
    raw = tmp_path / "01"
    raw.mkdir()
    for t in range(5):
        tifffile.imwrite(raw / f"t{t:03d}.tif", np.zeros((16, 16), np.uint8))
    report = validate_result(res)
    assert report.n_frames == 5 and "raw sequence" in report.frames_source
    assert codes(report) == ["frame-missing"]


def test_missing_middle_frame(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(1)] * 3, "1 0 2 0\n")
    (res / "mask001.tif").unlink()
    report = validate_result(res)
    assert "frame-missing" in codes(report)
    # an object cannot be checked in a frame that is not there: no spurious gap
    assert "track-gap" not in codes(report)


def test_unreadable_and_truncated_tiff(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(1)] * 2, "1 0 1 0\n")
    data = (res / "mask001.tif").read_bytes()
    (res / "mask001.tif").write_bytes(data[:100])
    report = validate_result(res)
    assert codes(report) == ["unreadable"]
    assert report.problems[0].file == "mask001.tif"


def test_2d_3d_mismatch(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(1), np.stack([with_objects(1)] * 2)],
                    "1 0 1 0\n")
    report = validate_result(res)
    assert codes(report) == ["shape-mismatch"]
    assert "3D" in report.problems[0].message and report.problems[0].file == "mask001.tif"


@pytest.mark.parametrize("dtype", [np.float32, np.int16])
def test_float_and_signed_masks(tmp_path, dtype):
    res = write_res(tmp_path / "01_RES", [with_objects(1).astype(dtype)], "1 0 0 0\n")
    report = validate_result(res)
    assert codes(report) == ["mask-dtype"] and "uint16" in report.problems[0].message


def test_labels_above_65535(tmp_path):
    mask = with_objects(1).astype(np.uint32)
    mask[10, 10] = 70000
    res = write_res(tmp_path / "01_RES", [mask], "1 0 0 0\n70000 0 0 0\n")
    report = validate_result(res)
    assert "label-too-large" in codes(report, "error")


def test_uint8_mask_is_a_warning(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(1).astype(np.uint8)], "1 0 0 0\n")
    report = validate_result(res)
    assert report.valid and codes(report, "warning") == ["mask-dtype"]


def test_empty_frame_is_a_warning(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(1), blank()], "1 0 0 0\n")
    report = validate_result(res)
    assert report.valid and report.exit_code == 0
    assert codes(report) == ["empty-frame"] and report.problems[0].frame == 1


def test_json_report(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(1)], "1 0 0 2\n")
    data = validate_result(res).to_dict()
    assert data["valid"] is False and data["exit_code"] == 1 and data["n_errors"] == 1
    assert data["problems"][0]["code"] == "parent-missing"


def test_gt_tra_folder(tmp_path):
    gt = write_res(tmp_path / "01_GT" / "TRA", [with_objects(1), with_objects(2)],
                   "1 0 0 0\n2 1 1 1\n", prefix="man_track", track_name="man_track.txt")
    report = validate_result(gt)
    assert report.kind == "GT TRA" and report.valid


# --- acceptance on the shared data ------------------------------------------------


def test_shared_gt_tracking_annotations_are_valid(ctc_data):
    folders = sorted(ctc_data.glob("*/*_GT/TRA"))
    assert folders
    for folder in folders:
        report = validate_result(folder)
        assert report.valid, (folder, [str(p) for p in report.problems])
        assert report.problems == []


def test_official_testset_results(ctc_data):
    report = validate_result(ctc_data / "ctc-evaluation-testset/03_RES")
    assert report.valid and report.problems == [] and report.n_tracks == 12
    seg_only = ctc_data / "ctc-evaluation-testset/01_RES"
    assert validate_result(seg_only, seg_only=True).valid
    assert [p.code for p in validate_result(seg_only).problems] == ["missing-track-file"]
