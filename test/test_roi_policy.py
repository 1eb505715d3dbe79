# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The camera's fallback rules between the edge's crop and the full frame."""

import pytest

from mec_coop.coop.feedback import Choice, RoiPolicy


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
