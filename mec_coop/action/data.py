# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Labelled skeleton sequences from the virtual rig, with the pipeline's errors added.

No image is rendered: the rig's ground truth (world joints, per-instant action labels, each
camera's projected keypoints and joint visibility) is sampled at ``fps`` and corrupted the way
the running pipeline corrupts it. The default error levels are the ones measured on the graph
(README, "Measured pipeline" and "Edge feedback"): 3D MPJPE ~50 mm, joint coverage ~0.92,
skeleton rate ~0.85 with more misses while a person lies on the floor (a lying person is often
not found; going down is not missed more, benchmarks/closed_loop.py); 2D median error 3-13 px,
joints hidden by furniture or outside the image missing.
The 3D error is temporally correlated (the edge filters its track), AR(1) per joint.
"""

from dataclasses import dataclass

import numpy as np

from mec_coop.action.features import torso_inclination
from mec_coop.rig.virtual import ACTIONS, VirtualRig


@dataclass(frozen=True)
class NoiseModel:
    """Errors of the skeletons the action models see (defaults: measured pipeline levels)."""

    sigma_3d_m: float = 0.030           # per axis; mean 3D error ~1.6 sigma = 48 mm
    correlation: float = 0.7            # AR(1) coefficient of the 3D error between skeletons
    joint_invalid: float = 0.08         # 3D joints flagged invalid
    skeleton_missing: float = 0.12      # instants without a skeleton
    # The same while a falling person lies: the cooperative loop replayed on the virtual rig
    # (benchmarks/closed_loop.py, seeds 0, 7, 11, 2, 3, 4 cameras, 2 fps; docs/figures/
    # closed_loop_falls.json) missed 61 of the 101 fall instants with the torso past 45 degrees,
    # 3 of the 41 within 45 degrees (going down, getting up) and 4.9% of the others (46, 2 and
    # 2.0% before the edge refused skeletons that do not have the person's bone lengths,
    # fusion/shape.py).
    lying_missing: float = 0.60
    # Joints flagged invalid in the lying skeletons it published: 234 of 680 (the others:
    # joint_invalid).
    lying_joint_invalid: float = 0.34
    # Torso inclination (rad) from which a falling person counts as lying; 0: the whole fall
    # episode (the assumption before that measurement).
    lying_inclination_rad: float = np.pi / 4
    sigma_2d_px: float = 5.0
    keypoint_missing: float = 0.05      # visible joints the camera model misses anyway
    detection_missing: float = 0.10     # camera frames where the person is not found


@dataclass
class Sequence:
    """
    One person's sampled sequence.

    ``stamps (T,)``, ``labels (T,)`` (index into ACTIONS),
    ``truth (T, 17, 3)``, noisy ``joints (T, 17, 3)`` (NaN = invalid) and ``present (T,)``
    (a 3D skeleton exists), per camera ``keypoints (V, T, 17, 2)`` (NaN = missing) and
    ``seen (V, T)`` (the camera reports the person), and the ground-truth ``episodes``
    ``(action, start, end)`` in seconds.
    """

    stamps: np.ndarray
    labels: np.ndarray
    truth: np.ndarray
    joints: np.ndarray
    present: np.ndarray
    keypoints: np.ndarray
    seen: np.ndarray
    episodes: list[tuple[str, float, float]]


def rig_sequence(seed: int, duration_s: float, fps: float, num_cameras: int = 4,
                 noise: NoiseModel = NoiseModel()) -> Sequence:
    """Sample ``duration_s`` seconds of rig ``seed`` at ``fps`` with ``noise`` (seeded too)."""
    rig = VirtualRig(num_cameras=num_cameras, seed=seed)
    rng = np.random.default_rng([seed, 16])
    stamps = np.arange(0.0, duration_s, 1.0 / fps)
    frames = [rig.frame(float(t)) for t in stamps]
    truth = np.array([f.joints_world[0] for f in frames])
    labels = np.array([ACTIONS.index(f.actions[0]) for f in frames])
    pixels = np.array([f.keypoints_2d[:, 0] for f in frames]).transpose(1, 0, 2, 3)
    visible = np.array([f.visibility[:, 0] for f in frames]).transpose(1, 0, 2)
    person = rig.people[0]
    episodes, start = [], 0.0
    while start < duration_s:
        ep = person.episode(start)
        episodes.append((ep.action, ep.start, ep.end))
        start = ep.end
    joints, present = corrupt_3d(truth, labels, rng, noise)
    keypoints, seen = _corrupt_2d(pixels, visible, rng, noise)
    return Sequence(stamps, labels, truth, joints, present, keypoints, seen, episodes)


def corrupt_3d(truth: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
               noise: NoiseModel = NoiseModel()) -> tuple[np.ndarray, np.ndarray]:
    """Edge-like skeletons of ground truth ``(T, 17, 3)``: ``(joints, present)``."""
    shape = truth.shape
    white = rng.normal(0.0, noise.sigma_3d_m, shape)
    error = np.empty(shape)
    error[0] = white[0]
    scale = np.sqrt(1.0 - noise.correlation ** 2)
    for i in range(1, len(truth)):
        error[i] = noise.correlation * error[i - 1] + scale * white[i]
    joints = truth + error
    lying = labels == ACTIONS.index('fall')
    if noise.lying_inclination_rad > 0.0:
        lying &= torso_inclination(truth) > noise.lying_inclination_rad
    invalid = np.where(lying, noise.lying_joint_invalid, noise.joint_invalid)[:, None]
    joints[rng.random(shape[:2]) < invalid] = np.nan
    rate = np.where(lying, noise.lying_missing, noise.skeleton_missing)
    missing = rng.random(len(truth)) < rate
    return joints, ~missing


def _corrupt_2d(pixels, visible, rng, noise):
    keypoints = pixels + rng.normal(0.0, noise.sigma_2d_px, pixels.shape)
    hidden = ~visible | (rng.random(visible.shape) < noise.keypoint_missing)
    keypoints[hidden] = np.nan
    # A camera reports the person when it is found and enough of it is visible (a negative
    # frame, paper A Sec. III: 40% of the joints hidden, is dropped by the thresholds).
    seen = (visible.mean(axis=2) > 0.6) & (rng.random(visible.shape[:2])
                                           >= noise.detection_missing)
    return keypoints, seen


def stream(sequence: Sequence, kind: str, camera: int = 0
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Return what a model receives: ``(points, stamps, labels)`` of instants with a skeleton.

    ``3d``: the edge's skeletons; ``2d``: camera ``camera``'s keypoints of the frames where
    it reports the person.
    """
    if kind == '3d':
        keep = sequence.present
        return sequence.joints[keep], sequence.stamps[keep], sequence.labels[keep]
    keep = sequence.seen[camera]
    return sequence.keypoints[camera][keep], sequence.stamps[keep], sequence.labels[keep]


def streams(sequences: list[Sequence], kind: str) -> list[tuple[np.ndarray, ...]]:
    """Every stream of ``sequences``: one per sequence (3D) or per sequence and camera (2D)."""
    return [stream(s, kind, v) for s in sequences
            for v in range(1 if kind == '3d' else len(s.seen))]
