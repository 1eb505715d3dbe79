# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Checks that need to know the points are the COCO-17 joints of one person.

* Left/right swap: a 2D pose model often labels a view's left joint as the right one. Against the
  3D joints of the other views, the swapped labels of such a view explain its pixels better than
  the given ones.
* Bone lengths: a wrong joint that the views happen to agree on (rays of outliers that meet)
  usually makes a bone far too long or too short for the person.

* Mirrored view: seen from behind, a symmetric figure is often labelled as if it faced the
  camera, every left joint as the right one. Two views cannot tell which of them is mirrored;
  the person's predicted pose (the edge's track, independent of this image) can.

The first two only flag: a swapped view is dropped from the two joints, a joint with
implausible bones is marked invalid; nothing is moved to where it "should" be. A mirrored view
is relabelled only when the exchanged labels fit the prediction far better (:func:`mirrored`).
"""

import numpy as np

from .skeleton import COCO_BONES, COCO_FLIP_INDEX, NUM_JOINTS

# Chi-square quantiles 0.999 for 2 and 4 degrees of freedom: one or two 2D residuals.
_CHI2_2DOF_999 = 13.82
_CHI2_4DOF_999 = 18.47

# Bone lengths as fractions of stature, after the segment proportions of Drillis and Contini
# (tabulated in Winter, "Biomechanics and Motor Control of Human Movement", 4th ed., Fig. 4.1),
# moved to where COCO annotates the keypoints (shoulder and hip joints, not the bone landmarks).
_BONE_RATIO = {
    (0, 1): 0.025, (0, 2): 0.025, (1, 3): 0.055, (2, 4): 0.055,
    (5, 6): 0.22, (5, 7): 0.186, (7, 9): 0.146, (6, 8): 0.186, (8, 10): 0.146,
    (5, 11): 0.29, (6, 12): 0.29, (11, 12): 0.115,
    (11, 13): 0.245, (13, 15): 0.246, (12, 14): 0.245, (14, 16): 0.246,
}
# Individual proportions differ from the table by up to this factor either way.
_PROPORTION_TOLERANCE = 1.35
# Stature range when too few bones are measured to estimate the person's own (m).
_STATURE_RANGE = (1.0, 2.1)
# Bones needed to estimate the stature of a person from its own proportions.
_MIN_BONES_FOR_STATURE = 4

_BONES = np.array(COCO_BONES)
_RATIOS = np.array([_BONE_RATIO[b] for b in COCO_BONES])
_FLIP = np.array(COCO_FLIP_INDEX)
_LEFT = np.array([j for j, k in enumerate(COCO_FLIP_INDEX) if j < k])
_RIGHT = _FLIP[_LEFT]
# Joints with a left/right twin (all but the nose).
_PAIRED = _FLIP != np.arange(NUM_JOINTS)


# A view is mirrored when exchanging left and right shrinks its median distance to the
# prediction below this fraction, and the given labels miss by more than MIRROR_MIN_MISS of the
# predicted person's extent (a person seen side-on fits both ways: left alone).
MIRROR_GAIN = 0.5
MIRROR_MIN_MISS = 0.1
# Keypoints below this confidence do not vote.
MIRROR_MIN_CONFIDENCE = 0.3


def mirrored(pixels: np.ndarray, confidences: np.ndarray, predicted: np.ndarray) -> bool:
    """
    Whether a view's keypoints fit ``predicted`` far better with left and right exchanged.

    On the virtual rig (seed 0, a person with spread arms seen from behind) the nano and the
    edge model both labelled the view mirrored, 100-170 px off at the wrists, and the
    two-view instants that followed had no valid joint; the track's prediction was 4 px off.

    :param pixels: ``(17, 2)`` keypoints of one person in one view.
    :param confidences: ``(17,)``.
    :param predicted: ``(17, 2)`` the same person's predicted pixels, NaN where unknown.
    """
    kp = np.asarray(pixels, dtype=np.float64).reshape(NUM_JOINTS, 2)
    pred = np.asarray(predicted, dtype=np.float64).reshape(NUM_JOINTS, 2)
    conf = np.asarray(confidences, dtype=np.float64).reshape(NUM_JOINTS)
    known: np.ndarray = np.all(np.isfinite(pred), axis=-1)
    vote = _PAIRED & known & known[_FLIP] & np.isfinite(kp).all(-1) & \
        (conf >= MIRROR_MIN_CONFIDENCE)
    if vote.sum() < 4:
        return False
    extent = float(np.max(np.ptp(pred[known], axis=0)))
    given = float(np.median(np.linalg.norm(kp[vote] - pred[vote], axis=-1)))
    exchanged = float(np.median(np.linalg.norm(kp[vote] - pred[_FLIP][vote], axis=-1)))
    return given > MIRROR_MIN_MISS * extent and exchanged < MIRROR_GAIN * given


def applies(num_joints: int) -> bool:
    """Whether points of ``num_joints`` per frame can be COCO-17 people."""
    return num_joints == NUM_JOINTS


def swapped_views(P: np.ndarray, x: np.ndarray, ok: np.ndarray, X: np.ndarray,
                  noise_px: np.ndarray) -> np.ndarray:
    """
    Find the views that see a left/right joint pair swapped: ``(F, V, 8)``, per COCO twin pair.

    A view is swapped for a pair when its residuals under the given labels are inconsistent with
    the noise (the sum of four squared residuals above the chi-square 0.999 quantile) while each
    swapped label is consistent with it.

    :param P: ``(V, 3, 4)`` projections.
    :param x: ``(F, J, V, 2)`` ideal pixels.
    :param ok: ``(F, J, V)`` views whose keypoint is present.
    :param X: ``(F, J, 3)`` joints; NaN where unknown.
    :param noise_px: ``(F,)`` keypoint noise.
    """
    F, J, V, _ = x.shape
    Xh = np.concatenate([np.where(np.isfinite(X), X, 0.0), np.ones((F, J, 1))], axis=-1)
    proj = np.einsum('vri,fji->fjvr', P, Xh)
    with np.errstate(divide='ignore', invalid='ignore'):
        uv = proj[..., :2] / proj[..., 2:3]
    known = np.isfinite(X).all(-1)[..., None] & (proj[..., 2] > 0)

    def sq(a, b):
        d = x[:, a] - uv[:, b]
        e2 = np.sum(d * d, -1)
        return np.where(known[:, b] & np.isfinite(e2), e2, np.inf)

    seen = ok[:, _LEFT] & ok[:, _RIGHT]
    var = noise_px[:, None, None] ** 2
    given = sq(_LEFT, _LEFT) + sq(_RIGHT, _RIGHT)
    # Both swapped labels must fit on their own: a random pixel far from both twins would
    # otherwise often fit the other twin "better" and take the good keypoint down with it.
    crossed_fit = np.maximum(sq(_LEFT, _RIGHT), sq(_RIGHT, _LEFT)) <= _CHI2_2DOF_999 * var
    swapped = seen & (given > _CHI2_4DOF_999 * var) & crossed_fit
    return np.swapaxes(swapped, 1, 2)


def drop_swapped(used: np.ndarray, swapped: np.ndarray) -> tuple:
    """
    Remove swapped views from both joints of their pair.

    :param used: ``(F, J, V)`` views in use.
    :param swapped: ``(F, V, 8)`` from :func:`swapped_views`.
    :return: ``(used (F, J, V), flagged (F, J))``: the joints of a swapped pair in any view.
    """
    per_joint = np.zeros(used.shape, dtype=bool)
    per_joint[:, _LEFT] = np.swapaxes(swapped, 1, 2)
    per_joint[:, _RIGHT] |= per_joint[:, _LEFT]
    return used & ~per_joint, per_joint.any(-1)


def implausible_bones(X: np.ndarray, cov: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """
    Joints ``(F, J)`` whose bones cannot belong to one person.

    The person's stature is the median over its measured bones of length / proportion (or a wide
    range if fewer than ``_MIN_BONES_FOR_STATURE`` bones are measured); a bone fails when its
    length is off that by more than the proportion tolerance plus three standard deviations of
    its measurement (from the joint covariances). Each round blames the joint with the most
    failing and fewest passing bones (then the less certain one) until no bone fails, so a wrong
    elbow does not take the right wrist with it, nor a wrong wrist the elbow.

    :param X: ``(F, J, 3)`` joints.
    :param cov: ``(F, J, 3, 3)`` their covariances.
    :param valid: ``(F, J)`` joints to check.
    """
    a, b = _BONES[:, 0], _BONES[:, 1]
    delta = X[:, a] - X[:, b]
    length = np.linalg.norm(delta, axis=-1)
    with np.errstate(invalid='ignore', divide='ignore'):
        u = delta / length[..., None]
        var = np.einsum('fbi,fbij,fbj->fb', u, cov[:, a] + cov[:, b], u)
    slack = 3.0 * np.sqrt(np.where(np.isfinite(var), np.abs(var), np.inf))
    spread = np.sqrt(np.nan_to_num(np.trace(cov, axis1=-2, axis2=-1), nan=np.inf, posinf=1e6))
    tie = spread / (1.0 + spread)
    incidence = np.zeros((len(_BONES), X.shape[1]))
    incidence[np.arange(len(_BONES)), a] = 1.0
    incidence[np.arange(len(_BONES)), b] = 1.0
    bad = np.zeros(valid.shape, dtype=bool)
    for _ in range(len(_BONES)):
        live = valid & ~bad
        measured = live[:, a] & live[:, b]
        stature = np.where(measured, length / _RATIOS, np.nan)
        lo, hi = _stature_bounds(stature, measured)
        with np.errstate(invalid='ignore'):
            short = length < _RATIOS * lo[:, None] / _PROPORTION_TOLERANCE - slack
            long = length > _RATIOS * hi[:, None] * _PROPORTION_TOLERANCE + slack
        fail = measured & (short | long)
        if not fail.any():
            break
        fails = np.einsum('fb,bj->fj', fail, incidence)
        passes = np.einsum('fb,bj->fj', measured & ~fail, incidence)
        score = np.where(live, fails - 0.5 * passes + 0.25 * tie, -np.inf)
        worst = np.argmax(score, axis=1)
        hit = fail.any(-1)
        bad[np.flatnonzero(hit), worst[hit]] = True
    return bad


def _stature_bounds(stature, measured):
    """Per-frame stature bounds: the robust estimate where possible, else the prior range."""
    count = measured.sum(-1)
    ordered = np.sort(np.where(measured, stature, np.inf), axis=-1)
    k = np.maximum(count - 1, 0)
    median = 0.5 * (np.take_along_axis(ordered, (k // 2)[:, None], -1)[:, 0]
                    + np.take_along_axis(ordered, ((k + 1) // 2)[:, None], -1)[:, 0])
    own = count >= _MIN_BONES_FOR_STATURE
    return np.where(own, median, _STATURE_RANGE[0]), np.where(own, median, _STATURE_RANGE[1])
