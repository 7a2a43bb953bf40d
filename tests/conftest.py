"""Shared fixtures: the real CTC data folder and builders of small CTC folders."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

REPO = Path(__file__).resolve().parents[1]
CTC_DATA = Path(os.environ.get("CTC_DATA", REPO.parent / "shared" / "data" / "ctc"))


@pytest.fixture(scope="session")
def ctc_data() -> Path:
    """Folder of real CTC data (env CTC_DATA, default ../shared/data/ctc); skip if absent."""
    if not CTC_DATA.is_dir():
        pytest.skip(f"real CTC data not found at {CTC_DATA} (set CTC_DATA to its folder)")
    return CTC_DATA


def write_res(folder: Path, masks, tracks: str | None, digits: int = 3,
              prefix: str = "mask", track_name: str = "res_track.txt") -> Path:
    """Write masks (list of arrays) and a track table text into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for t, mask in enumerate(masks):
        tifffile.imwrite(folder / f"{prefix}{t:0{digits}d}.tif", np.asarray(mask),
                         photometric="minisblack")
    if tracks is not None:
        (folder / track_name).write_text(tracks)
    return folder


def blank(shape=(16, 16)) -> np.ndarray:
    return np.zeros(shape, np.uint16)


def with_objects(*labels: int, shape=(16, 16)) -> np.ndarray:
    """A frame with one 3x3 square per label, placed left to right."""
    mask = blank(shape)
    for i, label in enumerate(labels):
        mask[2:5, 1 + 4 * i: 4 + 4 * i] = label
    return mask
