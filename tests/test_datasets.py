"""The dataset registry datasets.txt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctc.datasets import DEFAULT_REGISTRY, read_registry
from ctc.errors import CTCFormatError
from ctc.io import find_frames

from .conftest import REPO

ALL_DATASETS = {
    "BF-C2DL-HSC", "BF-C2DL-MuSC", "DIC-C2DH-HeLa", "Fluo-C2DL-Huh7", "Fluo-C2DL-MSC",
    "Fluo-N2DH-GOWT1", "Fluo-N2DL-HeLa", "PhC-C2DH-U373", "PhC-C2DL-PSC",
    "Fluo-C3DH-A549", "Fluo-C3DH-H157", "Fluo-C3DL-MDA231", "Fluo-N3DH-CE", "Fluo-N3DH-CHO",
    "Fluo-N3DL-DRO", "Fluo-N3DL-TRIC", "Fluo-N3DL-TRIF",
    "Fluo-N2DH-SIM+", "Fluo-N3DH-SIM+", "Fluo-C3DH-A549-SIM",
}


def test_registry_lists_every_dataset_and_parses():
    registry = read_registry()
    assert DEFAULT_REGISTRY == REPO / "datasets.txt"
    assert set(registry) == ALL_DATASETS
    assert registry["BF-C2DL-HSC"].digits == 4 and registry["Fluo-N3DH-CE"].dims == 3
    assert registry["Fluo-N2DH-SIM+"].simulated and not registry["DIC-C2DH-HeLa"].simulated


def test_every_default_model_exists_or_is_marked_untrained():
    for info in read_registry().values():
        if info.trained:
            assert (REPO / "models" / info.model / "config.json").is_file(), info.model
            assert (REPO / "models" / info.model / "weights.pt").is_file(), info.model


def test_every_2d_dataset_has_a_model_and_the_registry_says_whether_it_saw_it():
    for info in read_registry().values():
        if info.dims == 2:
            assert info.trained, info.name
        if not info.trained:
            assert info.model_saw is None, info.name
            continue
        config = json.loads((REPO / "models" / info.model / "config.json").read_text())
        seen = {Path(folder).name for folder, _ in config["training"]["data"]}
        seen |= {Path(folder).name for folder in config["training"].get("pretrained_on", [])}
        assert info.model_saw == (info.name in seen), info.name


def test_registry_min_size_is_what_the_default_model_keeps():
    from ctc.segmentation.model import load_config

    for info in read_registry().values():
        if info.trained and info.min_size_px is not None:
            config = load_config(REPO / "models" / info.model).for_dataset(info.name)
            assert config.postprocess.get("min_size") == info.min_size_px, info.name


def test_registry_agrees_with_the_shared_data(ctc_data):
    for name, info in read_registry().items():
        for seq, frames in zip(("01", "02"), info.frames, strict=True):
            folder = ctc_data / name / seq
            if folder.is_dir():
                files = find_frames(folder, "t")
                assert len(files) == frames and files.digits == info.digits, name


def test_bad_registry_rows(tmp_path):
    path = tmp_path / "datasets.txt"
    path.write_text("DIC-C2DH-HeLa 3D DIC C H - - 84 84 3 117 yes untrained 200 yes\n")
    with pytest.raises(CTCFormatError, match="dims '3D' contradicts the name"):
        read_registry(path)
    path.write_text("DIC-C2DH-HeLa 2D DIC C H\n")
    with pytest.raises(CTCFormatError, match="5 columns, expected 16"):
        read_registry(path)


def test_published_facts_per_sequence():
    registry = read_registry()
    msc = registry["Fluo-C2DL-MSC"]
    assert msc.voxel_size("01") == (0.3, 0.3) and msc.voxel_size("02") == (0.3977, 0.3977)
    assert msc.time_step("01") == 20 and msc.time_step("02") == 30
    assert msc.frames == (48, 48) and msc.silver_truth
    assert registry["Fluo-N3DH-CE"].voxel_size() == (0.09, 0.09, 1.0)
    assert registry["PhC-C2DH-U373"].frames == (115, 115)
    assert registry["Fluo-N3DL-TRIC"].voxel_size() is None  # a projection: no size
    for info in registry.values():
        if info.pixel_size_um is not None:
            assert len(info.voxel_size("02")) == info.dims


def test_bad_pixel_sizes(tmp_path):
    path = tmp_path / "datasets.txt"
    for size, message in (("0.19", "2 positive sizes expected"),
                          ("0.1x0.1x0.1", "2 positive sizes expected"),
                          ("1x1/2x2/3x3", "give one value, or two as 01/02")):
        path.write_text(f"DIC-C2DH-HeLa 2D DIC C H {size} 10 84 84 3 117 yes untrained 200 yes\n")
        with pytest.raises(CTCFormatError, match=message):
            read_registry(path)


def test_datasets_command(capsys):
    from ctc.cli import main

    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "Fluo-C2DL-MSC" in out and "0.3x0.3/0.3977x0.3977" in out and "20/30" in out
    assert main(["datasets", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} == ALL_DATASETS


def test_registry_records_where_det_ignores_false_positives():
    from pathlib import Path

    from ctc.batch import ResultSet, fp_penalties
    from ctc.datasets import read_registry

    registry = read_registry()
    lenient = sorted(name for name, info in registry.items() if not info.det_fp_penalty)
    assert lenient == ["Fluo-N3DL-DRO", "Fluo-N3DL-TRIC", "Fluo-N3DL-TRIF"]
    sets = [ResultSet(name, "01", Path("gt"), Path("res"))
            for name in ("Fluo-N3DL-DRO", "Fluo-N2DH-SIM+", "NOT-A-DATASET")]
    assert fp_penalties(sets) == [False, True, True]
    assert fp_penalties(sets, True) == [True, True, True]


def test_batch_eval_applies_the_registry_fp_option(tmp_path, capsys):
    import numpy as np

    from ctc.cli import main
    from tests.conftest import with_objects, write_res

    # One GT object per frame; the result adds a false positive in every frame.
    for name in ("Fluo-N3DL-DRO", "Fluo-N2DH-TOY"):
        gt = tmp_path / name / "01_GT"
        write_res(gt / "TRA", [with_objects(1)] * 2, "1 0 1 0\n", prefix="man_track",
                  track_name="man_track.txt")
        write_res(tmp_path / name / "01_RES", [with_objects(1, 2)] * 2, "1 0 1 0\n2 0 1 0\n")
    out = tmp_path / "scores.csv"
    assert main(["batch-eval", str(tmp_path), "--out", str(out), "--workers", "1",
                 "--metrics", "DET"]) == 0
    printed = capsys.readouterr().out
    assert "without the false-positive penalty" in printed and "Fluo-N3DL-DRO/01" in printed
    import pandas as pd

    table = pd.read_csv(out).set_index("dataset")
    assert table.loc["Fluo-N3DL-DRO", "DET"] == 1.0
    assert table.loc["Fluo-N2DH-TOY", "DET"] == pytest.approx(1 - 2 / 20)
    assert not bool(table.loc["Fluo-N3DL-DRO", "det_fp_penalty"])
    assert main(["batch-eval", str(tmp_path), "--out", str(out), "--workers", "1",
                 "--metrics", "DET", "--fp-penalty"]) == 0
    assert pd.read_csv(out).set_index("dataset").loc["Fluo-N3DL-DRO", "DET"] < 1.0
    assert np.isfinite(table["DET"]).all()
