# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Recorded rig node: calibrated multi-camera videos played back as live camera topics.

Plays Pose2Sim's ``Demo_SinglePerson`` / ``Demo_MultiPerson`` (or a folder in the same layout)
frame-aligned at ``rate_hz``, looping: per camera ``<cam>/image/compressed`` and
``<cam>/camera_info``, and the extrinsics on ``/tf_static``, exactly like a rig of real cameras.
Decoding runs in a worker thread. There is no ground truth for these videos.
"""

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

from mec_coop.ros.params import float_param, int_param, text_param
from mec_coop.ros.runtime import spin_node
from mec_coop.ros.streams import CameraStreams, PacedThread


class RecordedRigNode(Node):
    """Publishes recorded, calibrated videos as camera topics."""

    def __init__(self, **node_kwargs):
        super().__init__('rig', **node_kwargs)
        self.declare_parameter('demo', 'Demo_SinglePerson', text_param(
            'Pose2Sim demo name or a folder with videos/ and calibration/', read_only=True))
        self.declare_parameter('rate_hz', 2.0, float_param(
            'Playback rate (source frames are skipped)', 0.1, 60.0, read_only=True))
        self.declare_parameter('jpeg_quality', 90, int_param('JPEG quality', 1, 100))
        self.declare_parameter('loop', True, ParameterDescriptor(
            description='Restart at the end of the videos', read_only=True))
        self.declare_parameter('world_frame', 'world', text_param('Fixed frame', read_only=True))
        self.declare_parameter('cameras', [''], ParameterDescriptor(
            description='Expected camera names (checked against the calibration)',
            read_only=True))

        from mec_coop.rig.recorded.playback import RecordedRig
        self.rig = RecordedRig(self.get_parameter('demo').value,
                               rate_hz=self.get_parameter('rate_hz').value)
        expected = [c for c in self.get_parameter('cameras').value if c]
        if expected and sorted(expected) != sorted(self.rig.camera_names):
            raise ValueError(f'configured cameras {expected} do not match the recording '
                             f'{list(self.rig.camera_names)}')
        self.streams = CameraStreams(self, self.rig.cameras,
                                     self.get_parameter('world_frame').value)
        self._frames = self.rig.frames(loop=self.get_parameter('loop').value)
        self.frames_published = 0
        self._pacer = PacedThread(self._step, lambda: 1.0 / self.rig.rate_hz, 'recorded-rig')
        self.get_logger().info(f'recorded rig {self.rig.name}: cameras '
                               f'{list(self.rig.camera_names)} at {self.rig.rate_hz} Hz')

    def _step(self, _source_time):
        frame = next(self._frames, None)
        if frame is None:
            self.get_logger().info('end of the recording')
            return False
        self.streams.publish(self.get_clock().now().nanoseconds * 1e-9, frame.images,
                             self.get_parameter('jpeg_quality').value)
        self.frames_published += 1
        return True

    def close(self):
        """Stop the playback thread (called before the node is destroyed)."""
        self._pacer.stop()


def main(args=None):
    spin_node(RecordedRigNode, args)


if __name__ == '__main__':
    main()
