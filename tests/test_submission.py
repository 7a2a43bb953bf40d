"""Executables and submission packaging, end to end on a tiny synthetic dataset."""

from __future__ import annotations

import json
import subprocess
import zipfile

import numpy as np
import pytest
import tifffile
from scipy import ndimage as ndi

from ctc.datasets import read_registry
from ctc.errors import CTCFormatError, CTCWarning
from ctc.segmentation.data import Augment
from ctc.segmentation.model import ModelConfig
from ctc.segmentation.nets import NetConfig
from ctc.segmentation.train import TrainConfig, train
from ctc.submission import check_package, generate_executables, package
from ctc.toy import moving_discs, write_gt
from ctc.validation import validate_result

NAME = "Fluo-N2DH-TOY"
ROW = f"{NAME} 2D Fluo N H - - 5 5 3 16 no {NAME}-01 10\n"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("submission")
    root = base / "data"
    truth = moving_discs(n_frames=5, shape=(64, 64), n_objects=3, seed=3)
    write_gt(truth, root / NAME / "01_GT")
    (root / NAME / "01").mkdir(parents=True)
    for t, mask in enumerate(truth.masks):
        raw = ndi.gaussian_filter((mask > 0).astype(np.float32) * 200 + 20, 1.0)
        tifffile.imwrite(root / NAME / "01" / f"t{t:03d}.tif", raw.astype(np.uint8))
    models = base / "models"
    train(ModelConfig(net=NetConfig(base=4, depth=2)), [(root / NAME, ["01"])],
          models / f"{NAME}-01",
          TrainConfig(steps=6, batch=2, crop=32, val_every=3, val_frames=1, device="cpu",
                      augment=Augment(scale=None)), progress=False, log=lambda *_: None)
    (base / "datasets.txt").write_text(ROW)
    registry = read_registry(base / "datasets.txt")
    exe = base / "exe"
    generate_executables(exe, registry)
    return base, root, models, exe, registry


def test_generated_scripts(setup):
    base, root, models, exe, registry = setup
    names = sorted(p.name for p in exe.iterdir())
    assert names == [f"{NAME}-01.sh", f"{NAME}-02.sh", "requirements.txt",
                     f"train-{NAME}-GT.sh", "train-allGT+allST.sh", "train-allGT.sh",
                     "train-allST.sh"]
    assert "torch" in (exe / "requirements.txt").read_text().split()
    text = (exe / f"{NAME}-01.sh").read_text()
    assert "Prerequisites" in text and f"../{NAME}/01_RES" in text
    assert text.splitlines()[1].startswith(f"# {NAME}-01.sh:")
    # the training data configuration is the one the model records (default folder: none)
    assert "training data configuration GT." in text
    shipped = base / "shipped" / f"{NAME}-01"
    shipped.mkdir(parents=True)
    config = json.loads((models / f"{NAME}-01" / "config.json").read_text())
    config["training"]["truth"] = "GT+ST"
    (shipped / "config.json").write_text(json.dumps(config))
    written = generate_executables(base / "exe2", registry, shipped.parent)
    text2 = next(p for p in written if p.name == f"{NAME}-01.sh").read_text()
    assert "training data configuration GT+ST." in text2
    # a training script whose model ships repeats its recorded recipe
    recipe = json.loads((models / f"{NAME}-01" / "config.json").read_text())
    recipe["markers"] = True
    recipe["training"]["select"] = "restarts"
    (shipped.parent / f"{NAME}-GT").mkdir()
    (shipped.parent / f"{NAME}-GT" / "config.json").write_text(json.dumps(recipe))
    written = generate_executables(base / "exe3", registry, shipped.parent)
    train_text = next(p for p in written if p.name == f"train-{NAME}-GT.sh").read_text()
    steps = recipe["training"]["steps_done"]
    assert (f"--truth GT --steps {steps} --batch 2 --crop 32 " in train_text
            and "--markers --out" in train_text and "recipe of the shipped" in train_text
            and "--select restarts" in train_text and "--validation" not in train_text)
    assert "--steps" not in (exe / f"train-{NAME}-GT.sh").read_text()  # no model, no recipe
    # run from an SW folder without its model: a clear message, exit 2, no result
    sw = base / "bare" / "SW"
    sw.mkdir(parents=True)
    (sw / "models").mkdir()  # a submission layout, without this model
    (sw / f"{NAME}-01.sh").write_text(text)
    (sw / f"{NAME}-01.sh").chmod(0o755)
    proc = subprocess.run([str(sw / f"{NAME}-01.sh")], cwd=sw, capture_output=True, text=True)
    assert proc.returncode == 2 and "model not found" in proc.stderr
    assert not (base / "bare" / NAME / "01_RES").exists()


def test_package_and_check(setup, tmp_path):
    base, root, models, exe, registry = setup
    # no result written yet: packaged all the same, with a warning per missing sequence
    with pytest.warns(CTCWarning, match="_RES not found"):
        archive = package([NAME], tmp_path / "submission.zip", results_root=root,
                          executables_dir=exe, models_dir=models, registry=registry)
    names = zipfile.ZipFile(archive).namelist()
    assert "SW/ctc/__init__.py" in names and "SW/README.txt" in names
    assert f"SW/{NAME}-01.sh" in names and f"SW/models/{NAME}-01/weights.pt" in names
    assert "SW/requirements.txt" in names and "SW/datasets.txt" in names
    result = check_package(archive, root, NAME)
    assert (result / "res_track.txt").is_file()
    # a packaged result must be valid
    bad = root / NAME / "02_RES"
    bad.mkdir()
    tifffile.imwrite(bad / "mask000.tif", np.ones((8, 8), np.uint16))
    (bad / "res_track.txt").write_text("1 0 0 9\n")
    with (pytest.raises(CTCFormatError, match="02_RES.*parent-missing"),
          pytest.warns(CTCWarning, match="01_RES not found")):
        package([NAME], tmp_path / "s2.zip", results_root=root, executables_dir=exe,
                models_dir=models, registry=registry)
    assert not (tmp_path / "s2.zip").exists()


def test_every_executable_of_the_repository_has_its_model():
    from ctc.datasets import read_registry
    from tests.conftest import REPO

    for name, info in read_registry().items():
        for seq in ("01", "02"):
            text = (REPO / "executables" / f"{name}-{seq}.sh").read_text()
            assert info.trained and f'MODEL="$ROOT/models/{info.model}"' in text, name
            assert (REPO / "models" / info.model / "weights.pt").is_file(), name
            seen = "it was trained on this dataset" in text
            assert seen == bool(info.model_saw), name


@pytest.mark.parametrize("name, shape", [("PhC-C2DL-PSC", (64, 80)),
                                         ("Fluo-N3DH-CE", (5, 48, 64))])
def test_unseen_dataset_executable_runs_ctc_style(tmp_path, name, shape):
    """A dataset without data here (2D, and 3D through the 3D path) gets a valid result."""
    import os
    import shutil

    from tests.conftest import REPO

    sw = tmp_path / "SW"
    shutil.copytree(REPO / "executables", sw)
    os.symlink(REPO / "models", sw / "models")
    raw = tmp_path / name / "01"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for t in range(2):
        image = np.full(shape, 30.0) + rng.normal(0, 3, shape)
        image[..., 20:40, 20 + 3 * t:40 + 3 * t] += 120  # one bright cell drifting
        tifffile.imwrite(raw / f"t{t:03d}.tif", image.clip(0, 255).astype(np.uint8))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([f"./{name}-01.sh"], cwd=sw, capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = tmp_path / name / "01_RES"
    assert validate_result(res, n_frames=2).valid
    assert tifffile.imread(res / "mask000.tif").shape == shape
