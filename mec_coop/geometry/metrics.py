# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
3D pose accuracy metrics: MPJPE, PA-MPJPE, PCK and per-joint errors.

All functions take predictions and ground truth of shape ``(..., J, 3)`` in metres. Joints that
were not estimated are NaN in ``pred`` (as :func:`triangulate` returns them); they are excluded
from the means and counted by :func:`coverage`, so a metric never silently treats them as zero.
"""

import numpy as np


def _check(pred, gt):
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape or pred.shape[-1] != 3:
        raise ValueError(f'pred and gt must share a shape (..., J, 3): {pred.shape}, {gt.shape}')
    if not np.all(np.isfinite(gt)):
        raise ValueError('ground truth has non-finite coordinates')
    return pred, gt


def joint_errors(pred, gt):
    """Euclidean error of each joint ``(..., J)``; NaN where the prediction is missing."""
    pred, gt = _check(pred, gt)
    return np.linalg.norm(pred - gt, axis=-1)


def per_joint_mpjpe(pred, gt):
    """Mean error of each joint over all leading dimensions, ``(J,)``."""
    e = joint_errors(pred, gt)
    with np.errstate(invalid='ignore'):
        return np.nanmean(e.reshape(-1, e.shape[-1]), axis=0)


def mpjpe(pred, gt):
    """Mean per-joint position error over all estimated joints (metres); NaN if none."""
    e = joint_errors(pred, gt)
    return float(np.nanmean(e)) if np.any(np.isfinite(e)) else float('nan')


def mpjpe_interval(pred, gt, block: int = 5, level: float = 0.95, draws: int = 2000,
                   seed: int = 0) -> tuple:
    """
    Bootstrap interval of :func:`mpjpe` over instants ``(T, J, 3)``, resampled in blocks.

    Successive instants of one run are correlated (one person, one tracker), so whole blocks
    of ``block`` instants are drawn (moving-block bootstrap); each estimate weighs instants by
    their valid joints, as :func:`mpjpe` does. Returns ``(low, high)`` in metres, NaN without
    a valid joint.
    """
    return _block_bootstrap(*_instant_sums(pred, gt), block, level, draws, seed)


def instant_mpjpe(pred, gt) -> np.ndarray:
    """MPJPE of each instant of ``(T, J, 3)`` over its estimated joints, ``(T,)``; NaN if none."""
    sums, counts = _instant_sums(pred, gt)
    with np.errstate(invalid='ignore'):    # no valid joint: 0 / 0 is the NaN wanted
        return sums / counts


def _instant_sums(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    """Per instant of ``(T, J, 3)``: the sum of its joints' errors and how many were valid."""
    errors = joint_errors(pred, gt)
    if errors.ndim != 2:
        raise ValueError(f'pred and gt must be instants (T, J, 3), got {np.shape(pred)}')
    valid = np.isfinite(errors)
    return np.where(valid, errors, 0.0).sum(axis=-1), valid.sum(axis=-1)


def paired_difference(values_a, times_a, values_b, times_b, block: int = 5,
                      level: float = 0.95, draws: int = 2000, seed: int = 0) -> tuple:
    """
    Mean of ``a - b`` over the instants both runs measured, with its bootstrap interval.

    Two runs of one scripted scene (same rig seed) are paired by their instants' scene times
    (to the millisecond): the difficulty of an instant (a pose, an occlusion) is shared, so the
    difference of per-instant values (e.g. :func:`instant_mpjpe`) varies far less than either,
    and two schemes whose separate intervals overlap can still be told apart. Instants with a
    NaN in either run are left out. The interval is the moving-block bootstrap of
    :func:`mpjpe_interval`. Returns ``(mean, low, high, instants paired)``; NaNs without any.
    """
    def table(values, times):
        values, times = np.asarray(values, float), np.asarray(times, float)
        if values.shape != times.shape or values.ndim != 1:
            raise ValueError(f'values and times must be two equal 1-D arrays, got '
                             f'{values.shape} and {times.shape}')
        return dict(zip(np.round(times * 1000.0).astype(np.int64).tolist(), values.tolist()))

    a, b = table(values_a, times_a), table(values_b, times_b)
    common = sorted(t for t in a.keys() & b.keys() if np.isfinite(a[t]) and np.isfinite(b[t]))
    if not common:
        return float('nan'), float('nan'), float('nan'), 0
    diff = np.array([a[t] - b[t] for t in common])
    low, high = _block_bootstrap(diff, np.ones(diff.size), block, level, draws, seed)
    return float(diff.mean()), low, high, len(common)


def _block_bootstrap(sums, counts, block, level, draws, seed) -> tuple:
    """Moving-block bootstrap interval of ``sum(sums) / sum(counts)`` over instants."""
    if not counts.any():
        return float('nan'), float('nan')
    block = max(1, min(int(block), sums.size))
    blocks = -(-sums.size // block)
    starts = np.random.default_rng(seed).integers(0, sums.size - block + 1, (draws, blocks))
    picked = (starts[..., None] + np.arange(block)).reshape(draws, -1)[:, :sums.size]
    with np.errstate(invalid='ignore'):
        estimates = sums[picked].sum(axis=1) / counts[picked].sum(axis=1)
    tail = 50.0 * (1.0 - level)
    low, high = np.nanpercentile(estimates, [tail, 100.0 - tail])
    return float(low), float(high)


def coverage(pred):
    """Fraction of joints that were estimated (finite)."""
    return float(np.mean(np.all(np.isfinite(np.asarray(pred)), axis=-1)))


def pck(pred, gt, threshold=0.15):
    """
    Percentage of correct keypoints: share of joints within ``threshold`` metres.

    Missing joints count as incorrect, so PCK also reflects coverage.
    """
    e = joint_errors(pred, gt)
    with np.errstate(invalid='ignore'):
        return float(np.mean(np.nan_to_num(e, nan=np.inf) <= threshold))


def procrustes_align(pred, gt):
    """
    Similarity transform (scale, rotation, translation) of ``pred`` onto ``gt``, per pose.

    Uses only the estimated joints of each pose; poses with fewer than 3 stay NaN.
    """
    pred, gt = _check(pred, gt)
    flat_p = pred.reshape(-1, *pred.shape[-2:])
    flat_g = gt.reshape(-1, *gt.shape[-2:])
    out = np.full_like(flat_p, np.nan)
    for i, (p, g) in enumerate(zip(flat_p, flat_g)):
        ok = np.all(np.isfinite(p), axis=-1)
        if ok.sum() < 3:
            continue
        mp, mg = p[ok].mean(0), g[ok].mean(0)
        p0, g0 = p[ok] - mp, g[ok] - mg
        u, s, vt = np.linalg.svd(p0.T @ g0)
        d = np.sign(np.linalg.det(u @ vt))
        s[-1] *= d
        u[:, -1] *= d
        rot = u @ vt
        scale = s.sum() / np.sum(p0 ** 2)
        out[i, ok] = scale * p0 @ rot + mg
    return out.reshape(pred.shape)


def pa_mpjpe(pred, gt):
    """MPJPE after Procrustes alignment of each pose (scale, rotation, translation)."""
    return mpjpe(procrustes_align(pred, gt), gt)


def accelerations(stamps: np.ndarray, points: np.ndarray) -> np.ndarray:
    """
    Joint acceleration magnitudes [m/s^2] ``(T - 2, J)`` of a sequence; NaN where a joint is.

    Second-order finite differences on the (possibly irregular) ``stamps (T,)`` of
    ``points (T, J, 3)``.
    """
    t = np.asarray(stamps, dtype=np.float64)
    p = np.asarray(points, dtype=np.float64)
    if t.ndim != 1 or p.shape[:1] != t.shape or p.shape[-1] != 3:
        raise ValueError(f'need stamps (T,) and points (T, J, 3), got {t.shape}, {p.shape}')
    if np.any(np.diff(t) <= 0.0):
        raise ValueError('stamps must increase strictly')
    if t.size < 3:
        return np.zeros((0,) + p.shape[1:-1])
    dt = np.diff(t)
    velocity = np.diff(p, axis=0) / dt.reshape((-1,) + (1,) * (p.ndim - 1))
    span = 0.5 * (dt[1:] + dt[:-1])
    accel = np.diff(velocity, axis=0) / span.reshape((-1,) + (1,) * (p.ndim - 1))
    return np.linalg.norm(accel, axis=-1)


def mean_acceleration(stamps: np.ndarray, points: np.ndarray) -> float:
    """
    Jitter metric: mean joint acceleration magnitude [m/s^2] over a skeleton sequence.

    A triple of consecutive samples with a NaN joint is skipped for that joint (see
    :func:`accelerations`). NaN if no triple is complete.
    """
    magnitude = accelerations(stamps, points)
    finite = np.isfinite(magnitude)
    return float(magnitude[finite].mean()) if np.any(finite) else float('nan')
