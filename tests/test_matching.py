"""The numba overlap kernel against a brute-force NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

from ctc.errors import CTCFormatError
from ctc.metrics.matching import match_frame


def brute_force(ref, res):
    pairs = {}
    for g, r in zip(ref.ravel().tolist(), res.ravel().tolist(), strict=True):
        if g and r:
            pairs[(g, r)] = pairs.get((g, r), 0) + 1
    area = {g: int(np.sum(ref == g)) for g in np.unique(ref) if g}
    return {(g, r): n for (g, r), n in pairs.items() if 2 * n > area[g]}


def random_labels(rng, shape, n, high):
    labels = rng.choice(np.arange(1, high + 1), size=min(n, high), replace=False)
    image = np.zeros(shape, np.int64)
    for label in labels:
        y, x = rng.integers(0, shape[0] - 3), rng.integers(0, shape[1] - 3)
        h, w = rng.integers(1, 6, size=2)
        image[y:y + h, x:x + w] = label
    return image.astype(np.uint16 if high <= 65535 else np.uint32)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("high", [20, 65535, 200000])
def test_kernel_matches_brute_force(seed, high):
    rng = np.random.default_rng(seed)
    ref = random_labels(rng, (30, 40), 25, high)
    res = random_labels(rng, (30, 40), 25, high)
    m = match_frame(ref, res)
    expected = brute_force(ref, res)
    got = dict(zip(zip(m.match_ref.tolist(), m.match_res.tolist(), strict=True),
                   m.match_inter.tolist(), strict=True))
    assert got == expected
    assert m.ref_labels.tolist() == sorted(set(np.unique(ref).tolist()) - {0})
    assert m.res_area.tolist() == [int(np.sum(res == r)) for r in m.res_labels]


def test_half_overlap_is_not_a_match():
    ref = np.zeros((4, 4), np.uint16)
    res = np.zeros((4, 4), np.uint16)
    ref[0, 0:4] = 1
    res[0, 0:2] = 9          # exactly half: no match (strict)
    res[0, 2:4] = 8
    assert match_frame(ref, res).match_ref.size == 0
    res[0, 2] = 9            # 3 of 4: match
    m = match_frame(ref, res)
    assert (m.match_ref.tolist(), m.match_res.tolist(), m.match_inter.tolist()) == (
        [1], [9], [3])
    np.testing.assert_allclose(m.jaccard(), [3 / 4])


def test_large_labels_behave_like_small_ones():
    rng = np.random.default_rng(1)
    ref = random_labels(rng, (30, 40), 25, 30)
    res = random_labels(rng, (30, 40), 25, 30)
    small = match_frame(ref, res)
    big = match_frame(np.where(ref > 0, 65535 - ref.astype(np.int64), 0).astype(np.uint16),
                      np.where(res > 0, 65536 - res.astype(np.int64), 0).astype(np.uint16))
    assert big.res_labels.max() == 65535
    np.testing.assert_array_equal(np.sort(big.match_inter), np.sort(small.match_inter))
    np.testing.assert_allclose(np.sort(big.jaccard()), np.sort(small.jaccard()))


def test_3d_and_shape_mismatch():
    ref = np.zeros((3, 5, 5), np.uint16)
    ref[1:3, 1:4, 1:4] = 7
    m = match_frame(ref, ref)
    assert m.match_inter.tolist() == [18] and m.jaccard().tolist() == [1.0]
    with pytest.raises(CTCFormatError, match="differs"):
        match_frame(ref, ref[0])
