# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Joints the views disagree on, decided by the track's prediction (fusion/resolve.py)."""

import numpy as np

from mec_coop.fusion.association import (AssociationSettings, Associator, StepResult,
                                         ViewDetections)
from mec_coop.fusion.detections import person_sizes
from mec_coop.fusion.resolve import anchored, DISAGREEING, keeps_bones, published, resolve
from mec_coop.fusion.shape import bone_lengths
from mec_coop.fusion.smoothing import SkeletonSmoother
from mec_coop.geometry.triangulation import triangulate
from mec_coop.rig.virtual import Humanoid, make_cameras

CAMERAS = make_cameras(4)[:3]
BODY = Humanoid(0, actions=('stand',), start=(0.0, 0.0), heading=0.0).pose(0.0).joints
WRIST = 9
ELBOW = 7
BONES = bone_lengths(BODY)
UNKNOWN = np.full((17, 3), np.nan)  # no prediction


def views_with_a_wrong_wrist(rng, shift_px=(45.0, 0.0)):
    """Three views of BODY (1 px noise); the left wrist of the last view is ``shift_px`` off."""
    x = np.array([cam.project(BODY) for cam in CAMERAS]) + rng.normal(0.0, 1.0, (3, 17, 2))
    x[2, WRIST] += shift_px
    return x


def instant_with_a_wrong_wrist(seed):
    """Pixels, projections, weights and the robust triangulation of the instant."""
    x = views_with_a_wrong_wrist(np.random.default_rng(seed))
    P = np.stack([cam.P for cam in CAMERAS])
    w = np.full((3, 17), 0.9)
    return x, P, w, triangulate(P, x, w, ideal_pixels=True, max_std_m=0.12, human_checks=True)


def test_the_prediction_picks_the_pair_of_views_that_meet_near_it():
    x, P, w, tri = instant_with_a_wrong_wrist(1)
    # Two good views and a wrong one: the instant alone cannot say which pair is right.
    assert not tri.valid[WRIST] and tri.flags[WRIST] & DISAGREEING
    assert tri.valid.sum() == 16
    near = BODY + [0.12, -0.08, 0.05]           # the track's prediction, 15 cm off
    out, decided = resolve(P, x, w, tri, near, 0.3, 0.5, 30.0)
    assert decided == 1 and out.valid.all()
    assert np.linalg.norm(out.points[WRIST] - BODY[WRIST]) < 0.03
    assert out.used[:, WRIST].tolist() == [True, True, False]
    assert out.num_views[WRIST] == 2 and not out.flags[WRIST] & DISAGREEING
    np.testing.assert_array_equal(out.points[:WRIST], tri.points[:WRIST])
    # A predicted wrist beyond the distance decides nothing; 0 turns the step off.
    far = near.copy()
    far[WRIST] += [0.0, 0.0, 0.5]
    for predicted, distance in ((far, 0.3), (near, 0.0)):
        out, decided = resolve(P, x, w, tri, predicted, distance, 0.5, 30.0)
        assert decided == 0 and not out.valid[WRIST]


def test_a_prediction_behind_the_walker_is_placed_on_the_measured_body():
    x, P, w, tri = instant_with_a_wrong_wrist(1)
    behind = BODY + [-0.5, 0.1, 0.0]            # the whole body 0.5 m off (a walker slowing)
    assert np.linalg.norm(behind[WRIST] - BODY[WRIST]) > 0.3
    assert np.abs(anchored(behind, tri) - BODY).max() < 0.01
    out, decided = resolve(P, x, w, tri, behind, 0.3, 0.5, 30.0)
    assert decided == 1 and np.linalg.norm(out.points[WRIST] - BODY[WRIST]) < 0.03


def test_a_prediction_between_two_pairs_decides_nothing():
    x, P, w, tri = instant_with_a_wrong_wrist(2)
    wrong = triangulate(P[1:], x[1:, WRIST][:, None], ideal_pixels=True, method='dlt').points[0]
    middle = BODY.copy()
    middle[WRIST] = 0.5 * (BODY[WRIST] + wrong)
    assert np.linalg.norm(BODY[WRIST] - wrong) > 0.3     # two pairs, two different points
    out, decided = resolve(P, x, w, tri, middle, 0.3, 0.5, 30.0)
    assert decided == 0 and not out.valid[WRIST]


def three_instants_then_a_wrong_wrist(associator: Associator,
                                      rng: np.random.Generator) -> StepResult:
    """Step the associator through three clean instants and one with a wrong wrist view."""
    for k in range(4):
        x = views_with_a_wrong_wrist(rng) if k == 3 else \
            np.array([cam.project(BODY) for cam in CAMERAS]) + rng.normal(0, 1, (3, 17, 2))
        result = associator.step(float(k), [ViewDetections(cam, x[v][None], np.full(
            (1, 17), 0.9)) for v, cam in enumerate(CAMERAS)])
    return result


def test_the_association_decides_a_tracked_persons_disagreeing_joint():
    rng = np.random.default_rng(3)
    counts = {}
    for resolve_m in (0.3, 0.0):
        associator = Associator(AssociationSettings(resolve_m=resolve_m))
        result = three_instants_then_a_wrong_wrist(associator, rng)
        (person,) = result.people
        counts[resolve_m] = result.resolved_joints
        valid = person.triangulation.valid[WRIST]
        assert valid == (resolve_m > 0)
        if valid:
            assert np.linalg.norm(person.triangulation.points[WRIST] - BODY[WRIST]) < 0.03
    assert counts == {0.3: 1, 0.0: 0}


def test_a_decided_joint_is_published_but_kept_out_of_the_track():
    measured = {}
    for publish_only in (False, True):
        rng = np.random.default_rng(3)
        associator = Associator(AssociationSettings(resolve_publish_only=publish_only))
        result = three_instants_then_a_wrong_wrist(associator, rng)
        (person,) = result.people
        assert result.resolved_joints == 1 and person.triangulation.valid[WRIST]
        measured[publish_only] = bool(person.update.measured[WRIST])
        # The published skeleton shows the decided wrist as measured, at the views' point.
        shown = SkeletonSmoother('none')(published(person.update, person.triangulation,
                                                   person.resolved))
        assert shown.valid[WRIST] and not shown.predicted[WRIST]
        np.testing.assert_allclose(shown.points[WRIST], person.triangulation.points[WRIST])
        assert np.linalg.norm(shown.points[WRIST] - BODY[WRIST]) < 0.03
        assert (person.resolved is not None) == publish_only
    # Fed to the track before; publish-only now: the track's update never measured it.
    assert measured == {False: True, True: False}


def test_the_persons_bones_refuse_the_pair_a_misled_prediction_points_at():
    x, P, w, tri = instant_with_a_wrong_wrist(1)
    wrong = triangulate(P[1:], x[1:, WRIST][:, None], ideal_pixels=True, method='dlt').points[0]
    misled = BODY.copy()
    misled[WRIST] = wrong                       # the track's wrist swung the wrong way
    assert np.linalg.norm(wrong - BODY[WRIST]) > 0.3
    out, decided = resolve(P, x, w, tri, misled, 0.3, 0.5, 30.0)
    assert decided == 1 and np.linalg.norm(out.points[WRIST] - BODY[WRIST]) > 0.3
    # The forearm from the valid elbow to that point is twice the person's: not their wrist.
    assert np.linalg.norm(wrong - BODY[ELBOW]) > 1.5 * BONES[6]
    out, decided = resolve(P, x, w, tri, misled, 0.3, 0.5, 30.0, BONES)
    assert decided == 0 and not out.valid[WRIST]
    near = BODY + [0.12, -0.08, 0.05]
    out, decided = resolve(P, x, w, tri, near, 0.3, 0.5, 30.0, BONES)
    assert decided == 1 and np.linalg.norm(out.points[WRIST] - BODY[WRIST]) < 0.03


def test_three_views_that_keep_the_bones_decide_without_a_prediction():
    P = np.stack([cam.P for cam in CAMERAS])
    w = np.full((3, 17), 0.9)
    outcomes = {'right': 0, 'other person': 0, 'no bones': 0, 'far': 0}
    for seed in range(20):
        rng = np.random.default_rng(seed)
        x = np.array([cam.project(BODY) for cam in CAMERAS]) + rng.normal(0.0, 0.5, (3, 17, 2))
        x[:, WRIST] += rng.normal(0.0, 2.0, (3, 2))  # the wrist's views spread beyond the rest
        tri = triangulate(P, x, w, ideal_pixels=True, max_std_m=0.12, human_checks=True)
        if tri.valid[WRIST]:
            continue
        out, decided = resolve(P, x, w, tri, UNKNOWN, 0.3, 0.5, 30.0, BONES)
        if decided:
            error = np.linalg.norm(out.points[WRIST] - BODY[WRIST])
            outcomes['right' if error < 0.07 else 'far'] += 1
            assert out.num_views[WRIST] == 3
        # Another person's bones (30% longer), or none known: nothing decides it.
        outcomes['other person'] += resolve(P, x, w, tri, UNKNOWN, 0.3, 0.5, 30.0,
                                            1.3 * BONES)[1]
        outcomes['no bones'] += resolve(P, x, w, tri, UNKNOWN, 0.3, 0.5, 30.0)[1]
    assert outcomes == {'right': 14, 'other person': 0, 'no bones': 0, 'far': 0}


def test_a_joint_without_a_measured_neighbour_is_not_judged_by_bones():
    points = BODY[[WRIST]]
    valid = np.ones(17, dtype=bool)
    assert keeps_bones(points, WRIST, BODY, valid, BONES).tolist() == [True]
    assert keeps_bones(points + [0.0, 0.0, 0.2], WRIST, BODY, valid, BONES).tolist() == [False]
    valid[ELBOW] = False
    assert keeps_bones(points, WRIST, BODY, valid, BONES) is None
    assert keeps_bones(points, WRIST, BODY, np.ones(17, dtype=bool), np.full_like(BONES, np.nan)) \
        is None


def test_a_noise_floor_scaled_by_the_persons_size_admits_right_views_spread_beyond_it():
    x0 = np.array([cam.project(BODY) for cam in CAMERAS])
    size = person_sizes(x0[None], np.ones((1, 3, 17)))[0]
    assert 130.0 < size < 150.0                  # the crossing replay's people: 100-150 px
    kept, wrong = {}, {}
    for floor in (0.0, 0.02):
        kept[floor] = wrong[floor] = 0
        for seed in range(20):
            rng = np.random.default_rng(seed)
            # The body within 0.7 px, the wrist's three views 4 px apart (3% of the size): all
            # right, but beyond what the instant's estimate of ~0.8 px says a view may be off.
            x = x0 + rng.normal(0.0, 0.7, x0.shape)
            x[:, WRIST] += rng.normal(0.0, 4.0, (3, 2))
            associator = Associator(AssociationSettings(noise_floor=floor, resolve_m=0.0))
            for stamp in (0.0, 0.5):
                result = associator.step(stamp, [ViewDetections(cam, x[v][None], np.full(
                    (1, 17), 0.9)) for v, cam in enumerate(CAMERAS)])
            tri = result.people[0].triangulation
            if tri.valid[WRIST]:
                kept[floor] += 1
                wrong[floor] += np.linalg.norm(tri.points[WRIST] - BODY[WRIST]) > 0.15
        # Another person's wrist 45 px off in one view stays out at the floor (~2.8 px here).
        x, P, w, _ = instant_with_a_wrong_wrist(seed)
        tri = triangulate(P, x, w, ideal_pixels=True, max_std_m=0.12, human_checks=True,
                          min_noise_px=floor * size)
        assert not tri.valid[WRIST]
    assert kept == {0.0: 5, 0.02: 20} and wrong == {0.0: 0, 0.02: 0}
