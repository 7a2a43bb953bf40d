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
