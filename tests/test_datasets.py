"""The dataset registry datasets.txt."""

from __future__ import annotations

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


def test_registry_agrees_with_the_shared_data(ctc_data):
    for name, info in read_registry().items():
        for seq, frames in zip(("01", "02"), info.frames, strict=True):
            folder = ctc_data / name / seq
            if folder.is_dir():
                files = find_frames(folder, "t")
                assert len(files) == frames and files.digits == info.digits, name


def test_bad_registry_rows(tmp_path):
    path = tmp_path / "datasets.txt"
    path.write_text("DIC-C2DH-HeLa 3D DIC C H - - 84 84 3 117 yes untrained 200\n")
    with pytest.raises(CTCFormatError, match="dims '3D' contradicts the name"):
        read_registry(path)
    path.write_text("DIC-C2DH-HeLa 2D DIC C H\n")
    with pytest.raises(CTCFormatError, match="5 columns, expected 14"):
        read_registry(path)
