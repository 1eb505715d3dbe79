# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Scoring several people: Hungarian matching, misses, false people, id switches, PCP."""

import numpy as np
import pytest

from mec_coop.eval.evaluation import PipelineScore
from mec_coop.eval.multi_person import match_people, mixed_labels, MultiPersonScore, pcp
from mec_coop.rig.virtual import Humanoid

BODY = Humanoid(0, actions=('stand',), start=(0.0, 0.0), heading=0.0).pose(0.0).joints
A, B = BODY + [-1.0, 0.0, 0.0], BODY + [1.0, 0.0, 0.0]


def test_match_people_pairs_by_mpjpe_and_drops_far_estimates():
    estimates = np.stack([B + 0.01, A + 0.02, A + [0.0, 3.0, 0.0]])
    estimates[1, :5] = np.nan   # missing joints do not count
    matches = match_people(np.stack([A, B]), estimates, max_match_m=0.5)
    assert [(g, e) for g, e, _ in matches] == [(0, 1), (1, 0)]
    assert matches[0][2] == pytest.approx(0.02 * np.sqrt(3))
    assert match_people(np.stack([A]), np.zeros((0, 17, 3))) == []


def test_summary_counts_misses_false_people_and_id_switches():
    score = MultiPersonScore(max_match_m=0.5)
    for k in range(10):
        t = 0.1 * k
        score.add_truth(t, np.stack([A, B]))
        # Ids swap between the people at instant 5 (two switches); instant 8 misses B and
        # has a ghost far from everyone.
        ids = [1, 2] if k < 5 else [2, 1]
        people = [A + 0.01, B + 0.01]
        if k == 8:
            ids, people = [ids[0], 9], [people[0], A + [0.0, 4.0, 0.0]]
        score.add_estimates(t + 0.003, ids, np.stack(people), mixed=[k == 2, False])
    s = score.summary()
    assert s['truth_people'] == 20 and s['matched'] == 19
    assert s['missed_people'] == 1 and s['false_people'] == 1
    assert s['id_switches'] == 2
    assert s['person_minutes'] == pytest.approx(20 * 0.1 / 60)
    assert s['id_switches_per_person_minute'] == pytest.approx(2 / (20 * 0.1 / 60))
    assert s['fused_from_different_people'] == 1
    assert s['mpjpe_mm'] == pytest.approx(10 * np.sqrt(3))
    assert s['pcp'] == 1.0 and s['track_ids'] == [1, 2, 9]


def test_one_person_numbers_equal_the_single_person_score():
    rng = np.random.default_rng(0)
    single, multi = PipelineScore(), MultiPersonScore()
    for k in range(6):
        est = A + rng.normal(0.0, 0.05, A.shape)
        est[k] = np.nan
        single.add_truth(k * 0.5, A)
        multi.add_truth(k * 0.5, A[None])
        single.add_skeleton(k * 0.5, est, end_to_end_s=0.1)
        multi.add_estimates(k * 0.5, [1], est[None])
    s, m = single.summary(), multi.summary()
    for key in ('mpjpe_mm', 'pck_150mm', 'joint_coverage'):
        assert m[key] == pytest.approx(s[key])


def test_pcp_counts_parts_whose_endpoints_are_off():
    assert pcp(A, A) == 1.0
    off = A.copy()
    off[9] += [0.0, 0.0, 1.0]        # left wrist 1 m off: the left forearm is wrong
    assert pcp(off, A) == pytest.approx(0.9)
    off[11] = np.nan                 # left hip missing: left thigh and left torso side wrong
    assert pcp(off, A) == pytest.approx(0.7)


def test_mixed_labels():
    labels = [np.array([0, 1]), np.array([1, 0, -1])]
    assert not mixed_labels(np.array([0, 1]), labels)
    assert mixed_labels(np.array([0, 0]), labels)
    assert mixed_labels(np.array([-1, 2]), labels)   # a false detection
    with pytest.raises(ValueError, match='mixed flags'):
        MultiPersonScore().add_estimates(0.0, [1, 2], np.zeros((2, 17, 3)), mixed=[True])


def test_detections_are_labelled_with_their_ground_truth_person():
    from mec_coop.eval.labels import DetectionLabels, label_detection
    from mec_coop.rig.virtual import make_cameras
    cam = make_cameras(4)[0]
    truth = np.stack([A, B])
    px = cam.project(truth) + np.random.default_rng(0).normal(0.0, 3.0, (2, 17, 2))
    assert label_detection(px[1], cam, truth) == 1
    assert label_detection(px[0] + 300.0, cam, truth) == -1     # nobody there: false
    labels = DetectionLabels()
    labels.add_report('cam0', 5.0, px)
    labels.add_report('cam0', 5.0, px[::-1])     # the edge model lists them the other way
    labels.add_report('cam1', 5.0, px)
    cams = {'cam0': cam, 'cam1': cam}.get
    truth_at = {5.0: truth}.get
    assert labels.check([('cam1', 5.0, 0)], cams, truth_at) == (False, 0, 0)
    assert labels.check([('cam1', 5.0, 0), ('cam1', 5.0, 1)], cams, truth_at)[0]
    assert labels.check([('cam0', 5.0, 0), ('cam2', 5.0, 0), ('cam1', 5.0, 0)], cams,
                        truth_at) == (False, 1, 1)


def test_settled_multi_person_summary_equals_the_whole_run_and_stays_bounded():
    rng = np.random.default_rng(2)
    settled, whole = MultiPersonScore(settle_s=2.0), MultiPersonScore(settle_s=1e6)
    in_flight = []
    for k in range(3000):
        t = round(0.1 * k, 3)
        truth = np.stack([A, B]) + rng.normal(0.0, 0.02, (2, 17, 3))
        for score in (settled, whole):
            score.add_truth(t, truth)
        if k >= 20 and rng.random() < 0.9:
            ids = [1, 2] if (k // 500) % 2 == 0 else [2, 1]     # a swap every 50 s
            people = truth + rng.normal(0.0, 0.03, truth.shape)
            keep = rng.random(2) < 0.9
            in_flight.append((k + 8, t + 0.003, [i for i, y in zip(ids, keep) if y],
                              people[keep], list(rng.random(int(keep.sum())) < 0.05)))
        while in_flight and in_flight[0][0] <= k:
            _, stamp, ids, people, mixed = in_flight.pop(0)
            for score in (settled, whole):
                score.add_estimates(stamp, ids, people, mixed)
    assert len(settled._window.truth) <= 22 and len(settled._window.estimates) <= 22
    got, want = settled.summary(299.0), whole.summary(299.0)
    assert want['id_switches'] >= 4 and want['missed_people'] > 0
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == (pytest.approx(value, rel=1e-9) if isinstance(value, float)
                            else value), key
