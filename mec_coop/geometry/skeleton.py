# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The COCO-17 keypoint set shared by the pose models, the rigs and the 3D skeleton."""

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
