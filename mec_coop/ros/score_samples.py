# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Run-time score samples of the allocator, labelled by the virtual rig's ``ground_truth``."""

import math
import threading

from rclpy.node import Node

from mec_coop.alloc.online import StampJoin
from mec_coop.msg import GroundTruth, OffloadRequest, PoseKeypoints2D
from mec_coop.ros.qos import QOS_RELIABLE

# (message type, topic under <cam>/, score source, message field with the score)
SAMPLE_TOPICS = ((PoseKeypoints2D, 'keypoints', 'device', 'frame_confidence'),
                 (OffloadRequest, 'offload', 'device', 'camera_confidence'),
                 (PoseKeypoints2D, 'edge_result', 'server', 'frame_confidence'))


class GroundTruthLabeller:
    """
    Collect each camera's frame confidences and label them with the ground truth of the frame.

    :meth:`take` hands over the ``(camera, source, score, positive)`` tuples labelled so far.
    """

    def __init__(self, node: Node, cameras: list[str]) -> None:
        self.cameras = list(cameras)
        self.join = StampJoin()
        self.counts = {'labelled': 0, 'invalid': 0}
        self._labelled: list = []
        self._lock = threading.Lock()
        for cam in self.cameras:
            for msg_type, topic, source, field in SAMPLE_TOPICS:
                node.create_subscription(
                    msg_type, f'{cam}/{topic}', lambda m, c=cam, s=source, f=field:
                    self._on_sample(m.header, c, s, getattr(m, f)), QOS_RELIABLE)
        node.create_subscription(GroundTruth, 'ground_truth', self._on_truth, QOS_RELIABLE)

    def take(self) -> list[tuple[str, str, float, bool]]:
        """Hand over the samples labelled since the last call."""
        with self._lock:
            labelled, self._labelled = self._labelled, []
        self.counts['labelled'] += len(labelled)
        return labelled

    def _on_sample(self, header, cam: str, source: str, score: float) -> None:
        if not math.isfinite(score):
            self.counts['invalid'] += 1
            return
        with self._lock:
            self._labelled += self.join.add_sample((header.stamp.sec, header.stamp.nanosec),
                                                   cam, source, float(score))

    def _on_truth(self, msg: GroundTruth) -> None:
        frames = dict(zip(msg.camera_ids, msg.positive))
        labels = {cam: frames[f'{cam}_optical_frame'] for cam in self.cameras
                  if f'{cam}_optical_frame' in frames}
        with self._lock:
            self._labelled += self.join.add_labels(
                (msg.header.stamp.sec, msg.header.stamp.nanosec), labels)
