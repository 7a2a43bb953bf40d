"""The `ctc` command line: help texts, exit codes, JSON, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ctc.cli import build_parser, main

from .conftest import with_objects, write_res


def subcommands():
    parser = build_parser()
    return list(parser._subparsers._group_actions[0].choices)


def test_top_level_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for name in subcommands():
        assert name in out
    assert "exit status" in out


@pytest.mark.parametrize("name", subcommands())
def test_subcommand_help_explains(capsys, name):
    with pytest.raises(SystemExit) as exit_:
        main([name, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "examples" in out or "example" in out
    assert len(out.splitlines()) > 10


def test_validate_exit_codes_and_json(tmp_path, capsys):
    good = write_res(tmp_path / "good", [with_objects(1)], "1 0 0 0\n")
    bad = write_res(tmp_path / "bad", [with_objects(1)], "1 0 0 3\n")
    assert main(["validate", str(good)]) == 0
    assert "VALID" in capsys.readouterr().out
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "parent-missing" in out and "INVALID" in out
    assert main(["validate", "--json", str(bad)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["problems"][0]["label"] == 1
    assert main(["validate", str(tmp_path / "missing")]) == 2


def test_repair_cli(tmp_path, capsys):
    res = write_res(tmp_path / "01_RES", [with_objects(1), with_objects(1)], "1 0 0 0\n")
    assert main(["repair", str(res), str(tmp_path / "out")]) == 0
    assert "corrected to [0, 1]" in capsys.readouterr().out
    # existing output is refused with a message, not a traceback
    assert main(["repair", str(res), str(tmp_path / "out")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_console_script_runs_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ctc", "repair", str(tmp_path / "nope"),
                           str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "folder not found" in proc.stderr and "Traceback" not in proc.stderr


# --- evaluate and batch-eval --------------------------------------------------------


def test_evaluate_cli_forms(ctc_data, tmp_path, capsys):
    t = ctc_data / "ctc-evaluation-testset"
    assert main(["evaluate", str(t), "03"]) == 0
    out = capsys.readouterr().out
    assert "TRA    0.622980" in out and "NS=5 FN=5 FP=3 ED=1 EA=16 EC=2" in out
    errors = tmp_path / "errors.txt"
    assert main(["evaluate", "--gt", str(t / "03_GT"), "--res", str(t / "03_RES"), "--json",
                 "--errors", str(errors), "--no-fp-penalty"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["SEG", "DET", "TRA", "LNK", "OP_CSB", "OP_CTB",
                          "NS", "FN", "FP", "ED", "EA", "EC"]
    assert data["DET"] == 0.7 and data["TRA"] == 0.622980251346499 and data["SEG"] is None
    assert "False Negative Vertices" in errors.read_text()
    assert main(["evaluate", str(t), "01", "--metrics", "SEG", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["SEG"] == pytest.approx(0.232874, abs=5e-7)


def test_evaluate_cli_bad_input(ctc_data, tmp_path, capsys):
    t = ctc_data / "ctc-evaluation-testset"
    assert main(["evaluate", str(t), "02"]) == 2
    assert "02_RES: folder not found" in capsys.readouterr().err
    assert main(["evaluate", str(t)]) == 2
    assert "give DATASET_DIR and SEQ" in capsys.readouterr().err
    assert main(["evaluate", str(t), "03", "--metrics", "TRA,FOO"]) == 2
    assert "unknown measure 'FOO'" in capsys.readouterr().err


def test_batch_eval(ctc_data, tmp_path, capsys):
    root = tmp_path / "root"
    (root / "A").mkdir(parents=True)
    (root / "B").mkdir()
    t = ctc_data / "ctc-evaluation-testset"
    for name in ("03_GT", "03_RES"):
        (root / "A" / name).symlink_to(t / name)
    (root / "B" / "01_GT").symlink_to(t / "01_GT")
    (root / "B" / "01_RES").symlink_to(t / "01_RES")
    (root / "B" / "02_GT").symlink_to(t / "01_GT")
    (root / "B" / "02_RES").mkdir()  # empty: must be reported, not crash the batch
    out = tmp_path / "scores.csv"
    assert main(["batch-eval", str(root), "--out", str(out), "--workers", "1"]) == 1
    import pandas as pd

    table = pd.read_csv(out)
    assert list(table["dataset"]) == ["A", "B", "B"]
    a = table.iloc[0]
    assert f"{a['TRA']:.6f}" == "0.622980" and a["NS"] == 5 and a["EC"] == 2
    assert f"{table.iloc[1]['SEG']:.6f}" == "0.232874"
    assert "no 'maskNNN.tif' frames" in table.iloc[2]["error"]
    printed = capsys.readouterr().out
    assert "FAILED B/02" in printed and "wrote" in printed


def test_batch_eval_on_local_dask_cluster(ctc_data, tmp_path):
    from ctc.batch import batch_evaluate

    root = tmp_path / "root"
    for ds in ("A", "B"):
        (root / ds).mkdir(parents=True)
        for name in ("03_GT", "03_RES"):
            (root / ds / name).symlink_to(ctc_data / "ctc-evaluation-testset" / name)
    table = batch_evaluate(root, workers=2, progress=False)
    assert list(table["TRA"].round(6)) == [0.62298, 0.62298]
    assert (table["error"] == "").all() and (table["seconds"] > 0).all()


def test_train_learning_rate_defaults_per_network():
    from ctc.cli import build_parser
    from ctc.cli.train import train_settings
    from ctc.segmentation.rshn import RSHN_LR
    from ctc.segmentation.train import TrainConfig

    parser = build_parser("train")
    for arch, lr in (("unet", TrainConfig.lr), ("rshn", RSHN_LR)):
        args = parser.parse_args(["train", "D", "--out", "M", "--arch", arch])
        assert train_settings(args).lr == lr
    args = parser.parse_args(["train", "D", "--out", "M", "--arch", "rshn", "--lr", "3e-4"])
    assert train_settings(args).lr == 3e-4
