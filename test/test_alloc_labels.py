# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Label-free frame labels against the virtual rig's ground truth, and audit offloads."""

import numpy as np
import pytest
from scipy.stats import ks_2samp

from mec_coop.alloc.labels import AmbiguousShare, label_frame, LabelRule
from mec_coop.coop.routing import AuditSampler
from mec_coop.rig.virtual.rig import VirtualRig


def _detection(rng, frame, v, hit_rate, noise_px=4.0):
    """Return what a pose model reports in view ``v``: joints near their projection."""
    visible = frame.visibility[v, 0]
    if frame.visible_fraction[v, 0] < 0.2 or rng.random() > hit_rate:
        return []
    pixels = frame.keypoints_2d[v, 0] + rng.normal(0.0, noise_px, (17, 2))
    pixels[~visible] += rng.normal(0.0, 60.0, (int((~visible).sum()), 2))  # guessed joints
    confidences = np.where(visible, rng.uniform(0.6, 0.95, 17), rng.uniform(0.0, 0.4, 17))
    return [(pixels, confidences)]


def _run(seed=5, instants=150, audit=0.1):
    """
    Label every view of a synthetic run; return (label-free, imputed, truth, scores) per frame.

    ``imputed`` draws the labels :func:`label_frame` leaves open (:class:`AmbiguousShare`).
    """
    rig = VirtualRig(num_cameras=4, seed=seed)
    rng = np.random.default_rng(seed)
    labels, imputed, truth, scores = [], [], [], []
    ambiguous = AmbiguousShare()
    for k in range(instants):
        frame = rig.frame(0.5 * k)
        found = [_detection(rng, frame, v, 0.9) for v in range(4)]
        views = frame.visibility[:, 0].sum(axis=0)  # views that see each joint
        joints = frame.joints_world[0] + rng.normal(0.0, 0.03, (17, 3))
        joints[views < 2] = np.nan
        for v, cam in enumerate(rig.cameras):
            edge = _detection(rng, frame, v, 0.98) if rng.random() < audit else None
            contributed = bool(found[v]) and frame.positive[v]
            label = label_frame(cam, joints, views, contributed, found[v], edge)
            if edge is not None and label_frame(cam, joints, views, contributed, found[v],
                                                None) is None:
                ambiguous.observe(label)
            labels.append(label)
            imputed.append(ambiguous.draw() if label is None else label)
            truth.append(bool(frame.positive[v]))
            # The camera's frame score: high when it found the person, low otherwise.
            scores.append(rng.beta(6, 1.5) if found[v] else rng.beta(1.2, 6))
    return (np.array(labels, dtype=object), np.array(imputed), np.array(truth),
            np.array(scores))


def test_label_free_labels_agree_with_the_ground_truth():
    labels, _, truth, _ = _run()
    known = np.array([label is not None for label in labels])
    assert known.mean() > 0.8                       # most frames get a label
    agree = np.array([label == t for label, t in zip(labels[known], truth[known])])
    assert agree.mean() > 0.95
    assert truth.mean() > 0.3 and (~truth).mean() > 0.05   # both classes occur


def test_label_free_score_laws_are_close_to_the_ground_truth_ones():
    labels, imputed, truth, scores = _run(instants=300)
    known = np.array([label is not None for label in labels])
    positive = np.array([bool(label) for label in labels])

    def ks(pos, neg):
        return (ks_2samp(scores[pos], scores[truth]).statistic,
                ks_2samp(scores[neg], scores[~truth]).statistic)

    # Labelled frames only: the frames nobody found (the low scores) are missing from both laws.
    left_out = ks(known & positive, known & ~positive)
    # With the open frames labelled at the audited share the laws are unbiased.
    drawn = ks(imputed, ~imputed)
    print(f'KS distance to the ground-truth laws (X+, X-): labelled only '
          f'{left_out[0]:.3f}, {left_out[1]:.3f}; with audited-share labels '
          f'{drawn[0]:.3f}, {drawn[1]:.3f}')
    assert drawn[0] < 0.05 and drawn[1] < 0.1
    assert drawn[0] < left_out[0] and drawn[1] < left_out[1]


def test_a_view_is_not_confirmed_by_a_skeleton_it_made_alone():
    rig = VirtualRig(num_cameras=4, seed=2)
    frame = next(f for f in (rig.frame(0.5 * k) for k in range(40)) if f.positive.all())
    cam = rig.cameras[0]
    found = [(frame.keypoints_2d[0, 0], np.full(17, 0.9))]
    # Two views, this one among them: no other view supports any joint.
    assert label_frame(cam, frame.joints_world[0], np.full(17, 2), True, found, None) is None
    assert label_frame(cam, frame.joints_world[0], np.full(17, 3), True, found, None) is True
    # Out of view: negative whatever the camera claims.
    away = 2.0 * cam.center - frame.joints_world[0]   # mirrored behind the camera
    assert label_frame(cam, away, np.full(17, 3), False, found, None) is False
    # In view but the edge found nobody there: hidden, negative; the camera alone: unknown.
    assert label_frame(cam, frame.joints_world[0], np.full(17, 3), False, [], []) is False
    assert label_frame(cam, frame.joints_world[0], np.full(17, 3), False, [], None) is None


def test_label_rule_rejects_nonsense():
    with pytest.raises(ValueError):
        LabelRule(negative_fraction=1.0)
    with pytest.raises(ValueError):
        LabelRule(tolerance_px=0.0)


def test_audits_happen_at_the_set_rate_and_differ_between_cameras():
    sampler = AuditSampler('cam0')
    rate = np.mean([sampler.draw(0.05) for _ in range(20_000)])
    # Binomial: sd = sqrt(0.05 * 0.95 / 20000) = 0.0015.
    assert rate == pytest.approx(0.05, abs=0.005)
    assert _draws('cam0', 50) == _draws('cam0', 50)   # repeatable run to run
    assert _draws('cam0', 50) != _draws('cam1', 50)   # cameras audit different instants
    assert not any(AuditSampler('cam0').draw(0.0) for _ in range(100))


def _draws(cam, n):
    sampler = AuditSampler(cam)
    return [sampler.draw(0.5) for _ in range(n)]
