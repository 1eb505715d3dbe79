# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Grouping 2D detections of several people: duplicates within a camera, cliques across cameras.

Helpers of :mod:`mec_coop.fusion.association`, on plain arrays.
"""

import numpy as np


def clique_groups(cost: np.ndarray, view: np.ndarray, gate: float, ratio: float) -> list[set]:
    """
    Cycle-consistent groups of detections from their pairwise costs ``(n, n)`` (inf: none).

    Groups grow greedily from the cheapest pair; two groups merge only if every cross pair is
    within ``gate`` and no camera (``view (n,)``) appears twice, so each group is a clique. A
    group of two is left out as ambiguous unless each member's partner costs less than
    ``ratio`` times its next candidate within the gate in the partner's camera (two views
    cannot tell two people near one epipolar line apart; a ratio test as in Lowe's for feature
    matches).
    """
    n = len(cost)
    group = list(range(n))       # detection -> group label
    members = {i: {i} for i in range(n)}
    consistent = cost <= gate
    pairs = np.argwhere(np.triu(consistent, 1))
    for i, j in sorted(pairs.tolist(), key=lambda p: cost[p[0], p[1]]):
        gi, gj = group[i], group[j]
        if gi == gj:
            continue
        mi, mj = members[gi], members[gj]
        cams = [view[k] for k in mi | mj]
        if len(set(cams)) < len(cams) or not np.all(consistent[np.ix_(list(mi), list(mj))]):
            continue
        members[gi] = mi | mj
        for k in mj:
            group[k] = gi
        del members[gj]

    def ambiguous(m: set) -> bool:
        if len(m) != 2:
            return False
        i, j = m
        for a, b in ((i, j), (j, i)):
            others = consistent[a] & (view == view[b]) & (np.arange(n) != b)
            if np.any(cost[a, others] * ratio < cost[a, b]):
                return True
        return False
    return [m for m in members.values() if len(m) > 1 and not ambiguous(m)]


def duplicates(px: np.ndarray, good: np.ndarray, weights: np.ndarray,
               fraction: float) -> np.ndarray:
    """
    Flag the detections ``(N,)`` that repeat a more confident one of the same view.

    A detector at a low threshold reports one person twice (overlapping boxes that survive
    non-maximum suppression); the copies would compete for the person's track and make every
    two-camera birth look ambiguous. Two detections are one person when the median distance of
    their common joints is below ``fraction`` of the larger one's extent.
    """
    n = len(px)
    drop = np.zeros(n, dtype=bool)
    if n < 2:
        return drop
    both = good[:, None] & good[None]                                           # (N, N, J)
    d = np.sort(np.where(both, np.linalg.norm(px[:, None] - px[None], axis=-1), np.inf), -1)
    count = both.sum(-1)
    # Lower median of the common joints' distances (inf without any).
    median = np.take_along_axis(d, np.maximum(count - 1, 0)[..., None] // 2, -1)[..., 0]
    hi = np.max(np.where(good[..., None], px, -np.inf), 1)
    lo = np.min(np.where(good[..., None], px, np.inf), 1)
    seen = np.any(good, axis=-1)
    extent = np.linalg.norm(np.where(seen[:, None], hi - lo, 0.0), axis=-1)
    same = (count > 0) & (median < fraction * np.maximum(extent[:, None], extent[None]))
    strength = np.where(good, weights, 0.0).sum(-1)
    for i in np.argsort(-strength):
        if not drop[i]:
            drop |= same[i] & (np.arange(n) != i) & (strength <= strength[i])
    return drop


def project(P: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Return ideal pixels ``(T, V, J, 2)`` of ``points (T, J, 3)``; NaN behind a camera."""
    Xh = np.concatenate([points, np.ones(points.shape[:-1] + (1,))], axis=-1)
    proj = np.einsum('vik,tjk->tvji', P, Xh)
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(proj[..., 2:] > 1e-9, proj[..., :2] / proj[..., 2:], np.nan)
