# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Triangulation on the virtual rig: exact from ground truth, and the real model vs 1 camera."""

import numpy as np
import pytest

from mec_coop.geometry import metrics
from mec_coop.geometry.triangulation import triangulate_cameras
from mec_coop.rig.accuracy import detect_frames, multiview_vs_single_camera
from mec_coop.rig.virtual import VirtualRig


@pytest.mark.parametrize('distortion', [None, (-0.2, 0.05, 0.001, -0.001, 0.0)])
def test_ground_truth_projections_triangulate_below_one_millimetre(distortion):
    rig = VirtualRig(num_cameras=4, seed=3, distortion=distortion)
    frames = [rig.frame(t) for t in np.arange(0.0, 10.0, 0.5)]
    pixels = np.array([f.keypoints_2d[:, 0] for f in frames])
    gt = np.array([f.joints_world[0] for f in frames])
    result = triangulate_cameras(rig.cameras, pixels)
    assert result.valid.all()
    assert metrics.mpjpe(result.points, gt) < 1e-3


@pytest.mark.model
def test_real_model_on_four_cameras_beats_a_single_camera():
    """Measured (30 frames, seed 0): 146 mm vs 224 mm at imgsz 320; 49 vs 205 mm at 960."""
    from mec_coop.pose.ultralytics_backend import UltralyticsPose
    rig = VirtualRig(num_cameras=4, seed=0)
    detections = detect_frames(rig, [k * 0.5 for k in range(8)], UltralyticsPose(imgsz=960))
    result = multiview_vs_single_camera(rig.cameras, detections)
    print(result)
    assert result['instants'] >= 6
    assert np.isfinite(result['multiview_mpjpe_mm'])
    assert result['multiview_mpjpe_mm'] < 100.0
    assert result['multiview_mpjpe_mm'] < 0.6 * result['single_camera_mpjpe_mm']
