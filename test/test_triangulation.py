# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Weighted DLT triangulation: exactness, efficiency (Cramér-Rao), outliers, bad input."""

import numpy as np
import pytest

from mec_coop.geometry.camera import PinholeCamera
from mec_coop.geometry.metrics import mpjpe
from mec_coop.geometry.triangulation import (
    crlb_covariance, expected_error_norm, triangulate, triangulate_cameras)


def ring(n, radius=5.0, height=2.8, **kwargs):
    """``n`` cameras on a circle around the room centre, aimed at 1 m above the floor."""
    angles = np.linspace(0.0, 2 * np.pi, n, endpoint=False) + 0.3
    return [PinholeCamera.look_at(f'cam{i}', (radius * np.cos(a), radius * np.sin(a), height),
                                  (0.0, 0.0, 1.0), **kwargs) for i, a in enumerate(angles)]


@pytest.fixture
def skeleton():
    return np.random.default_rng(0).uniform((-0.8, -0.8, 0.0), (0.8, 0.8, 1.9), (17, 3))


def project(cameras, X):
    return np.stack([cam.project(X) for cam in cameras], axis=-3)


@pytest.mark.parametrize('n_views', [2, 4, 8, 16])
def test_noise_free_is_exact(skeleton, n_views):
    cams = ring(n_views)
    res = triangulate(cams, project(cams, skeleton))
    assert res.valid.all()
    assert np.max(np.linalg.norm(res.points - skeleton, axis=-1)) < 1e-6
    assert np.max(res.reprojection_error) < 1e-6
    assert (res.num_views == n_views).all()


def test_noise_free_with_lens_distortion(skeleton):
    cams = ring(4, dist=(-0.25, 0.07, 0.001, -0.001, 0.0))
    res = triangulate_cameras(cams, project(cams, skeleton))
    assert np.max(np.linalg.norm(res.points - skeleton, axis=-1)) < 1e-6


def test_batched_frames_match_single_frames(skeleton):
    cams = ring(4)
    P = np.stack([c.P for c in cams])
    rng = np.random.default_rng(1)
    frames = project(cams, skeleton)[None] + rng.normal(0.0, 3.0, (5, 4, 17, 2))
    weights = rng.uniform(0.3, 1.0, (5, 4, 17))
    batched = triangulate(P, frames, weights, ideal_pixels=True)
    for f in range(5):
        single = triangulate(P, frames[f], weights[f], ideal_pixels=True)
        np.testing.assert_allclose(batched.points[f], single.points, atol=1e-9)


def test_mpjpe_with_2px_noise_matches_cramer_rao(skeleton):
    """4 views, sigma = 2 px: the measured MPJPE is within 20% of the CRLB expectation."""
    cams = ring(4)
    P = np.stack([c.P for c in cams])
    rng = np.random.default_rng(2)
    noisy = project(cams, skeleton)[None] + rng.normal(0.0, 2.0, (2000, 4, 17, 2))
    res = triangulate(P, noisy, ideal_pixels=True)
    measured = mpjpe(res.points, np.broadcast_to(skeleton, res.points.shape))
    expected = np.mean([expected_error_norm(crlb_covariance(P, X, 2.0), 50_000) for X in skeleton])
    # Two views in the 0.1% noise tail of one joint leave a pair that the opposite pair rivals.
    assert res.valid.mean() > 0.999
    assert measured == pytest.approx(expected, rel=0.20)
    print(f'MPJPE {measured * 1000:.2f} mm, CRLB expectation {expected * 1000:.2f} mm')


def test_confidence_weights_down_weight_a_bad_view(skeleton):
    cams = ring(4)
    P = np.stack([c.P for c in cams])
    rng = np.random.default_rng(3)
    x = project(cams, skeleton)[None] + rng.normal(0.0, 1.0, (200, 4, 17, 2))
    x[:, 0] += rng.normal(0.0, 12.0, (200, 17, 2))
    w = np.ones((200, 4, 17))
    flat = triangulate(P, x, w, outlier_threshold_px=None, ideal_pixels=True)
    w[:, 0] = 0.1
    weighted = triangulate(P, x, w, outlier_threshold_px=None, ideal_pixels=True)
    gt = np.broadcast_to(skeleton, flat.points.shape)
    assert mpjpe(weighted.points, gt) < 0.6 * mpjpe(flat.points, gt)


@pytest.mark.parametrize('n_views', [4, 8])
def test_corrupted_view_is_rejected(skeleton, n_views):
    """One view 50 px off in every joint: it is dropped and the others give the answer."""
    cams = ring(n_views)
    P = np.stack([c.P for c in cams])
    rng = np.random.default_rng(4)
    x = project(cams, skeleton)[None] + rng.normal(0.0, 2.0, (300, n_views, 17, 2))
    direction = rng.normal(size=(300, 17, 2))
    x[:, 1] += 50.0 * direction / np.linalg.norm(direction, axis=-1, keepdims=True)
    res = triangulate(P, x, ideal_pixels=True)
    # On the 4-ring, joints near the line of two opposite cameras owe their depth to the one
    # good view across: with another view objecting, they are flagged rather than trusted.
    assert res.valid.mean() > (0.9 if n_views == 4 else 0.99)
    assert 1.0 - res.used[:, 1].mean() > 0.95  # the corrupted view is rejected
    assert res.used[:, [0] + list(range(2, n_views))].mean() > 0.97
    clean = triangulate(P[[v for v in range(n_views) if v != 1]], np.delete(x, 1, axis=1),
                        ideal_pixels=True)
    gt = np.broadcast_to(skeleton, res.points.shape)
    assert mpjpe(res.points, gt) < 1.3 * mpjpe(clean.points, gt)
    without = triangulate(P, x, outlier_threshold_px=None, ideal_pixels=True)
    assert mpjpe(without.points, gt) > 1.5 * mpjpe(res.points, gt)


def test_two_disagreeing_views_are_flagged_not_guessed(skeleton):
    # Cameras 90 degrees apart: a vertical shift in one view breaks the epipolar constraint.
    cams = ring(4)[:2]
    x = project(cams, skeleton)
    x[1, :, 1] += 80.0
    res = triangulate(cams, x)
    assert not res.valid.any()
    assert np.isnan(res.points).all()


def test_nan_keypoints_and_missing_views(skeleton):
    cams = ring(3)
    x = project(cams, skeleton)
    x[0, 3] = np.nan          # one view lost joint 3: still 2 views
    x[0, 5] = x[1, 5] = np.nan  # joint 5 only in one view
    w = np.ones((3, 17))
    w[2, 7] = 0.0             # zero confidence excludes a view
    w[1, 7] = np.nan          # NaN confidence too: joint 7 has one view left
    res = triangulate(cams, x, w)
    assert res.valid[3] and res.num_views[3] == 2
    assert not res.valid[5] and res.num_views[5] <= 1 and np.isnan(res.points[5]).all()
    assert not res.valid[7] and np.isnan(res.points[7]).all()
    others = [j for j in range(17) if j not in (5, 7)]
    assert np.max(np.abs(res.points[others] - skeleton[others])) < 1e-6


def test_min_views_rule(skeleton):
    cams = ring(4)
    x = project(cams, skeleton)
    x[:2, :4] = np.nan
    res = triangulate(cams, x, min_views=3)
    assert not res.valid[:4].any()
    assert res.valid[4:].all()
    with pytest.raises(ValueError, match='min_views'):
        triangulate(cams, x, min_views=1)


def test_coincident_cameras_are_degenerate(skeleton):
    cam = ring(1)[0]
    twin = PinholeCamera.look_at('twin', cam.center, (0.3, 0.2, 1.1))
    res = triangulate([cam, twin], project([cam, twin], skeleton))
    assert not res.valid.any()


def test_bad_projection_matrices_and_shapes_raise(skeleton):
    cams = ring(3)
    P = np.stack([c.P for c in cams])
    x = project(cams, skeleton)
    bad = P.copy()
    bad[1, :, :3] = 0.0
    with pytest.raises(ValueError, match='view 1 is degenerate'):
        triangulate(bad, x, ideal_pixels=True)
    bad = P.copy()
    bad[2, 0, 0] = np.inf
    with pytest.raises(ValueError, match='view 2 has non-finite'):
        triangulate(bad, x, ideal_pixels=True)
    with pytest.raises(ValueError, match='points must have shape'):
        triangulate(P, x[:2], ideal_pixels=True)
    with pytest.raises(ValueError, match='weights must have shape'):
        triangulate(P, x, np.ones((3, 16)), ideal_pixels=True)


def test_point_behind_cameras_is_flagged(skeleton):
    cams = ring(3)
    P = np.stack([c.P for c in cams])
    x = project(cams, skeleton)
    # Pixel positions of a point mirrored behind all cameras cannot come from a real joint.
    mirrored = 2 * np.mean([c.center for c in cams], axis=0) - skeleton
    mirrored[:, 2] = 20.0
    x_bad = x.copy()
    x_bad[:, 0] = [np.nan_to_num(c.project(mirrored[0]), nan=0.0) for c in cams]
    res = triangulate(P, x_bad, ideal_pixels=True)
    assert not (res.valid[0] and np.linalg.norm(res.points[0] - skeleton[0]) > 0.5)
