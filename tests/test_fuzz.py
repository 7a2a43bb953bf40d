"""Fuzzing ``validate`` and ``evaluate`` (API and command line) with hostile results.

Small label images and track tables are drawn with hypothesis: labels 0, 65535 and above,
negative and non-integer values, booleans, mismatched shapes and dtypes, missing and
non-TIFF frames, huge, negative and malformed numbers in ``res_track.txt``, gaps,
missing and circular parents, empty and missing track files. For every draw:

- ``validate_result`` returns a report and ``evaluate`` returns scores or raises a
  :class:`CTCError` (a clear message), both within a time bound: never another exception;
- ``ctc validate`` and ``ctc evaluate`` exit 0, 1 or 2 with a one-line message;
- ``evaluate`` never scores a result that ``validate_result`` rejects, unless
  ``allow_invalid`` is given (SEG alone, which reads only the annotated frames and no
  lineage: that ``validate_result(..., seg_only=True)`` rejects on its masks alone).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctc.cli import main
from ctc.errors import CTCError
from ctc.metrics import evaluate
from ctc.validation import validate_result

SHAPE = (8, 8)
N_FRAMES = 3
TIME_BOUND = 10.0  # seconds per call; a hang or a loop over a huge range fails it

VALUES = {  # label values each dtype may carry
    np.uint8: [0, 1, 2, 255],
    np.uint16: [0, 1, 2, 3, 65535],
    np.uint32: [0, 1, 2, 65535, 65536, 70000],
    np.int16: [0, 1, 2, -1],
    np.float32: [0.0, 1.0, 2.0, 2.5],
    np.bool_: [False, True],
}

TOKENS = st.one_of(
    st.integers(-2, 5).map(str),
    st.sampled_from(["0_0", "1e3", "x", "", "99999999999999999999", "65535", "65536", "-0",
                     "+1", "\u0663", "3.0", "100000"]),
)


@st.composite
def frames(draw):
    """One mask: (dtype, shape, pixel values), or a marker for a missing / non-TIFF file."""
    kind = draw(st.sampled_from(["mask"] * 8 + ["missing", "not-tiff"]))
    if kind != "mask":
        return kind
    dtype = draw(st.sampled_from(list(VALUES)))
    shape = draw(st.sampled_from([SHAPE] * 6 + [(8, 9), (2, 8, 8)]))
    size = int(np.prod(shape))
    background = draw(st.booleans())
    pool = VALUES[dtype]
    values = draw(st.lists(st.sampled_from(pool), min_size=size, max_size=size))
    image = np.array(values, dtype=dtype).reshape(shape)
    if background:  # mostly background with a block of one label, like a real mask
        image = np.zeros(shape, dtype)
        image[..., 1:4, 1:4] = pool[1 + draw(st.integers(0, len(pool) - 2))]
    return image


@st.composite
def track_tables(draw):
    choice = draw(st.sampled_from(["lines"] * 6 + ["missing", "empty", "valid"]))
    if choice == "missing":
        return None
    if choice == "empty":
        return ""
    if choice == "valid":
        return "1 0 2 0\n"
    lines = draw(st.lists(st.lists(TOKENS, min_size=3, max_size=5), min_size=1, max_size=5))
    separator = draw(st.sampled_from([" ", "\t"]))
    return "".join(separator.join(tokens) + "\n" for tokens in lines)


def write_truth(gt: Path) -> None:
    """A valid ground truth: one object, label 1, in frames 0-2; SEG of frame 0."""
    mask = np.zeros(SHAPE, np.uint16)
    mask[1:4, 1:4] = 1
    (gt / "TRA").mkdir(parents=True)
    (gt / "SEG").mkdir()
    for t in range(N_FRAMES):
        tifffile.imwrite(gt / "TRA" / f"man_track{t:03d}.tif", mask)
    (gt / "TRA" / "man_track.txt").write_text("1 0 2 0\n")
    tifffile.imwrite(gt / "SEG" / "man_seg000.tif", mask)


def write_result(res: Path, masks: list, tracks: str | None) -> None:
    res.mkdir()
    for t, mask in enumerate(masks):
        path = res / f"mask{t:03d}.tif"
        if isinstance(mask, str):
            if mask == "not-tiff":
                path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(16))
            continue
        tifffile.imwrite(path, mask, photometric="minisblack")
    if tracks is not None:
        (res / "res_track.txt").write_text(tracks)


def timed(call, *args, **kwargs):
    start = time.perf_counter()
    try:
        return call(*args, **kwargs), None
    except CTCError as exc:
        return None, exc
    finally:
        assert time.perf_counter() - start < TIME_BOUND, "no answer within the time bound"


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(masks=st.lists(frames(), min_size=1, max_size=4), tracks=track_tables(),
       metrics=st.sampled_from(["SEG", "SEG,DET", "DET", "TRA", None]))
def test_validate_and_evaluate_never_crash_and_agree(masks, tracks, metrics):
    with tempfile.TemporaryDirectory() as tmp:
        gt, res = Path(tmp) / "01_GT", Path(tmp) / "01_RES"
        write_truth(gt)
        write_result(res, masks, tracks)
        seg_only = metrics is not None and metrics == "SEG"

        if seg_only and tracks is not None:
            # SEG reads the annotated frames only and does not use the lineage: its
            # reference is the validity of the masks, checked without the track table
            (res / "res_track.txt").rename(Path(tmp) / "res_track.txt")
        report, error = timed(validate_result, res, seg_only=seg_only)
        if seg_only and tracks is not None:
            (Path(tmp) / "res_track.txt").rename(res / "res_track.txt")
        assert error is None, f"validate_result raised {error!r}"
        scores, error = timed(evaluate, gt, res, metrics)
        if scores is not None:  # scored: the result must be valid
            assert report.valid, (f"evaluate scored a result that validate rejects: "
                                  f"{[str(p) for p in report.errors]}")
        else:
            assert str(error)  # a message, naming what is wrong
        allowed, error = timed(evaluate, gt, res, metrics, allow_invalid=True)
        assert allowed is not None or str(error)

        args = ["--metrics", metrics] if metrics else []
        code, _ = timed(main, ["validate", str(res), *(["--seg-only"] if seg_only else [])])
        assert code in (0, 1, 2) and (seg_only or code == report.exit_code)
        code, _ = timed(main, ["evaluate", "--gt", str(gt), "--res", str(res), "--json", *args])
        assert code in (0, 1, 2) and (code == 0) == (scores is not None)


@pytest.mark.parametrize("text", ["", "\n\n", "1 0 2", "1 0 2 0 0", "a b c d",
                                  "1 0 99999999999999999999999999999999999999 0",
                                  "1 0 2 0\n2 0 2 1\n", "1 0 2 2\n2 0 2 1\n",
                                  "1 0 2 0\n1 0 2 0\n", "1 2 0 0\n"])
def test_track_table_edge_cases(tmp_path, text):
    gt, res = tmp_path / "01_GT", tmp_path / "01_RES"
    write_truth(gt)
    mask = np.zeros(SHAPE, np.uint16)
    mask[1:4, 1:4] = 1
    write_result(res, [mask] * N_FRAMES, text)
    report, error = timed(validate_result, res)
    assert error is None and not report.valid
    scores, error = timed(evaluate, gt, res)
    assert scores is None and str(error)
