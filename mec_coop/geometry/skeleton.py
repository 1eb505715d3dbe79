# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The COCO-17 keypoint set shared by the pose models, the rigs and the 3D skeleton."""

import numpy as np

COCO_JOINTS = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
    'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
)
NUM_JOINTS = len(COCO_JOINTS)
JOINT_INDEX = {name: i for i, name in enumerate(COCO_JOINTS)}

# Bones drawn for RViz and used for anatomical checks (index pairs into COCO_JOINTS).
COCO_BONES = (
    (0, 1), (0, 2), (1, 3), (2, 4),
    (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),
    (5, 11), (6, 12), (11, 12),
    (11, 13), (13, 15), (12, 14), (14, 16),
)

# Left/right swap used by horizontal-flip test-time augmentation.
COCO_FLIP_INDEX = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)

# Segment lengths as multiples of the torso (shoulder centre to hip centre), for placing crops
# around joints a track has not measured: adult anthropometry has thigh ~0.9 and thigh + shank
# ~1.75 torso lengths, and the nose ~0.45 above the shoulders.
KNEE_FROM_HIP = 0.9
ANKLE_FROM_HIP = 1.75
NOSE_ABOVE_SHOULDERS = 0.45
_SIDES = ((11, 13, 15), (12, 14, 16))   # hip, knee, ankle of the left and right leg
_ARMS = ((5, 7, 9), (6, 8, 10))          # shoulder, elbow, wrist
_HEAD = (0, 1, 2, 3, 4)


def complete_body(points: np.ndarray) -> np.ndarray:
    """
    Fill unknown leg, wrist and head joints of a COCO-17 skeleton, for crop placement.

    A person whose legs one camera cannot see is tracked without them, and a crop around the
    joints the track has cuts the legs off where another camera sees them; a nano model then
    misplaces even the arms (benchmarks/camera_roi.py). The filled joints lie along the torso's
    axis (shoulder centre to hip centre) at typical segment lengths, so they extend the body
    the way it is oriented, standing or lying; a wrist continues its upper arm (the forearm is
    about as long). Never published: a guess good enough for a crop.

    :param points: ``(17, 3)`` joints, NaN where unknown.
    :return: a copy with the unknown knees, ankles and head joints filled where the torso is
        known (at least one shoulder and one hip), and wrists where their shoulder and elbow
        are; otherwise the input unchanged.
    """
    out = np.array(points, dtype=np.float64)
    if out.shape != (NUM_JOINTS, 3):
        raise ValueError(f'points must have shape ({NUM_JOINTS}, 3), got {out.shape}')
    known = np.all(np.isfinite(out), axis=1)
    for shoulder, elbow, wrist in _ARMS:
        if known[shoulder] and known[elbow] and not known[wrist]:
            out[wrist] = 2.0 * out[elbow] - out[shoulder]
    if not (known[5:7].any() and known[11:13].any()):
        return out
    shoulders = np.nanmean(out[5:7], axis=0)
    hips = np.nanmean(out[11:13], axis=0)
    axis = hips - shoulders
    for hip, knee, ankle in _SIDES:
        root = out[hip] if known[hip] else hips
        if not known[knee]:
            out[knee] = (0.5 * (root + out[ankle]) if known[ankle]
                         else root + KNEE_FROM_HIP * axis)
        if not known[ankle]:
            out[ankle] = (out[knee] + (out[knee] - root) if known[knee]
                          else root + ANKLE_FROM_HIP * axis)
    head = [j for j in _HEAD if not known[j]]
    out[head] = shoulders - NOSE_ABOVE_SHOULDERS * axis
    return out
