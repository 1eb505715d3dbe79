# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Publishing a set of calibrated cameras the ROS way (shared by the rig nodes)."""

import dataclasses
import threading
import time

from sensor_msgs.msg import CameraInfo, CompressedImage
from tf2_msgs.msg import TFMessage

from mec_coop.coop.codec import encode_jpeg
from mec_coop.ros.camera_info import camera_to_ros
from mec_coop.ros.conversions import to_stamp
from mec_coop.ros.qos import QOS_IMAGES, QOS_LATCHED, QOS_TF_STATIC


class CameraStreams:
    """
    ``<cam>/image/compressed`` + ``<cam>/camera_info`` per camera and their ``/tf_static``.

    Topic namespaces are the camera names; frames are ``<cam>_optical_frame`` (REP 103).
    """

    def __init__(self, node, cameras, world_frame):
        self.names = [cam.name for cam in cameras]
        self.cameras = [dataclasses.replace(cam, name=f'{cam.name}_optical_frame')
                        for cam in cameras]
        pairs = [camera_to_ros(cam, world_frame) for cam in self.cameras]
        self._info = [info for info, _ in pairs]
        tf_pub = node.create_publisher(TFMessage, '/tf_static', QOS_TF_STATIC)
        tf_pub.publish(TFMessage(transforms=[tf for _, tf in pairs]))
        self._tf_pub = tf_pub  # keep the latched publisher alive for late joiners
        self._pub_img = [node.create_publisher(CompressedImage, f'{n}/image/compressed',
                                               QOS_IMAGES) for n in self.names]
        self._pub_info = [node.create_publisher(CameraInfo, f'{n}/camera_info', QOS_LATCHED)
                          for n in self.names]

    def publish(self, stamp_s, images, jpeg_quality):
        """Publish one synchronized set of BGR images with capture stamp ``stamp_s``."""
        stamp = to_stamp(stamp_s)
        for v, image in enumerate(images):
            msg = CompressedImage(format='jpeg', data=encode_jpeg(image, jpeg_quality))
            msg.header.stamp = stamp
            msg.header.frame_id = self.cameras[v].name
            self._info[v].header.stamp = stamp
            self._pub_info[v].publish(self._info[v])
            self._pub_img[v].publish(msg)


class PacedThread:
    """
    Call ``step(t)`` every ``period_s()`` seconds in a thread, ``t`` being the source time.

    Rendering or decoding runs here, not in an executor callback. A slow step skips frames
    instead of bursting them; ``step`` returns False to end the stream.
    """

    def __init__(self, step, period_s, name):
        self._step = step
        self._period_s = period_s
        self._running = True
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self):
        source_time = 0.0
        next_wall = time.monotonic()
        while self._running:
            if self._step(source_time) is False:
                return
            period = self._period_s()
            source_time += period
            next_wall += period
            delay = next_wall - time.monotonic()
            if delay < 0:
                next_wall = time.monotonic()
            else:
                time.sleep(delay)

    def stop(self):
        self._running = False
        self._thread.join(timeout=10.0)
