# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The camera's fallback rules between the edge's crop and the full frame."""

import numpy as np
import pytest

from mec_coop.coop.feedback import Choice, infer, RoiPolicy
from mec_coop.pose.backend import PoseBackend, PoseEstimate
from mec_coop.pose.roi import Roi


def test_full_frame_without_feedback():
    policy = RoiPolicy()
    assert [policy.choose(t)[0] for t in (0.0, 0.5, 1.0)] == [Choice.NO_PRIOR] * 3


def test_fresh_prior_is_used_and_stale_one_is_not():
    policy = RoiPolicy(max_age_s=0.3, full_frame_every=0)
    policy.offer(1.0, 'crop for 1.0')
    assert policy.choose(1.0) == (Choice.ROI, 'crop for 1.0')
    assert policy.choose(1.25) == (Choice.ROI, 'crop for 1.0')
    assert policy.choose(1.5) == (Choice.STALE, None)
    # The edge predicts two capture times ahead: each frame takes the nearest prediction.
    policy.offer(2.0, 'crop for 2.0')
    policy.offer(1.5, 'crop for 1.5')
    assert policy.choose(1.5) == (Choice.ROI, 'crop for 1.5')
    assert policy.choose(2.05) == (Choice.ROI, 'crop for 2.0')


def test_every_nth_frame_is_a_full_frame():
    policy = RoiPolicy(max_age_s=10.0, full_frame_every=4)
    policy.offer(0.0, 'crop')
    chosen = [policy.choose(0.1 * k) for k in range(8)]
    choices = [choice for choice, _ in chosen]
    assert choices.count(Choice.PERIODIC) == 2
    assert choices[3] is choices[7] is Choice.PERIODIC
    # The crop runs on periodic frames too (merged with the full frame by the camera node).
    assert [prior for _, prior in chosen] == ['crop'] * 8


def test_frames_without_a_crop_that_would_be_dropped_are_searched_every_nth():
    policy = RoiPolicy(search_every=3)
    searched = [policy.search(Choice.NO_PRIOR, dropped=True) for _ in range(6)]
    assert searched == [False, False, True, False, False, True]
    # Frames the thresholds keep, and frames that had a crop, are never searches.
    assert not any(policy.search(choice, dropped=dropped) for choice, dropped in (
        (Choice.NO_PRIOR, False), (Choice.ROI, True), (Choice.PERIODIC, True)) * 3)
    assert policy.search(Choice.STALE, dropped=True) is False       # the 7th uncropped drop
    assert not any(RoiPolicy(search_every=0).search(Choice.STALE, True) for _ in range(5))


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError, match='max_age_s'):
        RoiPolicy(max_age_s=float('nan'))
    with pytest.raises(ValueError, match='full_frame_every'):
        RoiPolicy(full_frame_every=-1)
    with pytest.raises(ValueError, match='search_every'):
        RoiPolicy(search_every=-1)


class ScriptedModel(PoseBackend):
    """A pose model whose answers the test scripts: full frame, then crop answers in order."""

    def __init__(self, full, crops):
        self.full, self.crops, self.crop_calls = full, list(crops), []

    def predict(self, image_bgr):
        return self.full

    def predict_roi(self, image_bgr, rois):
        self.crop_calls.append(list(rois))
        return self.crops.pop(0)


def person(x0, box_score, shift=0.0):
    keypoints = np.stack([np.full(17, x0 + 50.0 + shift), np.linspace(100, 400, 17)], axis=-1)
    return PoseEstimate(np.array([[x0, 90.0, x0 + 100.0, 410.0]]), np.array([box_score]),
                        keypoints[None], np.full((1, 17), 0.9))


def test_periodic_frames_keep_the_crops_person_and_add_new_ones():
    tracked_in_crop, tracked_in_full, newcomer = person(700, 0.6), person(700, 0.9, 8.0), \
        person(100, 0.8)
    full = PoseEstimate.merge([tracked_in_full, newcomer])
    model = ScriptedModel(full, [tracked_in_crop])
    roi = Roi(650, 50, 400, 1280, 720)
    estimate, predicted = infer(model, np.zeros((720, 1280, 3), np.uint8), Choice.PERIODIC,
                                ([roi], 'predicted'), {'roi_retry': 0, 'roi_miss': 0})
    # The full frame scores the tracked person's box higher, but the crop's keypoints stay.
    assert estimate.num_people == 2 and predicted == 'predicted'
    kept = int(np.argmax(estimate.boxes[:, 0]))
    assert np.array_equal(estimate.keypoints[kept], tracked_in_crop.keypoints[0])


def test_a_crop_that_misses_is_retried_wider_and_then_the_frame_has_nobody():
    counts = {'roi_retry': 0, 'roi_miss': 0}
    roi = Roi(600, 200, 200, 1280, 720)
    image = np.zeros((720, 1280, 3), np.uint8)
    model = ScriptedModel(person(100, 0.8), [PoseEstimate.empty(), person(600, 0.7)])
    estimate, predicted = infer(model, image, Choice.ROI, ([roi], 'p'), counts)
    assert model.crop_calls[1] == [roi.widened(1.3)] and model.crop_calls[1][0].size == 260
    assert estimate.boxes[0, 0] == 600 and predicted == 'p'
    assert counts == {'roi_retry': 1, 'roi_miss': 0}
    # Both miss: nobody, and no full frame (the person the full frame would find is elsewhere;
    # the periodic full frames look there).
    model = ScriptedModel(person(100, 0.8), [PoseEstimate.empty(), PoseEstimate.empty()])
    estimate, predicted = infer(model, image, Choice.ROI, ([roi], 'p'), counts)
    assert estimate.num_people == 0 and predicted is None
    assert counts == {'roi_retry': 2, 'roi_miss': 1}


def test_people_outside_the_crops_make_the_next_frames_full_frames_too():
    # One full frame in ten never shows a new person on the two consecutive instants the edge
    # needs to confirm a track: after a full frame found someone no crop holds, the next
    # follow_up frames run the full frame as well.
    policy = RoiPolicy(max_age_s=10.0, full_frame_every=5, follow_up=2)
    policy.offer(0.0, ([Roi(650, 50, 400, 1280, 720)], 'predicted'))
    model = ScriptedModel(PoseEstimate.merge([person(700, 0.9), person(100, 0.8)]),
                          [person(700, 0.6)] * 12)
    image, counts = np.zeros((720, 1280, 3), np.uint8), {'roi_retry': 0, 'roi_miss': 0}
    choices = []
    for k in range(12):
        estimate, _, choice = policy.infer(model, image, 0.1 * k, counts)
        choices.append(choice)
        assert estimate.num_people == (2 if choice is Choice.PERIODIC and k <= 6 else 1)
        if k == 6:   # the edge tracks the newcomer now: its crop holds them, nobody is new
            model.full = person(700, 0.9)
    periodic = [k for k, c in enumerate(choices) if c is Choice.PERIODIC]
    # Frame 4 (periodic) found the newcomer: 5 and 6 follow up; 6 still found them (the full
    # frame answer changes after it), so 7 and 8 follow up; then every 5th frame only (9).
    assert periodic == [4, 5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match='follow_up'):
        RoiPolicy(follow_up=-1)


def test_a_miss_is_retried_wider_only_after_a_crop_that_found_someone():
    # A person hidden where the track says misses frame after frame: the wider crop is the
    # flicker's remedy, not occlusion's, and costs an inference each time.
    counts = {'roi_retry': 0, 'roi_miss': 0, 'roi_used': 0}
    image = np.zeros((720, 1280, 3), np.uint8)
    policy = RoiPolicy(full_frame_every=0)
    policy.offer(1.0, ([Roi(600, 200, 200, 1280, 720)], 'p'))
    nobody = PoseEstimate.empty()
    # Found; missed and found wider; missed twice (hidden); missed (no retry); found; missed.
    model = ScriptedModel(nobody, [person(600, 0.7), nobody, person(600, 0.7), nobody, nobody,
                                   nobody, person(600, 0.7), nobody, nobody])
    found = [policy.infer(model, image, 1.0, counts)[1] is not None for _ in range(6)]
    assert found == [True, True, False, False, True, False]
    # Retried after the first find, after the wider find and after the last find; not in
    # frame 4, after a frame where even the wider crop missed.
    assert len(model.crop_calls) == 9
    assert counts['roi_retry'] == 3 and counts['roi_miss'] == 3
