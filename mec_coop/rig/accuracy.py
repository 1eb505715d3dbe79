# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Accuracy of a 2D pose model on the virtual rig: multi-view triangulation vs a single camera.

The single-camera baseline lifts each camera's 2D keypoints to 3D by placing them at the
ground-truth depth of the person's hip centre (an oracle root depth, as monocular methods are
usually scored); the multi-view result needs no oracle. Both are scored on the same instants.
"""

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from mec_coop.geometry import metrics
from mec_coop.geometry.camera import PinholeCamera
from mec_coop.geometry.skeleton import JOINT_INDEX
from mec_coop.geometry.triangulation import triangulate_cameras

if TYPE_CHECKING:
    from mec_coop.pose.backend import PoseBackend

    from .virtual import VirtualRig

HIPS = (JOINT_INDEX['left_hip'], JOINT_INDEX['right_hip'])


def detect_frames(rig: 'VirtualRig', times: Iterable[float], model: 'PoseBackend'
                  ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per frame: ground truth (17, 3) of person 0, pixels (V, 17, 2), confidences (V, 17)."""
    out = []
    for t in times:
        frame = rig.frame(t)
        pixels = np.full((len(rig.cameras), 17, 2), np.nan)
        weights = np.zeros((len(rig.cameras), 17))
        for v in range(len(rig.cameras)):
            est = model.predict(frame.image(v))
            best = est.best()
            if best >= 0:
                pixels[v], weights[v] = est.keypoints[best], est.confidences[best]
        out.append((frame.joints_world[0], pixels, weights))
    return out


def multiview_vs_single_camera(
        cameras: Sequence[PinholeCamera],
        detections: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
        min_confidence: float = 0.3) -> dict[str, float]:
    """
    Score triangulation and the oracle-depth single-camera baseline on the same instants.

    :param detections: output of :func:`detect_frames`.
    :param min_confidence: keypoints below this confidence are not used by the baseline.
    :return: dict with MPJPE (mm), PCK and the number of instants for both methods.
    """
    multi, single, truth_multi, truth_single = [], [], [], []
    for gt, pixels, weights in detections:
        result = triangulate_cameras(cameras, pixels, weights)
        if not result.valid.any():
            continue
        multi.append(result.points)
        truth_multi.append(gt)
        root = gt[list(HIPS)].mean(axis=0)
        for v, cam in enumerate(cameras):
            if not np.any(weights[v] > 0):
                continue
            depth = np.full(17, cam.to_camera(root)[2])
            lifted = cam.backproject(pixels[v], depth)
            lifted[weights[v] < min_confidence] = np.nan
            single.append(lifted)
            truth_single.append(gt)
    if not multi:
        return {'instants': 0}
    multi_xyz, single_xyz = np.array(multi), np.array(single)
    multi_gt, single_gt = np.array(truth_multi), np.array(truth_single)
    return {
        'instants': len(multi_xyz),
        'multiview_mpjpe_mm': 1000 * metrics.mpjpe(multi_xyz, multi_gt),
        'multiview_pck_150mm': metrics.pck(multi_xyz, multi_gt, 0.15),
        'single_camera_views': len(single_xyz),
        'single_camera_mpjpe_mm': 1000 * metrics.mpjpe(single_xyz, single_gt),
        'single_camera_pck_150mm': metrics.pck(single_xyz, single_gt, 0.15),
    }
