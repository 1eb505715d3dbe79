# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
One instant's detections as the association measures them, every camera at once.

Confident joints and repeated detections per view (:func:`confident`), the views stacked into
padded arrays (:func:`padded`), projections of tracks into the cameras, their depths, and the
costs and size mismatches of tracks against detections. Each function takes leading view axes,
so one numpy call serves every camera of an instant: with 4 people and 8 cameras one call per
camera spent more in numpy's per-call overhead than in arithmetic (5.8 ms per instant before,
docs/people.md). The decisions on these numbers are :mod:`mec_coop.fusion.grouping`'s.
"""

from typing import Sequence

import numpy as np

# Smallest projected person size used to normalise keypoint distances (pixels): a far person's
# few pixels must not turn a small offset into a large relative cost.
MIN_SCALE_PX = 20.0


def confident(views: Sequence, min_confidence: float,
              duplicate_fraction: float) -> tuple[list, list]:
    """
    Per view, ideal pixels ``(N_v, J, 2)`` (NaN elsewhere) and masks of the confident joints.

    Joints below ``min_confidence`` or not finite take no part, nor do detections that repeat
    a more confident one (:func:`duplicates`, every view in one call: numpy's per-call
    overhead dominated). ``views``: ``ViewDetections``.
    """
    pixels = [v.camera.undistort_pixels(v.pixels) if v.camera.has_distortion else v.pixels
              for v in views]
    ok = [np.isfinite(px).all(-1) & np.isfinite(v.weights) & (v.weights >= min_confidence)
          for px, v in zip(pixels, views)]
    repeated = duplicates(*padded(pixels, ok, [v.weights for v in views]), duplicate_fraction)
    for v, good in enumerate(ok):
        good &= ~repeated[v, :len(good), None]
    return [np.where(good[..., None], px, np.nan) for px, good in zip(pixels, ok)], ok


def duplicates(px: np.ndarray, good: np.ndarray, weights: np.ndarray,
               fraction: float) -> np.ndarray:
    """
    Flag the detections ``(..., N)`` that repeat a more confident one of the same view.

    A detector at a low threshold reports one person twice (overlapping boxes that survive
    non-maximum suppression); the copies would compete for the person's track and make every
    two-camera birth look ambiguous. Two detections are one person when the median distance of
    their common joints is below ``fraction`` of the larger one's extent. ``px (..., N, J,
    2)``: leading axes are views (:func:`padded`), each judged on its own.
    """
    n = px.shape[-3]
    drop = np.zeros(px.shape[:-2], dtype=bool)
    if n < 2:
        return drop
    both = good[..., :, None, :] & good[..., None, :, :]                    # (..., N, N, J)
    d = np.sort(np.where(both, np.hypot(px[..., :, None, :, 0] - px[..., None, :, :, 0],
                                        px[..., :, None, :, 1] - px[..., None, :, :, 1]),
                         np.inf), -1)
    count = both.sum(-1)
    # Lower median of the common joints' distances (inf without any).
    median = np.take_along_axis(d, np.maximum(count - 1, 0)[..., None] // 2, -1)[..., 0]
    extent = np.where(np.any(good, axis=-1), _box_diagonal(good, px), 0.0)
    same = (count > 0) & (median < fraction * np.maximum(extent[..., :, None],
                                                         extent[..., None, :]))
    strength = np.where(good, weights, 0.0).sum(-1)
    order = np.argsort(-strength, axis=-1, kind='stable')
    # Strongest first; a detection already dropped drops nobody. Views step together.
    for k in range(n):
        i = order[..., k, None]                                                 # (..., 1)
        keeps = ~np.take_along_axis(drop, i, -1)
        repeats = np.take_along_axis(same, i[..., None], -2)[..., 0, :]         # (..., N)
        drop |= keeps & repeats & (np.arange(n) != i) & (
            strength <= np.take_along_axis(strength, i, -1))
    return drop


def padded(ideal: list, ok: list, weights: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Stack per-view detections ``(N_v, J, ...)`` into ``(V, max N_v, J, ...)`` arrays.

    Padding rows have no confident joint (``ok`` False, NaN pixels, zero weights), so every
    cost against them is inf and every size NaN.
    """
    V, J = len(ideal), ok[0].shape[-1] if ok else 0
    N = max((len(x) for x in ideal), default=0)
    x, good, w = np.full((V, N, J, 2), np.nan), np.zeros((V, N, J), bool), np.zeros((V, N, J))
    for v, n in enumerate(len(a) for a in ideal):
        x[v, :n], good[v, :n], w[v, :n] = ideal[v], ok[v], weights[v]
    return x, good, w


def project(P: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Return ideal pixels ``(T, V, J, 2)`` of ``points (T, J, 3)``; NaN behind a camera."""
    Xh = np.concatenate([points, np.ones(points.shape[:-1] + (1,))], axis=-1)
    proj = np.einsum('vik,tjk->tvji', P, Xh)
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(proj[..., 2:] > 1e-9, proj[..., :2] / proj[..., 2:], np.nan)


def depths(P: np.ndarray, points: np.ndarray) -> np.ndarray:
    """
    Median depth ``(..., T)`` of skeletons ``points (T, J, 3)`` in cameras ``P (..., 3, 4)``.

    NaN: no joint known. One call for every camera of an instant (a call per camera cost more
    in numpy's per-call overhead than in arithmetic).
    """
    z = np.einsum('...k,tjk->...tj', P[..., 2, :3], points) + P[..., 2, 3, None, None]
    known = np.isfinite(z).sum(-1)[..., None]
    z = np.sort(np.where(np.isfinite(z), z, np.inf), -1)
    middle = np.take_along_axis(z, np.maximum(np.concatenate([known - 1, known], -1) // 2, 0),
                                -1)
    return np.where(known[..., 0] > 0, middle.mean(-1), np.nan)


def keypoint_costs(px: np.ndarray, ideal: np.ndarray, ok: np.ndarray, weights: np.ndarray,
                   min_joints: int) -> np.ndarray:
    """
    Cost ``(T, N)`` of projected skeletons ``px (T, J, 2)`` against one camera's detections.

    The confidence-weighted mean keypoint distance over the joints both have (``ok (N, J)``
    confident detection joints at ``ideal (N, J, 2)``), in units of the projected skeleton's
    size; inf with fewer than ``min_joints`` such joints. Leading axes broadcast (``px (V, T,
    J, 2)`` against :func:`padded` views: ``(V, T, N)``, every camera in one call).
    """
    seen = np.isfinite(px).all(-1)                                              # (..., T, J)
    extent = _box_diagonal(seen, px)
    scale = np.maximum(np.where(np.isfinite(extent), extent, 0.0), MIN_SCALE_PX)
    both = seen[..., :, None, :] & ok[..., None, :, :]                       # (..., T, N, J)
    w = np.where(both, weights[..., None, :, :], 0.0)
    dist = np.hypot(px[..., :, None, :, 0] - ideal[..., None, :, :, 0],
                    px[..., :, None, :, 1] - ideal[..., None, :, :, 1])
    with np.errstate(invalid='ignore', divide='ignore'):
        cost = np.sum(w * np.nan_to_num(dist), -1) / w.sum(-1) / scale[..., None]
    return np.where(both.sum(-1) >= min_joints, cost, np.inf)


def size_mismatch(px: np.ndarray, ideal: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """
    ``(T, N)`` |log| of each detection's size over each projected skeleton's; NaN: unknown.

    Sizes are the diagonals of the boxes of the joints both have (at least two). A person 2 m
    behind another at 7 m looks a quarter smaller, which the keypoint cost, relative to the
    projected size, does not tell where the two overlap. Leading axes broadcast as in
    :func:`keypoint_costs`.
    """
    both = np.isfinite(px).all(-1)[..., :, None, :] & ok[..., None, :, :]    # (..., T, N, J)
    with np.errstate(invalid='ignore', divide='ignore'):
        out = np.abs(np.log(_box_diagonal(both, ideal[..., None, :, :, :])
                            / _box_diagonal(both, px[..., :, None, :, :])))
    return np.where(both.sum(-1) >= 2, out, np.nan)


def person_sizes(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """
    Size in pixels ``(R,)`` of each person ``x (R, V, J, 2)`` (weights ``(R, V, J)``).

    The median over the views with two or more joints of the longer side of the box of the
    joints (a standing person's height); NaN without such a view.
    """
    seen = np.isfinite(x).all(-1) & (w > 0)
    side = np.where(seen.sum(-1) >= 2, np.maximum(*_box_spans(seen, x)), np.nan)     # (R, V)
    known = np.isfinite(side).any(-1)
    out = np.full(len(x), np.nan)
    out[known] = np.nanmedian(side[known], -1)
    return out


def _box_spans(mask: np.ndarray, points: np.ndarray) -> list[np.ndarray]:
    """Width and height ``(...)`` of the box of ``points (..., J, 2)`` where ``mask (..., J)``."""
    # x and y apart: reductions over a trailing axis of 2 were 3/4 of the time.
    return [np.max(np.where(mask, points[..., c], -np.inf), -1)
            - np.min(np.where(mask, points[..., c], np.inf), -1) for c in (0, 1)]


def _box_diagonal(mask: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Diagonal ``(...)`` of the box of ``points (..., J, 2)`` where ``mask (..., J)``."""
    with np.errstate(invalid='ignore'):
        return np.hypot(*_box_spans(mask, points))
