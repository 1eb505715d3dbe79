# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Batched, confidence-weighted DLT triangulation that never reports a wrong point as valid.

Three methods share the DLT core (:mod:`mec_coop.geometry.dlt`; "Cooperative Inference for
Real-Time 3D Human Pose Estimation in Multi-Device Edge Networks", eqs. (1)-(2)), solving all
joints of all frames at once:

* ``'robust'`` (default): views chosen by consensus over all view pairs
  (:mod:`mec_coop.geometry.robust`), the inliers refitted by the depth-weighted DLT; a joint is
  valid with 3 or more agreeing views, or 2 views whose rays meet within the noise bound, and
  only if no other set of views agrees as well and its uncertainty is small.
* ``'greedy'``: the depth-weighted DLT on all views with leave-one-view-out rejection, worst
  first (the previous default).
* ``'dlt'``: the paper's literal method, rows weighted by confidence, no rejection.

Every result carries a per-joint covariance (first order, from the used views' geometry and the
keypoint noise estimated from the residuals) and flags (:class:`JointFlag`) saying why a joint is
invalid or what was found wrong with its views.
"""

from dataclasses import dataclass
import enum
from typing import Any, Optional, Sequence, Union
import warnings

import numpy as np
import numpy.typing as npt

from . import dlt, human_checks as human
from .camera import PinholeCamera
from .robust import CHI2_1DOF_999, consensus, GATE_SIGMAS

METHODS = ('robust', 'greedy', 'dlt')


class JointFlag(enum.IntFlag):
    """Why a joint is invalid (``INVALIDATING``) or what was noticed about its views."""

    FEW_VIEWS = 1          # fewer than ``min_views`` views have the keypoint
    NO_CONSENSUS = 2       # the views disagree beyond the noise (2 views: rays do not meet)
    AMBIGUOUS = 4          # another set of views agrees as well on a different point
    DEGENERATE = 8         # the used views do not determine the point (e.g. coincident cameras)
    BEHIND_CAMERA = 16     # the solution is behind a camera that used it
    UNCERTAIN = 32         # its standard deviation exceeds ``max_std_m``
    BONE_LENGTH = 64       # a bone to it is implausible for the person (``human_checks``)
    LR_SWAP = 128          # a view labelled it and its left/right twin swapped; view dropped
    OUTLIER_VIEWS = 256    # views that have the keypoint were rejected


class DistortionUnknownWarning(UserWarning):
    """Pixels came with projection matrices but were not declared ideal (undistorted)."""


INVALIDATING = (JointFlag.FEW_VIEWS | JointFlag.NO_CONSENSUS | JointFlag.AMBIGUOUS
                | JointFlag.DEGENERATE | JointFlag.BEHIND_CAMERA | JointFlag.UNCERTAIN
                | JointFlag.BONE_LENGTH)


@dataclass
class Triangulation:
    """Result of :func:`triangulate`; leading shape ``...`` is that of the input batch."""

    points: np.ndarray              # (..., J, 3) world coordinates; NaN where not valid
    valid: np.ndarray               # (..., J) bool
    num_views: np.ndarray           # (..., J) views used after outlier rejection
    reprojection_error: np.ndarray  # (..., J) mean pixel error over the used views; NaN if invalid
    used: np.ndarray                # (..., V, J) bool, views that contributed
    confidence: np.ndarray          # (..., J) mean weight of the used views; 0 if invalid
    covariance: np.ndarray          # (..., J, 3, 3) m^2, first order; NaN where not valid
    flags: np.ndarray               # (..., J) int, :class:`JointFlag` bits
    noise_px: np.ndarray            # (...,) keypoint noise behind bounds and covariances


Views = Union[np.ndarray, Sequence[PinholeCamera]]


def check_projections(projections: npt.ArrayLike) -> np.ndarray:
    """Validate ``(V, 3, 4)`` projection matrices; raise ``ValueError`` naming the bad view."""
    P = np.asarray(projections, dtype=np.float64)
    if P.ndim != 3 or P.shape[1:] != (3, 4):
        raise ValueError(f'projections must have shape (V, 3, 4), got {P.shape}')
    finite = np.all(np.isfinite(P), axis=(1, 2))
    if not finite.all():
        raise ValueError(f'projection matrix of view {np.argmin(finite)} has non-finite entries')
    singular = np.linalg.svd(P[:, :, :3], compute_uv=False)
    rank_ok = singular[:, 2] > 1e-9 * np.maximum(np.abs(P).max(axis=(1, 2)), 1e-300)
    if not rank_ok.all():
        raise ValueError(f'projection matrix of view {np.argmin(rank_ok)} is degenerate '
                         '(rank of M < 3)')
    return P


def to_ideal_pixels(views: Views, pixels: np.ndarray, ideal: Optional[bool] = None) -> tuple:
    """
    Projection matrices and distortion-free pixels for ``views``.

    :param views: cameras, or ``(V, 3, 4)`` projection matrices.
    :param pixels: ``(..., V, J, 2)``.
    :param ideal: whether ``pixels`` are already ideal (undistorted). With cameras, False or
        None undistorts them. With projection matrices, which know no distortion, True confirms
        that they are ideal, False raises and None warns (:class:`DistortionUnknownWarning`).
    :return: ``(P (V, 3, 4), ideal pixels (..., V, J, 2))``.
    """
    pixels = np.asarray(pixels, dtype=np.float64)
    cameras = views if isinstance(views, np.ndarray) else list(views)
    is_camera = [isinstance(cam, PinholeCamera) for cam in cameras]
    if not any(is_camera):
        if ideal is False:
            raise ValueError('measured (distorted) pixels need the cameras, not projection '
                             'matrices: pass the PinholeCamera objects')
        if ideal is None:
            warnings.warn('projection matrices map to ideal pixels and cannot undistort: pass '
                          'the PinholeCamera objects, or ideal_pixels=True once the pixels are '
                          'undistorted', DistortionUnknownWarning, stacklevel=3)
        return check_projections(np.asarray(cameras, dtype=np.float64)), pixels
    if not all(is_camera):
        raise TypeError('views must be all PinholeCamera (measured pixels) or all projection '
                        'matrices (ideal pixels), not a mix')
    P = check_projections(np.stack([cam.P for cam in cameras]))
    if pixels.ndim < 3 or pixels.shape[-3] != len(cameras):
        raise ValueError(f'points must have shape (..., V={len(cameras)}, J, 2), '
                         f'got {pixels.shape}')
    if ideal:
        return P, pixels
    ideal_px = [cam.undistort_pixels(pixels[..., v, :, :]) if cam.has_distortion
                else pixels[..., v, :, :] for v, cam in enumerate(cameras)]
    return P, np.stack(ideal_px, axis=-3)


def triangulate(views: Views, points: np.ndarray, weights: Optional[np.ndarray] = None,
                min_views: int = 2, outlier_threshold_px: Optional[float] = 30.0,
                refine: bool = True, *, method: str = 'robust',
                noise_px: Optional[float] = None, max_std_m: float = 0.05,
                human_checks: bool = False, ideal_pixels: Optional[bool] = None,
                min_noise_px: Union[float, np.ndarray] = dlt.MIN_NOISE_PX) -> Triangulation:
    """
    Triangulate all joints of one or many frames.

    :param views: ``V`` :class:`PinholeCamera`, whose distortion is removed from ``points``
        first, or ``(V, 3, 4)`` projection matrices, which map world points to *ideal*
        (undistorted) pixels and know nothing of a lens: they warn unless ``ideal_pixels`` is
        True.
    :param points: ``(..., V, J, 2)`` pixel coordinates; NaN marks a missing keypoint.
    :param weights: ``(..., V, J)`` non-negative confidences (default 1); 0 or NaN excludes a view.
    :param min_views: a joint needs at least this many agreeing views (>= 2).
    :param outlier_threshold_px: largest reprojection error of a view that agrees. ``'robust'``
        also tests each view's studentized residual against ``3.7 sigma`` of the estimated
        keypoint noise; ``'greedy'`` rejects views whose error under the solution of the
        *other* views exceeds it. ``None`` disables rejection and the check: every available
        view is used by the depth-weighted DLT (``'robust'`` and ``'greedy'`` alike).
    :param refine: re-weight rows by 1/depth after a first solve (``'greedy'`` and the
        ``outlier_threshold_px=None`` path; ``'robust'`` always refits with depth weights).
    :param method: ``'robust'`` (consensus), ``'greedy'`` (leave-one-view-out) or ``'dlt'`` (the
        paper's confidence-weighted DLT, no rejection, ``outlier_threshold_px`` unused).
    :param noise_px: keypoint noise standard deviation; None estimates it per frame from the
        residuals (frames with fewer than 3 joints seen by 2 views assume
        ``outlier_threshold_px / 3.7``).
    :param max_std_m: ``'robust'`` flags joints whose largest positional standard deviation
        exceeds this (:attr:`JointFlag.UNCERTAIN`), e.g. 2 views at a grazing angle.
    :param human_checks: the joints are COCO-17 (:mod:`mec_coop.geometry.skeleton`) of one
        person per frame: with ``'robust'``, drop left/right-swapped views and flag joints with
        implausible bone lengths.
    :param min_noise_px: ``'robust'``: the floor of the estimated noise, scalar or one per frame
        (shape ``...``), e.g. scaled by each person's size in pixels.
    :param ideal_pixels: ``points`` are ideal pixels (see :func:`to_ideal_pixels`): required with
        projection matrices, and skips the undistortion with cameras.
    :return: :class:`Triangulation`. Joints without enough agreeing views are flagged, never
        guessed.
    """
    if method not in METHODS:
        raise ValueError(f'method must be one of {METHODS}, got {method!r}')
    P, x = to_ideal_pixels(views, points, ideal_pixels)
    V = P.shape[0]
    if x.ndim < 3 or x.shape[-1] != 2 or x.shape[-3] != V:
        raise ValueError(f'points must have shape (..., V={V}, J, 2), got {x.shape}')
    w = np.ones(x.shape[:-1]) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != x.shape[:-1]:
        raise ValueError(f'weights must have shape {x.shape[:-1]}, got {w.shape}')
    if min_views < 2:
        raise ValueError(f'min_views must be >= 2, got {min_views}')
    lead, J = x.shape[:-3], x.shape[-2]
    if human_checks and not human.applies(J):
        raise ValueError(f'human_checks need the {human.NUM_JOINTS} COCO-17 joints, got {J}')

    # Internal layout: n = frames * J points (frame-major) by V views.
    x = np.moveaxis(x.reshape((-1, V, J, 2)), 1, 2).reshape(-1, V, 2)
    w = np.moveaxis(w.reshape((-1, V, J)), 1, 2).reshape(-1, V)
    ok = np.isfinite(x).all(-1) & np.isfinite(w) & (w > 0)
    w = np.where(ok, w, 0.0)
    x = np.where(ok[..., None], x, 0.0)
    fallback = (outlier_threshold_px or 30.0) / GATE_SIGMAS

    if method == 'robust' and outlier_threshold_px is not None:
        floor = np.broadcast_to(np.asarray(min_noise_px, dtype=np.float64), lead).reshape(-1)
        out = _robust(P, x, w, ok, J, outlier_threshold_px, noise_px, fallback,
                      max_std_m, human_checks, min_views, floor)
    elif method == 'dlt':
        # Literal eqs. (1)-(2): rows weighted by confidence only.
        Xh, degenerate = dlt.null_vectors(dlt.normal_matrices(P, x, w[..., None]))
        out = _finish(P, x, w, ok, dlt.dehomogenise(Xh), ok, degenerate, J, noise_px, fallback,
                      min_views)
    else:
        X, used, degenerate = _greedy(P, x, w, ok, min_views, outlier_threshold_px,
                                      refine)
        out = _finish(P, x, w, ok, X, used, degenerate, J, noise_px, fallback, min_views,
                      max_error=outlier_threshold_px)
    return _shape(out, lead, V, J)


def triangulate_cameras(cameras: Sequence[PinholeCamera], pixels: np.ndarray,
                        weights: Optional[np.ndarray] = None, **kwargs: Any) -> Triangulation:
    """:func:`triangulate` for :class:`PinholeCamera` objects and measured ``(..., V, J, 2)``."""
    return triangulate(list(cameras), pixels, weights, **kwargs)


def _robust(P, x, w, ok, J, gate_px, noise_px, fallback, max_std_m, check_human,
            min_views, floor):
    res = consensus(P, x, w, ok, J, gate_px, noise_px, fallback, floor)
    X, used, degenerate, sigma = res.points, res.used, res.degenerate, res.noise_px
    swapped = np.zeros(len(X), dtype=bool)
    fit = res.errors, res.information
    if check_human:
        F, V = len(X) // J, P.shape[0]
        per_view = human.swapped_views(P, x.reshape(F, J, V, 2), ok.reshape(F, J, V),
                                       X.reshape(F, J, 3), sigma)
        if per_view.any():
            kept, flagged = human.drop_swapped(used.reshape(F, J, V), per_view)
            used, swapped = kept.reshape(-1, V), flagged.ravel()
            X, degenerate = dlt.refit(P, x, w, used, X)
            fit = None
    out = _finish(P, x, w, ok, X, used, degenerate, J, sigma, fallback, min_views, fit=fit)
    sigma_n = np.repeat(sigma, J)
    two = out['num_views'] == 2
    err = np.where(used, out['errors'], 0.0)
    out['flags'] |= np.where(two & (np.sum(err ** 2, -1) > CHI2_1DOF_999 * sigma_n ** 2),
                             JointFlag.NO_CONSENSUS, 0)
    # Where some views disagree beyond noise, the agreeing ones must not hinge on any single
    # view: two views that meet while others object may be two outliers that happen to meet
    # (about 1 in 50 such joints with random outliers on 4-camera rings), and 3 views may owe
    # their depth to the one outlier among them when the other two are nearly collinear with
    # the joint.
    contested = res.objecting.any(-1) & (out['num_views'] >= 2)
    if contested.any():
        contested[contested] = ~_redundant(P, X[contested], used[contested],
                                           sigma_n[contested], max_std_m)
    out['flags'] |= np.where(contested, JointFlag.NO_CONSENSUS, 0)
    out['flags'] |= np.where(res.ambiguous & (out['num_views'] >= 2), JointFlag.AMBIGUOUS, 0)
    out['flags'] |= np.where(_exceeds(out['covariance'], max_std_m ** 2), JointFlag.UNCERTAIN, 0)
    out['flags'] |= np.where(swapped, JointFlag.LR_SWAP, 0)
    if check_human:
        valid = (out['flags'] & INVALIDATING) == 0
        bad = human.implausible_bones(X.reshape(-1, J, 3),
                                      out['covariance'].reshape(-1, J, 3, 3),
                                      valid.reshape(-1, J))
        out['flags'] |= np.where(bad.ravel(), JointFlag.BONE_LENGTH, 0)
    return out


def _exceeds(cov, limit):
    """
    Tell whether the largest eigenvalue of each ``(n, 3, 3)`` covariance exceeds ``limit``.

    Or it is not finite: ``limit I - cov`` is not positive definite (Sylvester's criterion).
    """
    D = limit * np.eye(3) - cov
    with np.errstate(invalid='ignore', over='ignore'):
        minor2 = D[:, 0, 0] * D[:, 1, 1] - D[:, 0, 1] * D[:, 1, 0]
        minor3 = (D[:, 0, 0] * (D[:, 1, 1] * D[:, 2, 2] - D[:, 1, 2] * D[:, 2, 1])
                  - D[:, 0, 1] * (D[:, 1, 0] * D[:, 2, 2] - D[:, 1, 2] * D[:, 2, 0])
                  + D[:, 0, 2] * (D[:, 1, 0] * D[:, 2, 1] - D[:, 1, 1] * D[:, 2, 0]))
        definite = (D[:, 0, 0] > 0) & (minor2 > 0) & (minor3 > 0)
    return ~(definite & np.isfinite(cov).all((1, 2)))


def _redundant(P, X, used, sigma, max_std_m):
    """Whether the ``used`` views still fix each point within ``max_std_m`` without any one."""
    info = dlt.view_information(P, X, used)
    without = info.sum(1)[:, None] - info
    weakest = np.linalg.eigvalsh(without)[..., 0]
    return np.all(~used | (weakest * max_std_m ** 2 >= sigma[:, None] ** 2), axis=-1)


def _finish(P, x, w, ok, X, used, degenerate, J, noise_px, fallback, min_views, max_error=None,
            fit=None):
    """
    Errors, noise, covariance and the flags every method shares, in the internal layout.

    ``fit``: :func:`dlt.errors_and_information` of ``X`` and ``used`` where already known.
    """
    err, info = dlt.errors_and_information(P, X, x, ok, used) if fit is None else fit
    if noise_px is None:
        sigma = dlt.estimate_noise(err, used, J, fallback)
    else:
        sigma = np.broadcast_to(np.asarray(noise_px, dtype=np.float64), (len(X) // J,))
    num_views = used.sum(-1)
    flags = np.zeros(len(X), dtype=np.int64)
    flags |= np.where(ok.sum(-1) < min_views, JointFlag.FEW_VIEWS, 0)
    flags |= np.where((num_views < min_views) & (ok.sum(-1) >= min_views),
                      JointFlag.NO_CONSENSUS, 0)
    flags |= np.where(degenerate | ~np.isfinite(X).all(-1), JointFlag.DEGENERATE, 0)
    flags |= np.where((ok & ~used).any(-1), JointFlag.OUTLIER_VIEWS, 0)
    used_err = np.where(used, err, np.nan)
    with np.errstate(invalid='ignore'):
        depth = dlt.depths(P, dlt.finite(X))
        flags |= np.where((used & (depth <= 0)).any(-1), JointFlag.BEHIND_CAMERA, 0)
        max_err = np.max(np.where(used, err, 0.0), -1)
    if max_error is not None:
        flags |= np.where(max_err > max_error, JointFlag.NO_CONSENSUS, 0)
    flags |= np.where(np.isfinite(max_err), 0, JointFlag.NO_CONSENSUS)
    return {'points': X, 'used': used, 'num_views': num_views, 'errors': err, 'flags': flags,
            'covariance': dlt.covariances(info, np.repeat(sigma, J)),
            'mean_error': np.nanmean(np.where(num_views[:, None] > 0, used_err, 0.0), -1),
            'confidence': np.where(used, w, 0.0).sum(-1) / np.maximum(num_views, 1),
            'noise_px': sigma}


def _shape(out, lead, V, J):
    valid = (out['flags'] & INVALIDATING) == 0
    cov = np.where(valid[:, None, None], out['covariance'], np.nan)
    return Triangulation(
        points=np.where(valid[:, None], out['points'], np.nan).reshape(lead + (J, 3)),
        valid=valid.reshape(lead + (J,)),
        num_views=out['num_views'].reshape(lead + (J,)),
        reprojection_error=np.where(valid, out['mean_error'], np.nan).reshape(lead + (J,)),
        used=np.swapaxes(out['used'].reshape((-1, J, V)), 1, 2).reshape(lead + (V, J)),
        confidence=np.where(valid, out['confidence'], 0.0).reshape(lead + (J,)),
        covariance=cov.reshape(lead + (J, 3, 3)),
        flags=out['flags'].reshape(lead + (J,)),
        noise_px=np.asarray(out['noise_px']).reshape(lead))


def _greedy(P, x, w, ok, min_views, threshold, refine):
    """Depth-weighted DLT with leave-one-view-out rejection, worst view first."""
    V = P.shape[0]
    # The leave-one-out rounds re-solve every point with many view subsets: blocks pay off.
    blocks = dlt.normal_blocks(dlt.design_rows(P, x))
    X, degenerate = dlt.unit_row_solve(P, x, w)
    # Without refinement, views are weighted by their rows' mean norm in the re-solves.
    scale = w / (np.sqrt(np.trace(blocks, axis1=-2, axis2=-1) / 2.0) + 1e-300)
    if refine:
        # The re-solves keep the depths of the first solve, as the refined solve does.
        with np.errstate(invalid='ignore'):
            d = np.abs(dlt.depths(P, dlt.finite(X)))
        scale = w / np.where(np.isfinite(d) & (d > 1e-9) & np.isfinite(X).all(-1, keepdims=True),
                             d, 1.0)
        X, degenerate = dlt.refit(P, x, w, ok, X)
    used = ok.copy()
    # Points behind a camera keep their pixel error here, as they always did in this method.
    err = dlt.errors(P, X, x, used, in_front=False)
    if threshold is None:
        return X, used, degenerate
    for _ in range(V - min_views):
        # In-sample residuals understate an outlier (the fit leans towards it), so they only
        # select suspects; the decision uses the residual predicted by the other views.
        suspect = np.max(np.where(used, err, 0.0), -1) > 0.5 * threshold
        suspect &= used.sum(-1) > min_views
        if not np.any(suspect):
            break
        worst, predicted, X_loo, deg_loo = _leave_one_out(P, x, blocks, scale, used, suspect)
        drop = suspect & (predicted > threshold)
        if not np.any(drop):
            break
        used = used & ~(drop[:, None] & (np.arange(V) == worst[:, None]))
        X = np.where(drop[:, None], X_loo, X)
        degenerate = np.where(drop, deg_loo, degenerate)
        err = dlt.errors(P, X, x, used, in_front=False)
    return X, used, degenerate


def _leave_one_out(P, x, blocks, scale, used, points):
    """
    For each point in ``points``, the view least consistent with the others.

    Returns ``(view, predicted_error, X_without_view, degenerate_without_view)``, where
    ``predicted_error`` is the view's reprojection error under the solution of the other views.
    """
    n, V = used.shape
    worst = np.zeros(n, dtype=int)
    predicted = np.full(n, -np.inf)
    worst_X = np.full((n, 3), np.nan)
    worst_deg = np.ones(n, dtype=bool)
    for v in range(V):
        trial = points & used[:, v]
        if not np.any(trial):
            continue
        others = used & trial[:, None]
        others[:, v] = False
        Xh, deg_v = dlt.solve(blocks, np.where(others, scale, 0.0) ** 2)
        Xv = dlt.dehomogenise(Xh)
        err_v = dlt.errors(P, Xv, x, np.zeros_like(used) | (np.arange(V) == v),
                           in_front=False)[:, v]
        err_v = np.where(deg_v | ~trial, -np.inf, err_v)
        worse = trial & (err_v > predicted)
        worst = np.where(worse, v, worst)
        predicted = np.where(worse, err_v, predicted)
        worst_X = np.where(worse[:, None], Xv, worst_X)
        worst_deg = np.where(worse, deg_v, worst_deg)
    return worst, predicted, worst_X, worst_deg


def crlb_covariance(projections: np.ndarray, point: np.ndarray, sigma_px: float) -> np.ndarray:
    """
    Cramér-Rao lower bound ``(3, 3)`` on the covariance of a triangulated point.

    For i.i.d. Gaussian pixel noise of standard deviation ``sigma_px`` in each view, the Fisher
    information is ``sum_v J_v^T J_v / sigma^2`` with ``J_v`` the 2x3 Jacobian of the projection.
    """
    P = check_projections(projections)
    X = np.asarray(point, dtype=np.float64)[None]
    info = dlt.view_information(P, X, np.ones((1, P.shape[0]), dtype=bool)).sum(1)
    return dlt.covariances(info, np.array([float(sigma_px)]))[0]


def expected_error_norm(covariance: np.ndarray, samples: int = 200_000, seed: int = 0) -> float:
    """``E||e||`` for ``e ~ N(0, covariance)``: the MPJPE an efficient estimator would reach."""
    evals = np.clip(np.linalg.eigvalsh(covariance), 0.0, None)
    z = np.random.default_rng(seed).standard_normal((samples, evals.size))
    return float(np.mean(np.sqrt((z ** 2) @ evals)))
