# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""One Euro filter and the published-skeleton smoother."""

import math

import numpy as np
import pytest

from mec_coop.fusion.smoothing import (OneEuroConfig, OneEuroFilter, SkeletonSmoother,
                                       SMOOTHING_METHODS)
from mec_coop.fusion.tracking import SkeletonTrack
from mec_coop.geometry.metrics import mean_acceleration
from mec_coop.rig.virtual import Humanoid


def test_one_euro_reduces_jitter_on_noisy_rig_motion():
    person = Humanoid(seed=0)
    stamps = np.arange(0.0, 60.0, 0.1)
    gt = np.array([person.pose(t).joints for t in stamps])
    measured = gt + np.random.default_rng(1).normal(0.0, 0.02, gt.shape)
    euro = OneEuroFilter()
    smoothed = np.array([euro(t, z) for t, z in zip(stamps, measured)])
    # Jitter of the error (the motion's own acceleration cancels) and of the output itself.
    noise_raw = mean_acceleration(stamps, measured - gt)
    noise_euro = mean_acceleration(stamps, smoothed - gt)
    raw, out, true = (mean_acceleration(stamps, p) for p in (measured, smoothed, gt))
    mpjpe_raw, mpjpe_euro = (1e3 * np.linalg.norm(p - gt, axis=2).mean()
                             for p in (measured, smoothed))
    print(f'error jitter {noise_raw:.2f} -> {noise_euro:.2f} m/s^2; jitter {raw:.2f} -> '
          f'{out:.2f} (truth {true:.2f}); MPJPE {mpjpe_raw:.1f} -> {mpjpe_euro:.1f} mm')
    # Measured (seeds 0/1, 10 fps, 20 mm noise): error jitter 7.78 -> 5.25 m/s^2, jitter
    # 8.97 -> 6.32 (truth 2.93), MPJPE 31.6 -> 27.6 mm. A lower beta smooths more but lags more.
    assert noise_euro < noise_raw / 1.4
    assert out < raw / 1.3
    assert mpjpe_euro < mpjpe_raw


def test_one_euro_lag_is_bounded_on_ramp_and_step():
    config = OneEuroConfig()
    for speed in (0.2, 1.0, 3.0):
        euro = OneEuroFilter(config, num_joints=1)
        for t in np.arange(0.0, 3.0, 0.1):
            out = euro(t, np.array([[speed * t, 0.0, 0.0]]))
        lag = speed * t - out[0, 0]
        bound = speed / (2 * math.pi * (config.min_cutoff + config.beta * speed))
        assert 0.0 < lag <= bound * 1.01
        assert lag < 1.0 / (2 * math.pi * config.beta)
    euro = OneEuroFilter(config, num_joints=1)
    for k, t in enumerate(np.arange(0.0, 1.5, 0.1)):
        out = euro(t, np.array([[0.5 if k >= 5 else 0.0, 0.0, 0.0]]))
        if k == 5:
            assert out[0, 0] > 0.9 * 0.5
        if k == 7:
            assert out[0, 0] > 0.995 * 0.5


def test_one_euro_restarts_invalid_joints_and_gaps():
    euro = OneEuroFilter(OneEuroConfig(max_gap_s=1.0), num_joints=2)
    euro(0.0, np.zeros((2, 3)))
    assert np.all(euro(0.1, np.ones((2, 3))) < 1.0)
    out = euro(0.2, np.array([[np.nan] * 3, [1.0] * 3]))
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()
    out = euro(0.3, np.full((2, 3), 5.0), valid=np.array([True, False]))
    np.testing.assert_array_equal(out[0], 5.0)
    assert np.isnan(out[1]).all()
    after_gap = euro(2.0, np.full((2, 3), 7.0))
    np.testing.assert_array_equal(after_gap, 7.0)
    for stamp in (2.0, 1.9):
        with pytest.raises(ValueError, match='not after'):
            euro(stamp, np.zeros((2, 3)))


def test_one_euro_handles_variable_rate():
    euro = OneEuroFilter(num_joints=1)
    for t in np.cumsum(np.random.default_rng(0).uniform(0.02, 0.5, 40)):
        out = euro(t, np.array([[0.3, -0.2, 1.0]]))
    np.testing.assert_allclose(out[0], [0.3, -0.2, 1.0])


def test_smoother_methods_publish_with_track_fill():
    track = SkeletonTrack()
    smoothers = {m: SkeletonSmoother(m) for m in SMOOTHING_METHODS}
    rng = np.random.default_rng(0)
    for t in np.arange(0.0, 1.0, 0.1):
        z = 0.3 * t + rng.normal(0.0, 0.02, (17, 3))
        if t > 0.65:
            z[9] = np.nan
        update = track.update(t, z)
        out = {m: s(update) for m, s in smoothers.items()}
    np.testing.assert_array_equal(out['kalman'].points, update.points)
    np.testing.assert_array_equal(out['none'].points[:9], z[:9])
    assert not np.allclose(out['one_euro'].points[:9], z[:9])
    for skeleton in out.values():
        assert skeleton.stamp == update.stamp and skeleton.valid.all()
        assert skeleton.predicted[9] and skeleton.predicted.sum() == 1
        np.testing.assert_array_equal(skeleton.points[9], update.points[9])
    with pytest.raises(ValueError, match='duplicate'):
        smoothers['kalman'](track.update(update.stamp, z))
    with pytest.raises(ValueError, match='smoothing method'):
        SkeletonSmoother('median')
