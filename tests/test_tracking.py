"""Tracking: hand-built sequences with the exact res_track.txt expected."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from ctc.cli import main
from ctc.errors import CTCFormatError, CTCInputError
from ctc.io import read_mask
from ctc.lineage import read_tracks
from ctc.tracking import Tracker, TrackingConfig, track, track_folder, track_to_result
from ctc.validation import validate_result

SHAPE = (40, 60)


def frame(*boxes, shape=SHAPE):
    """A label image with rectangles (label, y0, y1, x0, x1)."""
    mask = np.zeros(shape, np.uint16)
    for label, y0, y1, x0, x1 in boxes:
        mask[y0:y1, x0:x1] = label
    return mask


def run(tmp_path, masks, config=None):
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "01_RES"
    track_to_result(iter(masks), out, config)
    report = validate_result(out)
    assert report.valid, [str(p) for p in report.problems]
    return (out / "res_track.txt").read_text(), [read_mask(p) for p in
                                                  sorted(out.glob("mask*.tif"))]


def test_continuation(tmp_path):
    masks = [frame((7, 5, 15, 5 + t, 15 + t), (3, 25, 35, 30 + 2 * t, 40 + 2 * t))
             for t in range(3)]
    text, out = run(tmp_path, masks)
    assert text == "1 0 2 0\n2 0 2 0\n"
    for t, mask in enumerate(out):
        assert set(np.unique(mask[masks[t] == 7])) == {1}
        assert set(np.unique(mask[masks[t] == 3])) == {2}


def test_mitosis(tmp_path):
    masks = [frame((9, 10, 30, 10, 30)), frame((9, 10, 30, 10, 30)),
             frame((4, 8, 19, 10, 30), (5, 21, 32, 10, 30)),
             frame((8, 7, 18, 10, 30), (2, 22, 33, 10, 30))]
    text, _ = run(tmp_path, masks)
    assert text == "1 0 1 0\n2 2 3 1\n3 2 3 1\n"


def test_no_mitosis_without_division(tmp_path):
    masks = [frame((9, 10, 30, 10, 30)), frame((4, 8, 19, 10, 30), (5, 21, 32, 10, 30))]
    text, _ = run(tmp_path, masks, TrackingConfig(division=False))
    assert text == "1 0 1 0\n2 1 1 0\n"


def test_object_leaving_and_entering(tmp_path):
    masks = [frame((1, 5, 15, 5, 15), (2, 25, 35, 40, 50)),
             frame((1, 5, 15, 6, 16), (2, 25, 35, 41, 51)),
             frame((2, 25, 35, 42, 52)),
             frame((2, 25, 35, 43, 53), (5, 2, 8, 50, 58))]
    text, _ = run(tmp_path, masks)
    assert text == "1 0 1 0\n2 0 3 0\n3 3 3 0\n"


@pytest.mark.parametrize("gap", [1, 3])
def test_gap_closing(tmp_path, gap):
    present = frame((1, 10, 20, 10, 20))
    masks = [present, present] + [frame((2, 30, 38, 45, 55))] * gap + [
        frame((1, 11, 21, 12, 22), (2, 30, 38, 45, 55))]
    end = 2 + gap
    text, _ = run(tmp_path, masks, TrackingConfig(max_gap=gap))
    assert text == f"1 0 1 0\n2 2 {end} 0\n3 {end} {end} 1\n"
    text, _ = run(tmp_path / "short", masks, TrackingConfig(max_gap=gap - 1))
    assert text == f"1 0 1 0\n2 2 {end} 0\n3 {end} {end} 0\n"


def test_touching_objects_swapping_overlap(tmp_path):
    # B's old footprint covers more of A's new position than A's own: the global
    # assignment keeps both identities.
    masks = [frame((1, 10, 20, 0, 10), (2, 10, 20, 10, 20)),
             frame((1, 10, 20, 6, 16), (2, 10, 20, 16, 26))]
    text, out = run(tmp_path, masks)
    assert text == "1 0 1 0\n2 0 1 0\n"
    assert out[1][15, 6] == out[0][15, 0] and out[1][15, 25] == out[0][15, 15]


def test_false_division_merging_back(tmp_path):
    whole = frame((1, 10, 30, 10, 30))
    split = frame((1, 10, 19, 10, 30), (2, 19, 30, 10, 30))
    masks = [whole, split, whole, whole]
    text, _ = run(tmp_path, masks)  # the larger piece continues into the merged object
    assert text == "1 0 0 0\n2 1 1 1\n3 1 3 1\n"
    text, out = run(tmp_path / "merged", masks, TrackingConfig(merge_window=2))
    assert text == "1 0 3 0\n"
    np.testing.assert_array_equal(out[1], (split > 0).astype(np.uint16))


def test_short_isolated_tracks_removed(tmp_path):
    masks = [frame((1, 10, 20, 10, 20)), frame((1, 10, 20, 11, 21), (2, 30, 34, 50, 54)),
             frame((1, 10, 20, 12, 22))]
    text, out = run(tmp_path, masks, TrackingConfig(min_track_length=2))
    assert text == "1 0 2 0\n"
    assert not out[1][30:34, 50:54].any()


def test_3d_sequence(tmp_path):
    def volume(*boxes):
        vol = np.zeros((12, 30, 30), np.uint16)
        for label, z0, z1, y0, y1, x0, x1 in boxes:
            vol[z0:z1, y0:y1, x0:x1] = label
        return vol

    masks = [volume((3, 2, 10, 5, 25, 5, 15)), volume((3, 2, 10, 5, 25, 6, 16)),
             volume((1, 2, 10, 4, 14, 6, 16), (2, 2, 10, 16, 26, 6, 16))]
    text, out = run(tmp_path, masks)
    assert text == "1 0 1 0\n2 2 2 1\n3 2 2 1\n"
    assert out[2].shape == (12, 30, 30)


def test_output_independent_of_input_labels(tmp_path):
    rng = np.random.default_rng(0)
    masks = [frame((1, 2, 12, 2 + t, 12 + t), (2, 20, 30, 30, 40), (3, 25, 35, 5, 15))
             for t in range(4)]
    masks.append(frame((1, 2, 12, 6, 16), (2, 18, 25, 30, 40), (4, 26, 33, 30, 40)))
    base, base_out = run(tmp_path / "a", masks)
    shuffled = []
    for m in masks:
        new = np.zeros_like(m)
        for label in np.unique(m)[1:]:
            new[m == label] = rng.integers(1, 65535)
        shuffled.append(new)
    text, out = run(tmp_path / "b", shuffled)
    assert text == base
    for a, b in zip(base_out, out, strict=True):
        np.testing.assert_array_equal(a, b)


def test_in_memory_api_and_tracker_state():
    masks = [frame((5, 10, 20, 10, 20)), frame((6, 10, 20, 11, 21))]
    out, table = track(masks)
    assert table.to_text() == "1 0 1 0\n" and out[1].max() == 1
    tracker = Tracker()
    tracker.add(masks[0])
    assert tracker.n_frames == 1
    with pytest.raises(CTCFormatError, match="no frame was added"):
        Tracker().finish()


def test_bad_input(tmp_path):
    with pytest.raises(CTCFormatError, match=r"frame 1 has shape \(20, 20\) but frame 0"):
        track([frame(), np.zeros((20, 20), np.uint16)])
    with pytest.raises(CTCFormatError, match="float64 image; instance masks must hold"):
        track([np.zeros(SHAPE)])
    with pytest.raises(CTCInputError, match="no frames to track"):
        track([])
    (tmp_path / "empty").mkdir()
    with pytest.raises(CTCInputError, match="no numbered '.tif' frames"):
        track_folder(tmp_path / "empty", tmp_path / "01_RES")
    for t in (0, 2):
        tifffile.imwrite(tmp_path / "empty" / f"mask{t:03d}.tif", frame((1, 1, 5, 1, 5)))
    with pytest.raises(CTCInputError, match=r"missing \[1\]"):
        track_folder(tmp_path / "empty", tmp_path / "01_RES")
    assert not (tmp_path / "01_RES").exists()
    with pytest.raises(ValueError, match="min_iou must lie in"):
        TrackingConfig(min_iou=2)


def test_track_cli(tmp_path, capsys):
    masks = tmp_path / "masks"
    masks.mkdir()
    for t in range(3):
        tifffile.imwrite(masks / f"seg{t:04d}.tif", frame((t + 1, 5, 15, 5 + t, 15 + t)))
    config = tmp_path / "tracking.json"
    config.write_text(json.dumps({"max_displacement": 10.0}))
    assert main(["track", str(masks), str(tmp_path / "01_RES"), "--config", str(config),
                 "--min-track-length", "2"]) == 0
    assert "VALID" in capsys.readouterr().out
    assert (tmp_path / "01_RES" / "mask0002.tif").is_file()  # digit count kept
    assert read_tracks(tmp_path / "01_RES" / "res_track.txt").to_text() == "1 0 2 0\n"
    # cutting merged objects writes the masks it tracked, with the same digit count
    assert main(["track", str(masks), str(tmp_path / "03_RES"), "--split-merged"]) == 0
    assert (tmp_path / "03_RES" / "mask0002.tif").is_file()
    config.write_text(json.dumps({"max_speed": 1}))
    assert main(["track", str(masks), str(tmp_path / "02_RES"), "--config", str(config)]) == 2


def test_track_length_calibration_drops_debris_but_not_short_real_cells(tmp_path):
    from ctc.tracking.calibrate import choose_track_length, score_track_lengths

    yy, xx = np.mgrid[:64, :64]

    def disc(y, x, r=6):
        return (yy - y) ** 2 + (xx - x) ** 2 <= r * r

    gt, masks = [], []
    for t in range(10):
        frame = np.zeros((64, 64), np.uint16)
        frame[disc(16, 10 + 2 * t)] = 1  # a cell throughout
        if 3 <= t < 6:
            frame[disc(48, 48)] = 2  # a real cell seen for three frames
        gt.append(frame)
        mask = frame.copy()
        if t in (1, 4, 7):
            mask[disc(50, 12, 4)] = 9  # one-frame debris
        masks.append(mask)
    gt_dir = tmp_path / "01_GT"
    (gt_dir / "TRA").mkdir(parents=True)
    (gt_dir / "SEG").mkdir()
    for t, frame in enumerate(gt):
        tifffile.imwrite(gt_dir / "TRA" / f"man_track{t:03d}.tif", frame)
        if t in (0, 4):
            tifffile.imwrite(gt_dir / "SEG" / f"man_seg{t:03d}.tif", frame)
    (gt_dir / "TRA" / "man_track.txt").write_text("1 0 9 0\n2 3 5 0\n")
    (tmp_path / "masks").mkdir()
    for t, mask in enumerate(masks):
        tifffile.imwrite(tmp_path / "masks" / f"mask{t:03d}.tif", mask)

    results = score_track_lengths([(tmp_path / "masks", gt_dir)], lengths=(0, 2, 3, 4))
    by_length = {r["min_track_length"]: r["sequences"][0] for r in results}
    assert by_length[0]["FP"] == 3 and by_length[0]["tracks"] == 5
    assert by_length[2]["FP"] == 0 and by_length[2]["tracks"] == 2
    assert by_length[4]["DET"] < by_length[3]["DET"] - 0.01  # the short real cell went
    assert by_length[4]["SEG"] < by_length[3]["SEG"] == by_length[0]["SEG"] == 1.0
    assert choose_track_length(results) == 3
    # SEG counts as much as DET and TRA: a minimum that costs SEG alone is refused
    def row(length, seg, det):
        return {"min_track_length": length, "sequences": [{"SEG": seg, "DET": det, "TRA": det}]}
    assert choose_track_length([row(0, 0.601, 0.512), row(5, 0.446, 0.511)]) == 0
    assert choose_track_length([row(0, 0.601, 0.512), row(5, 0.600, 0.511)]) == 5


def test_size_floor_calibration_drops_persistent_fragments_but_not_cells(tmp_path):
    from ctc.labels import drop_small
    from ctc.tracking.calibrate import choose_size_floor, score_size_floors

    yy, xx = np.mgrid[:64, :64]

    def disc(y, x, r):
        return (yy - y) ** 2 + (xx - x) ** 2 <= r * r

    gt_dir = tmp_path / "01_GT"
    (gt_dir / "TRA").mkdir(parents=True)
    (gt_dir / "SEG").mkdir()
    (tmp_path / "masks").mkdir()
    for t in range(8):
        frame = np.zeros((64, 64), np.uint16)
        frame[disc(16, 12 + 2 * t, 7)] = 1  # two cells throughout (about 150 px)
        frame[disc(46, 46, 7)] = 2
        tifffile.imwrite(gt_dir / "TRA" / f"man_track{t:03d}.tif", frame)
        tifffile.imwrite(gt_dir / "SEG" / f"man_seg{t:03d}.tif", frame)
        mask = frame.copy()
        mask[disc(50, 12, 3)] = 7  # a fragment in every frame (29 px): a long false track
        tifffile.imwrite(tmp_path / "masks" / f"mask{t:03d}.tif", mask)
    (gt_dir / "TRA" / "man_track.txt").write_text("1 0 7 0\n2 0 7 0\n")

    results = score_size_floors([(tmp_path / "masks", gt_dir)], [10, 60, 200])
    by_floor = {r["min_size"]: r["sequences"][0] for r in results}
    assert by_floor[10]["FP"] == 8 and by_floor[10]["tracks"] == 3
    assert by_floor[60]["FP"] == 0 and by_floor[60]["tracks"] == 2
    assert by_floor[60]["SEG"] == by_floor[10]["SEG"] == 1.0
    assert by_floor[200]["DET"] == 0 and by_floor[200]["tracks"] == 0  # the cells went too
    assert choose_size_floor(results) == 60
    # the masks themselves are left as they were
    assert (tifffile.imread(tmp_path / "masks" / "mask000.tif") == 7).sum() == 29
    labels = np.array([[0, 3, 3], [5, 3, 0]], np.uint16)
    assert drop_small(labels, 2).tolist() == [[0, 3, 3], [0, 3, 0]]
    assert drop_small(labels, 2).dtype == np.uint16


# --- merged objects cut apart ----------------------------------------------------------


def _discs(*centres, r=7, shape=(48, 64), dtype=np.uint16):
    """Discs (label, y, x) of radius `r`; later ones drawn over earlier ones."""
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    mask = np.zeros(shape, dtype)
    for label, y, x in centres:
        mask[(yy - y) ** 2 + (xx - x) ** 2 <= r * r] = label
    return mask


def _merged(frame_):
    """The same frame with every object given label 1: a segmentation that merged them."""
    return (frame_ > 0).astype(frame_.dtype)


def test_split_merged_cuts_an_object_along_its_predecessors():
    from ctc.tracking.merges import split_merged

    prev = _discs((4, 24, 20), (9, 24, 36))  # apart
    touching = _discs((1, 24, 22), (2, 24, 35))  # moved together: they touch
    merged = _merged(touching)
    out = split_merged(prev, merged)
    assert len(np.unique(out[out > 0])) == 2 and out.dtype == np.uint16
    assert ((out > 0) == (merged > 0)).all()  # only cut, nothing added or lost
    # each part is the cell it came from, to the neck
    for cell in (1, 2):
        part = np.bincount(out[touching == cell]).argmax()
        assert (out[touching == cell] == part).mean() > 0.95
    # objects that did not merge are left as they are
    assert split_merged(prev, touching) is touching


def test_split_merged_ignores_debris_and_cells_that_moved_away():
    from ctc.tracking.merges import split_merged

    cell = _discs((1, 24, 30), r=10)
    debris = _discs((1, 24, 30), r=10) + _discs((2, 24, 33), r=2)  # a fragment inside it
    debris[debris > 2] = 2
    assert split_merged(debris, cell).max() == 1  # a 13-pixel fragment does not cut a cell
    # a cell of which less than half moved into the object is no predecessor
    prev = _discs((1, 24, 20), (2, 24, 52))
    curr = _merged(_discs((1, 24, 22), (2, 24, 36)))  # the second cell only grazes it
    assert split_merged(prev, curr).max() == 1
    # one round cell the previous frame held as two halves is not cut: no neck
    halves = _discs((1, 24, 30), r=10)
    halves[:, 30:][halves[:, 30:] > 0] = 2
    whole = _discs((1, 24, 30), r=10)
    assert split_merged(halves, whole).max() == 1
    # the same halves pulled apart into a peanut are
    peanut = _discs((1, 24, 24), (1, 24, 36), r=8)
    apart = _discs((1, 24, 24), (2, 24, 36), r=8)
    assert len(np.unique(split_merged(apart, peanut))) == 3


def test_split_merged_needs_wider_labels_past_uint16():
    from ctc.tracking.merges import split_merged

    prev = _discs((4, 24, 20), (9, 24, 36))
    merged = _merged(_discs((1, 24, 22), (2, 24, 35))) * np.uint16(65535)
    out = split_merged(prev, merged)
    assert out.dtype == np.uint32 and set(np.unique(out)) == {0, 65535, 65536}


def test_tracker_split_merged_keeps_both_tracks_through_the_merge(tmp_path):
    # two cells approach, are returned as one object for two frames, and part again
    xs = [(14, 46), (18, 42), (22, 37), (22, 37), (18, 42)]
    masks = [_discs((1, 24, a), (2, 24, b), r=8) for a, b in xs]
    masks[2], masks[3] = _merged(masks[2]), _merged(masks[3])
    text, _ = run(tmp_path / "off", masks)
    assert len(text.splitlines()) > 2  # the merge ends both tracks and starts others
    config = TrackingConfig(split_merged=True)
    text, out = run(tmp_path / "on", masks, config)
    assert text == "1 0 4 0\n2 0 4 0\n"
    assert all(len(np.unique(m[m > 0])) == 2 for m in out)
    # track_folder writes the cut masks, not the files it read
    (tmp_path / "masks").mkdir()
    for t, m in enumerate(masks):
        tifffile.imwrite(tmp_path / "masks" / f"mask{t:03d}.tif", m)
    table = track_folder(tmp_path / "masks", tmp_path / "folder_RES", config)
    assert len(table) == 2
    assert len(np.unique(read_mask(tmp_path / "folder_RES" / "mask002.tif"))) == 3
    assert TrackingConfig.from_dict(config.to_dict()).split_merged


def test_split_merged_calibration_cuts_where_the_gold_truth_says_cells_merged(tmp_path):
    from ctc.tracking.calibrate import choose_split_merged, score_split_merged

    xs = [(14, 46), (18, 42), (22, 37), (22, 37), (18, 42)]
    gt_dir = tmp_path / "01_GT"
    (gt_dir / "TRA").mkdir(parents=True)
    (gt_dir / "SEG").mkdir()
    (tmp_path / "masks").mkdir()
    for t, (a, b) in enumerate(xs):
        truth = _discs((1, 24, a), (2, 24, b), r=8)
        tifffile.imwrite(gt_dir / "TRA" / f"man_track{t:03d}.tif", truth)
        tifffile.imwrite(gt_dir / "SEG" / f"man_seg{t:03d}.tif", truth)
        mask = _merged(truth) if t in (2, 3) else truth
        tifffile.imwrite(tmp_path / "masks" / f"mask{t:03d}.tif", mask)
    (gt_dir / "TRA" / "man_track.txt").write_text("1 0 4 0\n2 0 4 0\n")
    results = score_split_merged([(tmp_path / "masks", gt_dir)])
    off, on = (r["sequences"][0] for r in results)
    assert on["TRA"] == on["DET"] == 1.0 > off["TRA"] and on["tracks"] == 2
    assert choose_split_merged(results)
    # a cut that costs SEG anywhere, or gains nothing, is not taken
    worse = [{"split_merged": False, "sequences": [dict(off, SEG=0.9)]},
             {"split_merged": True, "sequences": [dict(on, SEG=0.85)]}]
    assert not choose_split_merged(worse)
    same = [{"split_merged": flag, "sequences": [dict(off)]} for flag in (False, True)]
    assert not choose_split_merged(same)
