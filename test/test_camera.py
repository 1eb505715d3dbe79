# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""PinholeCamera: projection, distortion round trip, CameraInfo + TF conversion."""

import numpy as np
import pytest

from mec_coop.geometry.camera import PinholeCamera
from mec_coop.ros.camera_info import camera_from_ros, camera_to_ros

DIST = (-0.28, 0.09, 0.0012, -0.0008, -0.012)


def _camera(**kwargs):
    return PinholeCamera.look_at('cam0_optical', (4.0, -3.0, 2.8), (0.0, 0.0, 1.0), **kwargs)


def test_look_at_target_projects_to_principal_point():
    cam = _camera()
    u, v = cam.project(np.array([0.0, 0.0, 1.0]))
    assert u == pytest.approx(cam.K[0, 2], abs=1e-9)
    assert v == pytest.approx(cam.K[1, 2], abs=1e-9)
    # Optical frame convention: world up (z) appears upwards in the image (smaller v).
    assert cam.project(np.array([0.0, 0.0, 1.5]))[1] < v
    np.testing.assert_allclose(cam.center, (4.0, -3.0, 2.8), atol=1e-12)


def test_projection_matches_projection_matrix():
    cam = _camera()
    X = np.random.default_rng(1).uniform(-1, 1, (50, 3)) + (0, 0, 1)
    xh = np.hstack([X, np.ones((50, 1))]) @ cam.P.T
    np.testing.assert_allclose(cam.project(X), xh[:, :2] / xh[:, 2:], atol=1e-9)


def test_points_behind_camera_are_nan():
    cam = _camera()
    behind = cam.center + 2.0 * (cam.center - np.array([0.0, 0.0, 1.0]))
    assert np.all(np.isnan(cam.project(behind)))


@pytest.mark.parametrize('model,dist', [('plumb_bob', DIST),
                                        ('rational_polynomial', DIST + (0.01, 0.002, 0.0))])
def test_undistort_inverts_distortion(model, dist):
    cam = _camera(dist=dist, distortion_model=model)
    ideal_cam = _camera()
    X = np.random.default_rng(2).uniform(-1.5, 1.5, (200, 3)) + (0, 0, 1)
    distorted = cam.project(X)
    assert np.max(np.linalg.norm(distorted - ideal_cam.project(X), axis=-1)) > 5.0
    np.testing.assert_allclose(cam.undistort_pixels(distorted), ideal_cam.project(X), atol=1e-6)


def test_undistort_keeps_nan_and_shape():
    cam = _camera(dist=DIST)
    px = np.array([[[640.0, 360.0], [np.nan, 10.0]]])
    out = cam.undistort_pixels(px)
    assert out.shape == px.shape
    assert np.all(np.isnan(out[0, 1]))
    np.testing.assert_allclose(out[0, 0], (640.0, 360.0), atol=1.0)


@pytest.mark.parametrize('kwargs,match', [
    ({'K': np.zeros((3, 3))}, 'K is not intrinsic'),
    ({'R': np.diag([1.0, 1.0, -1.0])}, 'R is not a rotation'),
    ({'dist': (np.nan,)}, 'distortion'),
    ({'distortion_model': 'equidistant'}, 'not supported'),
    ({'width': 0}, 'image size'),
])
def test_invalid_cameras_are_rejected(kwargs, match):
    args = {'name': 'bad', 'width': 640, 'height': 480, 'K': np.diag([500.0, 500.0, 1.0]),
            'R': np.eye(3), 't': np.zeros(3)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        PinholeCamera(**args)


def test_camera_info_and_tf_round_trip():
    cam = _camera(dist=DIST, width=1280, height=720, hfov_deg=75.0)
    info, tf = camera_to_ros(cam, world_frame='world')
    assert info.header.frame_id == tf.child_frame_id == 'cam0_optical'
    assert tf.header.frame_id == 'world'
    assert (info.width, info.height, info.distortion_model) == (1280, 720, 'plumb_bob')
    np.testing.assert_allclose(
        (tf.transform.translation.x, tf.transform.translation.y, tf.transform.translation.z),
        cam.center)
    back = camera_from_ros(info, tf)
    np.testing.assert_allclose(back.P, cam.P, atol=1e-9)
    np.testing.assert_allclose(back.dist, cam.dist)
    X = np.random.default_rng(3).uniform(-1, 1, (20, 3)) + (0, 0, 1)
    np.testing.assert_allclose(back.project(X), cam.project(X), atol=1e-6)


def test_camera_from_ros_rejects_inconsistent_messages():
    info, tf = camera_to_ros(_camera())
    tf.child_frame_id = 'other_optical'
    with pytest.raises(ValueError, match='is not the CameraInfo frame'):
        camera_from_ros(info, tf)
    info, tf = camera_to_ros(_camera())
    info.k = [0.0] * 9
    with pytest.raises(ValueError, match='no intrinsics'):
        camera_from_ros(info, tf)
    info, tf = camera_to_ros(_camera())
    tf.transform.rotation.w = 3.0
    with pytest.raises(ValueError, match='non-unit quaternion'):
        camera_from_ros(info, tf)


def test_transform_tree_resolves_a_chain_to_the_camera_pose():
    from scipy.spatial.transform import Rotation

    from mec_coop.ros.camera_info import camera_from_info
    from mec_coop.geometry.transforms import TransformTree

    cam = _camera(dist=DIST)
    info, tf = camera_to_ros(cam)
    # world -> rig (rotated, shifted) -> cam0_optical: the composition must give the same pose.
    r_rig = Rotation.from_euler('z', 30, degrees=True)
    t_rig = np.array([1.0, 2.0, 0.5])
    r_wc = Rotation.from_matrix(cam.R.T)
    tree = TransformTree()
    tree.add('world', 'rig', t_rig, r_rig.as_quat())
    tree.add('rig', 'cam0_optical', r_rig.inv().apply(cam.center - t_rig),
             (r_rig.inv() * r_wc).as_quat())
    R, t = tree.lookup('world', 'cam0_optical')
    np.testing.assert_allclose(camera_from_info(info, R, t).P, cam.P, atol=1e-9)
    with pytest.raises(LookupError, match='no transform'):
        tree.lookup('world', 'unknown_frame')
    with pytest.raises(ValueError, match='invalid transform'):
        tree.add('world', 'bad', (0, 0, 0), (0, 0, 0, 0))


def test_codec_round_trip_and_corrupt_data():
    from mec_coop.coop.codec import decode_compressed, encode_jpeg, ImageDecodeError

    image = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    data = encode_jpeg(image, 95)
    assert decode_compressed(data, 'jpeg').shape == (48, 64, 3)
    with pytest.raises(ImageDecodeError, match='corrupt JPEG'):
        decode_compressed(data[: len(data) // 2], 'jpeg')
    with pytest.raises(ImageDecodeError, match='empty'):
        decode_compressed(b'', 'jpeg')
    with pytest.raises(ImageDecodeError, match='unsupported'):
        decode_compressed(data, 'theora')
    with pytest.raises(ValueError, match='quality'):
        encode_jpeg(image, 0)


def test_backproject_inverts_project_at_the_true_depth():
    cam = _camera(dist=DIST)
    X = np.random.default_rng(4).uniform(-1, 1, (30, 3)) + (0, 0, 1)
    depth = cam.to_camera(X)[:, 2]
    np.testing.assert_allclose(cam.backproject(cam.project(X), depth), X, atol=1e-6)
