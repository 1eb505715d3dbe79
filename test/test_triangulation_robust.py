# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Consensus triangulation on the benchmark's scenarios (random rings, humanoid poses), smaller.

The rings and poses come from ``benchmarks/triangulation.py`` with seeds no other check uses, so
the bounds hold for the method, not for one fixture.
"""

import importlib.util
import pathlib

import numpy as np
import pytest

from mec_coop.geometry.camera import PinholeCamera
from mec_coop.geometry.triangulation import DistortionUnknownWarning, JointFlag, triangulate

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location('triangulation_benchmark',
                                               ROOT / 'benchmarks' / 'triangulation.py')
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

SEED = 7


def run(num_views, frames, scenario, sigma=2.0, **kwargs):
    """Errors (m) and validity of all joints over the scenario's rings."""
    errors, valid = [], []
    for cams, gt, x in bench.scene(num_views, frames, sigma, scenario, seed=SEED):
        res = triangulate(cams, x, **kwargs)
        errors.append(np.linalg.norm(res.points - gt, axis=-1))
        valid.append(res.valid)
    return np.concatenate(errors), np.concatenate(valid)


def summary(errors, valid):
    wrong = np.mean(valid & (np.nan_to_num(errors) > 0.2))
    return 1e3 * float(np.mean(errors[valid])), wrong, float(valid.mean())


@pytest.mark.parametrize('num_views, bound_mm', [(4, 50.0), (8, 15.0), (16, 15.0)])
def test_random_outliers_never_valid_and_wrong(num_views, bound_mm):
    """20% of the 2D joints are random pixels: no joint 200 mm off is reported valid."""
    mpjpe_mm, wrong, coverage = summary(*run(num_views, 100, 'random'))
    assert wrong == 0.0
    assert mpjpe_mm <= bound_mm
    assert coverage > (0.7 if num_views == 4 else 0.97)


@pytest.mark.parametrize('num_views, bound_mm', [(4, 25.0), (8, 10.0)])
def test_shifted_view(num_views, bound_mm):
    """One view per frame 50 px off in every joint."""
    mpjpe_mm, wrong, coverage = summary(*run(num_views, 100, 'shifted'))
    assert wrong <= 0.001
    assert mpjpe_mm <= bound_mm
    assert coverage > 0.97


@pytest.mark.parametrize('num_views', [4, 8])
def test_clean_accuracy_matches_the_plain_solution(num_views):
    """Without outliers the consensus uses every view: the accuracy of the depth-weighted DLT."""
    robust = summary(*run(num_views, 100, 'clean'))
    plain = summary(*run(num_views, 100, 'clean', outlier_threshold_px=None))
    assert robust[0] <= 1.02 * plain[0]
    assert robust[2] >= 0.995 * plain[2]


def test_missing_view_and_human_checks_keep_clean_joints():
    mpjpe_mm, wrong, coverage = summary(*run(4, 100, 'missing', human_checks=True))
    assert wrong == 0.0 and coverage > 0.97 and mpjpe_mm < 25.0


@pytest.mark.parametrize('sigma', [0.0, 4.0])
def test_noise_is_estimated_not_assumed(sigma):
    """The gates follow the data's noise: random outliers stay out at 0 and at 4 px."""
    mpjpe_mm, wrong, coverage = summary(*run(8, 60, 'random', sigma=sigma))
    assert wrong == 0.0 and coverage > 0.97
    assert mpjpe_mm < (1.0 if sigma == 0.0 else 25.0)


def test_covariance_is_calibrated():
    """Mahalanobis distances of the clean errors follow chi-square with 3 degrees of freedom."""
    cams, gt, x = bench.scene(8, 50, 2.0, 'clean', seed=SEED)[0]
    res = triangulate(cams, x)
    e = (res.points - gt)[res.valid]
    d2 = np.einsum('ni,nij,nj->n', e, np.linalg.inv(res.covariance[res.valid]), e)
    assert np.mean(d2) == pytest.approx(3.0, rel=0.2)
    assert np.all(np.isnan(res.covariance[~res.valid]))
    assert res.noise_px.shape == (50,) and np.all(np.abs(res.noise_px - 2.0) < 0.6)


def test_batched_frames_match_single_frames():
    cams, gt, x = bench.scene(8, 10, 2.0, 'random', seed=SEED)[0]
    batched = triangulate(cams, x, human_checks=True)
    for f in range(len(gt)):
        single = triangulate(cams, x[f], human_checks=True)
        np.testing.assert_array_equal(single.valid, batched.valid[f])
        np.testing.assert_allclose(single.points, batched.points[f], atol=1e-9)


def _ring(n, **kwargs):
    angles = np.linspace(0.0, 2 * np.pi, n, endpoint=False) + 0.3
    return [PinholeCamera.look_at(f'cam{i}', (5 * np.cos(a), 5 * np.sin(a), 2.8), (0, 0, 1),
                                  **kwargs) for i, a in enumerate(angles)]


def _pose(seed=3):
    return bench.random_poses(np.random.default_rng(seed), 1)[0]


def _pixels(cams, X):
    return np.stack([c.project(X) for c in cams], axis=-3)


def test_two_views_outvoted_or_rivalled_are_not_valid():
    cams = _ring(4)
    X = _pose()
    x = _pixels(cams, X)
    x[2:, 0] += (80.0, -60.0)          # views 2 and 3 wrong: 2 of 4 agree
    x[3, 1] = np.nan                   # joint 1: 2 agree, 1 against
    x[2, 1] += (80.0, -60.0)
    x[2:, 2] = np.nan                  # joint 2: the only 2 views agree
    res = triangulate(cams, x)
    assert not res.valid[0] and res.flags[0] & JointFlag.NO_CONSENSUS
    assert not res.valid[1] and res.flags[1] & JointFlag.NO_CONSENSUS
    assert res.valid[2] and res.num_views[2] == 2
    assert res.flags[0] & JointFlag.OUTLIER_VIEWS


def test_two_views_at_a_grazing_angle_are_uncertain():
    cams = _ring(64)[:2]               # 5.6 degrees apart
    x = _pixels(cams, _pose())
    x += np.random.default_rng(0).normal(0.0, 2.0, x.shape)
    res = triangulate(cams, x, noise_px=2.0)
    assert np.mean(res.flags & JointFlag.UNCERTAIN > 0) > 0.5
    assert not np.any(res.valid & (res.flags & JointFlag.UNCERTAIN > 0))


def test_left_right_swap_is_detected_and_the_view_dropped():
    cams = _ring(6)
    X = _pose()
    rng = np.random.default_rng(1)
    x = _pixels(cams, X) + rng.normal(0.0, 1.0, (6, 17, 2))
    x[2, [13, 14]] = x[2, [14, 13]]    # view 2 swaps the knees
    res = triangulate(cams, x, human_checks=True)
    assert res.flags[13] & JointFlag.LR_SWAP and res.flags[14] & JointFlag.LR_SWAP
    assert not res.used[2, 13] and not res.used[2, 14]
    assert res.valid[[13, 14]].all()
    assert np.max(np.linalg.norm(res.points[[13, 14]] - X[[13, 14]], axis=-1)) < 0.02
    clean = triangulate(cams, _pixels(cams, X) + rng.normal(0.0, 1.0, (6, 17, 2)),
                        human_checks=True)
    assert not np.any(clean.flags & JointFlag.LR_SWAP)


def test_implausible_bone_is_flagged_not_moved():
    cams = _ring(4)
    X = _pose()
    moved = X.copy()
    moved[9] = X[7] + 0.9 * (X[9] - X[7]) / np.linalg.norm(X[9] - X[7])  # a 90 cm forearm
    res = triangulate(cams, _pixels(cams, moved), human_checks=True)
    assert not res.valid[9] and res.flags[9] & JointFlag.BONE_LENGTH
    assert res.valid[7] and res.valid[np.arange(17) != 9].all()
    plain = triangulate(cams, _pixels(cams, moved))
    assert plain.valid[9]
    with pytest.raises(ValueError, match='COCO-17'):
        triangulate(cams, _pixels(cams, X[:5]), human_checks=True)


def test_cameras_carry_their_distortion():
    cams = _ring(4, dist=(-0.25, 0.07, 0.001, -0.001, 0.0))
    X = _pose()
    x = _pixels(cams, X)
    res = triangulate(cams, x)
    assert res.valid.all() and np.max(np.linalg.norm(res.points - X, axis=-1)) < 1e-6
    with pytest.raises(TypeError, match='not a mix'):
        triangulate([cams[0], cams[1].P, cams[2], cams[3]], x)
    P = np.stack([c.P for c in cams])
    with pytest.warns(DistortionUnknownWarning, match='PinholeCamera'):
        triangulate(P, x)
    with pytest.raises(ValueError, match='need the cameras'):
        triangulate(P, x, ideal_pixels=False)
    ideal = np.stack([c.undistort_pixels(x[v]) for v, c in enumerate(cams)])
    for given in (triangulate(P, ideal, ideal_pixels=True),
                  triangulate(cams, ideal, ideal_pixels=True)):
        assert np.max(np.linalg.norm(given.points - X, axis=-1)) < 1e-6


def test_literal_dlt_is_the_confidence_weighted_textbook_solution():
    cams = _ring(4)
    P = np.stack([c.P for c in cams])
    rng = np.random.default_rng(2)
    x = _pixels(cams, _pose()) + rng.normal(0.0, 3.0, (4, 17, 2))
    w = rng.uniform(0.2, 1.0, (4, 17))
    res = triangulate(P, x, w, method='dlt', ideal_pixels=True)
    for j in range(17):
        A = np.concatenate([w[:, j, None] * (x[:, j, 0:1] * P[:, 2] - P[:, 0]),
                            w[:, j, None] * (x[:, j, 1:2] * P[:, 2] - P[:, 1])])
        Xh = np.linalg.svd(A)[2][-1]
        np.testing.assert_allclose(res.points[j], Xh[:3] / Xh[3], atol=1e-9)
    with pytest.raises(ValueError, match='method'):
        triangulate(P, x, method='ransac', ideal_pixels=True)
