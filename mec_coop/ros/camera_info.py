# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Conversions between :class:`PinholeCamera` and ROS ``sensor_msgs/CameraInfo`` + TF.

Calibration travels the ROS way: intrinsics and distortion in ``CameraInfo`` (``frame_id`` is
the camera's optical frame) and extrinsics as a ``geometry_msgs/TransformStamped`` from the world
frame (parent) to the optical frame (child), i.e. the camera's pose in the world. The conversions
need no ROS graph (tested without one); :class:`RigCalibration` listens for both on a node.
"""

from typing import Callable, Iterable, Optional

from geometry_msgs.msg import TransformStamped
import numpy as np
from rclpy.node import Node
from scipy.spatial.transform import Rotation
from sensor_msgs.msg import CameraInfo
from tf2_msgs.msg import TFMessage

from mec_coop.geometry.camera import PinholeCamera
from mec_coop.geometry.transforms import TransformTree
from mec_coop.ros.qos import QOS_IMAGES, QOS_TF_STATIC


def camera_to_ros(camera: PinholeCamera, world_frame: str = 'world',
                  stamp: Optional[object] = None) -> tuple[CameraInfo, TransformStamped]:
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


def camera_from_ros(info: CameraInfo, transform: TransformStamped) -> PinholeCamera:
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


def camera_from_info(info: CameraInfo, rotation_world_camera: np.ndarray,
                     position: np.ndarray, name: str = '') -> PinholeCamera:
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


class RigCalibration:
    """
    Calibrated cameras of a rig from ``<cam>/camera_info`` and ``/tf_static`` (both latched).

    :meth:`camera` builds a :class:`PinholeCamera` lazily and again whenever the intrinsics or
    the transforms change; a camera that cannot be built yet is reported once through
    ``problems(key, message)`` and returns None.
    """

    def __init__(self, node: Node, cameras: Iterable[str], world_frame: str,
                 problems: Callable[[str, str], None]) -> None:
        self._world = world_frame
        self._problems = problems
        self._tree = TransformTree()
        self._infos: dict[str, CameraInfo] = {}
        self._calib: dict[str, PinholeCamera] = {}
        self.subscriptions = [node.create_subscription(
            CameraInfo, f'{cam}/camera_info', lambda m, c=cam: self._on_camera_info(c, m),
            QOS_IMAGES) for cam in cameras]
        self.subscriptions.append(node.create_subscription(TFMessage, '/tf_static', self._on_tf,
                                                           QOS_TF_STATIC))

    def frame_id(self, cam: str) -> str:
        """Optical frame of ``cam`` (from its CameraInfo; ``''`` before one arrived)."""
        info = self._infos.get(cam)
        return info.header.frame_id if info is not None else ''

    def calibrated(self, cam: str) -> bool:
        """Whether ``cam`` has a camera model built (it has been used since it changed)."""
        return cam in self._calib

    def _on_tf(self, msg: TFMessage) -> None:
        for tf in msg.transforms:
            t, q = tf.transform.translation, tf.transform.rotation
            try:
                self._tree.add(tf.header.frame_id, tf.child_frame_id, (t.x, t.y, t.z),
                               (q.x, q.y, q.z, q.w))
            except ValueError as exc:
                self._problems(f'tf:{tf.child_frame_id}', f'ignored /tf_static entry: {exc}')
        self._calib.clear()  # extrinsics may have changed: rebuild lazily

    def _on_camera_info(self, cam: str, msg: CameraInfo) -> None:
        old = self._infos.get(cam)
        if old is None or list(old.k) != list(msg.k) or list(old.d) != list(msg.d) or \
                old.header.frame_id != msg.header.frame_id:
            self._infos[cam] = msg
            self._calib.pop(cam, None)

    def camera(self, cam: str) -> Optional[PinholeCamera]:
        """Calibrated camera model of ``cam``, or None (with the reason reported once)."""
        if cam in self._calib:
            return self._calib[cam]
        info = self._infos.get(cam)
        if info is None:
            self._problems(f'no_info:{cam}', f'{cam}: no CameraInfo on {cam}/camera_info yet; '
                           'its views are not triangulated')
            return None
        try:
            R, t = self._tree.lookup(self._world, info.header.frame_id)
            self._calib[cam] = camera_from_info(info, R, t)
        except (LookupError, ValueError) as exc:
            self._problems(f'no_tf:{cam}', f'{cam}: no usable calibration: {exc}')
            return None
        return self._calib[cam]
