"""The SIM+-style simulator behind `ctc synth` and the demo, and the result report."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from ctc import synth as synth_module
from ctc.cli import main
from ctc.errors import CTCInputError
from ctc.lineage import Track, TrackTable, read_tracks
from ctc.report import lineage_positions
from ctc.synth import Simulation, SynthConfig, synth_dataset
from ctc.validation import validate_result

SMALL = dict(shape=(128, 160), frames=12, cells=6, radius=(7.0, 11.0), cycle=(6, 12),
             mitosis=3, entries=0.5, speed=2.0)


def run(**kw):
    sim = Simulation(SynthConfig(**{**SMALL, **kw}))
    frames = list(sim)
    return frames, sim.tracks()


def test_seeded_and_seed_dependent():
    (a, ta), (b, tb), (c, _) = run(seed=1), run(seed=1), run(seed=2)
    assert all((x[0] == y[0]).all() and (x[1] == y[1]).all() for x, y in zip(a, b, strict=True))
    assert ta == tb
    assert any((x[0] != y[0]).any() for x, y in zip(a, c, strict=True))


def test_frames_and_truth_are_consistent():
    frames, table = run(seed=3)
    assert len(frames) == SMALL["frames"]
    for t, (raw, labels) in enumerate(frames):
        assert raw.dtype == np.uint16 and labels.dtype == np.uint16
        assert raw.shape == labels.shape == SMALL["shape"]
        present = set(np.unique(labels[labels > 0]).tolist())
        assert present == {tr.label for tr in table if tr.begin <= t <= tr.end}
        # nuclei are brighter than the background around them
        assert raw[labels > 0].mean() > raw[labels == 0].mean() + 10
    # divisions (two daughters of one mother, born right after it ends), entries, exits
    daughters = {}
    for tr in table:
        if tr.parent:
            daughters.setdefault(tr.parent, []).append(tr)
    assert daughters
    for parent, kids in daughters.items():
        assert all(k.begin == table[parent].end + 1 for k in kids)
        assert len(kids) <= 2
    assert any(tr.begin > 0 and tr.parent == 0 for tr in table)          # entered
    assert any(tr.end < SMALL["frames"] - 1 and tr.label not in daughters for tr in table)


def test_one_connected_piece_per_label():
    from scipy import ndimage as ndi

    frames, _ = run(seed=5, cells=12)
    for _, labels in frames:
        for label in np.unique(labels[labels > 0]):
            assert ndi.label(labels == label)[1] == 1


def test_mitotic_rounding_brightens_the_mother():
    cfg = dict(SMALL, frames=30, cycle=(12, 16), mitosis=3, entries=0.0, noise=0.0, gain=0.0,
               speed=0.5)
    frames, table = run(**cfg)
    ratios = []
    for tr in table:
        if table.children(tr.label) and tr.end - tr.begin >= 6:
            before = frames[tr.end - 5]
            last = frames[tr.end]
            ratios.append(last[0][last[1] == tr.label].mean()
                          / before[0][before[1] == tr.label].mean())
    assert ratios and np.mean(ratios) > 1.3


def test_dataset_layout_and_gt_validity(tmp_path):
    out = tmp_path / "Fluo-N2DH-SYNTH"
    tables = synth_dataset(out, SynthConfig(**SMALL), ("01", "02"))
    for seq in ("01", "02"):
        assert len(list((out / seq).glob("t*.tif"))) == SMALL["frames"]
        assert (out / f"{seq}_GT" / "SEG" / "man_seg000.tif").is_file()
        report = validate_result(out / f"{seq}_GT" / "TRA")
        assert report.valid, report.summary()
        assert read_tracks(out / f"{seq}_GT" / "TRA" / "man_track.txt") == tables[seq]
        seg = tifffile.imread(out / f"{seq}_GT" / "SEG" / "man_seg005.tif")
        tra = tifffile.imread(out / f"{seq}_GT" / "TRA" / "man_track005.tif")
        assert (seg == tra).all()
    assert not (tmp_path / "01").exists() and (out / "synth.json").is_file()
    with pytest.raises(CTCInputError, match="exists already"):
        synth_dataset(out, SynthConfig(**SMALL))


def test_failure_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def failing(folder, seq, config, **kwargs):
        calls.append(seq)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(folder, seq, config, **kwargs)

    real = synth_module.synth_sequence
    monkeypatch.setattr(synth_module, "synth_sequence", failing)
    with pytest.raises(RuntimeError):
        synth_dataset(tmp_path / "D", SynthConfig(**SMALL))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad, message", [
    (dict(shape=(10, 64)), "shape"), (dict(radius=(5.0, 3.0)), "radius"),
    (dict(cycle=(4, 8), mitosis=4), "mitosis"), (dict(noise=-1.0), "negative"),
    (dict(depth=2), "depth"), (dict(depth=8, z_step=0.0), "z_step"),
])
def test_bad_settings(bad, message):
    with pytest.raises(ValueError, match=message):
        SynthConfig(**{**SMALL, **bad})


def test_cli(tmp_path, capsys):
    out = tmp_path / "S"
    assert main(["synth", str(out), "--size", "96", "96", "--frames", "5", "--cells", "4",
                 "--radius", "6", "9", "--sequences", "01"]) == 0
    assert "01: 5 frames 96x96" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["01", "01_GT", "synth.json"]
    assert main(["synth", str(tmp_path / "T"), "--size", "8", "8"]) == 2
    assert "shape" in capsys.readouterr().err


SMALL_3D = dict(SMALL, shape=(96, 112), depth=10, z_step=4.0, cells=6, radius=(9.0, 12.0))


def test_3d_volumes_are_anisotropic_bodies_with_exact_truth(tmp_path):
    from scipy import ndimage as ndi

    from ctc.metrics import evaluate

    frames, table = run(**SMALL_3D, seed=2)
    assert run(**SMALL_3D, seed=2)[1] == table  # seeded in 3D too
    heights = []
    for t, (raw, labels) in enumerate(frames):
        assert raw.shape == labels.shape == (10, 96, 112) and raw.dtype == np.uint16
        present = set(np.unique(labels[labels > 0]).tolist())
        assert present == {tr.label for tr in table if tr.begin <= t <= tr.end}
        assert raw[labels > 0].mean() > raw[labels == 0].mean() + 10
        for label in present:
            body = labels == label
            assert ndi.label(body)[1] == 1  # one connected 3D body per label
            zs, ys, _ = np.nonzero(body)
            heights.append((np.ptp(zs) + 1) * 4.0 / (np.ptp(ys) + 1))
    # flattened nuclei seen through slices 4 x-pixels apart: a few slices each, and
    # (in x pixels) less tall than wide
    assert 0.3 < np.median(heights) < 1.0
    assert any(tr.parent for tr in table)  # divisions in 3D
    out = tmp_path / "Fluo-N3DH-SYNTH"
    synth_dataset(out, SynthConfig(**SMALL_3D), ("01",))
    res = tmp_path / "01_RES"  # the markers as a result: valid, and perfect
    res.mkdir()
    for path in sorted((out / "01_GT" / "TRA").glob("man_track0*.tif")):
        tifffile.imwrite(res / path.name.replace("man_track", "mask"), tifffile.imread(path))
    (res / "res_track.txt").write_text((out / "01_GT" / "TRA" / "man_track.txt").read_text())
    assert validate_result(res).valid
    scores = evaluate(out / "01_GT", res, "SEG,DET,TRA")
    assert scores.SEG == scores.DET == scores.TRA == 1.0


def test_3d_single_slice_truth(tmp_path, capsys):
    from ctc.io import find_slice_annotations
    from ctc.metrics import evaluate

    out = tmp_path / "S3"
    assert main(["synth", str(out), "--size", "80", "80", "--frames", "4", "--cells", "4",
                 "--radius", "8", "10", "--depth", "8", "--z-step", "3", "--slice-gt",
                 "--sequences", "01"]) == 0
    assert "01: 4 frames 8x80x80" in capsys.readouterr().out
    slices = find_slice_annotations(out / "01_GT" / "SEG")
    assert sorted(t for t, _ in slices) == [0, 1, 2, 3]
    assert not list((out / "01_GT" / "SEG").glob("man_seg0*.tif"))
    for (t, z), path in slices.items():
        volume = tifffile.imread(out / "01_GT" / "TRA" / f"man_track{t:03d}.tif")
        np.testing.assert_array_equal(tifffile.imread(path), volume[z])
    res = tmp_path / "res"  # SEG against slice truth scores the result's slices
    res.mkdir()
    for t in range(4):
        tifffile.imwrite(res / f"mask{t:03d}.tif",
                         tifffile.imread(out / "01_GT" / "TRA" / f"man_track{t:03d}.tif"))
    (res / "res_track.txt").write_text((out / "01_GT" / "TRA" / "man_track.txt").read_text())
    assert evaluate(out / "01_GT", res, "SEG").SEG == 1.0
    assert main(["synth", str(tmp_path / "flat"), "--slice-gt"]) == 2
    assert "--depth" in capsys.readouterr().err


def test_lineage_positions():
    table = TrackTable([Track(1, 0, 3), Track(2, 4, 9, 1), Track(3, 4, 9, 1), Track(4, 0, 9),
                        Track(5, 10, 12, 2), Track(6, 10, 12, 2)])
    x = lineage_positions(table)
    assert x[5] == 0 and x[6] == 1 and x[2] == 0.5 and x[3] == 2
    assert x[1] == pytest.approx(1.25) and x[4] == 3
