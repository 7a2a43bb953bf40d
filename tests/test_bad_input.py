"""Hostile input: every case ends in a clear message and the right exit code, in bounded
time, with no leftover folder (one test per row of the bad-input table of issue 16)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tifffile

from ctc.cli import main
from ctc.errors import CTCInvalidResultError
from ctc.io.atomic import remove_stale, work_dir
from ctc.metrics import evaluate
from ctc.toy import moving_discs, toy_sequence, write_gt
from ctc.validation import validate_result

from .conftest import REPO, with_objects, write_res

SHIPPED = REPO / "models" / "Fluo-N2DH-SIM+-02"


def run_cli(*args: str, timeout: float = 120, env: dict | None = None):
    """``python -m ctc ARGS`` in a fresh process: (exit status, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "ctc", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO),
                                                **(env or {})})
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def toy_dataset(root: Path, n_frames: int = 6, name: str = "Fluo-N2DH-TOY") -> Path:
    """DATASET with raw sequence 01 (tTTT.tif), 01_GT and a perfect 01_RES."""
    truth = moving_discs(n_frames=n_frames, shape=(64, 64), n_objects=3, seed=1)
    dataset = root / name
    write_gt(truth, dataset / "01_GT")
    truth.write(dataset / "01_RES")
    (dataset / "01").mkdir()
    for t, mask in enumerate(truth.masks):
        tifffile.imwrite(dataset / "01" / f"t{t:03d}.tif",
                         ((mask > 0) * 150 + 20).astype(np.uint8))
    return dataset


def hidden_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- numbers in files ------------------------------------------------------------------


def test_huge_frame_number_in_track_file_is_refused_at_once(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(8)] * 4,
                    "8 3 100000000000000000000 0\n")
    start = time.perf_counter()
    report = validate_result(res)
    assert time.perf_counter() - start < 5
    assert not report.valid and "track-frame-too-large" in {p.code for p in report.errors}
    code, _, err = run_cli("validate", str(res), timeout=60)
    assert code == 1
    gt = tmp_path / "01_GT"
    write_gt(toy_sequence(n_frames=4), gt)
    code, _, err = run_cli("evaluate", "--gt", str(gt), "--res", str(res), timeout=60)
    assert code == 2 and "frame number above 99999" in err and "res_track.txt" in err


def test_huge_frame_number_in_a_file_name_is_refused(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(1)], "1 0 0 0\n")
    shutil.copy(res / "mask000.tif", res / "mask99999999999.tif")
    start = time.perf_counter()
    report = validate_result(res)
    assert time.perf_counter() - start < 5
    assert not report.usable and "beyond the largest supported" in report.problems[0].message


def test_track_values_must_be_plain_digits(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(8)] * 8, "8 0 7 0_0\n")
    report = validate_result(res)
    assert "track-not-integer" in {p.code for p in report.errors}
    assert "digits only" in str(report.errors[0])
    for value in ("+3", "٣", "3.0", "0x10"):
        (res / "res_track.txt").write_text(f"8 0 7 {value}\n")
        assert "track-not-integer" in {p.code for p in validate_result(res).errors}, value


def test_label_above_uint16_in_track_file(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(8)], "8 0 0 0\n70000 0 0 8\n")
    assert "track-label-too-large" in {p.code for p in validate_result(res).errors}


# --- ctc run on a sequence with a gap ----------------------------------------------------


def test_run_refuses_a_raw_sequence_with_a_missing_frame(tmp_path):
    dataset = toy_dataset(tmp_path)
    shutil.rmtree(dataset / "01_RES")
    (dataset / "01" / "t004.tif").unlink()
    code, _, err = run_cli("run", str(dataset), "01", "--model", str(SHIPPED))
    assert code == 2 and "no frame 4" in err and "t004.tif" in err
    assert not (dataset / "01_RES").exists() and not hidden_leftovers(dataset)
    code, _, err = run_cli("segment", str(SHIPPED), str(dataset / "01"), str(tmp_path / "seg"))
    assert code == 2 and "no frame 4" in err and not (tmp_path / "seg").exists()


# --- results that break the lineage rules ------------------------------------------------


def lineage_cases() -> dict[str, tuple[list[np.ndarray], str, str]]:
    """A 3-frame result per lineage problem: masks, res_track.txt, a valid man_track.txt."""
    a, b = with_objects(1), with_objects(2)
    return {
        # parent 1 ends at frame 1 but its child 2 begins at frame 1
        "parent-not-ended": ([a, with_objects(1, 2), b], "1 0 1 0\n2 1 2 1\n",
                             "1 0 1 0\n2 1 2 0\n"),
        # 1 and 2 are each other's parent
        "two-cycle": ([a, a, b], "1 0 1 2\n2 2 2 1\n", "1 0 1 0\n2 2 2 1\n"),
        # a track declared beyond the last frame (frame 2)
        "past-last-frame": ([a, a, a], "1 0 5 0\n", "1 0 2 0\n"),
    }


@pytest.mark.parametrize("case", list(lineage_cases()))
def test_evaluate_refuses_an_invalid_lineage(tmp_path, case):
    masks, tracks, truth = lineage_cases()[case]
    res = write_res(tmp_path / "01_RES", masks, tracks)
    gt = write_res(tmp_path / "01_GT" / "TRA", masks, truth, prefix="man_track",
                   track_name="man_track.txt")
    assert not validate_result(res, n_frames=3).valid
    with pytest.raises(CTCInvalidResultError, match="invalid result, not scored"):
        evaluate(gt.parent, res)
    code, out, err = run_cli("evaluate", "--gt", str(gt.parent), "--res", str(res))
    assert code == 1 and "invalid result, not scored" in err and "--allow-invalid" in err
    assert out == ""
    assert 0 <= evaluate(gt.parent, res, allow_invalid=True).TRA <= 1
    code, out, _ = run_cli("evaluate", "--gt", str(gt.parent), "--res", str(res),
                           "--allow-invalid", "--json")
    assert code == 0 and 0 <= json.loads(out)["TRA"] <= 1


def test_batch_eval_reports_an_invalid_result(tmp_path):
    masks, tracks, truth = lineage_cases()["parent-not-ended"]
    root = tmp_path / "root"
    write_res(root / "A" / "01_RES", masks, tracks)
    write_res(root / "A" / "01_GT" / "TRA", masks, truth, prefix="man_track",
              track_name="man_track.txt")
    out = tmp_path / "scores.csv"
    code, stdout, _ = run_cli("batch-eval", str(root), "--out", str(out))
    assert code == 1 and "FAILED A/01: " in stdout and "invalid result" in stdout
    code, _, _ = run_cli("batch-eval", str(root), "--out", str(out), "--allow-invalid")
    assert code == 0


def test_evaluate_silver_truth_that_does_not_exist(tmp_path):
    dataset = toy_dataset(tmp_path)
    code, out, err = run_cli("evaluate", str(dataset), "01", "--truth", "ST")
    assert code == 2 and "01_ST/SEG" in err and "not found" in err and out == ""


def test_gt_segmentation_that_is_not_a_tiff(tmp_path):
    dataset = toy_dataset(tmp_path)
    seg = sorted((dataset / "01_GT" / "SEG").glob("man_seg*.tif"))[0]
    seg.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    code, _, err = run_cli("evaluate", str(dataset), "01")
    assert code == 2 and seg.name in err and "not a TIFF file (a PNG image" in err
    seg.write_text("1,2,3\n")
    code, _, err = run_cli("evaluate", str(dataset), "01")
    assert code == 2 and "not a TIFF file" in err and "float" not in err


# --- files the command writes ------------------------------------------------------------


def test_errors_file_into_a_missing_folder_or_onto_a_folder(tmp_path):
    dataset = toy_dataset(tmp_path)
    for target, message in ((tmp_path / "nope" / "log.txt", "does not exist"),
                            (tmp_path, "this is a folder")):
        code, out, err = run_cli("evaluate", str(dataset), "01", "--errors", str(target))
        assert code == 2 and message in err and out == ""


def test_unreadable_folder_is_a_clear_error(tmp_path, monkeypatch, capsys):
    res = write_res(tmp_path / "01_RES", [with_objects(1)], "1 0 0 0\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(res))

    monkeypatch.setattr("ctc.validation.find_frames", denied)
    assert main(["validate", str(res)]) == 2
    assert f"{res}: Permission denied" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder: chmod cannot deny it")
def test_folder_without_read_permission(tmp_path):
    res = write_res(tmp_path / "01_RES", [with_objects(1)], "1 0 0 0\n")
    res.chmod(0)
    try:
        code, _, err = run_cli("validate", str(res))
        assert code == 2 and "Permission denied" in err
    finally:
        res.chmod(0o755)


def test_interrupt_inside_compiled_code_is_an_interruption(monkeypatch, capsys):
    def interrupted(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:  # what numba surfaces after Ctrl-C in a kernel
            raise SystemError("returned a result with an exception set") from exc

    import ctc.cli.validate

    monkeypatch.setattr(ctc.cli.validate, "run", interrupted)
    assert main(["validate", "anything"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_unexpected_error_is_reported_without_a_traceback(monkeypatch, capsys):
    import ctc.cli.validate

    monkeypatch.setattr(ctc.cli.validate, "run", lambda args: 1 / 0)
    assert main(["validate", "anything"]) == 3
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError" in err and "CTC_DEBUG=1" in err


# --- models and devices ------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", os.urandom(4096)], ids=["empty", "random"])
def test_damaged_weights_file(tmp_path, content):
    dataset = toy_dataset(tmp_path)
    shutil.rmtree(dataset / "01_RES")
    model = tmp_path / "model"
    model.mkdir()
    shutil.copy(SHIPPED / "config.json", model)
    (model / "weights.pt").write_bytes(content)
    code, _, err = run_cli("run", str(dataset), "01", "--model", str(model))
    assert code == 2 and "weights.pt: unreadable weights file" in err
    assert not (dataset / "01_RES").exists() and not hidden_leftovers(dataset)


def test_unknown_or_unavailable_device(tmp_path):
    import torch

    dataset = toy_dataset(tmp_path)
    shutil.rmtree(dataset / "01_RES")
    code, _, err = run_cli("run", str(dataset), "01", "--model", str(SHIPPED),
                           "--device", "bogus")
    assert code == 2 and "unknown device 'bogus'" in err
    if not torch.cuda.is_available():
        code, _, err = run_cli("run", str(dataset), "01", "--model", str(SHIPPED),
                               "--device", "cuda")
        assert code == 2 and "device 'cuda' asked for" in err and "--device cpu" in err
    assert not (dataset / "01_RES").exists()


# --- ctc train arguments -----------------------------------------------------------------


@pytest.mark.parametrize("options, message", [
    (["--minutes", "-1"], "positive number of minutes"),
    (["--minutes", "0"], "positive number of minutes"),
    (["--steps", "0"], "steps must be a whole number of at least 1"),
    (["--batch", "0"], "batch must be a whole number of at least 1"),
    (["--lr", "nan"], "lr must be a positive number"),
    (["--device", "bogus"], "unknown device"),
])
def test_train_refuses_bad_options_and_leaves_no_folder(tmp_path, options, message, capsys):
    dataset = toy_dataset(tmp_path)
    out = tmp_path / "model"
    assert main(["train", str(dataset), "--out", str(out), *options]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_train_out_is_an_existing_file(tmp_path, capsys):
    dataset = toy_dataset(tmp_path)
    out = tmp_path / "model"
    out.write_text("keep me")
    assert main(["train", str(dataset), "--out", str(out), "--steps", "1"]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert out.read_text() == "keep me"


@pytest.mark.parametrize("truth", ["GT", "ST"])
def test_failed_training_leaves_no_empty_folder(tmp_path, truth, capsys):
    dataset = toy_dataset(tmp_path)
    if truth == "GT":
        shutil.rmtree(dataset / "01_GT")  # no annotation at all
    out = tmp_path / "runs" / "model"  # both created by the run, both removed
    assert main(["train", str(dataset), "--out", str(out), "--truth", truth, "--steps", "2",
                 "--device", "cpu"]) == 2
    assert "error" in capsys.readouterr().err
    assert not out.parent.exists()


# --- demo --------------------------------------------------------------------------------


def test_demo_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "precious.txt").write_text("data")
    code, _, err = run_cli("demo", "--out", str(tmp_path), timeout=60)
    assert code == 2 and "is not empty" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.txt"]


# --- killed runs ---------------------------------------------------------------------------


def test_stale_work_folders_are_removed_by_the_next_run(tmp_path):
    dataset = toy_dataset(tmp_path)
    target = dataset / "01_RES"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    mine = work_dir(target)                       # a live process (this one): kept
    killed = mine.with_name(mine.name.replace(f"-{os.getpid()}-", f"-{dead.pid}-"))
    killed.mkdir()
    (killed / "mask000.tif").write_bytes(b"partial")
    legacy = dataset / ".01_RES.partial-ab12cd34"  # named by older versions: old enough
    legacy.mkdir()
    os.utime(legacy, (time.time() - 3600, time.time() - 3600))
    other = dataset / ".unrelated-folder"          # not the toolkit's: untouched
    other.mkdir()
    masks = tmp_path / "masks"
    shutil.copytree(target, masks)
    code, _, _ = run_cli("track", str(masks), str(target), "--overwrite")
    assert code == 0
    assert hidden_leftovers(dataset) == sorted([mine.name, other.name])
    mine.rmdir()


def test_interrupted_replacement_puts_the_previous_result_back(tmp_path):
    target = tmp_path / "01_RES"
    old = work_dir(target, "old")
    (old / "res_track.txt").write_text("1 0 0 0\n")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = old.with_name(old.name.replace(f"-{os.getpid()}-", f"-{dead.pid}-"))
    old.rename(stale)
    remove_stale(target)
    assert (target / "res_track.txt").read_text() == "1 0 0 0\n"
    assert hidden_leftovers(tmp_path) == []


SLOW_TRACK = textwrap.dedent("""
    import sys, time
    import ctc.io.res_writer as res_writer
    write = res_writer.write_mask
    def slow(*args, **kwargs):
        time.sleep(0.3)
        return write(*args, **kwargs)
    res_writer.write_mask = slow
    from ctc.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def test_sigterm_removes_the_work_folder(tmp_path):
    dataset = toy_dataset(tmp_path, n_frames=30)
    masks = tmp_path / "masks"
    shutil.copytree(dataset / "01_RES", masks)
    target = tmp_path / "out" / "01_RES"
    target.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", SLOW_TRACK, "track", str(masks),
                             str(target)], env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not hidden_leftovers(target.parent) and time.time() < deadline:
        time.sleep(0.05)
    assert hidden_leftovers(target.parent), "the run never started writing"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "terminated" in err and "Traceback" not in err
    assert not target.exists() and hidden_leftovers(target.parent) == []


# --- permissions, progress, small frictions ---------------------------------------------


def test_results_and_archives_get_normal_permissions(tmp_path):
    dataset = toy_dataset(tmp_path)
    masks = tmp_path / "masks"
    shutil.copytree(dataset / "01_RES", masks)
    out = tmp_path / "tracked"
    old = os.umask(0o022)
    try:
        assert main(["track", str(masks), str(out)]) == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o755
    assert (out / "mask000.tif").stat().st_mode & 0o777 == 0o644


def test_package_archive_is_readable_by_others(tmp_path):
    from ctc.submission import package

    dataset = toy_dataset(tmp_path)
    (tmp_path / "datasets.txt").write_text(
        "Fluo-N2DH-TOY 2D Fluo N H - - 6 6 3 16 no untrained 10\n")
    from ctc.datasets import read_registry

    old = os.umask(0o022)
    try:
        with pytest.warns(UserWarning, match="no result for Fluo-N2DH-TOY 02"):
            archive = package(["Fluo-N2DH-TOY"], tmp_path / "s.zip", results_root=tmp_path,
                              executables_dir=tmp_path / "none", models_dir=tmp_path / "none",
                              registry=read_registry(tmp_path / "datasets.txt"))
    finally:
        os.umask(old)
    assert archive.stat().st_mode & 0o777 == 0o644
    assert "Fluo-N2DH-TOY/01_RES/res_track.txt" in zipfile.ZipFile(archive).namelist()
    assert dataset.is_dir()


def test_progress_lines_when_not_on_a_terminal(tmp_path):
    dataset = toy_dataset(tmp_path)
    code, out, err = run_cli("evaluate", str(dataset), "01", env={"CTC_PROGRESS_EVERY": "0"})
    assert code == 0 and "scoring 01_RES: " in err and "frames (" in err and "(done)" in err


def test_track_config_inline_json(tmp_path, capsys):
    dataset = toy_dataset(tmp_path)
    out = tmp_path / "tracked"
    assert main(["track", str(dataset / "01_RES"), str(out), "--config",
                 '{"max_gap": 2, "min_track_length": 1}']) == 0
    assert main(["track", str(dataset / "01_RES"), str(tmp_path / "t2"), "--config",
                 '{"max_gap": "x"}']) == 2
    assert "invalid tracking parameters" in capsys.readouterr().err
    assert main(["track", str(dataset / "01_RES"), str(tmp_path / "t3"), "--config",
                 "[1, 2]"]) == 2
    assert "no such file" in capsys.readouterr().err.lower()


def test_batch_eval_runs_in_process_on_two_cores(tmp_path, monkeypatch):
    import dask.distributed

    from ctc.batch import batch_evaluate

    root = tmp_path / "root"
    for name in ("A", "B"):
        toy_dataset(root, name=name)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)

    def no_cluster(*args, **kwargs):
        raise AssertionError("a Dask cluster was started on 2 cores")

    monkeypatch.setattr(dask.distributed, "LocalCluster", no_cluster)
    table = batch_evaluate(root, progress=False)
    assert list(table["TRA"]) == [1.0, 1.0]


@pytest.mark.parametrize("gt_shape,res_shape,message", [
    ((16, 16), (4, 16, 16), "a 2D ground-truth frame"),
    ((4, 16, 16), (16, 16), "a 3D ground-truth frame"),
    ((4, 16, 16), (5, 16, 16), "4 slices against 5"),
])
def test_evaluate_3d_dimension_mismatches(tmp_path, capsys, gt_shape, res_shape, message):
    import numpy as np

    from ctc.cli import main

    def obj(shape):
        m = np.zeros(shape, np.uint16)
        m[..., 2:6, 2:6] = 1
        return m

    write_res(tmp_path / "01_GT" / "TRA", [obj(gt_shape)] * 2, "1 0 1 0\n",
              prefix="man_track", track_name="man_track.txt")
    write_res(tmp_path / "01_RES", [obj(res_shape)] * 2, "1 0 1 0\n")
    assert main(["evaluate", str(tmp_path), "01"]) == 2
    err = capsys.readouterr().err
    assert message in err and "man_track000.tif" in err and "mask000.tif" in err
    assert "Traceback" not in err
