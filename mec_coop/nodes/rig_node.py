# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Virtual rig node: calibrated virtual cameras watching moving humanoids, with ground truth.

Per camera ``cam<i>``: ``cam<i>/image/compressed`` (JPEG, sensor-data QoS) and
``cam<i>/camera_info`` (frame ``cam<i>_optical_frame``); the extrinsics once on ``/tf_static``
(``world_frame -> cam<i>_optical_frame``); and ``ground_truth`` (``mec_coop/GroundTruth``) with the
same capture stamp as the images. Frames are rendered in a worker thread on a fixed schedule
(``fps``), so parameter services stay responsive while a frame renders.
"""

import dataclasses
import threading
import time

from geometry_msgs.msg import Point
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, CompressedImage
from tf2_msgs.msg import TFMessage

from mec_coop.coop.codec import encode_jpeg
from mec_coop.geometry.camera_info import camera_to_ros
from mec_coop.msg import GroundTruth
from mec_coop.nodes.common import (float_param, int_param, QOS_IMAGES, QOS_LATCHED,
                                   QOS_RELIABLE, QOS_TF_STATIC, spin_node, text_param, to_stamp)


class RigNode(Node):
    """Publishes the virtual rig's camera streams, calibration and ground truth."""

    def __init__(self, **node_kwargs):
        super().__init__('rig', **node_kwargs)
        self.declare_parameter('num_cameras', 4, int_param('Cameras (paper layout)', 2, 16,
                                                           read_only=True))
        self.declare_parameter('num_people', 1, int_param('Humanoids in the room', 0, 8,
                                                          read_only=True))
        self.declare_parameter('seed', 0, int_param('Scenario seed', 0, 2 ** 31 - 1,
                                                    read_only=True))
        self.declare_parameter('width', 1280, int_param('Image width', 64, 4096, read_only=True))
        self.declare_parameter('height', 720, int_param('Image height', 64, 4096,
                                                        read_only=True))
        self.declare_parameter('occluders', True, ParameterDescriptor(
            description='Furniture and walls in the room', read_only=True))
        self.declare_parameter('fps', 2.0, float_param('Frames per second per camera', 0.1, 30.0))
        self.declare_parameter('jpeg_quality', 90, int_param('JPEG quality', 1, 100))
        self.declare_parameter('duration_s', 0.0, float_param(
            'Stop publishing after this much rig time (0: run until shut down)', 0.0, 1e6))
        self.declare_parameter('world_frame', 'world', text_param('Fixed frame', read_only=True))

        from mec_coop.rig.virtual_rig import VirtualRig  # renderer setup is heavy
        self.rig = VirtualRig(num_cameras=self.get_parameter('num_cameras').value,
                              width=self.get_parameter('width').value,
                              height=self.get_parameter('height').value,
                              seed=self.get_parameter('seed').value,
                              num_people=self.get_parameter('num_people').value,
                              occluders=self.get_parameter('occluders').value)
        world = self.get_parameter('world_frame').value
        self.cameras = [dataclasses.replace(cam, name=f'{cam.name}_optical_frame')
                        for cam in self.rig.cameras]
        self.names = [cam.name for cam in self.rig.cameras]
        self._info = []
        transforms = []
        for cam in self.cameras:
            info, tf = camera_to_ros(cam, world)
            self._info.append(info)
            transforms.append(tf)
        self._pub_tf = self.create_publisher(TFMessage, '/tf_static', QOS_TF_STATIC)
        self._pub_tf.publish(TFMessage(transforms=transforms))
        self._pub_img = [self.create_publisher(CompressedImage, f'{n}/image/compressed',
                                               QOS_IMAGES) for n in self.names]
        self._pub_info = [self.create_publisher(CameraInfo, f'{n}/camera_info', QOS_LATCHED)
                          for n in self.names]
        self._pub_gt = self.create_publisher(GroundTruth, 'ground_truth', QOS_RELIABLE)
        self.frames_published = 0
        self._running = True
        self._thread = threading.Thread(target=self._loop, name='rig-render', daemon=True)
        self._thread.start()
        self.get_logger().info(f'virtual rig: {len(self.names)} cameras, '
                               f'{self.get_parameter("fps").value} fps')

    def _loop(self):
        rig_time = 0.0
        next_wall = time.monotonic()
        while self._running:
            duration = self.get_parameter('duration_s').value
            if duration and rig_time >= duration:
                return
            now_ros = self.get_clock().now().nanoseconds * 1e-9
            self._publish_frame(rig_time, now_ros)
            period = 1.0 / self.get_parameter('fps').value
            rig_time += period
            next_wall += period
            # Falling behind (slow rendering) skips frames instead of bursting them.
            delay = next_wall - time.monotonic()
            if delay < 0:
                next_wall = time.monotonic()
            else:
                time.sleep(delay)

    def _publish_frame(self, rig_time, stamp_s):
        frame = self.rig.frame(rig_time)
        stamp = to_stamp(stamp_s)
        quality = self.get_parameter('jpeg_quality').value
        gt = GroundTruth(sequence=self.frames_published, actions=list(frame.actions),
                         camera_ids=[c.name for c in self.cameras],
                         positive=[bool(p) for p in frame.positive],
                         visibility=[bool(v) for v in frame.visibility.ravel()])
        gt.header.stamp = stamp
        gt.header.frame_id = self.get_parameter('world_frame').value
        gt.joints = [Point(x=float(x), y=float(y), z=float(z))
                     for x, y, z in frame.joints_world.reshape(-1, 3)]
        self._pub_gt.publish(gt)
        for v, image in enumerate(frame.images):
            msg = CompressedImage(format='jpeg', data=encode_jpeg(image, quality))
            msg.header.stamp = stamp
            msg.header.frame_id = self.cameras[v].name
            self._info[v].header.stamp = stamp
            self._pub_info[v].publish(self._info[v])
            self._pub_img[v].publish(msg)
        self.frames_published += 1

    def close(self):
        """Stop the render thread (called before the node is destroyed)."""
        self._running = False
        self._thread.join(timeout=10.0)


def main(args=None):
    spin_node(RigNode, args)


if __name__ == '__main__':
    main()
