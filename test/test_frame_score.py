# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Frame scores: the paper's frame confidence and the scores that rank frames by 2D error."""

import numpy as np
import pytest

from mec_coop.pose.backend import PoseEstimate
from mec_coop.pose.frame_score import (agreement, flag_auc, frame_score, FRAME_SCORES,
                                       select_person)

# A person 160 px tall: keypoints on a vertical line at x = 600 from y = 200 to 360.
PREDICTED = np.stack([np.full(17, 600.0), np.linspace(200.0, 360.0, 17)], axis=1)


def person(joint_conf, box_score, offset=(0.0, 0.0), moved=0):
    """Return an estimate of one person at PREDICTED + offset with ``moved`` joints 100 px off."""
    kp = PREDICTED + np.asarray(offset)
    kp[:moved, 0] += 100.0
    box = [kp[:, 0].min() - 20, kp[:, 1].min(), kp[:, 0].max() + 20, kp[:, 1].max()]
    return PoseEstimate([box], [box_score], kp[None], np.full((1, 17), joint_conf))


def test_paper_score_is_the_existing_frame_confidence():
    est = person(0.8, 0.3)
    assert frame_score(est, 'paper') == pytest.approx(est.frame_confidence()) == 0.8
    assert frame_score(est) == 0.8   # the paper's score stays the default
    assert frame_score(est, 'paper', PREDICTED) == 0.8


@pytest.mark.parametrize('name', sorted(FRAME_SCORES))
def test_nobody_found_scores_zero(name):
    assert frame_score(PoseEstimate.empty(), name, PREDICTED) == 0.0
    assert frame_score(PoseEstimate.empty(), name) == 0.0


def test_joints_box_ranks_a_weak_detection_below_a_clear_one():
    clear, weak = person(0.85, 0.9), person(0.45, 0.08)   # weak: a half-hidden person
    assert frame_score(clear, 'joints_box') == pytest.approx(np.sqrt(0.85 * 0.9))
    assert frame_score(weak, 'joints_box') == pytest.approx(0.19, abs=0.005)
    # The paper score leaves the weak detection at a fair 0.45.
    assert frame_score(weak, 'paper') == pytest.approx(0.45)
    assert frame_score(clear, 'joints_box') > 0.85 > frame_score(weak, 'joints_box') * 4


def test_track_agreement_ranks_by_distance_from_the_track():
    # Equally confident, increasingly wrong: 0, 4 and 12 of 17 joints 100 px off the track.
    scores = [frame_score(person(0.9, 0.9, moved=m), 'track_agreement', PREDICTED)
              for m in (0, 4, 12)]
    np.testing.assert_allclose(scores, 0.9 * np.array([1.0, 13 / 17, 5 / 17]))
    # 20 px of offset is within 0.2 x 160 px: the track's own error is not held against a view.
    assert frame_score(person(0.9, 0.9, (12.0, -16.0)), 'track_agreement', PREDICTED) == 0.9
    off = person(0.9, 0.9, (30.0, 30.0))   # 42 px off
    assert frame_score(off, 'track_agreement', PREDICTED) == 0.0
    # An edge that states a 25 px prediction error widens the radius to 50 px.
    assert frame_score(off, 'track_agreement', PREDICTED, prediction_error_px=25.0) == 0.9
    assert frame_score(off, 'track_agreement', PREDICTED, tolerance=0.3) == 0.9
    # Without a prediction it is joints_box.
    assert frame_score(person(0.9, 0.9, moved=12), 'track_agreement') == pytest.approx(0.9)


def test_agreement_ignores_unknown_joints():
    predicted = PREDICTED.copy()
    predicted[:5] = np.nan
    kp = PREDICTED.copy()
    kp[:5] += 500.0   # far off, but where the prediction knows nothing
    assert agreement(kp, predicted) == 1.0
    assert agreement(kp, np.full((17, 2), np.nan)) == 0.0


def test_the_person_on_the_track_is_chosen_over_a_more_confident_bystander():
    on_track = person(0.6, 0.8)
    bystander = person(0.95, 0.95, offset=(400.0, 0.0))
    est = PoseEstimate.merge([bystander, on_track])
    assert est.best() == 0 and select_person(est, PREDICTED) == 1
    assert select_person(est) == 0 and select_person(PoseEstimate.empty(), PREDICTED) == -1
    assert frame_score(est, 'track_agreement', PREDICTED) == pytest.approx(np.sqrt(0.6 * 0.8))
    assert frame_score(est, 'paper', PREDICTED) == pytest.approx(0.95)


def test_unknown_score_names_are_rejected():
    with pytest.raises(ValueError, match="unknown frame score 'oks'"):
        frame_score(person(0.9, 0.9), 'oks')


def test_flag_auc_counts_ordered_pairs_and_ties():
    errors = [2.0, 4.0, 30.0, np.inf]   # the last two are bad (> 10 px; inf: nobody found)
    assert flag_auc([0.9, 0.8, 0.2, 0.0], errors) == 1.0
    assert flag_auc([0.0, 0.2, 0.8, 0.9], errors) == 0.0
    assert flag_auc([0.8, 0.8, 0.8, 0.0], errors) == 0.75   # a tie counts one half
    assert np.isnan(flag_auc([0.9, 0.8], [1.0, 2.0]))
    assert flag_auc([0.9, 0.1], [9.0, 11.0], threshold_px=10.0) == 1.0


def test_several_people_route_on_the_least_confident_person_above_theta_low():
    from mec_coop.coop.routing import Route, Thresholds
    clear, weak = person(0.9, 0.9), person(0.4, 0.1, offset=(300.0, 0.0))
    est = PoseEstimate.merge([clear, weak])
    tracked = np.stack([PREDICTED, PREDICTED + [300.0, 0.0]])
    gone = np.stack([PREDICTED, PREDICTED + [0.0, 900.0]])  # a tracked person not in the frame
    low = Thresholds(0.3, 0.7)
    # The earlier rule: the weak person (0.2) drops the frame with the clear one in it.
    assert frame_score(est, 'joints_box', tracked) == pytest.approx(0.2)
    assert low.route(frame_score(est, 'joints_box', tracked)) is Route.DROP
    # Per person: the weak one is left out, the clear one's keypoints are sent.
    kept = frame_score(est, 'joints_box', tracked, floor=low.theta_low)
    assert kept == pytest.approx(0.9) and low.route(kept) is Route.KEYPOINTS
    assert frame_score(est, 'track_agreement', gone) == 0.0
    assert frame_score(est, 'track_agreement', gone, floor=0.3) == pytest.approx(0.9)
    # A person between the thresholds still sends the frame to the edge model.
    fair = PoseEstimate.merge([clear, person(0.5, 0.5, offset=(300.0, 0.0))])
    assert frame_score(fair, 'joints_box', tracked, floor=0.3) == pytest.approx(0.5)
    # Everyone below theta_low: dropped, scored as the best of them.
    both_weak = PoseEstimate.merge([person(0.4, 0.2), weak])
    assert frame_score(both_weak, 'joints_box', tracked, floor=0.3) == pytest.approx(
        np.sqrt(0.08))
