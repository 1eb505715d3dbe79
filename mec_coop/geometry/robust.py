# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Consensus view selection for triangulation: views are chosen by agreement, not greedy removal.

Greedy leave-one-view-out fails when the fit leans towards a bad view so far that a good view
looks worst, and when outliers outnumber the good views of a joint. Here a joint whose views all
agree with the fit of all of them (studentized residuals, below) keeps them; for any other, every
pair of its views proposes a point (the midpoint of the closest approach of the two rays) and
each hypothesis is scored by its truncated squared reprojection error over all views of the
joint (MSAC: Torr and Zisserman, "MLESAC: A new robust estimator with application to estimating
image geometry", CVIU 2000), which favours the hypothesis most views agree with, and among those
the tightest. Counting instead would let a compromise point that splits a 50 px error among all
views beat the right one. Enumerating all pairs (a fixed sample of ``MAX_PAIRS`` beyond 16 views)
makes the search exhaustive where RANSAC would draw: with few views that is cheaper than sampling
and never misses the consensus. The gates of both steps come from a first noise estimate, the
lower quartile of the pairs' Sampson (first-order two-view) errors.

The chosen views are refitted by the depth-weighted DLT. Then, up to twice (local optimisation,
as in LO-RANSAC: Chum, Matas and Kittler, "Locally optimized RANSAC", DAGM 2003), the frame's
keypoint noise ``sigma`` is estimated from the residuals of the inliers, every available view is
tested by its studentized residual against ``GATE_SIGMAS sigma`` (and the caller's pixel
threshold), and the joints whose views changed are refitted and re-tested. Studentizing matters:
a 50 px outlier among 4 views pulls the fit so far that its plain residual is within a noise
gate.

A joint left with 2 views is ambiguous when another pair of its views also meets within the
noise bound: two explanations, one view apart, neither of which can be trusted.
"""

from dataclasses import dataclass
import functools
from typing import Optional, Union

import numpy as np

from .dlt import (dot, estimate_noise, MIN_NOISE_PX, refit, squared_errors, studentized,
                  unit_row_solve)

# Chi-square quantile 0.999 for 2 degrees of freedom: the studentized residual of one view.
CHI2_2DOF_999 = 13.82
# Chi-square quantile 1 - 1e-6 for 2 degrees of freedom: beyond it a view is no noise tail.
CHI2_2DOF_1E6 = 27.63
# The inlier gate in noise standard deviations, for a residual of one view.
GATE_SIGMAS = float(np.sqrt(CHI2_2DOF_999))
# Most refits on re-tested views: each step tests with a noise estimate freed of the last
# outliers, until the views stop changing.
_LOCAL_STEPS = 2
# Pair hypotheses carry their own triangulation error: the best one of a joint reprojects within
# about 4.5 sigma into all views (simulated rings of 4-16 cameras), so scoring gates wider.
SCORE_GATE_SIGMAS = 6.0
# Chi-square quantile 0.999 for 1 degree of freedom: the epipolar residual of a view pair.
CHI2_1DOF_999 = 10.83
# Lower quartile of the chi-square distribution with 1 degree of freedom.
_CHI2_1DOF_Q25 = 0.1015
# Hypotheses per joint: all pairs of up to 16 views.
MAX_PAIRS = 120
# Pairs per joint behind the first noise estimate.
_PILOT_PAIRS = 28
# Elements of the (points, hypotheses, views) score arrays processed at once.
_CHUNK = 1 << 21


@dataclass
class Consensus:
    """Outcome of :func:`consensus` for ``n`` points (frame-major) and ``V`` views."""

    points: np.ndarray      # (n, 3); NaN where nothing was solved
    degenerate: np.ndarray  # (n,) the used views do not determine the point
    used: np.ndarray        # (n, V) inlier views
    noise_px: np.ndarray    # (F,) keypoint noise estimate
    ambiguous: np.ndarray   # (n,) 2 agreeing views, and another pair of views meets too
    objecting: np.ndarray   # (n, V) views that disagree beyond any noise (or the pixel threshold)
    errors: np.ndarray      # (n, V) pixel errors under ``points`` (dlt.errors_and_information)
    information: np.ndarray  # (n, 3, 3) of the used views at ``points``


@functools.lru_cache(maxsize=64)
def view_pairs(num_views: int, max_pairs: int = MAX_PAIRS) -> np.ndarray:
    """Index pairs ``(H, 2)`` of the views that propose hypotheses; a fixed sample beyond 16."""
    pairs = np.stack(np.triu_indices(num_views, 1), axis=1)
    if len(pairs) > max_pairs:
        keep = np.random.default_rng(0).choice(len(pairs), max_pairs, replace=False)
        pairs = pairs[np.sort(keep)]
    pairs.setflags(write=False)  # shared by every call through the cache
    return pairs


def consensus(P: np.ndarray, x: np.ndarray, w: np.ndarray, ok: np.ndarray, joints: int,
              gate_px: float, noise_px: Optional[float], fallback_noise_px: float,
              min_noise_px: Union[float, np.ndarray] = MIN_NOISE_PX) -> Consensus:
    """
    Consensus triangulation of ``n = F * joints`` points.

    :param P: ``(V, 3, 4)`` projection matrices.
    :param x: ``(n, V, 2)`` ideal pixels, finite where ``ok``.
    :param w: ``(n, V)`` confidences, 0 where not ``ok``.
    :param ok: ``(n, V)`` available keypoints.
    :param joints: points per frame; the noise is estimated per frame.
    :param gate_px: largest reprojection error of an inlier; also the gate of the first scoring.
    :param noise_px: keypoint noise sigma, or None to estimate it per frame.
    :param fallback_noise_px: sigma of frames without enough views to estimate it.
    :param min_noise_px: the estimate's floor, scalar or one per frame ``(F,)``.
    """
    n, V = ok.shape
    pairs = view_pairs(V)
    frames = n // joints
    step = max(1, _CHUNK // max(joints * len(pairs) * V, 1))
    floor = np.broadcast_to(np.asarray(min_noise_px, dtype=np.float64), (frames,))
    parts = [_chunk(P, x[s:s + step * joints], w[s:s + step * joints], ok[s:s + step * joints],
                    joints, pairs, gate_px, noise_px, fallback_noise_px,
                    floor[s // joints:s // joints + step])
             for s in range(0, frames * joints, step * joints)]
    return Consensus(*(np.concatenate(field) for field in zip(*parts)))


def _pair_rays(P, x, ok, pairs):
    """
    Return unit rays ``(n, V, 3)`` and where each pair's rays meet: ``s, t, good`` ``(n, H)``.

    The closest approach of rays ``c_a + s d_a`` and ``c_b + t d_b``. In single precision, as
    all hypothesis arithmetic: millimetres at room scale.
    """
    inverse, centres = _inverse_and_centres(P.tobytes(), P.shape[0])[:2]
    rays = inverse[:, :, 0] * x[..., 0:1] + inverse[:, :, 1] * x[..., 1:2] + inverse[:, :, 2]
    rays = (rays / np.sqrt(dot(rays, rays))[..., None]).astype(np.float32)
    a, b = pairs[:, 0], pairs[:, 1]
    # Dot products of all rays with each other and with all centres, gathered per pair.
    gram = rays @ np.swapaxes(rays, 1, 2)
    along = rays @ centres.T
    c = gram[:, a, b]
    d = along[:, a, b] - along[:, a, a]
    e = along[:, b, b] - along[:, b, a]
    denom = 1.0 - c * c
    # Rays within ~1 mrad of parallel do not meet at a point: no hypothesis.
    good = ok[:, a] & ok[:, b] & (denom > 1e-6)
    with np.errstate(divide='ignore', invalid='ignore'):
        s = (d - c * e) / denom
        t = (c * d - e) / denom
    good &= (s > 0) & (t > 0)
    return rays, s, t, good


def _pair_points(P, x, ok, pairs):
    """Midpoints ``(n, H, 3)`` of the closest approach of each pair's rays, and their use."""
    rays, s, t, good = _pair_rays(P, x, ok, pairs)
    centres = _inverse_and_centres(P.tobytes(), P.shape[0])[1]
    a, b = pairs[:, 0], pairs[:, 1]
    X = 0.5 * (centres[a] + s[..., None] * rays[:, a] + centres[b] + t[..., None] * rays[:, b])
    return np.where(good[..., None], X, np.nan), good


@functools.lru_cache(maxsize=16)
def _inverse_and_centres(P_bytes, num_views):
    """
    Return what the hypotheses need of a rig.

    ``M^-1`` ``(V, 3, 3)``, optical centres ``(V, 3)``, ``M`` stacked ``(3, 3 V)``, baselines
    ``M_u (c_v - c_u)`` ``(V, V, 3)`` (single precision, but the first) and fundamental
    matrices ``F[a, b]`` ``(V, V, 3, 3)``, ``x_b^T F[a, b] x_a = 0``.
    """
    P = np.frombuffer(P_bytes).reshape(num_views, 3, 4)
    M = P[:, :, :3]
    inverse, centres = np.linalg.inv(M), np.linalg.solve(M, -P[:, :, 3:])[..., 0]
    stacked = M.reshape(3 * num_views, 3).T
    baselines = np.einsum('uij,uvj->uvi', M, centres[None] - centres[:, None])
    # F[a, b] = [e_b]_x M_b M_a^-1, e_b = M_b (c_a - c_b) the epipole of camera a in view b.
    cross = np.cross(np.swapaxes(baselines, 0, 1)[:, :, None, :], -np.eye(3))
    F = np.swapaxes(cross, -1, -2) @ np.einsum('bij,ajk->abik', M, inverse)
    out = (inverse, centres.astype(np.float32), stacked.astype(np.float32),
           baselines.astype(np.float32), F)
    for array in out:
        array.setflags(write=False)  # shared by every call through the cache
    return out


def _epipolar_errors(P, x, ok, pairs):
    """
    Sampson errors ``(n, H)`` of each pair of views; infinite where a keypoint is missing.

    The first-order distance of the pair's keypoints from satisfying the epipolar constraint:
    the sum of squared pixel residuals of the pair's best point (Hartley and Zisserman,
    "Multiple View Geometry", 2nd ed., eq. (11.9)), ``sigma^2 chi2(1)`` for good keypoints,
    and a few products per pair where forming the point costs a projection into each view.
    """
    F = _inverse_and_centres(P.tobytes(), P.shape[0])[4][pairs[:, 0], pairs[:, 1]]
    ua, va, ub, vb = (x[:, pairs[:, i], k] for i in (0, 1) for k in (0, 1))
    line = [F[:, i, 0] * ua + F[:, i, 1] * va + F[:, i, 2] for i in range(3)]
    back = [F[:, 0, i] * ub + F[:, 1, i] * vb + F[:, 2, i] for i in range(2)]
    algebraic = ub * line[0] + vb * line[1] + line[2]
    with np.errstate(divide='ignore', invalid='ignore'):
        err = algebraic ** 2 / (line[0] ** 2 + line[1] ** 2 + back[0] ** 2 + back[1] ** 2)
    return np.where(ok[:, pairs[:, 0]] & ok[:, pairs[:, 1]] & np.isfinite(err), err, np.inf)


def _own_residuals(P, x, ok, pairs):
    """
    Squared residuals ``(n, H)`` of each pair's midpoint in the pair's own two views.

    Infinite where the pair has no midpoint. View ``u`` of pair ``(u, v)`` sees the midpoint
    ``(c_u + s d_u + c_v + t d_v) / 2`` along ``M_u (c_v - c_u) + s M_u d_u + t M_u d_v``: the
    rays' images in all views come from one product, no point is formed.
    """
    rays, s, t, good = _pair_rays(P, x, ok, pairs)
    n, V = ok.shape
    stacked, baselines = _inverse_and_centres(P.tobytes(), V)[2:4]
    # images[:, v, u] = M_u d_v
    images = (rays.reshape(n * V, 3) @ stacked).reshape(n, V, V, 3)
    a, b = pairs[:, 0], pairs[:, 1]
    total = np.zeros(s.shape, dtype=np.float32)
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        for u, v, su, tv in ((a, b, s, t), (b, a, t, s)):
            proj = (baselines[u, v] + su[..., None] * images[:, u, u]
                    + tv[..., None] * images[:, v, u])
            res = proj[..., :2] / proj[..., 2:3] - x[:, u].astype(np.float32)
            total += dot(res, res)
    return np.where(good, total, np.inf)


def _chunk(P, x, w, ok, joints, pairs, gate_px, noise_px, fallback_noise_px, floor):
    n, V = ok.shape
    if noise_px is None:
        # A fixed subset of at most _PILOT_PAIRS pairs gives hundreds of samples per frame.
        sample = pairs[np.unique(np.linspace(0, len(pairs) - 1, _PILOT_PAIRS).astype(int))]
        pilot = _pilot_noise(_epipolar_errors(P, x, ok, sample), joints, fallback_noise_px,
                             floor)
    else:
        pilot = np.full(n // joints, float(noise_px))
    pilot_var = np.repeat(pilot, joints)[:, None] ** 2

    # Joints whose views all agree with the fit of all of them need no search; their outliers,
    # if any, are too small to show and the local refits below test them again.
    X, degenerate = unit_row_solve(P, x, w)
    X, degenerate = refit(P, x, w, ok, X)
    fit = studentized(P, X, x, ok, ok)
    s2, r2 = fit[:2]
    agree = (s2 <= CHI2_2DOF_999 * pilot_var) & (r2 <= gate_px ** 2)
    used = ok.copy()
    search = np.flatnonzero(~(agree | ~ok).all(-1) | (ok.sum(-1) < 3))
    if search.size:
        hyp, good = _pair_points(P, x[search], ok[search], pairs)
        e2 = squared_errors(P, hyp, x[search], ok[search])
        score_gate = np.minimum(SCORE_GATE_SIGMAS * np.sqrt(pilot_var[search]), gate_px) ** 2
        cost = np.sum(np.minimum(e2, score_gate[:, :, None]) * ok[search, None, :], -1)
        best = np.argmin(np.where(good, cost, np.inf), axis=1)
        rows = np.arange(search.size)
        used[search] = (e2[rows, best] <= score_gate) & good[rows, best, None]
        X, degenerate, fit = _update(P, x, w, ok, used, X, degenerate, fit, search,
                                     hyp[rows, best].astype(np.float64))
        s2, r2 = fit[:2]
    for _ in range(_LOCAL_STEPS):
        if noise_px is None:
            sigma = estimate_noise(np.sqrt(r2), used, joints, fallback_noise_px, floor)
        else:
            sigma = np.full(n // joints, float(noise_px))
        var = np.repeat(sigma, joints)[:, None] ** 2
        passed = ok & (s2 <= CHI2_2DOF_999 * var) & (r2 <= gate_px ** 2)
        changed = np.flatnonzero((passed != used).any(-1))
        if not changed.size:
            break
        used = passed
        X, degenerate, fit = _update(P, x, w, ok, used, X, degenerate, fit, changed,
                                     X[changed])
        s2, r2 = fit[:2]
    objecting = ok & ((s2 > CHI2_2DOF_1E6 * var) | (r2 > gate_px ** 2))
    ambiguous = used.sum(-1) == 2
    two = np.flatnonzero(ambiguous)
    if two.size:
        meet = _own_residuals(P, x[two], ok[two], pairs) <= CHI2_1DOF_999 * var[two]
        ambiguous[two] = (meet & ~(used[two][:, pairs[:, 0]] & used[two][:, pairs[:, 1]])).any(-1)
    return X, degenerate, used, sigma, ambiguous, objecting, fit[2], fit[3]


def _update(P, x, w, ok, used, X, degenerate, fit, rows, start):
    """Refit ``rows`` on their ``used`` views from ``start`` and re-test their views."""
    X, degenerate, fit = X.copy(), degenerate.copy(), [a.copy() for a in fit]
    X[rows], degenerate[rows] = refit(P, x[rows], w[rows], used[rows], start)
    for whole, part in zip(fit, studentized(P, X[rows], x[rows], ok[rows], used[rows])):
        whole[rows] = part
    return X, degenerate, fit


def _pilot_noise(own, joints, fallback, floor):
    """
    Per-frame noise ``(F,)`` from the pairs' Sampson errors ``(n, H)``, before any view is trusted.

    A pair's best point leaves squared residuals in its two views that sum to about ``sigma^2``
    times a chi-square variable with 1 degree of freedom (the Sampson error is its first-order
    value). Pairs with an outlier only add large values, so the lower quartile over all pairs
    of the frame, divided by the chi-square lower quartile, estimates ``sigma`` while fewer than
    three quarters of the pairs are bad.
    """
    own = np.sort(own.reshape(-1, own.size // max(len(own) // joints, 1)), axis=-1)
    count = np.isfinite(own).sum(-1)
    q = np.take_along_axis(own, (count // 4)[:, None].clip(max=own.shape[1] - 1), -1)[:, 0]
    sigma = np.where(count >= 3, np.sqrt(q / _CHI2_1DOF_Q25), fallback)
    return np.maximum(sigma, floor)
