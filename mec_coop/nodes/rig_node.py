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

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

from mec_coop.msg import GroundTruth
from mec_coop.ros.conversions import ground_truth_to_msg
from mec_coop.ros.params import float_param, int_param, text_param
from mec_coop.ros.qos import QOS_RELIABLE
from mec_coop.ros.runtime import spin_node
from mec_coop.ros.streams import CameraStreams, PacedThread


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
        self.declare_parameter('scenario', 'random', text_param(
            "People's paths: 'random' or 'crossing' (back and forth through the centre)",
            read_only=True))
        self.declare_parameter('occluders', True, ParameterDescriptor(
            description='Furniture and walls in the room', read_only=True))
        self.declare_parameter('fps', 2.0, float_param('Frames per second per camera', 0.1, 30.0))
        self.declare_parameter('jpeg_quality', 90, int_param('JPEG quality', 1, 100))
        self.declare_parameter('duration_s', 0.0, float_param(
            'Stop publishing after this much rig time (0: run until shut down)', 0.0, 1e6))
        self.declare_parameter('world_frame', 'world', text_param('Fixed frame', read_only=True))

        from mec_coop.rig.virtual import VirtualRig  # renderer setup is heavy
        self.rig = VirtualRig.from_parameters(
            {name: p.value for name, p in self.get_parameters_by_prefix('').items()})
        self.streams = CameraStreams(self, self.rig.cameras,
                                     self.get_parameter('world_frame').value)
        self._pub_gt = self.create_publisher(GroundTruth, 'ground_truth', QOS_RELIABLE)
        self.frames_published = 0
        self._pacer = PacedThread(self._step, lambda: 1.0 / self.get_parameter('fps').value,
                                  'rig-render')
        self.get_logger().info(f'virtual rig: {len(self.rig.cameras)} cameras, '
                               f'{self.get_parameter("fps").value} fps')

    def _step(self, rig_time):
        duration = self.get_parameter('duration_s').value
        if duration and rig_time >= duration:
            return False
        self._publish_frame(rig_time, self.get_clock().now().nanoseconds * 1e-9)
        return True

    def _publish_frame(self, rig_time, stamp_s):
        frame = self.rig.frame(rig_time)
        self._pub_gt.publish(ground_truth_to_msg(
            frame, [c.name for c in self.streams.cameras], stamp_s, self.frames_published,
            self.get_parameter('world_frame').value))
        self.streams.publish(stamp_s, frame.images, self.get_parameter('jpeg_quality').value)
        self.frames_published += 1

    def close(self):
        """Stop the render thread (called before the node is destroyed)."""
        self._pacer.stop()


def main(args=None):
    spin_node(RigNode, args)


if __name__ == '__main__':
    main()
