# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Where a pose model's accuracy depends on the pixels, on the 8x8 blocks a JPEG codes.

SpaT-IMCO ("Adaptive Compression Offloading and Resource Allocation for Edge Vision Computing",
Xiao et al., IEEE TCCN 2024, Sec. V, eqs. (26)-(27), Algorithm 2) learns a per-pixel importance
from a classifier's attention and gives each 8x8 block one of ``L`` compression levels. For
pose the important pixels are known without a learned network: the people the camera's nano
model (or the edge's ROI feedback) found, and above all their joints and limbs.
:func:`pose_importance` draws that map; :mod:`mec_coop.pose.saliency` computes the edge model's
keypoint-loss gradient to check it against. :func:`solve_p3` is the paper's integer problem P3
solved exactly, :func:`assign_levels` its lines 13-14.
"""

from typing import Optional

import numpy as np
import numpy.typing as npt

from mec_coop.geometry.skeleton import NUM_JOINTS

BLOCK = 8
# COCO-17 limbs whose pixels carry the joints' context: arms, legs, torso, head.
LIMBS = ((5, 7), (7, 9), (6, 8), (8, 10), (11, 13), (13, 15), (12, 14), (14, 16),
         (5, 6), (11, 12), (5, 11), (6, 12), (0, 5), (0, 6), (0, 1), (0, 2), (1, 3), (2, 4))
# Importance falls to exp(-1/2) this far from a joint or limb, as a share of the person's
# longest box side (a 150 px tall person: 12 px, about the size of a keypoint's context).
SIGMA_FRACTION = 0.08
MIN_SIGMA_PX = 6.0
# The rest of a person's box: context for the detector, but no joint lies there.
BOX_WEIGHT = 0.35
# Importance at which a block leaves the background, and at which it is coded as a joint or limb.
LEVEL_THRESHOLDS = (0.1, 0.5)


def block_grid(height: int, width: int, block: int = BLOCK) -> tuple[int, int]:
    """Rows and columns of ``block`` x ``block`` blocks covering an image (edges padded)."""
    return -(-int(height) // block), -(-int(width) // block)


def block_means(pixel_map: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """Mean of a ``(H, W)`` map over each block, ``(ceil(H/8), ceil(W/8))``; edges replicated."""
    m = np.asarray(pixel_map, dtype=np.float64)
    rows, cols = block_grid(m.shape[0], m.shape[1], block)
    m = np.pad(m, ((0, rows * block - m.shape[0]), (0, cols * block - m.shape[1])), mode='edge')
    return m.reshape(rows, block, cols, block).mean(axis=(1, 3))


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of ``(N, 2)`` points to the segment ``a``-``b``."""
    ab = b - a
    t = np.clip(((points - a) @ ab) / max(float(ab @ ab), 1e-9), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * ab), axis=1)


def _window(box: np.ndarray, joints: np.ndarray, sigma: float, reach: float, rows: int,
            cols: int, block: int) -> tuple[int, int, int, int]:
    """Block rows ``r0:r1`` and columns ``c0:c1`` whose centres a person can mark."""
    lo, hi = box[:2] - sigma, box[2:] + sigma
    if not (np.isfinite(reach) and np.isfinite(box).all()):
        return 0, rows, 0, cols
    if len(joints):
        lo = np.minimum(lo, joints.min(axis=0) - reach * sigma)
        hi = np.maximum(hi, joints.max(axis=0) + reach * sigma)
    # Centres at (i + 0.5) * block inside [lo, hi], one block of margin against rounding.
    c0, r0 = np.maximum(np.floor(lo / block - 0.5).astype(int) - 1, 0)
    c1, r1 = np.minimum(np.ceil(hi / block - 0.5).astype(int) + 2, (cols, rows))
    return int(r0), int(r1), int(c0), int(c1)


def pose_importance(height: int, width: int, keypoints: np.ndarray,
                    confidences: Optional[np.ndarray] = None, boxes: Optional[np.ndarray] = None,
                    min_confidence: float = 0.2, block: int = BLOCK,
                    floor: float = 0.0) -> np.ndarray:
    """
    Block importance in ``[0, 1]`` from people's 2D poses, ``(ceil(H/8), ceil(W/8))``.

    Each person contributes a Gaussian ridge along its limbs and around its joints (width
    :data:`SIGMA_FRACTION` of its size) and :data:`BOX_WEIGHT` inside its box; people combine by
    maximum. Joints under ``min_confidence`` or NaN are left out; a person without a joint but
    with a box still marks its box.

    :param keypoints: ``(P, 17, 2)`` pixels (camera model, edge ROI prediction or ground truth).
    :param confidences: ``(P, 17)``; default all 1.
    :param boxes: ``(P, 4)`` x_min, y_min, x_max, y_max; default the joints' extent.
    :param floor: importance below it is returned as 0. Above 0, each person is computed only
        on the blocks near it where it can reach ``floor`` (the offload's levels only need their
        thresholds: a few hundred blocks per person instead of the whole frame); the values
        at or above ``floor`` are the same as with ``floor=0``.
    """
    kp = np.asarray(keypoints, dtype=np.float64).reshape(-1, NUM_JOINTS, 2)
    conf = (np.ones(kp.shape[:2]) if confidences is None
            else np.asarray(confidences, dtype=np.float64).reshape(kp.shape[:2]))
    if not 0.0 <= floor < 1.0:
        raise ValueError(f'importance floor must be in [0, 1), got {floor}')
    rows, cols = block_grid(height, width, block)
    out = np.zeros((rows, cols))
    # Beyond this many sigmas from every joint and limb a ridge is below ``floor``.
    reach = np.sqrt(2.0 * np.log(1.0 / floor)) if floor > 0 else np.inf
    for p in range(len(kp)):
        ok = np.isfinite(kp[p]).all(axis=1) & (conf[p] >= min_confidence)
        if boxes is not None:
            box = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)[p]
        elif ok.any():
            box = np.concatenate([kp[p][ok].min(axis=0), kp[p][ok].max(axis=0)])
        else:
            continue
        size = max(box[2] - box[0], box[3] - box[1], 1.0)
        sigma = max(SIGMA_FRACTION * size, MIN_SIGMA_PX)
        r0, r1, c0, c1 = _window(box, kp[p][ok], sigma, reach, rows, cols, block)
        if r0 >= r1 or c0 >= c1:
            continue
        centres = np.stack(np.meshgrid((np.arange(c0, c1) + 0.5) * block,
                                       (np.arange(r0, r1) + 0.5) * block), axis=-1).reshape(-1, 2)
        inside = ((centres[:, 0] >= box[0] - sigma) & (centres[:, 0] <= box[2] + sigma) &
                  (centres[:, 1] >= box[1] - sigma) & (centres[:, 1] <= box[3] + sigma))
        person = np.where(inside, BOX_WEIGHT, 0.0)
        distance = np.full(len(centres), np.inf)
        for j in np.flatnonzero(ok):
            distance = np.minimum(distance, np.linalg.norm(centres - kp[p, j], axis=1))
        for a, b in LIMBS:
            if ok[a] and ok[b]:
                distance = np.minimum(distance, _segment_distance(centres, kp[p, a], kp[p, b]))
        person = np.maximum(person, np.exp(-0.5 * (distance / sigma) ** 2))
        window = out[r0:r1, c0:c1]
        np.maximum(window, person.reshape(window.shape), out=window)
    if floor > 0:
        out[out < floor] = 0.0
    return out


def solve_p3(levels: npt.ArrayLike, target: float, num_regions: int,
             prefer: Optional[npt.ArrayLike] = None) -> np.ndarray:
    """
    P3 (eqs. (26)-(27)) exactly: region counts ``z`` whose mean level is nearest ``target``.

    ``min_z (target - sum_l levels_l z_l / R)^2`` s.t. ``sum_l z_l = R``, ``z_l`` integer
    ``>= 0``. The first ``L - 2`` counts are enumerated; for each, the objective is a convex
    quadratic in ``z_{L-1}`` (``z_L`` is the rest), so its integer optimum is the floor or the
    ceiling of the clipped real optimum: exact, and ``O(R)`` for the paper's ``L = 3`` (the
    paper's branch and bound is not needed). Among equal objectives the counts nearest
    ``prefer`` in L1 win (Algorithm 2's tie-break; default: the first found).

    :returns: ``(L,)`` integer counts.
    """
    s = np.asarray(levels, dtype=np.float64)
    R, L = int(num_regions), len(s)
    if L < 2 or R < 0:
        raise ValueError(f'P3 needs at least 2 levels and R >= 0, got L={L}, R={R}')
    # Work with d = target*R - sum_l s_l z_l = (target - s_L) R - sum_{l<L} (s_l - s_L) z_l.
    a = s[:-1] - s[-1]
    if L > 2:
        grid = np.meshgrid(*[np.arange(R + 1)] * (L - 2), indexing='ij')
        head = np.stack([g.ravel() for g in grid], axis=1)
        head = head[head.sum(axis=1) <= R]
    else:
        head = np.zeros((1, 0), dtype=np.int64)
    rest = R - head.sum(axis=1)
    c = (target - s[-1]) * R - head @ a[:-1]
    last = a[-1]
    if last != 0:
        real = np.clip(c / last, 0, rest)
    else:
        # Levels L-1 and L are equal: every split is optimal; take the one nearest ``prefer``.
        nearest = 0.0 if prefer is None else float(np.asarray(prefer)[-2])
        real = np.clip(np.full(len(c), nearest), 0, rest)
    cands = []
    for z_last in (np.floor(real), np.ceil(real)):
        z = np.column_stack([head, z_last, rest - z_last]).astype(np.int64)
        cands.append(z)
    z = np.concatenate(cands)
    value = (target - (z @ s) / max(R, 1)) ** 2
    best = value <= value.min() + 1e-12 * max(1.0, abs(target) ** 2)
    z = z[best]
    if prefer is not None and len(z) > 1:
        z = z[np.argsort(np.abs(z - np.asarray(prefer)).sum(axis=1), kind='stable')]
    return z[0]


def importance_bins(block_importance: np.ndarray, num_levels: int) -> np.ndarray:
    """Count blocks in ``L`` equal-width importance bins, least important first (tie-break)."""
    q = np.asarray(block_importance, dtype=np.float64).ravel()
    lo, hi = float(q.min()), float(q.max())
    edges = np.linspace(lo, hi, num_levels + 1)[1:-1]
    return np.bincount(np.searchsorted(edges, q, side='right'), minlength=num_levels)


def assign_levels(block_importance: np.ndarray, counts: npt.ArrayLike) -> np.ndarray:
    """
    Level index of every block: the ``counts[0]`` least important blocks get level 0, ...

    Algorithm 2, lines 13-14. Ties in importance keep raster order (stable sort), so the
    result is deterministic.
    """
    q = np.asarray(block_importance, dtype=np.float64)
    n = np.asarray(counts, dtype=np.int64)
    if n.sum() != q.size or (n < 0).any():
        raise ValueError(f'level counts {n.tolist()} must be >= 0 and sum to {q.size}')
    levels = np.empty(q.size, dtype=np.int64)
    levels[np.argsort(q.ravel(), kind='stable')] = np.repeat(np.arange(len(n)), n)
    return levels.reshape(q.shape)


def paper_block_mu(block_importance: np.ndarray, mu: float) -> np.ndarray:
    """
    SpaT-IMCO's per-block JPEG multiplier at image level ``mu`` (Algorithm 2, literal).

    Levels ``{mu + D, mu, max(1, mu - D)}``, ``D = ceil(mu / 2)`` (PAPERS_MATH D.4, an
    assumption: the paper gives no mapping), ``s_img = mu``; P3 with the equal-width-bin
    tie-break picks the counts. With a symmetric mapping any ``z_1 = z_3`` meets ``s_img``
    exactly, so the tie-break decides how much background keeps the fine level.
    """
    q = np.asarray(block_importance, dtype=np.float64)
    delta = float(np.ceil(mu / 2.0))
    levels = np.array([mu + delta, mu, max(1.0, mu - delta)])
    counts = solve_p3(levels, mu, q.size, prefer=importance_bins(q, 3))
    return levels[assign_levels(q, counts)]


def pose_block_mu(block_importance: np.ndarray, mu_roi: float, mu_background: float,
                  thresholds: tuple[float, float] = LEVEL_THRESHOLDS) -> np.ndarray:
    """
    Return the pose-aware per-block multiplier (this project's choice; the paper's: below).

    Blocks at importance ``>= thresholds[1]`` (joints, limbs) get ``mu_roi``, blocks at
    ``>= thresholds[0]`` (the rest of the person and a margin) the geometric mean of the two,
    the background ``mu_background``. No average-level target: people are a few percent of a
    rig view, and P3's mean-level constraint would spend the saved bytes on background blocks.
    """
    q = np.asarray(block_importance, dtype=np.float64)
    mid = float(np.sqrt(mu_roi * mu_background))
    return np.where(q >= thresholds[1], mu_roi, np.where(q >= thresholds[0], mid, mu_background))


def rank_agreement(a: np.ndarray, b: np.ndarray, top: float = 0.1) -> dict:
    """
    Measure how two block-importance maps agree.

    Spearman rank correlation, and the share of ``b``'s
    total mass that falls into ``a``'s ``top`` fraction of blocks.
    """
    x, y = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    spearman = float(np.corrcoef(rx, ry)[0, 1])
    k = max(1, int(round(top * x.size)))
    top_a = np.argsort(-x, kind='stable')[:k]
    return {'spearman': spearman, 'top_fraction': top,
            'mass_in_top': float(y[top_a].sum() / max(y.sum(), 1e-12))}
