# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Batched, confidence-weighted DLT triangulation with outlier-view rejection.

Paper A eqs. (1)-(2): each view of a joint adds the rows ``x p3 - p1`` and ``y p3 - p2`` of a 3x4
projection matrix to ``A``, and the joint is the right null vector of ``A``. Here all joints of all
frames are solved at once through the 4x4 normal matrices ``A^T A`` (one small symmetric
eigenproblem per joint), which is what makes leave-one-view-out cheap: removing a view subtracts
its 4x4 contribution.

Rows are scaled by ``confidence / depth`` (depth from a first unweighted solve), so the algebraic
residual of each row is the pixel error times the confidence: the linear solution then approximates
the confidence-weighted reprojection-error minimiser instead of favouring far cameras.
"""

from dataclasses import dataclass

import numpy as np

# A 4x4 normal matrix whose two smallest eigenvalues are this close (relative to the largest) has
# no unique null vector: the views are (nearly) collinear with the joint, e.g. coincident cameras.
_DEGENERATE_RATIO = 1e-12


@dataclass
class Triangulation:
    """Result of :func:`triangulate`; leading shape ``...`` is that of the input batch."""

    points: np.ndarray              # (..., J, 3) world coordinates; NaN where not valid
    valid: np.ndarray               # (..., J) bool
    num_views: np.ndarray           # (..., J) views used after outlier rejection
    reprojection_error: np.ndarray  # (..., J) mean pixel error over the used views; NaN if invalid
    used: np.ndarray                # (..., V, J) bool, views that contributed
    confidence: np.ndarray          # (..., J) mean weight of the used views; 0 if invalid


def check_projections(projections):
    """Validate ``(V, 3, 4)`` projection matrices; raise ``ValueError`` naming the bad view."""
    P = np.asarray(projections, dtype=np.float64)
    if P.ndim != 3 or P.shape[1:] != (3, 4):
        raise ValueError(f'projections must have shape (V, 3, 4), got {P.shape}')
    for v, Pv in enumerate(P):
        if not np.all(np.isfinite(Pv)):
            raise ValueError(f'projection matrix of view {v} has non-finite entries')
        if np.linalg.matrix_rank(Pv[:, :3], tol=1e-9 * max(np.abs(Pv).max(), 1e-300)) < 3:
            raise ValueError(f'projection matrix of view {v} is degenerate (rank of M < 3)')
    return P


def triangulate(projections, points, weights=None, min_views=2, outlier_threshold_px=30.0,
                refine=True):
    """
    Triangulate all joints of one or many frames.

    :param projections: ``(V, 3, 4)`` projection matrices mapping world points to *undistorted*
        pixels (use :meth:`PinholeCamera.undistort_pixels` first for lenses with distortion).
    :param points: ``(..., V, J, 2)`` pixel coordinates; NaN marks a missing keypoint.
    :param weights: ``(..., V, J)`` non-negative confidences (default 1); 0 or NaN excludes a view.
    :param min_views: a joint needs at least this many agreeing views (>= 2).
    :param outlier_threshold_px: a view whose reprojection error under the solution of the *other*
        views exceeds this is rejected (leave-one-view-out, worst first) while more than
        ``min_views`` remain; a joint whose remaining views still disagree by more than this is
        flagged invalid. ``None`` disables rejection and the check.
    :param refine: re-weight rows by 1/depth after a first solve (see the module docstring).
    :return: :class:`Triangulation`. Joints without enough agreeing views are flagged, never
        guessed.
    """
    P = check_projections(projections)
    V = P.shape[0]
    x = np.asarray(points, dtype=np.float64)
    if x.ndim < 3 or x.shape[-1] != 2 or x.shape[-3] != V:
        raise ValueError(f'points must have shape (..., V={V}, J, 2), got {x.shape}')
    w = np.ones(x.shape[:-1]) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != x.shape[:-1]:
        raise ValueError(f'weights must have shape {x.shape[:-1]}, got {w.shape}')
    if min_views < 2:
        raise ValueError(f'min_views must be >= 2, got {min_views}')

    ok = np.all(np.isfinite(x), axis=-1) & np.isfinite(w) & (w > 0)
    w = np.where(ok, w, 0.0)
    x = np.where(ok[..., None], x, 0.0)

    # rows[..., v, j, r, :] = x_r * p3 - p_r for r in (x, y)
    rows = x[..., None] * P[:, None, None, 2, :] - P[:, None, :2, :]
    contrib = np.einsum('...ri,...rj->...rij', rows, rows)  # (..., V, J, 2, 4, 4)

    # First solve with unit-norm rows (well conditioned), then rows / depth (pixel residuals).
    scale = w[..., None] / (np.linalg.norm(rows, axis=-1) + 1e-300)
    Xh, degenerate = _solve(contrib, scale ** 2)
    if refine:
        with np.errstate(divide='ignore', invalid='ignore'):
            depth = np.abs(np.einsum('vi,...ji->...vj', P[:, 2, :], Xh / Xh[..., 3:4]))
        depth = np.where(np.isfinite(depth) & (depth > 1e-9), depth, 1.0)
        scale = (w / depth)[..., None] * np.ones(2)
        Xh, degenerate = _solve(contrib, scale ** 2)

    used = ok.copy()
    X = _dehomogenise(Xh)
    err = _reprojection_errors(P, X, x, used)
    if outlier_threshold_px is not None:
        for _ in range(V - min_views):
            # In-sample residuals understate an outlier (the fit leans towards it), so they only
            # select suspects; the decision uses the residual predicted by the other views.
            suspect = np.max(np.where(used, err, 0.0), axis=-2) > 0.5 * outlier_threshold_px
            suspect &= used.sum(axis=-2) > min_views
            if not np.any(suspect):
                break
            worst, predicted, Xh_loo, deg_loo = _leave_one_out(P, x, contrib, scale, used, suspect)
            drop = suspect & (predicted > outlier_threshold_px)
            if not np.any(drop):
                break
            used = used & ~(drop[..., None, :] & (np.arange(V)[:, None] == worst[..., None, :]))
            Xh = np.where(drop[..., None], Xh_loo, Xh)
            degenerate = np.where(drop, deg_loo, degenerate)
            X = _dehomogenise(Xh)
            err = _reprojection_errors(P, X, x, used)

    num_views = used.sum(axis=-2)
    err_used = np.where(used, err, np.nan)
    with np.errstate(invalid='ignore'):
        mean_err = np.nanmean(np.where(num_views[..., None, :] > 0, err_used, 0.0), axis=-2)
        max_err = np.nanmax(np.where(num_views[..., None, :] > 0, err_used, 0.0), axis=-2)
    valid = (num_views >= min_views) & ~degenerate & np.all(np.isfinite(X), axis=-1)
    valid &= np.isfinite(max_err)
    if outlier_threshold_px is not None:
        valid &= max_err <= outlier_threshold_px
    # A point behind any camera that used it is a wrong solution of the homogeneous system.
    depth = np.einsum('vi,...ji->...vj', P[:, 2, :3], np.nan_to_num(X)) + P[:, 2, 3][:, None]
    valid &= ~np.any(used & (depth <= 0), axis=-2)

    wsum = np.where(used, w, 0.0).sum(axis=-2)
    return Triangulation(
        points=np.where(valid[..., None], X, np.nan),
        valid=valid,
        num_views=num_views,
        reprojection_error=np.where(valid, mean_err, np.nan),
        used=used,
        confidence=np.where(valid, wsum / np.maximum(num_views, 1), 0.0),
    )


def _solve(contrib, row_weights):
    """Null vectors of the weighted normal matrices; returns ``(Xh (..., J, 4), degenerate)``."""
    M = np.einsum('...vjr,...vjrab->...jab', row_weights, contrib)
    evals, evecs = np.linalg.eigh(M)
    degenerate = evals[..., 1] <= _DEGENERATE_RATIO * np.maximum(evals[..., 3], 1e-300)
    return evecs[..., :, 0], degenerate


def _dehomogenise(Xh):
    with np.errstate(divide='ignore', invalid='ignore'):
        X = Xh[..., :3] / Xh[..., 3:4]
    return np.where(np.abs(Xh[..., 3:4]) > 1e-12, X, np.nan)


def _reprojection_errors(P, X, x, used):
    """Pixel distances ``(..., V, J)`` from ``x`` to the projections of ``X``; inf if unused."""
    Xh = np.concatenate([X, np.ones(X.shape[:-1] + (1,))], axis=-1)
    proj = np.einsum('vri,...ji->...vjr', P, Xh)
    with np.errstate(divide='ignore', invalid='ignore'):
        uv = proj[..., :2] / proj[..., 2:3]
        err = np.linalg.norm(uv - x, axis=-1)
    return np.where(used & np.isfinite(err), err, np.inf)


def _leave_one_out(P, x, contrib, scale, used, joints):
    """
    For each joint in ``joints``, the view least consistent with the others.

    Returns ``(view, predicted_error, Xh_without_view, degenerate_without_view)``, where
    ``predicted_error`` is the view's reprojection error under the solution of the other views.
    """
    V = P.shape[0]
    worst = np.zeros(joints.shape, dtype=int)
    predicted = np.full(joints.shape, -np.inf)
    worst_Xh = np.zeros(joints.shape + (4,))
    worst_deg = np.ones(joints.shape, dtype=bool)
    for v in range(V):
        trial = joints & used[..., v, :]
        if not np.any(trial):
            continue
        others = used & trial[..., None, :]
        others[..., v, :] = False
        Xv, deg_v = _solve(contrib, np.where(others[..., None], scale, 0.0) ** 2)
        alone = np.zeros_like(used)
        alone[..., v, :] = trial
        err_v = _reprojection_errors(P, _dehomogenise(Xv), x, alone)[..., v, :]
        err_v = np.where(deg_v, -np.inf, err_v)
        worse = trial & (err_v > predicted)
        worst = np.where(worse, v, worst)
        predicted = np.where(worse, err_v, predicted)
        worst_Xh = np.where(worse[..., None], Xv, worst_Xh)
        worst_deg = np.where(worse, deg_v, worst_deg)
    return worst, predicted, worst_Xh, worst_deg


def triangulate_cameras(cameras, pixels, weights=None, **kwargs):
    """:func:`triangulate` for :class:`PinholeCamera` objects and distorted ``(..., V, J, 2)``."""
    pixels = np.asarray(pixels, dtype=np.float64)
    ideal = np.stack([cam.undistort_pixels(pixels[..., v, :, :]) for v, cam in enumerate(cameras)],
                     axis=-3)
    return triangulate(np.stack([cam.P for cam in cameras]), ideal, weights, **kwargs)


def crlb_covariance(projections, point, sigma_px):
    """
    Cramér-Rao lower bound ``(3, 3)`` on the covariance of a triangulated point.

    For i.i.d. Gaussian pixel noise of standard deviation ``sigma_px`` in each view, the Fisher
    information is ``sum_v J_v^T J_v / sigma^2`` with ``J_v`` the 2x3 Jacobian of the projection.
    """
    P = check_projections(projections)
    Xh = np.append(np.asarray(point, dtype=np.float64), 1.0)
    proj = P @ Xh
    uv = proj[:, :2] / proj[:, 2:3]
    jac = (P[:, :2, :3] - uv[:, :, None] * P[:, 2:3, :3]) / proj[:, 2, None, None]
    fisher = np.einsum('vri,vrj->ij', jac, jac) / sigma_px ** 2
    return np.linalg.inv(fisher)


def expected_error_norm(covariance, samples=200_000, seed=0):
    """``E||e||`` for ``e ~ N(0, covariance)``: the MPJPE an efficient estimator would reach."""
    evals = np.clip(np.linalg.eigvalsh(covariance), 0.0, None)
    z = np.random.default_rng(seed).standard_normal((samples, evals.size))
    return float(np.mean(np.sqrt((z ** 2) @ evals)))
