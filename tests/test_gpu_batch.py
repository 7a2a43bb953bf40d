"""eval/gpu_batch.py: jobs from the shipped models, the pack, and the tiny CPU run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "eval"))

import gpu_batch  # noqa: E402


def test_spread_order_covers_the_range_evenly():
    for n in (0, 1, 2, 3, 10, 84):
        order = gpu_batch.spread_order(n)
        assert sorted(order) == list(range(n))
    order = gpu_batch.spread_order(9)
    assert order[:3] == [0, 8, 4] and sorted(order[3:5]) == [2, 6]


def test_jobs_follow_the_shipped_models_and_fine_tuning_order():
    jobs = gpu_batch.make_jobs(gpu_batch.job_sources())
    names = [j["name"] for j in jobs]
    shipped = {d.name for d in (REPO / "models").iterdir() if (d / "weights.pt").is_file()}
    recipes = {p.stem for p in (REPO / "eval" / "recipes").glob("*.json")}
    assert set(names) == shipped | recipes
    for job in jobs:
        if job["init"]:  # a fine-tuned model trains after the model it starts from
            assert names.index(job["init"]) < names.index(job["name"])
    tuned = next(j for j in jobs if j["name"] == "nuclei-3d")
    assert tuned["init"] == "universal-2d"
    chosen = gpu_batch.select(jobs, ["nuclei-3d"])
    assert [j["name"] for j in chosen] == ["universal-2d", "nuclei-3d"]
    with pytest.raises(SystemExit, match="unknown jobs"):
        gpu_batch.select(jobs, ["no-such-model"])


def test_a_fine_tuned_job_starts_from_the_model_it_names_among_look_alikes():
    def source(name, data, init=None):
        training = {"data": [[f"/d/{d}", ["01"]] for d in data], "minutes": 1.0}
        if init:
            training.update(init=f"/somewhere/models/{init}",
                            pretrained_on=[f"/d/{d}" for d in ("A", "B")])
        return name, {"arch": "unet", "training": training}

    for init in ("base", "base-all"):  # two models train on the same datasets
        jobs = gpu_batch.make_jobs([source("tuned", ["C"], init), source("base", ["A", "B"]),
                                    source("base-all", ["A", "B"])])
        tuned = next(j for j in jobs if j["name"] == "tuned")
        assert tuned["init"] == init
        assert [j["name"] for j in jobs].index(init) < [j["name"] for j in jobs].index("tuned")


def test_frame_plan_puts_gold_first_and_keeps_windows_consecutive():
    files = {"raw": {t: [] for t in range(12)},
             "01_GT/SEG": {4: [], 9: []}, "01_ST/SEG": {t: [] for t in range(12)},
             "01_GT/TRA": {t: [] for t in range(12) if t != 7}}
    plan = gpu_batch.frame_plan(files, "01", markers=False)
    assert plan[:2] == [[4], [9]] and sorted(t for u in plan for t in u) == list(range(12))
    runs = gpu_batch.frame_plan(files, "01", markers=False, window=3)
    assert all(len(r) == 3 and r[-1] - r[0] == 2 for r in runs)
    assert {4, 9} <= set(runs[0] + runs[1])  # runs holding gold frames first
    assert [6, 7, 8] not in runs  # frame 7 has no markers


def test_u373_training_part_is_made_again_where_its_run_folder_is_gone(ctc_data, tmp_path):
    folder = gpu_batch.source_folder(ctc_data, "PhC-C2DH-U373", ["01"],
                                     str(tmp_path / "gone"), tmp_path)
    assert folder == tmp_path / "data" / "PhC-C2DH-U373"
    assert len(list((folder / "01").glob("t*.tif"))) == 57
    with pytest.raises(SystemExit, match="not found"):
        gpu_batch.source_folder(ctc_data, "Fluo-N2DH-GOWT1", ["07"], str(tmp_path), tmp_path)


def test_tiny_batch_packs_trains_and_unpacks_on_cpu(ctc_data, tmp_path):
    script = [sys.executable, str(REPO / "eval" / "gpu_batch.py")]
    pack = tmp_path / "pack"
    only = "DIC-C2DH-HeLa-01-rshn,nuclei-3d"
    subprocess.run([*script, "pack", "--out", str(pack), "--data", str(ctc_data), "--tiny",
                    "--only", only], check=True, capture_output=True, text=True)
    summary = json.loads((pack / "jobs.json").read_text())
    assert [j["name"] for j in summary["jobs"]] == [
        "universal-2d", "DIC-C2DH-HeLa-01-rshn", "nuclei-3d"]
    assert summary["simulated"] == ["Fluo-N3DH-SYNTH", "Fluo-N3DH-SYNTHZ5"]
    assert not list((pack / "data" / "Fluo-N3DH-SYNTH").glob("*/*.tif"))  # settings only
    assert summary["mib"] <= summary["budget_mib"]
    assert summary["tree_mib"] + summary["mib"] <= gpu_batch.TRANSFER_MIB
    dic = summary["frames"]["DIC-C2DH-HeLa 01"]  # the recurrent job's two windows of 3
    assert len(dic) == 6 and dic[2] - dic[0] == 2 and dic[5] - dic[3] == 2

    out = tmp_path / "out"
    run = subprocess.run([*script, "train", "--pack", str(pack), "--out", str(out), "--tiny",
                          "--device", "cpu"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(files) <= gpu_batch.MAX_FILES and all(p.parent == out for p in files)
    assert all(p.stat().st_size < 16 * 2 ** 20 for p in files)
    done = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()
            if json.loads(line)["message"].startswith("done")]
    assert [d["job"] for d in done] == [j["name"] for j in summary["jobs"]]

    models = tmp_path / "models"
    run = subprocess.run([*script, "unpack", "--from", str(out), "--to", str(models)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    from ctc.segmentation.model import load_model

    config, net = load_model(models / "nuclei-3d")
    assert config.training["steps_done"] == 2
    assert Path(config.training["init"]).name == "universal-2d"  # fine-tuned from the batch's
    state = torch.load(models / "universal-2d" / "weights.pt", weights_only=True)
    weights = [v for v in state.values() if v.is_floating_point()]
    assert all(v.dtype == torch.float32 for v in weights)
    assert all(torch.equal(v, v.half().float()) for v in weights)  # carried as float16
    assert np.isfinite(sum(float(v.abs().sum()) for v in weights))


def test_simulated_training_data_is_simulated_again_not_packed(tmp_path):
    """A model trained on ctc.synth data carries the simulator's settings, not frames; the
    batch simulates the dataset on the device, geometry included."""
    from ctc.datasets import relative_spacing
    from ctc.synth import SynthConfig, synth_dataset

    assert gpu_batch.simulated_settings("Fluo-N2DH-GOWT1", str(tmp_path)) is None
    known = gpu_batch.simulated_settings("Fluo-N3DH-SYNTHZ5", str(tmp_path / "gone"))
    assert known["z_step"] == 5.0 and known["sequences"] == ["01", "02"]

    source = tmp_path / "Fluo-N3DH-TOY"
    config = SynthConfig(shape=(48, 48), frames=4, cells=3, radius=(5.0, 7.0), depth=5,
                         z_step=3.0, seed=3)
    synth_dataset(source, config, ("01",))
    settings = gpu_batch.simulated_settings("Fluo-N3DH-TOY", str(source))
    assert settings["depth"] == 5 and settings["sequences"] == ["01"]

    again = tmp_path / "pack" / "Fluo-N3DH-TOY"
    again.mkdir(parents=True)
    (again / "synth.json").write_text(json.dumps(settings))
    gpu_batch.simulate(again, tiny=True)
    frames = sorted((again / "01").glob("t*.tif"))
    assert len(frames) == 2 and (again / "01_GT" / "TRA" / "man_track.txt").is_file()
    import tifffile

    assert tifffile.imread(frames[0]).shape == (5, 48, 48)
    assert relative_spacing(again / "01") == (3.0, 1.0, 1.0)
