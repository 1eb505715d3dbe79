# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Tests of cross-view matching and temporal offsets on a synthetic rig with known truth."""

import numpy as np

from mec_coop.geometry.triangulation import triangulate_cameras
from mec_coop.rig.recorded.offsets import _aligned, estimate_offsets, match_people

_BASE_POSE = np.array([
    (0.10, 0.00, 1.65), (0.08, 0.03, 1.68), (0.08, -0.03, 1.68), (0.00, 0.08, 1.65),
    (0.00, -0.08, 1.65), (0.00, 0.18, 1.45), (0.00, -0.18, 1.45), (0.00, 0.20, 1.15),
    (0.00, -0.20, 1.15), (0.05, 0.20, 0.90), (0.05, -0.20, 0.90), (0.00, 0.10, 0.95),
    (0.00, -0.10, 0.95), (0.02, 0.10, 0.50), (0.02, -0.10, 0.50), (0.00, 0.10, 0.08),
    (0.00, -0.10, 0.08)])


def _motion(times_s, seed=0):
    """(T, 17, 3) joints: a person walking a circle and swinging every joint."""
    rng = np.random.default_rng(seed)
    amp = rng.uniform(0.05, 0.25, (17, 3))
    freq = rng.uniform(0.8, 2.0, (17, 3))
    phase = rng.uniform(0, 2 * np.pi, (17, 3))
    t = np.asarray(times_s)[:, None, None]
    centre = np.stack([0.8 * np.cos(0.8 * t[:, 0, 0]), 0.8 * np.sin(0.8 * t[:, 0, 0]),
                       0 * t[:, 0, 0]], axis=-1)
    return _BASE_POSE + centre[:, None, :] + amp * np.sin(2 * np.pi * freq * t + phase)


def _detections(cams, joints, noise_px, rng, distractor=None):
    """Per camera, per frame (N, 17, 3) detections of people (T, 17, 3) arrays."""
    out = []
    for cam in cams:
        frames = []
        for f in range(joints.shape[0]):
            people = [joints[f]] + ([] if distractor is None else [distractor])
            dets = []
            for person in people:
                px = cam.project(person) + rng.normal(0, noise_px, (17, 2))
                dets.append(np.concatenate([px, np.full((17, 1), 0.9)], axis=1))
            # Detector order is arbitrary; the matcher must not rely on it.
            frames.append(np.stack(dets[::-1] if f % 2 else dets))
        out.append(frames)
    return out


def test_match_people_pairs_views_of_each_person(ring_cameras):
    cams = ring_cameras()
    rng = np.random.default_rng(3)
    a = _motion([0.0])
    b = _BASE_POSE + np.array([-1.2, 0.9, 0.0])
    dets = _detections(cams, a, 1.0, rng, distractor=b)
    people = match_people(cams, [d[0] for d in dets], max_people=3)
    assert len(people) == 2                      # no third, made-up person from leftovers
    for kp, err in people:
        assert err < 3.0
        tri = triangulate_cameras(cams, kp[..., :2], kp[..., 2])
        truth = min((a[0], b), key=lambda p: np.nanmean(np.linalg.norm(tri.points - p, axis=-1)))
        assert np.nanmax(np.linalg.norm(tri.points - truth, axis=-1)) < 0.03


def test_estimate_offsets_recovers_known_shifts(ring_cameras):
    cams = ring_cameras()
    truth = [0, 3, -4, 0]
    frames, margin = 60, 10
    joints = _motion((np.arange(frames + 2 * margin) - margin) / 60.0)
    rng = np.random.default_rng(4)
    full = _detections(cams, joints, 1.0, rng, distractor=_BASE_POSE + (-1.5, 1.0, 0.0))
    # Source frame k of camera v shows timeline instant k - truth[v].
    dets = [[full[v][k - truth[v] + margin] for k in range(frames)] for v in range(4)]
    result = estimate_offsets(cams, dets, max_offset=8, max_people=2)
    assert result.offsets == dict(zip([c.name for c in cams], truth))
    assert result.error_best < 1.5 and result.error_best < 0.75 * result.error_zero
    rig_like = _aligned(dets, truth)
    assert len(rig_like) == frames - 7
