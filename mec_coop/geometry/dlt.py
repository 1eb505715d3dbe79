# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Vectorised building blocks of DLT triangulation, shared by all triangulation methods.

Layout: ``n`` points (joints of all frames, frame-major) by ``V`` views. Pixels ``x`` are
``(n, V, 2)`` ideal (undistorted) pixels, masks and weights ``(n, V)``. Each view of a point adds
the rows ``u p3 - p1`` and ``v p3 - p2`` of its 3x4 projection matrix (paper "Cooperative edge
inference for multi-camera 3D human pose", eqs. (1)-(2)); a point is the right null vector of the
stacked rows, found through the 4x4 normal matrix ``sum_v s_v^2 B_v`` with ``B_v`` the view's
block ``A_v^T A_v``. Precomputed blocks make re-solving with many view subsets a weighted sum
(greedy rejection); a solve or two per point forms the normal matrix from per-point
coefficients and per-view constants instead (:func:`normal_matrices`). Its null vector comes
from closed-form 3x3 solves (:func:`null_vectors`), LAPACK only where those are not certain.
"""

import functools
from typing import Union

import numpy as np

# A 4x4 normal matrix whose two smallest eigenvalues are this close (relative to the largest) has
# no unique null vector: the views are (nearly) collinear with the joint, e.g. coincident cameras.
DEGENERATE_RATIO = 1e-12
# Redundancy number (1 - leverage) below which a residual direction is not tested for outliers;
# surveying treats observations under 0.1 as uncontrolled (Baarda's reliability theory).
MIN_REDUNDANCY = 0.1
# Below this the keypoint noise estimate is not trusted: detectors do not localise joints better.
MIN_NOISE_PX = 0.5


def design_rows(P: np.ndarray, x: np.ndarray) -> np.ndarray:
    """DLT rows ``(n, V, 2, 4)`` of pixels ``x`` ``(n, V, 2)`` under projections ``P``."""
    return x[..., None] * P[:, 2][:, None, :] - P[:, :2]


def normal_blocks(rows: np.ndarray) -> np.ndarray:
    """Per-view normal-matrix blocks ``(n, V, 4, 4)`` of DLT rows ``(n, V, 2, 4)``."""
    return np.swapaxes(rows, -1, -2) @ rows


def solve(blocks: np.ndarray, view_weights: np.ndarray) -> tuple:
    """
    Null vectors of the normal matrices ``sum_v view_weights[:, v] * blocks[:, v]``.

    :return: ``(Xh (n, 4), degenerate (n,))``.
    """
    n, V = view_weights.shape
    return null_vectors((view_weights[:, None, :] @ blocks.reshape(n, V, 16)).reshape(n, 4, 4))


def normal_matrices(P: np.ndarray, x: np.ndarray, row_weights: np.ndarray) -> np.ndarray:
    """
    Sum ``t^2 r r^T`` ``(n, k, k)`` over the DLT rows ``r`` of pixels ``x`` ``(n, V, 2)``.

    Each row is weighted by ``row_weights`` ``t`` ``(n, V, 2)`` (or ``(n, V, 1)``); ``P`` is
    ``(V, 3, k)``: ``k = 4`` gives the DLT normal matrices, the left 3x3 of ``P`` with projected
    pixels and ``t = 1 / depth`` the information ``sum J^T J`` of the projection Jacobians.

    ``r r^T = u^2 p3 p3^T - u (p3 p_i^T + p_i p3^T) + p_i p_i^T`` for the row ``u p3 - p_i``, so
    the sum is one product of per-point coefficients ``(n, 6 V)`` with per-view constants
    ``(6 V, k^2)``: no rows and no per-view blocks are formed.
    """
    coef = np.empty((len(x), 3) + x.shape[1:])
    coef[:, 2] = row_weights ** 2
    np.multiply(coef[:, 2], x, out=coef[:, 1])
    np.multiply(coef[:, 1], x, out=coef[:, 0])
    k = P.shape[-1]
    constants = _row_products(P.tobytes(), P.shape, P.dtype.str)
    return (coef.reshape(len(x), -1) @ constants).reshape(-1, k, k)


@functools.lru_cache(maxsize=32)
def _row_products(P_bytes, shape, dtype):
    """Return the constants of :func:`normal_matrices` ``(3 V 2, k k)``, coefficient-major."""
    P = np.frombuffer(P_bytes, dtype=dtype).reshape(shape)
    p3 = np.broadcast_to(P[:, None, 2, :], P[:, :2, :].shape)    # (V, 2, 4)
    pi = P[:, :2, :]
    outer = np.einsum('vik,vil->vikl', p3, p3)
    cross = np.einsum('vik,vil->vikl', p3, pi)
    out = np.stack([outer, -(cross + np.swapaxes(cross, -1, -2)),
                    np.einsum('vik,vil->vikl', pi, pi)]).reshape(-1, P.shape[-1] ** 2)
    out.setflags(write=False)  # shared by every call through the cache
    return out


def _row_norms(P, x):
    """Norms ``(n, V, 2)`` of the DLT rows of ``x``, from the same expansion."""
    p3, pi = P[:, None, 2, :], P[:, :2, :]
    sq = x * x * dot(p3, p3) - 2.0 * x * dot(p3, pi) + dot(pi, pi)
    return np.sqrt(np.maximum(sq, 0.0))


def null_vectors(M: np.ndarray) -> tuple:
    """
    Eigenvectors ``(n, 4)`` of the smallest eigenvalues of symmetric PSD ``M`` ``(n, 4, 4)``.

    Returns ``(Xh, degenerate)``, ``degenerate`` where the two smallest eigenvalues are within
    ``DEGENERATE_RATIO`` of the largest. A batched LAPACK ``eigh`` costs about 1.4 us per 4x4
    matrix, more than the rest of a triangulation; instead, with ``M = [[A, b], [b^T, c]]``, the
    eigenvector ``(X, 1)`` of the smallest eigenvalue ``l`` solves ``(A - l I) X = -b``, and
    ``l`` is the Rayleigh quotient of ``(X, 1)``. Starting from ``l = 0`` (the inhomogeneous
    solution), each such step is a Newton step on ``l``: two reach machine precision when ``l``
    is far below the smallest eigenvalue ``m`` of ``A``, which the 3x3 closed form then also
    proves non-degenerate (interlacing: the second eigenvalue of ``M`` is at least ``m``).
    Matrices where either is not certain (points near infinity, near-degenerate views) go
    through ``eigh``.
    """
    if len(M) < _CLOSED_FORM_MIN:
        return _eigh_null_vectors(M)
    # Entries as (n,) arrays: three 3x3 solves in closed form are a few dozen flat operations.
    a00, a01, a02, a11, a12, a22 = (M[:, i, j] for i, j in _UPPER)
    b0, b1, b2, c = M[:, 0, 3], M[:, 1, 3], M[:, 2, 3], M[:, 3, 3]
    trace_a = a00 + a11 + a22
    lam = previous = 0.0
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        for step in range(3):
            cof, det = _cofactors_sym3(a00 - lam, a01, a02, a11 - lam, a12, a22 - lam)
            if step == 0:
                # 4 det / tr^2 bounds the smallest eigenvalue of A from below.
                smallest = 4.0 * det / np.maximum(trace_a, 1e-300) ** 2
            X = -np.stack([cof[0] * b0 + cof[1] * b1 + cof[2] * b2,
                           cof[1] * b0 + cof[3] * b1 + cof[4] * b2,
                           cof[2] * b0 + cof[4] * b1 + cof[5] * b2], axis=-1) / det[:, None]
            if step == 2:
                break
            x0, x1, x2 = X[:, 0], X[:, 1], X[:, 2]
            quad = (a00 * x0 * x0 + a11 * x1 * x1 + a22 * x2 * x2
                    + 2.0 * (a01 * x0 * x1 + a02 * x0 * x2 + a12 * x1 * x2 + b0 * x0 + b1 * x1
                             + b2 * x2))
            previous, lam = lam, (quad + c) / (1.0 + x0 * x0 + x1 * x1 + x2 * x2)
        # Newton converges quadratically, at rate 1 / m: after a last step ``d`` the shift is
        # within about ``d^2 / m`` and ``X`` within ``d^2 / m^2`` relative, 1e-10 if d < 1e-5 m.
        certain = ((smallest > DEGENERATE_RATIO * (trace_a + c))
                   & (np.abs(lam - previous) <= 1e-5 * smallest)
                   & np.isfinite(X).all(-1) & (np.abs(X).max(-1) < 1e9))
    Xh = np.concatenate([np.where(certain[:, None], X, 0.0), np.ones((len(M), 1))], axis=-1)
    degenerate = np.zeros(len(M), dtype=bool)
    hard = np.flatnonzero(~certain)
    if hard.size:
        Xh[hard], degenerate[hard] = _eigh_null_vectors(M[hard])
    return Xh, degenerate


# Below this many matrices the few dozen array operations of the closed form cost more than
# LAPACK's per-matrix work (one frame of 17 joints, for instance).
_CLOSED_FORM_MIN = 64


def _eigh_null_vectors(M):
    evals, evecs = np.linalg.eigh(M)
    return (evecs[:, :, 0],
            evals[:, 1] <= DEGENERATE_RATIO * np.maximum(evals[:, 3], 1e-300))


# Upper-triangle entries of a symmetric 3x3 matrix, in the order the cofactors use.
_UPPER = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))


def _cofactors_sym3(a, b, c, d, e, f):
    """Cofactors (``_UPPER`` order) and determinant of ``[[a, b, c], [b, d, e], [c, e, f]]``."""
    cof = (d * f - e * e, c * e - b * f, b * e - c * d,
           a * f - c * c, b * c - a * e, a * d - b * b)
    return cof, a * cof[0] + b * cof[1] + c * cof[2]


def unit_row_solve(P: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple:
    """
    Solve for points ``(n, 3)`` with every DLT row scaled to unit norm times its view's weight.

    ``x`` ``(n, V, 2)``, ``w`` ``(n, V)``. The well-conditioned first solve, before depths are
    known; returns ``(X, degenerate)``.
    """
    unit = w[..., None] / (_row_norms(P, x) + 1e-300)
    Xh, degenerate = null_vectors(normal_matrices(P, x, unit))
    return dehomogenise(Xh), degenerate


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot products over the last axis; ``np.sum(a * b, -1)`` is 5x slower on short axes."""
    return np.einsum('...i,...i->...', a, b)


def dehomogenise(Xh: np.ndarray) -> np.ndarray:
    """Euclidean points ``(..., 3)``; NaN at infinity."""
    with np.errstate(divide='ignore', invalid='ignore'):
        X = Xh[..., :3] / Xh[..., 3:4]
    return np.where(np.abs(Xh[..., 3:4]) > 1e-12, X, np.nan)


def finite(X: np.ndarray) -> np.ndarray:
    """``X`` with non-finite entries zeroed, for arithmetic on rows that are flagged anyway."""
    return np.where(np.isfinite(X), X, 0.0)


def depths(P: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Projective depths ``(n, V)`` of points ``X`` ``(n, 3)``; positive in front of a camera."""
    return np.einsum('ni,vi->nv', X, P[:, 2, :3]) + P[:, 2, 3]


def refit(P: np.ndarray, x: np.ndarray, w: np.ndarray, mask: np.ndarray,
          X0: np.ndarray) -> tuple:
    """
    Depth-weighted DLT of pixels ``x`` ``(n, V, 2)`` on the views in ``mask``.

    Rows scaled by ``w / depth`` (depth under ``X0``) have the pixel error times the weight as
    algebraic residual, so the linear solution approximates the weighted reprojection-error
    minimiser instead of favouring far cameras. Returns ``(X (n, 3), degenerate (n,))``.
    """
    with np.errstate(invalid='ignore'):
        d = np.abs(depths(P, finite(X0)))
    d = np.where(np.isfinite(d) & (d > 1e-9) & np.isfinite(X0).all(-1, keepdims=True), d, 1.0)
    Xh, degenerate = null_vectors(normal_matrices(P, x, np.where(mask, w / d, 0.0)[..., None]))
    return dehomogenise(Xh), degenerate


def squared_errors(P: np.ndarray, X: np.ndarray, x: np.ndarray, ok: np.ndarray,
                   in_front: bool = True) -> np.ndarray:
    """
    Squared pixel errors ``(n, K, V)`` of points ``X`` ``(n, K, 3)`` against ``x`` ``(n, V, 2)``.

    Computed in the precision of ``X``. Infinite where a view has no keypoint (``~ok``) or, if
    ``in_front``, the point is not in front of the camera.
    """
    n, K, _ = X.shape
    V = P.shape[0]
    # Columns grouped by image coordinate, so that u, v and depth of all views are contiguous.
    # einsum, not BLAS: threaded BLAS is slow on (many x 3) products on a busy machine.
    B = P[:, :, :3].transpose(2, 1, 0).reshape(3, 3 * V).astype(X.dtype)
    proj = np.einsum('mi,ij->mj', X.reshape(n * K, 3), B).reshape(n, K, 3, V)
    proj += P[:, :, 3].T.astype(X.dtype)[:, None, :].reshape(3, V)
    z = proj[:, :, 2]
    front = ok[:, None, :] & ((z > 0) if in_front else True)
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        inv = np.reciprocal(z)
        du = proj[:, :, 0] * inv
        du -= x[:, None, :, 0].astype(X.dtype)
        dv = proj[:, :, 1] * inv
        dv -= x[:, None, :, 1].astype(X.dtype)
        du *= du
        dv *= dv
        du += dv
    du[~(front & np.isfinite(du))] = np.inf
    return du


def errors(P: np.ndarray, X: np.ndarray, x: np.ndarray, ok: np.ndarray,
           in_front: bool = True) -> np.ndarray:
    """Pixel errors ``(n, V)`` of points ``X`` ``(n, 3)``; see :func:`squared_errors`."""
    return np.sqrt(squared_errors(P, X[:, None, :], x, ok, in_front)[:, 0])


def estimate_noise(err: np.ndarray, used: np.ndarray, joints: int, fallback: float,
                   floor: Union[float, np.ndarray] = MIN_NOISE_PX) -> np.ndarray:
    """
    Per-frame keypoint noise ``sigma`` (px) from the residuals of the used views, ``(F,)``.

    With ``k >= 2`` views and i.i.d. Gaussian noise, the sum of squared residuals of a
    triangulated point is ``sigma^2`` times a chi-square variable with ``2k - 3`` degrees of
    freedom. Each joint gives such a sum per degree of freedom, divided by the chi-square median
    (the Wilson-Hilferty approximation); the frame's estimate is the median over its joints,
    robust to a minority of wrong inliers. Frames with fewer than 3 such joints get ``fallback``;
    none goes below ``floor`` (scalar or ``(F,)``).
    """
    k = used.sum(-1)
    dof = np.maximum(2 * k - 3, 1)
    ss = np.where(used, np.where(np.isfinite(err), err, 0.0) ** 2, 0.0).sum(-1)
    stat = np.where(k >= 2, ss / dof / (1.0 - 2.0 / (9.0 * dof)) ** 3, np.nan)
    stat = np.sort(stat.reshape(-1, joints), axis=-1)  # NaN sorts last
    count = np.isfinite(stat).sum(-1)
    lo = np.take_along_axis(stat, np.maximum(count - 1, 0)[:, None] // 2, -1)[:, 0]
    hi = np.take_along_axis(stat, np.minimum(count // 2, joints - 1)[:, None], -1)[:, 0]
    sigma = np.where(count >= 3, np.sqrt(np.abs(0.5 * (lo + hi))), fallback)
    return np.maximum(sigma, floor)


def _jacobians(P, X):
    """Pixels ``(n, V, 2)``, Jacobians ``(n, V, 2, 3)`` and depths ``(n, V)`` of ``X``."""
    V = P.shape[0]
    proj = (finite(X) @ P[:, :, :3].reshape(3 * V, 3).T).reshape(-1, V, 3) + P[:, :, 3]
    z = np.where(np.abs(proj[..., 2]) > 1e-12, proj[..., 2], 1e-12)
    uv = proj[..., :2] / z[..., None]
    jac = uv[..., None] * P[:, 2:3, :3]
    np.subtract(P[:, :2, :3], jac, out=jac)
    jac /= z[..., None, None]
    return uv, jac, z


def errors_and_information(P: np.ndarray, X: np.ndarray, x: np.ndarray, ok: np.ndarray,
                           used: np.ndarray) -> tuple:
    """
    Pixel errors ``(n, V)`` of points ``X`` and their information ``(n, 3, 3)`` from ``used``.

    The errors are infinite where a view has no keypoint or the point is behind it; the
    information is :func:`view_information` summed over the used views, in one projection.
    """
    uv, jac, z = _jacobians(P, X)
    with np.errstate(invalid='ignore'):
        err = np.sqrt(dot(uv - x, uv - x))
    err = np.where(ok & (z > 0) & np.isfinite(err), err, np.inf)
    return err, _information(np.where(used[..., None, None], jac, 0.0))


def _information(jac):
    """``sum_v J_v^T J_v`` ``(n, 3, 3)`` of Jacobians ``(n, V, 2, 3)``."""
    flat = jac.reshape(len(jac), -1, 3)
    return np.swapaxes(flat, 1, 2) @ flat


def view_information(P: np.ndarray, X: np.ndarray, used: np.ndarray) -> np.ndarray:
    """
    Per-view information ``J_v^T J_v`` ``(n, V, 3, 3)`` about points ``X`` ``(n, 3)``.

    ``J_v`` is the 2x3 Jacobian of view ``v``'s projection at the point; zero for views not
    ``used``. Summed over views and divided by the pixel noise variance, it is the Fisher
    information of i.i.d. Gaussian keypoint noise.
    """
    jac = np.where(used[..., None, None], _jacobians(P, X)[1], 0.0)
    return np.swapaxes(jac, -1, -2) @ jac


def studentized(P: np.ndarray, X: np.ndarray, x: np.ndarray, ok: np.ndarray,
                used: np.ndarray) -> tuple:
    """
    Studentized and plain squared residuals ``(n, V)`` of all available views.

    Also what :func:`errors_and_information` gives, from the same projection.

    A used view's residual is smaller than its error because the fit leans towards it: its
    covariance is ``sigma^2 (I - H_v)``, with ``H_v = J_v C J_v^T`` and ``C`` the inverse of the
    used views' information. A view left out is predicted, covariance ``sigma^2 (I + H_v)``.
    ``r^T (I -+ H_v)^+ r`` is chi-square with 2 degrees of freedom (times ``sigma^2``) for a
    good view (Pope, "The statistics of residuals and the detection of outliers", NOAA 1976),
    so an outlier cannot hide by pulling the fit. Directions in which a view is less redundant
    than ``MIN_REDUNDANCY`` (the view all but decides the point there) are not tested: their
    residual is too small to tell an outlier from the linearisation error. Both are infinite
    where ``~ok``, behind the camera or the point is undetermined.

    :return: ``(studentized (n, V), squared residuals (n, V), errors (n, V), information
        (n, 3, 3))``.
    """
    n, V = used.shape
    M = P[:, :, :3]
    proj = (finite(X) @ M.reshape(3 * V, 3).T).reshape(n, V, 3) + P[:, :, 3]
    z = np.where(np.abs(proj[..., 2]) > 1e-12, proj[..., 2], 1e-12)
    uv = proj[..., :2] / z[..., None]
    r = uv - x
    # z J_v = [[m_1 - u m_3], [m_2 - v m_3]] with m_i the rows of M_v: the information is
    # normal_matrices' sum with 1 / z row weights, and H_v = J_v C J_v^T follows from
    # G_v = M_v C M_v^T (one product with per-view constants), no Jacobians formed.
    inv_z = 1.0 / z
    info = normal_matrices(M, uv, np.where(used, np.abs(inv_z), 0.0)[..., None])
    C, determined = _inverse_sym3(info)
    G = (C.reshape(n, 9) @ _sandwich(M)).reshape(n, V, 6)
    g00, g01, g02, g11, g12, g22 = (G[..., k] for k in range(6))
    u0, u1 = uv[..., 0], uv[..., 1]
    scale = np.where(used, -1.0, 1.0) * inv_z * inv_z
    a = 1.0 + scale * (g00 - 2.0 * u0 * g02 + u0 * u0 * g22)
    b = scale * (g01 - u1 * g02 - u0 * g12 + u0 * u1 * g22)
    d = 1.0 + scale * (g11 - 2.0 * u1 * g12 + u1 * u1 * g22)
    # Eigenvalues of the symmetric 2x2 M = [[a, b], [b, d]], and the share of r^T r along the
    # first eigenvector, r^T (M - l2 I) r / (l1 - l2) (all of it where M is a multiple of I).
    centre, radius = 0.5 * (a + d), np.hypot(0.5 * (a - d), b)
    r0, r1 = r[..., 0], r[..., 1]
    rr = r0 * r0 + r1 * r1
    quad = a * r0 * r0 + 2.0 * b * r0 * r1 + d * r1 * r1
    lam2 = centre - radius
    with np.errstate(invalid='ignore', divide='ignore'):
        first = np.where(radius > 0, (quad - lam2 * rr) / (2.0 * radius), rr)
    first = np.clip(first, 0.0, rr)
    s2 = np.zeros(r.shape[:-1])
    for lam, along2 in ((centre + radius, first), (lam2, rr - first)):
        testable = lam >= MIN_REDUNDANCY
        s2 += np.where(testable, along2 / np.where(testable, lam, 1.0), 0.0)
    seen = ok & (z > 0) & np.isfinite(rr)
    good = seen & determined[:, None] & np.isfinite(X).all(-1)[:, None] & np.isfinite(s2)
    return (np.where(good, np.maximum(s2, 0.0), np.inf), np.where(good, rr, np.inf),
            np.where(seen, np.sqrt(np.where(seen, rr, 0.0)), np.inf), info)


def _sandwich(M):
    """Constants ``(9, 6 V)``: ``vec(C) @ K`` is the upper triangle of ``M_v C M_v^T``."""
    K = np.einsum('vik,vjl->klvij', M, M)
    upper = K[:, :, :, [i for i, _ in _UPPER], [j for _, j in _UPPER]]
    return upper.reshape(9, -1)


def covariances(information: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """
    First-order covariances ``(n, 3, 3)`` from summed view information ``(n, 3, 3)``.

    The inverse Fisher information ``sigma^2 (sum_v J_v^T J_v)^-1`` is the covariance of an
    efficient estimator (the Cramér-Rao bound); ``sigma`` ``(n,)`` is the keypoint noise.
    Infinite where the views do not determine the point.
    """
    inv, determined = _inverse_sym3(information)
    return np.where(determined[:, None, None], inv * (sigma ** 2)[:, None, None], np.inf)


def _inverse_sym3(M):
    """Inverses of symmetric positive semi-definite 3x3 matrices, and which are invertible."""
    upper = [M[:, i, j] for i, j in _UPPER]
    cof, det = _cofactors_sym3(*upper)
    # Relative to the scale of M cubed: the product of the eigenvalues over the largest cubed
    # bounds the smallest eigenvalue ratio that DEGENERATE_RATIO means for the DLT.
    determined = det > DEGENERATE_RATIO * np.maximum(upper[0] + upper[3] + upper[5], 1e-300) ** 3
    scale = np.where(determined, 1.0 / np.where(determined, det, 1.0), 0.0)
    return np.stack([cof[k] * scale for k in (0, 1, 2, 1, 3, 4, 2, 4, 5)],
                    axis=-1).reshape(-1, 3, 3), determined
