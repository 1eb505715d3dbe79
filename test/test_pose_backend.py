# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The Ultralytics backend with the real pretrained yolo11n-pose weights (offline)."""

import importlib.resources

import cv2
import numpy as np
import pytest

from mec_coop.pose.backend import PoseEstimate

pytestmark = pytest.mark.model


@pytest.fixture(scope='module')
def bus():
    return cv2.imread(str(importlib.resources.files('ultralytics') / 'assets' / 'bus.jpg'))


@pytest.fixture(scope='module')
def camera_model():
    from mec_coop.pose.ultralytics_backend import UltralyticsPose
    return UltralyticsPose(imgsz=320)


def test_real_weights_find_the_people_on_bus_jpg(bus):
    from mec_coop.pose.ultralytics_backend import UltralyticsPose
    est = UltralyticsPose(imgsz=640).predict(bus)
    # Measured with these weights: 4 people, box scores 0.89 / 0.88 / 0.88 / 0.46.
    assert est.num_people == 4
    np.testing.assert_allclose(np.sort(est.box_scores)[::-1], (0.89, 0.88, 0.88, 0.46), atol=0.03)
    assert est.keypoints.shape == (4, 17, 2) and est.confidences.shape == (4, 17)
    assert np.all((est.keypoints[..., 0] >= 0) & (est.keypoints[..., 0] < bus.shape[1]))
    np.testing.assert_allclose(est.mean_confidence, est.confidences.mean(axis=1))
    assert est.frame_confidence() == pytest.approx(est.mean_confidence.max())
    assert est.inference_time_s > 0 and est.model_name == 'yolo11n-pose.pt@640'


def test_flip_tta_keeps_people_and_keypoints_close(bus):
    from mec_coop.pose.ultralytics_backend import UltralyticsPose
    plain = UltralyticsPose(imgsz=640).predict(bus)
    tta = UltralyticsPose(imgsz=640, flip_tta=True).predict(bus)
    assert tta.num_people == plain.num_people
    i, j = plain.best(), tta.best()
    confident = plain.confidences[i] > 0.5
    err = np.linalg.norm(plain.keypoints[i] - tta.keypoints[j], axis=-1)[confident]
    assert np.median(err) < 8.0


def test_empty_scene_gives_no_people_and_zero_confidence(camera_model):
    est = camera_model.predict(np.full((480, 640, 3), 90, np.uint8))
    assert est.num_people == 0 and est.best() == -1 and est.frame_confidence() == 0.0


@pytest.mark.parametrize('image', [np.zeros((48, 64), np.uint8),
                                   np.zeros((48, 64, 3), np.float32),
                                   np.zeros((48, 64, 4), np.uint8)])
def test_wrong_image_formats_are_rejected(camera_model, image):
    with pytest.raises(ValueError, match='BGR uint8'):
        camera_model.predict(image)


def test_missing_weights_fail_clearly_offline(monkeypatch):
    from mec_coop.pose.ultralytics_backend import UltralyticsPose
    monkeypatch.setenv('YOLO_OFFLINE', '1')
    with pytest.raises(FileNotFoundError, match='forbids a download'):
        UltralyticsPose(weights='yolo11x-pose.pt')


def test_pose_estimate_validates_shapes():
    with pytest.raises(ValueError):
        PoseEstimate(np.zeros((1, 4)), np.zeros(1), np.zeros((1, 15, 2)), np.zeros((1, 17)))
