# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Transparent features of the last m skeletons, and their multiply-accumulate count.

Per frame, a few body quantities that name what they measure (3D: heights above the floor in
metres, wrist height above the shoulders, arm reach, torso inclination, knee bend; 2D: the same
in the camera's image, scaled by the person's size in pixels). A window of m frames gives a
fixed-length vector: the last frame's values, the window's mean, min and max, and velocities
(per second, from the stamps, so missing skeletons do not distort them). Invalid joints are NaN
in the input; a quantity that needs them is carried over from the previous frame in the window,
and the fraction of missing values is itself a feature. m = 1 is allowed (no velocities).
"""

import warnings

import numpy as np

from mec_coop.geometry.skeleton import JOINT_INDEX as J

_SH = [J['left_shoulder'], J['right_shoulder']]
_HIP = [J['left_hip'], J['right_hip']]
_WR = [J['left_wrist'], J['right_wrist']]
_KN = [J['left_knee'], J['right_knee']]
_AN = [J['left_ankle'], J['right_ankle']]
_NOSE = J['nose']

FRAME_FEATURES_3D = ('nose_z', 'shoulder_z', 'hip_z', 'wrist_z_max', 'wrist_z_min', 'knee_z',
                     'ankle_z', 'wrist_above_shoulder_max', 'wrist_above_shoulder_min',
                     'wrist_reach', 'torso_inclination', 'knee_bend', 'horizontal_extent',
                     'vertical_extent', 'missing')
FRAME_FEATURES_2D = ('nose_y', 'shoulder_y', 'wrist_y_max', 'wrist_y_min', 'knee_y', 'ankle_y',
                     'wrist_reach', 'torso_inclination', 'knee_bend', 'aspect', 'missing')


def _quiet(function):
    """Run ``function`` allowing all-NaN slices: a missing joint pair gives NaN, filled later."""
    def wrapped(*args, **kwargs):
        with warnings.catch_warnings(), np.errstate(invalid='ignore', divide='ignore'):
            warnings.simplefilter('ignore', RuntimeWarning)
            return function(*args, **kwargs)
    wrapped.__doc__, wrapped.__name__ = function.__doc__, function.__name__
    return wrapped


def _nanmean(a, axis):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)
        return np.nanmean(a, axis=axis)


def _angle(a, b, c):
    """Angle at ``b`` (rad) of the segments to ``a`` and ``c``; pi = straight."""
    u, v = a - b, c - b
    cos = np.sum(u * v, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return np.arccos(np.clip(cos, -1.0, 1.0))


def torso_inclination(joints: np.ndarray) -> np.ndarray:
    """Angle (rad) of the torso (hip centre to shoulder centre) from the vertical: ``(...)``."""
    j = np.asarray(joints, dtype=np.float64)
    axis = _nanmean(j[..., _SH, :], -2) - _nanmean(j[..., _HIP, :], -2)
    return np.arccos(np.clip(axis[..., 2] / np.linalg.norm(axis, axis=-1), -1.0, 1.0))


@_quiet
def frame_features_3d(joints: np.ndarray) -> np.ndarray:
    """Per-frame 3D features ``(T, 15)`` of world joints ``(T, 17, 3)`` (z up, metres)."""
    j = np.asarray(joints, dtype=np.float64).reshape(-1, 17, 3)
    sh, hip = _nanmean(j[:, _SH], 1), _nanmean(j[:, _HIP], 1)
    wrist_z = j[:, _WR, 2]
    inclination = torso_inclination(j)
    # Horizontal distance of each wrist from the torso axis line through the shoulders.
    reach = np.linalg.norm(j[:, _WR, :2] - sh[:, None, :2], axis=2)
    knee = _nanmean(_angle(j[:, _HIP], j[:, _KN], j[:, _AN]), 1)
    horizontal = np.nanmax(j[..., :2], axis=1) - np.nanmin(j[..., :2], axis=1)
    above = wrist_z - sh[:, None, 2]
    return np.column_stack([
        j[:, _NOSE, 2], sh[:, 2], hip[:, 2], np.nanmax(wrist_z, 1), np.nanmin(wrist_z, 1),
        _nanmean(j[:, _KN, 2], 1), _nanmean(j[:, _AN, 2], 1), np.nanmax(above, 1),
        np.nanmin(above, 1), np.nanmax(reach, 1), inclination, np.pi - knee,
        np.linalg.norm(horizontal, axis=1), np.nanmax(j[..., 2], 1) - np.nanmin(j[..., 2], 1),
        np.isnan(j[..., 0]).mean(axis=1)])


@_quiet
def frame_features_2d(keypoints: np.ndarray) -> np.ndarray:
    """
    Per-frame 2D features ``(T, 11)`` of image keypoints ``(T, 17, 2)`` (pixels, y down).

    Positions are relative to the hip centre, upwards positive, divided by the person's size
    (the larger side of the keypoints' box), so they do not depend on the distance to the
    camera; ``aspect`` (box width / height) grows when the person lies down.
    """
    k = np.asarray(keypoints, dtype=np.float64).reshape(-1, 17, 2)
    lo, hi = np.nanmin(k, axis=1), np.nanmax(k, axis=1)
    width, height = hi[:, 0] - lo[:, 0], hi[:, 1] - lo[:, 1]
    size = np.maximum(np.fmax(width, height), 1.0)
    hip = _nanmean(k[:, _HIP], 1)
    rel = (k - hip[:, None]) / size[:, None, None]
    up = -rel[..., 1]
    sh = _nanmean(rel[:, _SH], 1)
    inclination = np.arctan2(np.abs(sh[:, 0]), -sh[:, 1])
    reach = np.abs(rel[:, _WR, 0] - sh[:, None, 0])
    knee = _nanmean(_angle(k[:, _HIP], k[:, _KN], k[:, _AN]), 1)
    return np.column_stack([
        up[:, _NOSE], -sh[:, 1], np.nanmax(up[:, _WR], 1), np.nanmin(up[:, _WR], 1),
        _nanmean(up[:, _KN], 1), _nanmean(up[:, _AN], 1), np.nanmax(reach, 1), inclination,
        np.pi - knee, width / np.maximum(height, 1.0), np.isnan(k[..., 0]).mean(axis=1)])


@_quiet
def body_size_2d(keypoints: np.ndarray) -> np.ndarray:
    """Person size ``(T,)`` in pixels: the larger side of the keypoints' box (NaN if none)."""
    k = np.asarray(keypoints, dtype=np.float64).reshape(-1, 17, 2)
    return np.fmax(*(np.nanmax(k, axis=1) - np.nanmin(k, axis=1)).T)


def _forward_fill(values):
    """Carry finite values forward along axis 1 of ``(N, m, F)``; leading gaps take the first."""
    finite = np.isfinite(values)
    steps = np.arange(values.shape[1])[None, :, None]
    index = np.maximum.accumulate(np.where(finite, steps, 0), axis=1)
    first = np.argmax(finite, axis=1)[:, None, :]
    index = np.where(steps < first, first, index)
    filled = np.take_along_axis(values, index, axis=1)
    return np.where(np.isfinite(filled), filled, 0.0)


def window_features(frames: np.ndarray, centres: np.ndarray, stamps: np.ndarray,
                    scales: np.ndarray | None = None) -> np.ndarray:
    """
    Fixed-length vectors ``(N, (m + 2) F + 4m - 2)`` of N windows of m frames (oldest first).

    ``frames (N, m, F)`` per-frame features, ``centres (N, m, d)`` the tracked body point (hip
    centre) whose last coordinate points up, ``stamps (N, m)`` seconds, ``scales (N, m)``
    optional sizes that velocities are divided by (2D: the person's size in pixels). Returns,
    newest first: every frame's features, the window's min and max of each feature, the
    horizontal speed and vertical velocity between consecutive frames, and each frame's age
    (seconds before the newest). Newest first, so that the same input position means the same
    lag for every m.
    """
    frames = _forward_fill(np.asarray(frames, dtype=np.float64))
    centres = _forward_fill(np.asarray(centres, dtype=np.float64))
    stamps = np.asarray(stamps, dtype=np.float64)
    n, m = stamps.shape
    dt = np.maximum(np.diff(stamps, axis=1), 1e-3)[..., None]
    velocity = np.diff(centres, axis=1) / dt
    if scales is not None:
        scale = _forward_fill(np.asarray(scales, dtype=np.float64)[..., None]).mean(axis=1)
        velocity = velocity / np.maximum(scale, 1.0)[:, None, :]
    horizontal = np.linalg.norm(velocity[..., :-1], axis=2)
    return np.concatenate([frames[:, ::-1].reshape(n, -1), frames.min(1), frames.max(1),
                           horizontal[:, ::-1], velocity[:, ::-1, -1],
                           stamps[:, -1:] - stamps[:, ::-1]], axis=1)


def hip_centres(points: np.ndarray) -> np.ndarray:
    """Hip centre ``(T, d)`` of joints ``(T, 17, d)`` (NaN where both hips are invalid)."""
    return _nanmean(np.asarray(points, dtype=np.float64)[:, _HIP], 1)


# Multiply-accumulates per frame, counted from the arithmetic above (the dominant terms: joint
# means, norms, angles, the box, forward fill and the four window statistics of each feature).
FRAME_MACS = {'3d': 17 * 3 * 4 + 2 * 3 * 8 + 40 + 4 * len(FRAME_FEATURES_3D),
              '2d': 17 * 2 * 6 + 2 * 2 * 8 + 30 + 4 * len(FRAME_FEATURES_2D)}


def feature_macs(kind: str, m: int) -> int:
    """Multiply-accumulates of the features of an m-frame window (linear in m, eq. (14))."""
    return FRAME_MACS[kind] * int(m) + 6 * max(int(m) - 1, 0)
