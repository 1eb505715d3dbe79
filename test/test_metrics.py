# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""MPJPE, PA-MPJPE, PCK and per-joint errors against hand-computed values."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mec_coop.geometry import metrics


@pytest.fixture
def gt():
    return np.random.default_rng(0).uniform(-0.5, 0.5, (10, 17, 3)) + (0, 0, 1)


def test_mpjpe_of_constant_offset(gt):
    pred = gt + (0.03, 0.04, 0.0)
    assert metrics.mpjpe(pred, gt) == pytest.approx(0.05)
    np.testing.assert_allclose(metrics.per_joint_mpjpe(pred, gt), 0.05)


def test_pa_mpjpe_removes_similarity_transform(gt):
    rot = Rotation.from_euler('xyz', (10, -20, 30), degrees=True).as_matrix()
    pred = 1.1 * gt @ rot.T + (0.5, -0.2, 0.1)
    assert metrics.mpjpe(pred, gt) > 0.2
    assert metrics.pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-9)


def test_missing_joints_are_excluded_and_counted(gt):
    pred = gt + (0.01, 0.0, 0.0)
    pred[:, :5] = np.nan
    assert metrics.mpjpe(pred, gt) == pytest.approx(0.01)
    assert metrics.coverage(pred) == pytest.approx(12 / 17)
    # PCK counts a missing joint as wrong.
    assert metrics.pck(pred, gt, threshold=0.05) == pytest.approx(12 / 17)
    assert np.isnan(metrics.mpjpe(np.full_like(gt, np.nan), gt))


def test_pck_threshold(gt):
    pred = gt.copy()
    pred[:, :, 0] += np.linspace(0.005, 0.305, 17)
    assert metrics.pck(pred, gt, threshold=0.15) == pytest.approx(8 / 17)


def test_shape_mismatch_and_bad_ground_truth_raise(gt):
    with pytest.raises(ValueError, match='share a shape'):
        metrics.mpjpe(gt[:, :15], gt)
    bad = gt.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match='ground truth'):
        metrics.mpjpe(gt, bad)


def test_mpjpe_interval_covers_the_mean_and_widens_with_correlated_instants():
    rng = np.random.default_rng(1)
    truth = np.zeros((200, 17, 3))
    # Errors of 50 +- 10 mm per joint, independent per instant.
    noisy = truth + rng.normal(0.0, 1.0, (200, 17, 3)) * 0.05 / np.sqrt(3)
    low, high = metrics.mpjpe_interval(noisy, truth)
    assert low < metrics.mpjpe(noisy, truth) < high and high - low < 0.004
    # The same errors held for 20 instants each: blocks see the correlation, so the interval
    # is wider than single instants would make it.
    held = np.repeat(noisy[::20], 20, axis=0)
    wide = metrics.mpjpe_interval(held, truth, block=20)
    narrow = metrics.mpjpe_interval(held, truth, block=1)
    assert wide[1] - wide[0] > 1.5 * (narrow[1] - narrow[0])
    missing = np.full_like(truth, np.nan)
    assert np.isnan(metrics.mpjpe_interval(missing, truth)).all()
    with pytest.raises(ValueError, match='instants'):
        metrics.mpjpe_interval(noisy[0], truth[0])


def test_paired_difference_tells_apart_schemes_whose_own_intervals_overlap():
    rng = np.random.default_rng(2)
    times = np.arange(150) * 0.5
    # Instants of varying difficulty (20-120 mm, shared by both runs), scheme b 4 mm better
    # with 2 mm of its own noise.
    difficulty = rng.uniform(0.02, 0.12, 150)
    a = difficulty + rng.normal(0.0, 0.002, 150)
    b = difficulty - 0.004 + rng.normal(0.0, 0.002, 150)
    truth = np.zeros((150, 17, 3))
    as_poses = [truth + v[:, None, None] * np.array([1.0, 0.0, 0.0]) for v in (a, b)]
    # Each run's own interval: the two overlap.
    ia, ib = (metrics.mpjpe_interval(p, truth) for p in as_poses)
    assert ia[0] < ib[1]
    per_instant = [metrics.instant_mpjpe(p, truth) for p in as_poses]
    assert per_instant[0] == pytest.approx(a)
    # Run b missed some instants and measured others at other times: only shared ones pair.
    mean, low, high, paired = metrics.paired_difference(per_instant[0], times,
                                                        per_instant[1][10:], times[10:] + 0.0001)
    assert paired == 140
    assert mean == pytest.approx(0.004, abs=0.001) and 0.0 < low < mean < high < 0.006
    b_gaps = per_instant[1].copy()
    b_gaps[:50] = np.nan
    assert metrics.paired_difference(per_instant[0], times, b_gaps, times)[3] == 100
    assert np.isnan(metrics.paired_difference(a, times, b, times + 100.0)[0])
    with pytest.raises(ValueError, match='1-D'):
        metrics.paired_difference(a, times[:-1], b, times)
