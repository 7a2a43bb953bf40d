"""eval/missed_tracks.py: detection errors grouped by gold track."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from skimage.io import imread

from ctc.toy import toy_sequence, write_gt

from .conftest import write_res

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "eval"))

from missed_tracks import crop_png, left_out, missed_tracks  # noqa: E402


def test_a_never_found_track_holds_its_misses_and_merges_are_shared(tmp_path):
    seq = toy_sequence()
    write_gt(seq, tmp_path / "01_GT")
    result = seq.copy()
    for mask in result.masks:
        mask[mask == 2] = 0  # track 2 is never found
    result.masks[1][result.masks[1] == 4] = 3  # 3 and 4 merged in frame 1
    masks, table = result.to_result()
    write_res(tmp_path / "01_RES", masks, table.to_text())

    totals, rows = missed_tracks(tmp_path / "01_GT", tmp_path / "01_RES")
    frames_of_2 = sum(int((m == 2).any()) for m in seq.masks)
    assert totals["FN"] == frames_of_2 == 6 and totals["NS"] == 1 and totals["FP"] == 0
    assert totals["DET"] < 1
    worst, *merged = rows
    assert (worst["track"], worst["FN"], worst["NS"], worst["first_missed"]) == (2, 6, 0, 0)
    assert worst["first"] == 0 and worst["last"] == 5
    assert worst["DET_if_found"] == pytest.approx(1 - 5 / (10 * totals["vertices"]))
    # the merge's one split is shared by the two markers it covered
    assert sorted((r["track"], r["NS"], r["FN"]) for r in merged) == [(3, 0.5, 0), (4, 0.5, 0)]
    assert rows[-1]["DET_if_these_found"] == pytest.approx(1.0)

    raw = tmp_path / "01"
    raw.mkdir()
    for t, mask in enumerate(seq.masks):
        tifffile.imwrite(raw / f"t{t:03d}.tif", (mask > 0).astype(np.uint16) * 200 + 10)
    out = tmp_path / "missed.png"
    crop_png(raw, tmp_path / "01_GT", tmp_path / "01_RES", [worst], out)
    image = imread(out)
    assert image.shape == (256, 256, 3)
    green = (image[..., 1] == 255) & (image[..., 0] == 0)
    assert green.sum() == (seq.masks[0] == 2).sum()  # the missed marker, drawn in green


def test_a_perfect_result_has_no_rows(tmp_path):
    seq = toy_sequence()
    write_gt(seq, tmp_path / "01_GT")
    masks, table = seq.to_result()
    write_res(tmp_path / "01_RES", masks, table.to_text())
    totals, rows = missed_tracks(tmp_path / "01_GT", tmp_path / "01_RES")
    assert rows == [] and totals["DET"] == 1.0 and totals["tracks_with_misses"] == 0


def test_cells_an_annotation_leaves_out_are_counted_per_track(tmp_path):
    seq = toy_sequence()
    write_gt(seq, tmp_path / "01_GT")
    frames, counts = left_out(tmp_path / "01_GT" / "SEG", tmp_path / "01_GT" / "TRA")
    assert frames == 6 and not counts  # the gold SEG draws every marked cell
    silver = tmp_path / "01_ST" / "SEG"
    silver.mkdir(parents=True)
    for t, mask in enumerate(seq.masks):
        if t % 2 == 0:  # silver truth on every other frame, without cell 2
            tifffile.imwrite(silver / f"man_seg{t:03d}.tif", np.where(mask == 2, 0, mask))
    frames, counts = left_out(silver, tmp_path / "01_GT" / "TRA")
    assert frames == 3 and counts == {2: 3}
