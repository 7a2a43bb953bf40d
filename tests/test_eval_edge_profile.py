"""eval/edge_profile.py: how far brightness reaches past the gold outlines."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "eval"))

from edge_profile import DISTANCES, edge_profile  # noqa: E402


def discs(blur: float, brightness: tuple[float, float] = (100.0, 20.0)):
    yy, xx = np.mgrid[:96, :96]
    gold = np.zeros((96, 96), np.uint16)
    gold[(yy - 30) ** 2 + (xx - 30) ** 2 <= 12 ** 2] = 1
    gold[(yy - 66) ** 2 + (xx - 64) ** 2 <= 10 ** 2] = 2
    image = 10.0 + np.select([gold == 1, gold == 2], brightness, 0.0)
    return (ndi.gaussian_filter(image, blur) if blur else image), gold


def test_a_sharp_edge_drops_to_zero_outside_and_a_blurred_one_does_not():
    d = {v: i for i, v in enumerate(DISTANCES)}
    sharp, signal = edge_profile(*discs(0.0))
    # relative to each cell's own brightness: both discs read 1 inside, 0 outside
    assert np.allclose(sharp[: d[-1] + 1], 1.0) and np.allclose(sharp[d[1]:], 0.0)
    assert signal == 60.0  # the median of the two signals, 90 and 30 (background 10)
    soft, _ = edge_profile(*discs(2.0))
    assert soft[d[1]] > 0.2 and soft[d[2]] > soft[d[4]] > 0
    assert soft[d[-1]] < 0.9  # the blur also dims the outermost ring inside


def test_a_frame_without_cells_gives_no_profile():
    profile, signal = edge_profile(np.ones((16, 16)), np.zeros((16, 16), np.uint16))
    assert np.isnan(profile).all() and np.isnan(signal)
