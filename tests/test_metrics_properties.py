"""Property tests of the measures (hypothesis) on a synthetic ground truth."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctc.metrics import SCORE_KEYS, evaluate
from ctc.perturb import PERTURBATIONS, perturbed
from ctc.toy import toy_sequence, write_gt

MEASURES = ("SEG", "DET", "TRA", "LNK", "OP_CSB", "OP_CTB")
COUNTS = ("NS", "FN", "FP", "ED", "EA", "EC")


@pytest.fixture(scope="module")
def toy_gt(tmp_path_factory):
    seq = toy_sequence(n_frames=7, seed=3)
    gt = tmp_path_factory.mktemp("toy") / "01_GT"
    write_gt(seq, gt)
    return seq, gt


def score(seq, gt) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        res = Path(tmp) / "01_RES"
        seq.write(res)
        return evaluate(gt, res).to_dict()


FIXTURE_OK = [HealthCheck.function_scoped_fixture]  # the module-scoped GT is read-only


@settings(max_examples=15, deadline=None, suppress_health_check=FIXTURE_OK)
@given(seed=st.integers(0, 2**32 - 1))
def test_result_equal_to_gt_scores_one(toy_gt, seed):
    seq, gt = toy_gt
    scores = score(perturbed(seq, [], seed=seed, permute_high=65535), gt)
    assert all(scores[k] == 1.0 for k in MEASURES)
    assert all(scores[k] == 0 for k in COUNTS)


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURE_OK)
@given(seed=st.integers(0, 2**32 - 1),
       kinds=st.lists(st.sampled_from(sorted(PERTURBATIONS)), unique=True, max_size=4))
def test_relabelling_never_changes_scores_and_scores_in_unit_range(toy_gt, seed, kinds):
    seq, gt = toy_gt
    result = perturbed(seq, kinds, seed=seed)
    base = score(result, gt)
    for key in MEASURES:
        assert 0.0 <= base[key] <= 1.0, key
    assert all(base[k] >= 0 for k in COUNTS)
    rng = np.random.default_rng(seed)
    for high in (65535, 70):  # any bijection: into the whole uint16 range, or a small one
        relabelled = perturbed(result, [], seed=int(rng.integers(2**32)),
                               permute_high=max(high, len(result.labels()) + 20))
        assert score(relabelled, gt) == {k: base[k] for k in SCORE_KEYS}
