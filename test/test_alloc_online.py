# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The allocator's score laws from data: samples files, labelled run-time samples, windows."""

import numpy as np
import pytest

from mec_coop.alloc.online import CameraScores, StampJoin
from mec_coop.alloc.scores import ASSUMED_PI, load_samples


def test_join_pairs_samples_and_labels_in_either_order():
    join = StampJoin(max_pending=2)
    assert join.add_sample((1, 0), 'cam0', 'device', 0.9) == []
    assert join.add_labels((1, 0), {'cam0': True, 'cam1': False}) == [
        ('cam0', 'device', 0.9, True)]
    assert join.add_sample((1, 0), 'cam1', 'server', 0.1) == [('cam1', 'server', 0.1, False)]
    # A camera the ground truth does not list, and samples whose label never comes.
    assert join.add_sample((1, 0), 'cam9', 'device', 0.5) == []
    for k in range(3):
        join.add_sample((2 + k, 0), 'cam0', 'device', 0.5)
    assert join.unlabelled == 2
    with pytest.raises(ValueError):
        join.add_sample((9, 0), 'cam0', 'camera', 0.5)


def test_scores_start_from_the_prior_and_follow_the_window():
    scores = CameraScores.assumed(window=10, num_points=256)
    assert scores.pi == pytest.approx(ASSUMED_PI)
    for _ in range(5):
        scores.add('device', True, 0.99)
    # Half the window is real labels (all positive), half the prior's share.
    assert scores.pi == pytest.approx((5 * ASSUMED_PI + 5) / 10)
    for _ in range(10):
        scores.add('device', False, 0.01)
        scores.add('server', False, 0.02)
    assert scores.pi == 0.0
    model = scores.camera_model(gain_db=-90.0)
    assert model.gain_db == -90.0 and model.pi == 0.0
    assert model.x_neg(0.5) == 1.0 and model.y_neg(0.5) == 1.0     # window holds only 0.01/0.02
    assert model.x_pos.size == 10 and model.x_pos(0.99) == 0.5      # 5 prior, 5 real scores
    assert dict(scores.added) == {'x_pos': 5, 'x_neg': 10, 'y_neg': 10}


def test_samples_file_per_camera_overrides_pooled(tmp_path):
    path = tmp_path / 'scores.npz'
    pooled = {'x_pos': [0.8, 0.9, 0.7], 'x_neg': [0.1], 'y_pos': [0.95], 'y_neg': [0.05]}
    np.savez(path, **pooled, **{'cam1/x_pos': [0.6, 0.6], 'cam1/pi': 0.3})
    samples = load_samples(path, ['cam0', 'cam1'])
    np.testing.assert_array_equal(samples['cam0']['x_pos'], pooled['x_pos'])
    np.testing.assert_array_equal(samples['cam1']['x_pos'], [0.6, 0.6])
    assert CameraScores.from_samples(samples['cam0']).pi == pytest.approx(0.75)   # 3 of 4
    assert CameraScores.from_samples(samples['cam1']).pi == pytest.approx(0.3)
    np.savez(path, x_pos=[0.5], x_neg=[0.5], y_pos=[])
    with pytest.raises(ValueError, match='y_neg'):
        load_samples(path, ['cam0'])
