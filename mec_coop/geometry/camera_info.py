# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Conversions between :class:`PinholeCamera` and ROS ``sensor_msgs/CameraInfo`` + TF.

Calibration travels the ROS way: intrinsics and distortion in ``CameraInfo`` (``frame_id`` is
the camera's optical frame) and extrinsics as a ``geometry_msgs/TransformStamped`` from the world
frame (parent) to the optical frame (child), i.e. the camera's pose in the world. Only message
classes are imported here (no rclpy), so the conversions are tested without a ROS graph.
"""

from geometry_msgs.msg import TransformStamped
import numpy as np
from scipy.spatial.transform import Rotation
from sensor_msgs.msg import CameraInfo

from mec_coop.geometry.camera import PinholeCamera


def camera_to_ros(camera, world_frame='world', stamp=None):
    """``(CameraInfo, TransformStamped)`` for ``camera``; its name is the optical frame id."""
    info = CameraInfo()
    info.header.frame_id = camera.name
    if stamp is not None:
        info.header.stamp = stamp
    info.width = int(camera.width)
    info.height = int(camera.height)
    info.distortion_model = camera.distortion_model
    info.d = [float(v) for v in camera.dist]
    info.k = [float(v) for v in camera.K.ravel()]
    info.r = [float(v) for v in np.eye(3).ravel()]
    info.p = [float(v) for v in np.hstack([camera.K, np.zeros((3, 1))]).ravel()]

    tf = TransformStamped()
    tf.header.frame_id = world_frame
    if stamp is not None:
        tf.header.stamp = stamp
    tf.child_frame_id = camera.name
    center = camera.center
    tf.transform.translation.x, tf.transform.translation.y, tf.transform.translation.z = (
        float(c) for c in center)
    qx, qy, qz, qw = Rotation.from_matrix(camera.R.T).as_quat()
    tf.transform.rotation.x, tf.transform.rotation.y = float(qx), float(qy)
    tf.transform.rotation.z, tf.transform.rotation.w = float(qz), float(qw)
    return info, tf


def camera_from_ros(info, transform):
    """
    :class:`PinholeCamera` from a ``CameraInfo`` and the world->optical-frame transform.

    Raises ``ValueError`` with the reason when the two do not describe one valid camera.
    """
    if transform.child_frame_id and info.header.frame_id and \
            transform.child_frame_id != info.header.frame_id:
        raise ValueError(f'transform child frame {transform.child_frame_id!r} is not the '
                         f'CameraInfo frame {info.header.frame_id!r}')
    q = transform.transform.rotation
    quat = np.array([q.x, q.y, q.z, q.w])
    norm = np.linalg.norm(quat)
    if not np.isfinite(norm) or abs(norm - 1.0) > 1e-3:
        raise ValueError(f'transform to {transform.child_frame_id!r} has a non-unit quaternion '
                         f'{quat.tolist()}')
    tr = transform.transform.translation
    return camera_from_info(info, Rotation.from_quat(quat / norm).as_matrix(),
                            np.array([tr.x, tr.y, tr.z]), transform.child_frame_id)


def camera_from_info(info, rotation_world_camera, position, name=''):
    """
    :class:`PinholeCamera` from a ``CameraInfo`` and the camera's pose in the world.

    :param rotation_world_camera: 3x3 rotation of the optical frame in the world frame.
    :param position: optical centre in the world frame.
    :raises ValueError: when the CameraInfo is uncalibrated or invalid.
    """
    if info.width == 0 or info.height == 0:
        raise ValueError(f'CameraInfo of {info.header.frame_id!r} is uncalibrated (size 0)')
    if len(info.k) != 9 or info.k[0] == 0.0:
        raise ValueError(f'CameraInfo of {info.header.frame_id!r} has no intrinsics (K is zero)')
    R = np.asarray(rotation_world_camera, dtype=np.float64).T
    center = np.asarray(position, dtype=np.float64)
    return PinholeCamera(
        name=info.header.frame_id or name,
        width=int(info.width), height=int(info.height),
        K=np.asarray(info.k, dtype=np.float64).reshape(3, 3),
        R=R, t=-R @ center,
        dist=np.asarray(info.d, dtype=np.float64),
        distortion_model=info.distortion_model or 'plumb_bob',
    )
