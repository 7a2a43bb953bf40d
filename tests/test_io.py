"""CTC I/O: discovery, digit detection, lazy reading, atomic result writing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile

from ctc.errors import CTCFormatError, CTCInputError, CTCWarning
from ctc.io import (
    FrameSequence,
    ResultWriter,
    find_frames,
    find_slice_annotations,
    frame_info,
    list_sequences,
    read_frame,
    read_mask,
    sequence_folders,
)
from ctc.lineage import Track, TrackTable, read_tracks

from .conftest import with_objects, write_res


def touch_frames(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        tifffile.imwrite(folder / name, np.zeros((4, 4), np.uint8))


@pytest.mark.parametrize("digits", [3, 4, 5])
def test_digit_count_detected(tmp_path, digits):
    touch_frames(tmp_path, [f"t{t:0{digits}d}.tif" for t in range(3)])
    files = find_frames(tmp_path, "t")
    assert files.digits == digits
    assert files.frames == [0, 1, 2]


def test_numbers_wider_than_padding_are_not_mixed(tmp_path):
    touch_frames(tmp_path, ["t998.tif", "t999.tif", "t1000.tif"])
    files = find_frames(tmp_path, "t")
    assert files.digits == 3 and files.frames == [998, 999, 1000]


def test_mixed_digit_counts_rejected(tmp_path):
    touch_frames(tmp_path, ["t000.tif", "t0001.tif"])
    with pytest.raises(CTCInputError, match="mixed frame-number digit counts") as err:
        find_frames(tmp_path, "t")
    assert str(tmp_path) in str(err.value)


def test_missing_folder_and_no_frames(tmp_path):
    with pytest.raises(CTCInputError, match="folder not found"):
        find_frames(tmp_path / "nope", "t")
    with pytest.raises(CTCInputError, match="no 'maskNNN.tif' frames"):
        find_frames(tmp_path, "mask")
    touch_frames(tmp_path, ["mask000.tiff"])
    with pytest.raises(CTCInputError, match="'.tiff' files"):
        find_frames(tmp_path, "mask")


def test_missing_frames_listed(tmp_path):
    touch_frames(tmp_path, ["t000.tif", "t002.tif"])
    assert find_frames(tmp_path, "t").missing_frames() == [1]
    assert find_frames(tmp_path, "t").missing_frames(5) == [1, 3, 4]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("shape", [(7, 9), (3, 7, 9)])
@pytest.mark.parametrize("compression", [None, "zlib"])
def test_read_frame_2d_3d_dtypes(tmp_path, dtype, shape, compression):
    rng = np.random.default_rng(0)
    image = (rng.random(shape) * 200).astype(dtype)
    tifffile.imwrite(tmp_path / "t000.tif", image, compression=compression,
                     photometric="minisblack")
    out = read_frame(tmp_path / "t000.tif")
    assert out.dtype == image.dtype and out.shape == shape
    np.testing.assert_array_equal(out, image)
    info = frame_info(tmp_path / "t000.tif")
    assert info.shape == shape and info.dtype == image.dtype


def test_truncated_and_bogus_tiff(tmp_path):
    tifffile.imwrite(tmp_path / "a.tif", np.ones((64, 64), np.uint16))
    data = (tmp_path / "a.tif").read_bytes()
    (tmp_path / "a.tif").write_bytes(data[: len(data) // 2])
    (tmp_path / "b.tif").write_text("not a tiff")
    for name in ("a.tif", "b.tif"):
        with pytest.raises(CTCFormatError, match="unreadable|not a TIFF file") as err:
            read_frame(tmp_path / name)
        assert name in str(err.value)


@pytest.mark.parametrize("dtype,word", [(np.float32, "float"), (np.int16, "signed")])
def test_read_mask_refuses_float_and_signed(tmp_path, dtype, word):
    tifffile.imwrite(tmp_path / "mask000.tif", np.ones((4, 4), dtype))
    with pytest.raises(CTCFormatError, match=word) as err:
        read_mask(tmp_path / "mask000.tif")
    assert "mask000.tif" in str(err.value) and "uint16" in str(err.value)


def test_sequence_reads_lazily_and_detects_2d_3d_mismatch(tmp_path):
    tifffile.imwrite(tmp_path / "t000.tif", np.zeros((8, 8), np.uint8))
    tifffile.imwrite(tmp_path / "t001.tif", np.zeros((2, 8, 8), np.uint8))
    seq = FrameSequence.open(tmp_path, "t")
    assert len(seq) == 2 and seq.read(0).shape == (8, 8)
    with pytest.raises(CTCFormatError, match="3D vs 2D") as err:
        seq.read(1)
    assert "t001.tif" in str(err.value)
    with pytest.raises(CTCFormatError, match="3D vs 2D"):
        seq.check_shapes()
    with pytest.raises(CTCFormatError, match="frame 5 missing"):
        seq.read(5)


def test_slice_annotations(tmp_path):
    touch_frames(tmp_path, ["man_seg_000_019.tif", "man_seg_001_007.tif", "man_seg003.tif"])
    found = find_slice_annotations(tmp_path)
    assert list(found) == [(0, 19), (1, 7)]


def test_sequence_folders(ctc_data):
    folders = sequence_folders(ctc_data / "DIC-C2DH-HeLa", "01")
    assert folders.raw and folders.gt_seg and folders.gt_tra and folders.st_seg
    assert folders.res is None
    assert folders.res_target == ctc_data / "DIC-C2DH-HeLa" / "01_RES"
    assert list_sequences(ctc_data / "DIC-C2DH-HeLa") == ["01", "02"]
    with pytest.raises(CTCInputError, match="no folder of sequence 07"):
        sequence_folders(ctc_data / "DIC-C2DH-HeLa", "07")


# --- atomic result writer -------------------------------------------------------------


def test_writer_creates_folder_only_when_complete(tmp_path):
    target = tmp_path / "01_RES"
    with ResultWriter(target, n_frames=2) as res:
        res.write_mask(0, with_objects(1))
        assert not target.exists()  # built elsewhere until complete
        res.write_mask(1, with_objects(1))
        res.write_tracks([Track(1, 0, 1, 0)])
    assert sorted(p.name for p in target.iterdir()) == ["mask000.tif", "mask001.tif",
                                                        "res_track.txt"]
    assert read_frame(target / "mask000.tif").dtype == np.uint16
    assert list(tmp_path.iterdir()) == [target]  # no temporary folder left


def test_writer_interrupted_leaves_nothing_and_keeps_old_result(tmp_path):
    target = write_res(tmp_path / "01_RES", [with_objects(5)], "5 0 0 0\n")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    with pytest.raises(KeyboardInterrupt):
        with ResultWriter(target, overwrite=True) as res:
            res.write_mask(0, with_objects(1))
            raise KeyboardInterrupt
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert list(tmp_path.iterdir()) == [target]


def test_writer_refuses_incomplete_result(tmp_path):
    target = tmp_path / "01_RES"
    with pytest.raises(CTCFormatError, match=r"frames missing \[1\]"):
        with ResultWriter(target, n_frames=3) as res:
            res.write_mask(0, with_objects(1))
            res.write_mask(2, with_objects(1))
            res.write_tracks([])
    with pytest.raises(CTCFormatError, match="res_track.txt was not written"):
        with ResultWriter(target) as res:
            res.write_mask(0, with_objects(1))
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_existing_target_and_bad_labels(tmp_path):
    (tmp_path / "01_RES").mkdir()
    with pytest.raises(CTCInputError, match="already exists"):
        with ResultWriter(tmp_path / "01_RES"):
            pass
    with pytest.raises(CTCFormatError, match="exceeds 65535"):
        with ResultWriter(tmp_path / "02_RES") as res:
            res.write_mask(0, np.full((4, 4), 70000, np.uint32))
    with pytest.raises(CTCFormatError, match="labels must be integers"):
        with ResultWriter(tmp_path / "02_RES") as res:
            res.write_mask(0, np.ones((4, 4), np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01_RES"]


def test_writer_warns_on_empty_frame_and_uses_digits(tmp_path):
    with pytest.warns(CTCWarning, match="frame 0 has no objects"):
        with ResultWriter(tmp_path / "01_RES", digits=4) as res:
            res.write_mask(0, np.zeros((4, 4), np.int64))
            res.write_tracks([])
    assert (tmp_path / "01_RES" / "mask0000.tif").is_file()


@pytest.mark.parametrize("depth", [1, 3, 4, 5])
def test_writer_3d_masks_are_one_page_per_slice(tmp_path, depth):
    mask = np.arange(depth * 6 * 5, dtype=np.uint16).reshape(depth, 6, 5)
    with ResultWriter(tmp_path / "01_RES") as res:
        res.write_mask(0, mask)
        res.write_tracks([])
    with tifffile.TiffFile(tmp_path / "01_RES" / "mask000.tif") as tif:
        assert len(tif.pages) == depth
        assert tif.pages[0].photometric == tifffile.PHOTOMETRIC.MINISBLACK
    out = read_mask(tmp_path / "01_RES" / "mask000.tif")
    np.testing.assert_array_equal(out.reshape(mask.shape), mask)
    if depth > 1:
        assert out.shape == mask.shape


def test_writer_accepts_labels_up_to_65535(tmp_path):
    mask = np.array([[0, 65535], [1, 300]], np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ResultWriter(tmp_path / "01_RES") as res:
            res.write_mask(0, mask)
            res.write_tracks([])
    np.testing.assert_array_equal(read_mask(tmp_path / "01_RES" / "mask000.tif"), mask)


# --- round trips on real data ------------------------------------------------------


@pytest.mark.parametrize("folder,prefix,track_file", [
    ("ctc-evaluation-testset/03_RES", "mask", "res_track.txt"),
    ("ctc-evaluation-testset/03_GT/TRA", "man_track", "man_track.txt"),
    ("Fluo-N2DH-SIM+/01_GT/TRA", "man_track", "man_track.txt"),
    ("DIC-C2DH-HeLa/02_GT/TRA", "man_track", "man_track.txt"),
])
def test_round_trip_real_data(ctc_data, tmp_path, folder, prefix, track_file):
    source = FrameSequence.open(ctc_data / folder, prefix, labels=True)
    table = read_tracks(ctc_data / folder / track_file)
    with ResultWriter(tmp_path / "01_RES", digits=source.digits, n_frames=len(source)) as res:
        for t, mask in source:
            res.write_mask(t, mask)
        res.write_tracks(table)
    copy = FrameSequence.open(tmp_path / "01_RES", "mask", labels=True)
    assert copy.frames == source.frames
    for t, mask in source:
        out = copy.read(t)
        assert out.dtype == np.uint16
        np.testing.assert_array_equal(out, mask)
    assert read_tracks(tmp_path / "01_RES" / "res_track.txt") == table
    np.testing.assert_array_equal(
        read_tracks(tmp_path / "01_RES" / "res_track.txt").to_array(),
        TrackTable(sorted(table)).to_array())


def test_round_trip_raw_and_slices(ctc_data, tmp_path):
    for path in [ctc_data / "Fluo-N2DH-GOWT1/01/t000.tif",
                 ctc_data / "ctc-evaluation-testset/02_GT/SEG/man_seg_000_019.tif"]:
        image = read_frame(path)
        tifffile.imwrite(tmp_path / "x.tif", image)
        np.testing.assert_array_equal(read_frame(tmp_path / "x.tif"), image)
    slices = find_slice_annotations(ctc_data / "ctc-evaluation-testset/02_GT/SEG")
    assert len(slices) == 19 and (1, 7) in slices
