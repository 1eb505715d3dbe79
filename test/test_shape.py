# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The person's own bone lengths refute joints that agreeing views put in the wrong place."""

import numpy as np
import pytest

from mec_coop.fusion.edge import EdgeFusion, FusionSettings, Report
from mec_coop.fusion.feedback import FeedbackSettings
from mec_coop.fusion.shape import MIN_SAMPLES, PersonShape
from mec_coop.geometry.triangulation import JointFlag, Triangulation
from mec_coop.rig.virtual import Humanoid, make_cameras

ARMS, LEGS = slice(5, 11), slice(11, 17)


def instant(points, views=4, std_m=0.02):
    """Return one fused instant of ``points`` as the triangulation reports it."""
    points = np.array(points, dtype=float)
    J = len(points)
    return Triangulation(
        points=points, valid=np.ones(J, bool), num_views=np.full(J, views),
        reprojection_error=np.full(J, 2.0), used=np.ones((views, J), bool),
        confidence=np.full(J, 0.9), covariance=np.tile(std_m ** 2 * np.eye(3), (J, 1, 1)),
        flags=np.zeros(J, dtype=np.int64), noise_px=np.array(3.0))


def collapse_shoulders(joints):
    """Draw the right arm onto the left shoulder's line: shoulder width halved, bones kept."""
    out = joints.copy()
    shift = 0.5 * (joints[5] - joints[6])
    out[[6, 8, 10]] += shift
    return out


def shrink_limbs(joints, factor):
    """Pull every limb toward the torso by ``factor`` (a person of another shape)."""
    out = joints.copy()
    for root, chain in ((5, (7, 9)), (6, (8, 10)), (11, (13, 15)), (12, (14, 16))):
        for j in chain:
            out[j] = joints[root] + factor * (joints[j] - joints[root])
    return out


def test_the_persons_bones_refute_a_collapsed_girdle_and_another_shape_and_nothing_else():
    human, rng = Humanoid(0), np.random.default_rng(1)
    shape, counts = PersonShape(), {}
    first = human.pose(0.0).joints
    # Not measured yet: nothing is checked, whatever the shape.
    assert shape.check(instant(shrink_limbs(first, 0.5)), counts).valid.all()
    assert np.isnan(shape.reference()).all()
    # Two-view or uncertain instants do not teach the person's bones.
    for t in np.arange(0.0, 5.0, 0.5):
        shape.check(instant(human.pose(t).joints, views=2), counts)
        shape.check(instant(human.pose(t).joints, std_m=0.06), counts)
    assert np.isnan(shape.reference()).all()
    # 90 s of the humanoid walking, jumping, crouching, falling..., 2 cm of noise per axis:
    # its bones never change. No instant is refused; the hip width (~0.19 m, +-28 mm of noise)
    # now and then looks collapsed: the legs of 4 instants of 180 here (24 joints).
    flagged = 0
    for t in np.arange(0.0, 90.0, 0.5):
        noisy = human.pose(t).joints + rng.normal(0.0, 0.02, (17, 3))
        flagged += (~shape.check(instant(noisy), counts).valid).sum()
    assert flagged == counts.pop('shape_flagged_joints') <= 0.01 * 180 * 17
    assert counts == {}
    bones = shape.reference()
    assert np.isfinite(bones).all()

    t = 91.0
    joints = human.pose(t).joints
    collapsed = shape.check(instant(collapse_shoulders(joints)), counts)
    assert not collapsed.valid[ARMS].any() and collapsed.valid[LEGS].all()
    assert collapsed.valid[:5].all()
    assert np.isnan(collapsed.points[ARMS]).all()
    assert (collapsed.flags[ARMS] & JointFlag.BONE_LENGTH).all()
    assert not (collapsed.flags[LEGS] & JointFlag.BONE_LENGTH).any()
    assert counts == {'shape_flagged_joints': 6}
    # A median body bone 25% short: no joint of the instant is the person's.
    other = shape.check(instant(shrink_limbs(joints, 0.75)), counts)
    assert not other.valid.any()
    assert counts == {'shape_flagged_joints': 6 + 17, 'shape_refused_instants': 1}
    # What was flagged taught nothing: the bones to the shoulders and arms are as they were.
    assert np.array_equal(shape.reference()[4:11], bones[4:11])
    # 10% short passes.
    assert shape.check(instant(shrink_limbs(joints, 0.9)), counts).valid.all()
    with pytest.raises(ValueError, match='one instant'):
        shape.check(instant(np.zeros((16, 3))), counts)


def test_the_edge_flags_the_arms_three_views_agree_on_and_publishes_them_without_the_check():
    # Three cameras see the humanoid standing for 5 s (MIN_SAMPLES confident instants and
    # more), then all three draw its right arm onto the left shoulder's line, as the pose
    # models do on a person lying on the floor: the views agree within a pixel.
    cameras = dict(zip(['cam0', 'cam1', 'cam2'], make_cameras(3)))
    human = Humanoid(0)
    published = {}
    for check in (True, False):
        clock = [100.0]
        fusion = EdgeFusion(list(cameras), FusionSettings(
            sync_timeout_s=1.0, acquire_timeout_s=1.0,
            feedback=FeedbackSettings(shape_check=check)), cameras.get, lambda: clock[0])
        for k in range(2 * MIN_SAMPLES + 1):
            stamp = 0.5 * k
            joints = human.pose(stamp).joints
            shown = collapse_shoulders(joints) if k == 2 * MIN_SAMPLES else joints
            for name, camera in cameras.items():
                fusion.add(name, stamp, Report(camera.project(shown), np.full(17, 0.9),
                                               'camera'))
            clock[0] += 2.0
            (skeleton,) = fusion.poll(stamp + 0.2).skeletons
        published[check] = (skeleton, joints, dict(fusion.totals))
    skeleton, joints, totals = published[True]
    assert not skeleton.valid[ARMS].any() and not skeleton.triangulation.valid[ARMS].any()
    error = np.linalg.norm(skeleton.points - joints, axis=-1)
    assert skeleton.valid[LEGS].all() and error[LEGS].max() < 0.05
    assert totals['shape_flagged_joints'] == 6
    assert 'shape_refused_instants' not in totals
    # Without the check the same arms are published as measured, the right one moved by 0.19 m
    # (0.17 m after the track's filter): what the check stops.
    skeleton, joints, totals = published[False]
    error = np.linalg.norm(skeleton.points - joints, axis=-1)
    assert skeleton.valid[ARMS].all() and error[[6, 8, 10]].min() > 0.15
    assert 'shape_flagged_joints' not in totals
