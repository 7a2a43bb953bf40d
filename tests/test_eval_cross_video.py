"""eval/cross_video.py: the post-processing labels of its tables."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "eval"))

import cross_video  # noqa: E402


def test_post_label_names_every_kind_of_post_processing():
    label = cross_video.post_label
    assert label({"postprocess": {"method": "watershed", "seed_threshold": 0.85,
                                  "split": 0.8}}) == "watershed 0.85 + split 0.8"
    assert label({"postprocess": {"method": "markers", "seed_threshold": 0.5,
                                  "h": 2.0}}) == "markers 0.5 + shape h=2.0"
    assert label({"postprocess": {"method": "components", "refine": 0.35}}) == (
        "components + refine 0.35")
    # embedding models are clustered by mean shift at their calibrated bandwidth
    assert label({"postprocess": {"bandwidth": 0.4, "min_size": 998}}) == "mean shift 0.4"
    assert label({"postprocess": {"min_size": 998}}) == "-"
    assert label({}) == "-"
