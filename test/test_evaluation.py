# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Scoring a pipeline run against ground truth."""

import numpy as np
import pytest

from mec_coop.eval.evaluation import PipelineScore


def test_summary_matches_by_stamp_and_ignores_instants_still_in_flight():
    score = PipelineScore(stamp_tolerance_s=0.01)
    gt = np.zeros((17, 3))
    for k in range(10):
        score.add_truth(k * 0.5, gt)
    for k in (0, 1, 2, 9):
        score.add_skeleton(k * 0.5 + 0.004, gt + (0.03, 0.04, 0.0), end_to_end_s=0.1 * (k + 1))
    score.add_skeleton(20.0, gt, end_to_end_s=0.1)   # no ground truth: not matched
    for route in ('keypoints', 'keypoints', 'offload', 'drop'):
        score.add_route(route)
    s = score.summary(delay_requirement_s=0.25, last_truth_stamp=4.0)
    assert s['ground_truth_frames'] == 9 and s['matched'] == 3
    assert s['skeleton_rate'] == pytest.approx(3 / 9)
    assert s['mpjpe_mm'] == pytest.approx(50.0)
    assert s['offload_ratio'] == pytest.approx(0.25)
    assert s['delay_within_requirement'] == pytest.approx(3 / 5)   # 0.1, 0.2 and 0.1 s
    # Instants 0 and 1 came within 0.25 s at 50 mm; 2 took 0.3 s; 3..8 were missed.
    assert s['success_rate'] == pytest.approx(2 / 9)
    assert score.summary(0.25, 4.0, success_mpjpe_mm=40.0)['success_rate'] == 0.0
    # Instants 0..2 are matched (50 mm); 3..8 hold the skeleton of instant 2 (50 mm too).
    assert s['mpjpe_all_instants_mm'] == pytest.approx(50.0)
    assert s['jitter_m_s2'] < 1e-3      # nearly still: one 50 mm step over 10 s
    with pytest.raises(ValueError, match='unknown route'):
        score.add_route('teleport')


def test_missed_instants_hold_the_last_skeleton():
    score = PipelineScore()
    for k in range(4):
        score.add_truth(float(k), np.full((17, 3), 0.1 * k))
    score.add_skeleton(0.0, np.zeros((17, 3)), end_to_end_s=0.1)   # then nothing: a frozen view
    s = score.summary()
    assert s['mpjpe_mm'] == pytest.approx(0.0)
    # errors 0, |0.1|, |0.2|, |0.3| * sqrt(3) per joint: a missing output never looks better.
    assert s['mpjpe_all_instants_mm'] == pytest.approx(1000 * np.sqrt(3) * 0.15)
    assert np.isnan(s['jitter_m_s2'])
