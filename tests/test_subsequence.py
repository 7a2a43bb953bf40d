"""A run of frames as a sequence of its own (train on one part, score on the other)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from ctc.errors import CTCInputError
from ctc.io.subsequence import trim_tracks, write_subsequence
from ctc.lineage import Track, TrackTable, read_tracks
from ctc.metrics import evaluate
from ctc.toy import moving_discs, write_gt
from ctc.validation import validate_result


def test_trim_tracks_cuts_renumbers_and_drops_links_to_lost_parents():
    table = TrackTable([Track(1, 0, 3), Track(2, 4, 9, 1), Track(3, 4, 6, 1),
                        Track(4, 7, 9, 3), Track(5, 0, 1), Track(6, 8, 9)])
    cut = trim_tracks(table, 4, 8)
    # 1 and 5 end before frame 4: gone, and 2 and 3 start lineages; 4 keeps its parent 3
    assert list(cut) == [Track(2, 0, 4), Track(3, 0, 2), Track(4, 3, 4, 3), Track(6, 4, 4)]
    # a track that began before the cut loses its parent even if the parent is kept
    assert list(trim_tracks(TrackTable([Track(1, 0, 2), Track(2, 3, 5, 1)]), 4, 5)) == [
        Track(2, 0, 1)]


def test_second_half_scores_like_the_original_frames(tmp_path):
    truth = moving_discs(n_frames=8, shape=(80, 80), n_objects=3, seed=2, divide_every=4)
    src = tmp_path / "src"
    write_gt(truth, src / "01_GT")
    (src / "01").mkdir()
    for t, mask in enumerate(truth.masks):
        tifffile.imwrite(src / "01" / f"t{t:03d}.tif", (mask > 0).astype(np.uint8) * 100)
    out = tmp_path / "half"
    write_subsequence(src, "01", 3, 7, out, "02")
    assert sorted(p.name for p in (out / "02").iterdir()) == [
        f"t{t:03d}.tif" for t in range(5)]
    np.testing.assert_array_equal(tifffile.imread(out / "02_GT" / "SEG" / "man_seg000.tif"),
                                  truth.masks[3])
    table = read_tracks(out / "02_GT" / "TRA" / "man_track.txt")
    assert table == trim_tracks(read_tracks(src / "01_GT" / "TRA" / "man_track.txt"), 3, 7)
    # the cut ground truth is itself a valid, perfectly scoring CTC result
    res = tmp_path / "res"
    res.mkdir()
    for t in range(5):
        tifffile.imwrite(res / f"mask{t:03d}.tif",
                         tifffile.imread(out / "02_GT" / "TRA" / f"man_track{t:03d}.tif"))
    (res / "res_track.txt").write_text(table.to_text())
    assert validate_result(res).valid
    scores = evaluate(out / "02_GT", res, "SEG,DET,TRA")
    assert scores.SEG == scores.DET == scores.TRA == 1.0


def test_subsequence_outside_the_sequence_is_refused(tmp_path):
    (tmp_path / "d" / "01").mkdir(parents=True)
    for t in range(3):
        tifffile.imwrite(tmp_path / "d" / "01" / f"t{t:03d}.tif", np.zeros((4, 4), np.uint8))
    with pytest.raises(CTCInputError, match=r"frames 1\.\.5 are not a run"):
        write_subsequence(tmp_path / "d", "01", 1, 5, tmp_path / "o", "01")
    assert not (tmp_path / "o").exists()
