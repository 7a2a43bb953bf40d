"""The README's main job: `ctc demo` runs offline and reaches sensible scores."""

from __future__ import annotations

from ctc.cli import main
from ctc.demo import run_demo
from ctc.toy import moving_discs


def test_demo_end_to_end(tmp_path):
    lines = []
    result = run_demo(tmp_path, log=lines.append)
    assert result.validation.valid
    s = result.scores
    assert s.SEG > 0.8 and s.DET > 0.95 and s.TRA > 0.95 and s.LNK > 0.9
    assert s.DIV_TP > 20
    assert lines[-2].startswith("5. scores: SEG")


def test_demo_cli_is_deterministic(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "a"), "--frames", "12"]) == 0
    first = capsys.readouterr().out.split("5. scores:")[1]
    assert main(["demo", "--out", str(tmp_path / "b"), "--frames", "12"]) == 0
    assert capsys.readouterr().out.split("5. scores:")[1] == first


def test_moving_discs_refuses_impossible_placement():
    import pytest

    with pytest.raises(ValueError, match="cannot place 9 separate discs"):
        moving_discs(n_frames=2, shape=(40, 40), n_objects=9)


def test_moving_discs_is_seeded():
    a, b = moving_discs(n_frames=5, seed=4), moving_discs(n_frames=5, seed=4)
    assert all((x == y).all() for x, y in zip(a.masks, b.masks, strict=True))
    assert a.parents == b.parents
