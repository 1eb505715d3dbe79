# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Joints the views disagree on, decided by the person's track.

The robust triangulation (:mod:`mec_coop.geometry.triangulation`) leaves a joint invalid when
its views do not agree on one point: with three views of which one is wrong (a wrist the model
put on the other arm, or on the person in front) two pairs of rays meet, one view apart, and
nothing in the instant says which pair is right (``AMBIGUOUS`` / ``NO_CONSENSUS``). On the
virtual rig's crossing replay (``benchmarks/closed_loop_people.py``) such joints were most of
the missing limb endpoints that fail PCP. A tracked person's predicted joint tells the pairs
apart: :func:`resolve` takes the pair whose point lies within ``max_distance_m`` of the
prediction (moved onto the instant's measured joints first, :func:`anchored`) when every pair
that proposes a different point (farther than ``max_distance_m`` from it) lies at least
``1 / ratio`` times as far from the prediction; otherwise the joint stays invalid. The resolved
joint is the two views' point (depth-weighted DLT), a measurement, not the prediction; views
that agree with it within the pixel threshold join it.

A constant-velocity prediction knows where the body goes, not where a swinging wrist or ankle
is: on the crossing replay the prediction of the joints left undecided was 0.4-1.3 m off (10th
to 90th percentile), and 272 of the 928 joints it decided lay over 0.15 m from the truth. With
the person's bone lengths (``bones``, :class:`~mec_coop.fusion.shape.PersonShape`), a pair's
point must also keep each body bone to the valid neighbours (joints in COCO order, so an elbow
decided here judges the wrist next) within ``BONE_TOLERANCE`` (:func:`keeps_bones`); a joint
no neighbour can judge is not decided. Where at least ``MIN_PAIRS`` such pairs meet on one
place (three views whose spread the instant's noise estimate refused) they decide it without
the prediction; otherwise the prediction chooses among them as above.

A decided joint is chosen with the track's help, so feeding it back into the track (its state,
hence the next prediction and the crops, and its bone lengths) lets one wrong decision steer the
next. With ``AssociationSettings.resolve_publish_only`` such joints are published only:
:func:`measured_only` is what the track learns from, :func:`published` what the person's
skeleton shows.
"""

from dataclasses import replace
import itertools
from typing import Optional

import numpy as np

from mec_coop.fusion.shape import BODY_BONES, MAX_MEDIAN_DEVIATION
from mec_coop.fusion.tracking import TrackUpdate
from mec_coop.geometry.skeleton import COCO_BONES, NUM_JOINTS
from mec_coop.geometry.triangulation import (INVALIDATING, JointFlag, triangulate,
                                             Triangulation)

# Invalid joints the prediction may decide: views that disagree, not too few or weak views.
DISAGREEING = JointFlag.AMBIGUOUS | JointFlag.NO_CONSENSUS
# The person's bones (measured on the crossing replay, docs/people.md): a candidate keeps each
# body bone to a valid neighbour within the shape check's factor exp(0.15); the bones alone
# decide when at least two such pairs of views (three views), each meeting within 15 px, lie
# within 0.1 m of their median.
BONE_TOLERANCE = MAX_MEDIAN_DEVIATION
# Confident measurements of a bone (PersonShape.reference) before it judges: 2, not the shape
# check's 5, else at 2 fps a person's first 2.5 s go without (docs/people.md).
BONE_SAMPLES = 2
MIN_PAIRS = 2
MAX_PAIR_ERROR_PX = 15.0
CLUSTER_M = 0.1
# Each joint's body bones (index into COCO_BONES) and the joint at their other end; the head's
# bones (nose-eye, eye-ear: a few cm) say nothing.
_NEIGHBOURS = [[(b, a + c - j) for b, (a, c) in enumerate(COCO_BONES)
                if j in (a, c) and BODY_BONES[b]] for j in range(NUM_JOINTS)]
# Valid joints needed to place the predicted skeleton on the instant's measurement.
MIN_ANCHOR_JOINTS = 4


def resolve(P: np.ndarray, x: np.ndarray, w: np.ndarray, tri: Triangulation,
            predicted: np.ndarray, max_distance_m: float, ratio: float,
            outlier_threshold_px: float, bones: Optional[np.ndarray] = None
            ) -> tuple[Triangulation, int]:
    """
    Decide the disagreeing joints of one person with the track's prediction and bones.

    :param P: ``(V, 3, 4)`` projection matrices (ideal pixels).
    :param x: ``(V, J, 2)`` the person's ideal pixels in each view, NaN where none.
    :param w: ``(V, J)`` their weights (0: not used).
    :param tri: the person's triangulation ``(J, ...)``.
    :param predicted: ``(J, 3)`` the track's joints at this instant, NaN where unknown.
    :param bones: ``(B,)`` the person's bone lengths (:meth:`~mec_coop.fusion.shape.
        PersonShape.reference`), NaN where unknown; None: the prediction alone decides.
    :return: the triangulation with the decided joints valid, and how many were decided.
    """
    predicted = anchored(predicted, tri)
    has = (w > 0) & np.isfinite(x).all(-1)                                        # (V, J)
    known = np.isfinite(predicted).all(-1) | (bones is not None)
    joints = np.flatnonzero(~tri.valid & (tri.flags & DISAGREEING != 0) & known
                            & (has.sum(0) >= 2))
    candidates = [(j, a, b) for j in joints
                  for a, b in itertools.combinations(np.flatnonzero(has[:, j]), 2)]
    if not candidates or max_distance_m <= 0:
        return tri, 0
    V = len(P)
    cx = np.full((len(candidates), V, 1, 2), np.nan)
    cw = np.zeros((len(candidates), V, 1))
    for i, (j, a, b) in enumerate(candidates):
        cx[i, [a, b], 0] = x[[a, b], j]
        cw[i, [a, b], 0] = w[[a, b], j]
    pairs = triangulate(P, cx, cw, method='dlt', ideal_pixels=True)
    points = pairs.points[:, 0]
    good = pairs.valid[:, 0] & (pairs.reprojection_error[:, 0] <= outlier_threshold_px)
    out = {k: np.array(v, copy=True) for k, v in vars(tri).items()}
    decided = 0
    for j in joints:  # COCO order: shoulders and hips before elbows and knees before the ends
        rows = [i for i, c in enumerate(candidates) if c[0] == j and good[i]]
        agree = None
        if bones is not None:
            # Judged against the neighbours as decided so far: an elbow decided here is the
            # wrist's reference next.
            keep = keeps_bones(points[rows], j, out['points'], out['valid'], bones)
            rows = [i for i, k in zip(rows, keep if keep is not None else []) if k]
            agree = _bone_consensus(candidates, rows, points, pairs.reprojection_error[:, 0], V)
        if agree is None:
            best = _choose(points[rows], predicted[j], max_distance_m, ratio) \
                if rows and np.isfinite(predicted[j]).all() else None
            if best is None:
                continue
            agree = _agreeing(P, x[:, j], has[:, j], points[rows[best]], outlier_threshold_px)
        one = triangulate(P, x[:, j][:, None], np.where(agree, w[:, j], 0.0)[:, None],
                          method='dlt', ideal_pixels=True)
        if not one.valid[0]:
            continue
        for key in ('points', 'num_views', 'reprojection_error', 'confidence', 'covariance'):
            out[key][j] = getattr(one, key)[0]
        out['used'][:, j] = agree
        out['valid'][j] = True
        out['flags'][j] &= ~int(INVALIDATING)
        decided += 1
    return Triangulation(**out), decided


def keeps_bones(points: np.ndarray, j: int, joints: np.ndarray, valid: np.ndarray,
                bones: np.ndarray) -> Optional[np.ndarray]:
    """
    Tell which candidate points ``(n, 3)`` of joint ``j`` keep the person's body bones to it.

    Every valid neighbour (``joints (J, 3)``, ``valid (J,)``) whose bone has a known length
    must lie within a factor ``exp(BONE_TOLERANCE)`` of it; None when no neighbour can judge.
    """
    kept = np.ones(len(points), dtype=bool)
    checked = False
    for b, n in _NEIGHBOURS[j]:
        if not valid[n] or not bones[b] > 0:
            continue
        with np.errstate(divide='ignore'):
            kept &= np.abs(np.log(np.linalg.norm(points - joints[n], axis=-1) / bones[b])) \
                <= BONE_TOLERANCE
        checked = True
    return kept if checked else None


def _bone_consensus(candidates: list, rows: list, points: np.ndarray, errors: np.ndarray,
                    V: int) -> Optional[np.ndarray]:
    """
    Return the views ``(V,)`` of a joint's bone-keeping pairs if they agree, else None.

    At least ``MIN_PAIRS`` pairs, each meeting within ``MAX_PAIR_ERROR_PX``, and all of their
    points within ``CLUSTER_M`` of their median: three or more views on one place that keeps
    the person's bones.
    """
    rows = [i for i in rows if errors[i] <= MAX_PAIR_ERROR_PX]
    if len(rows) < MIN_PAIRS:
        return None
    if np.linalg.norm(points[rows] - np.median(points[rows], 0), axis=-1).max() > CLUSTER_M:
        return None
    views = np.zeros(V, dtype=bool)
    for i in rows:
        views[list(candidates[i][1:])] = True
    return views


def anchored(predicted: np.ndarray, tri: Triangulation) -> np.ndarray:
    """
    Move the predicted skeleton ``(J, 3)`` by its median offset from the instant's valid joints.

    A constant-velocity track errs on where the whole body goes (a walker who slows or turns)
    more than on how the limbs sit on the body, and the same instant measures the torso and
    head. The median over at least :data:`MIN_ANCHOR_JOINTS` valid joints keeps the body's
    measured place and the track's limbs; with fewer the prediction stays as it is. On the
    crossing replay this alone changed little (``docs/people.md``): most joints left undecided
    are limbs that swing away from any prediction.
    """
    both = tri.valid & np.isfinite(predicted).all(-1)
    if both.sum() < MIN_ANCHOR_JOINTS:
        return predicted
    return predicted + np.median(tri.points[both] - predicted[both], axis=0)


def _choose(points: np.ndarray, predicted: np.ndarray, max_distance_m: float,
            ratio: float) -> Optional[int]:
    """Return the pair point nearest the prediction if it is near and unambiguous, else None."""
    distance = np.linalg.norm(points - predicted, axis=-1)
    best = int(np.argmin(distance))
    if distance[best] > max_distance_m:
        return None
    other = np.linalg.norm(points - points[best], axis=-1) > max_distance_m
    if np.any(other & (ratio * distance < distance[best])):
        return None
    return best


def _agreeing(P: np.ndarray, x: np.ndarray, has: np.ndarray, point: np.ndarray,
              threshold_px: float) -> np.ndarray:
    """Return the views ``(V,)`` whose keypoint is within ``threshold_px`` of ``point``'s image."""
    proj = np.einsum('vij,j->vi', P, np.append(point, 1.0))
    with np.errstate(invalid='ignore', divide='ignore'):
        pixels = proj[:, :2] / proj[:, 2:3]
        return has & (proj[:, 2] > 0) & (np.linalg.norm(pixels - x, axis=-1) <= threshold_px)


def measured_only(tri: Triangulation, decided: Optional[np.ndarray]) -> Triangulation:
    """Return the triangulation without the ``decided (J,)`` joints (None: all), for the track."""
    if decided is None or not decided.any():
        return tri
    return replace(tri, valid=tri.valid & ~decided,
                   points=np.where(decided[:, None], np.nan, tri.points))


def published(update: TrackUpdate, tri: Triangulation,
              decided: Optional[np.ndarray]) -> TrackUpdate:
    """
    Return the track's update with the ``decided (J,)`` joints of ``tri`` put back as measured.

    What the person's published skeleton smooths: the track never saw these joints, so without
    them they would be the track's prediction (flagged predicted) or missing.
    """
    if decided is None or not decided.any():
        return update
    d = decided & tri.valid
    return replace(update, points=np.where(d[:, None], tri.points, update.points),
                   measurement=np.where(d[:, None], tri.points, update.measurement),
                   valid=update.valid | d, measured=update.measured | d,
                   predicted=update.predicted & ~d)
