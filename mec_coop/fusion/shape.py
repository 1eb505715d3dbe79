# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The tracked person's own bone lengths, and the joints of an instant they refute.

Views that agree are not always right. On a person lying on the floor, 60-160 px tall in the
virtual rig's cameras, the 2D models misplace limbs in the same direction in every view (both
sides of the body drawn onto one line, forearms pulled into the body; 14 px per view in the
median, 10% beyond 39 px): three views then meet within ~1.2 keypoint noise on a point 200 mm
or more from the joint, with a covariance that claims 60 mm (``benchmarks/lying_joints.py``,
seeds 0, 1, 5, 7 and 11). Residuals cannot see such an error; the person's body can. Its bone
lengths do not change, and the edge measures them whenever it sees the person well (3 or more
views, every axis within ``CONFIDENT_STD_M``).

:class:`PersonShape` keeps those measurements and flags (:attr:`~mec_coop.geometry.
triangulation.JointFlag.BONE_LENGTH`, ``valid`` False) the joints of a fused instant that
cannot belong to the person:

* the whole instant, when its body bones (not the head's) differ from the person's by more than
  ``MAX_MEDIAN_DEVIATION`` in the median (|log ratio|): no part of it has the person's shape;
* a girdle's limbs (shoulders, elbows, wrists; or hips, knees, ankles), when the shoulder or hip
  width shrinks below ``MIN_WIDTH_RATIO`` of the person's: left and right were drawn onto one
  line, so neither side of that girdle is where it is said to be.

Nothing is moved to where it "should" be, and nothing is checked until the person has been
measured ``MIN_SAMPLES`` times. The thresholds were chosen on the closed-loop replay of seeds 0,
1, 5, 7 and 11 (``README.md``, "Falls", has the trade-off: wrong joints removed against correct
ones lost, per posture).
"""

from dataclasses import replace
from typing import MutableMapping

import numpy as np

from mec_coop.geometry.skeleton import COCO_BONES, NUM_JOINTS
from mec_coop.geometry.triangulation import JointFlag, Triangulation

_BONES = np.array(COCO_BONES)
# The head's bones (nose-eye, eye-ear) are 3-6 cm: pixel noise alone changes them by half.
BODY_BONES = np.array([min(b) >= 5 for b in COCO_BONES])
_SHOULDERS = COCO_BONES.index((5, 6))
_HIPS = COCO_BONES.index((11, 12))
_ARMS = np.arange(5, 11)
_LEGS = np.arange(11, 17)

# A joint measured well enough to teach the person's bone lengths.
CONFIDENT_VIEWS = 3
CONFIDENT_STD_M = 0.04
# Measurements a bone needs before it is a reference, and the most recent ones kept.
MIN_SAMPLES = 5
WINDOW = 50
# Fewest body bones that make the median deviation of an instant meaningful.
MIN_BONES = 4
# Median |log(length / person's length)| above which the instant is not the person's shape
# (a factor 1.16; benchmarks/lying_joints.py, seeds 0, 1, 5, 7 and 11: 1.6% of the instants
# without a fall exceed it, 9 of 10 stay below a factor 1.075; 22% of the lying ones exceed it).
MAX_MEDIAN_DEVIATION = 0.15
# A shoulder or hip width below this fraction of the person's collapses that girdle.
MIN_WIDTH_RATIO = 0.7


class PersonShape:
    """The bone lengths of one tracked person and the check of each fused instant against them."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the person's measurements (a new person)."""
        # The newest WINDOW lengths of each bone, a ring per bone (the median ignores order):
        # one median call per person and instant, not one per bone (~1 ms per instant with 4
        # people).
        self._window = np.full((len(COCO_BONES), WINDOW), np.nan)
        self._count = np.zeros(len(COCO_BONES), dtype=int)

    def reference(self, min_samples: int = MIN_SAMPLES) -> np.ndarray:
        """``(B,)`` the person's bone lengths (m, per ``COCO_BONES``); NaN until measured."""
        out = np.full(len(COCO_BONES), np.nan)
        known = self._count >= max(min_samples, 1)
        if known.any():
            out[known] = np.nanmedian(self._window[known], axis=1)
        return out

    def check(self, tri: Triangulation, counts: MutableMapping[str, int]) -> Triangulation:
        """
        Flag the joints of one fused instant ``(J, ...)`` that the person's bones refute.

        Then learn from its confident joints that passed. ``counts`` gains
        ``shape_refused_instants`` (every joint flagged) and ``shape_flagged_joints``.

        :return: ``tri`` with the flagged joints invalid (NaN, :attr:`JointFlag.BONE_LENGTH`);
            ``tri`` itself when nothing is flagged.
        """
        if tri.points.shape != (NUM_JOINTS, 3):
            raise ValueError(f'one instant of {NUM_JOINTS} joints expected, got '
                             f'{tri.points.shape}')
        flagged = refuted(tri.points, tri.valid, self.reference())
        if flagged.any():
            counts['shape_flagged_joints'] = counts.get('shape_flagged_joints', 0) + int(
                flagged.sum())
            if not (tri.valid & ~flagged).any():
                counts['shape_refused_instants'] = counts.get('shape_refused_instants', 0) + 1
            tri = invalidated(tri, flagged)
        self.learn(tri)
        return tri

    def learn(self, tri: Triangulation) -> None:
        """Add the bones between the confident joints of one instant to the person's."""
        known = tri.valid & np.isfinite(tri.covariance).all(axis=(1, 2))
        cov = np.where(known[:, None, None], tri.covariance, 0.0)
        std = np.sqrt(np.clip(np.linalg.eigvalsh(cov)[:, -1], 0.0, None))
        good = known & (tri.num_views >= CONFIDENT_VIEWS) & (std <= CONFIDENT_STD_M)
        lengths = bone_lengths(tri.points)
        bones = np.flatnonzero(good[_BONES[:, 0]] & good[_BONES[:, 1]])
        self._window[bones, self._count[bones] % WINDOW] = lengths[bones]
        self._count[bones] += 1


def bone_lengths(points: np.ndarray) -> np.ndarray:
    """``(..., B)`` lengths of ``COCO_BONES`` of ``(..., 17, 3)`` joints; NaN where unknown."""
    return np.linalg.norm(points[..., _BONES[:, 0], :] - points[..., _BONES[:, 1], :], axis=-1)


def refuted(points: np.ndarray, valid: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """
    Joints ``(17,)`` of one instant that cannot have the person's bone lengths.

    :param points: ``(17, 3)`` joints.
    :param valid: ``(17,)`` joints to check.
    :param reference: ``(B,)`` the person's bone lengths; NaN where unknown (not checked).
    """
    valid = np.asarray(valid, dtype=bool)
    measured = valid[_BONES[:, 0]] & valid[_BONES[:, 1]] & np.isfinite(reference) & (
        np.asarray(reference) > 0)
    with np.errstate(divide='ignore', invalid='ignore'):
        deviation = np.where(measured, np.log(bone_lengths(points) / reference), np.nan)
    flagged = np.zeros(NUM_JOINTS, dtype=bool)
    body = measured & BODY_BONES
    if body.sum() >= MIN_BONES and np.median(np.abs(deviation[body])) > MAX_MEDIAN_DEVIATION:
        return valid.copy()
    for width, limbs in ((_SHOULDERS, _ARMS), (_HIPS, _LEGS)):
        if measured[width] and deviation[width] < np.log(MIN_WIDTH_RATIO):
            flagged[limbs] = True
    return flagged & valid


def invalidated(tri: Triangulation, flagged: np.ndarray) -> Triangulation:
    """Return a copy of one instant's ``tri`` with the ``flagged`` joints invalid (bone length)."""
    keep = ~flagged
    return replace(
        tri, points=np.where(keep[:, None], tri.points, np.nan), valid=tri.valid & keep,
        reprojection_error=np.where(keep, tri.reprojection_error, np.nan),
        confidence=np.where(keep, tri.confidence, 0.0),
        covariance=np.where(keep[:, None, None], tri.covariance, np.nan),
        flags=np.where(flagged, tri.flags | JointFlag.BONE_LENGTH, tri.flags))
