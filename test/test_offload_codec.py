# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The camera's region-wise offload over real DDS: selectable, validated, read by plain OpenCV."""

import cv2
import numpy as np
import pytest
from rclpy.parameter import Parameter
from sensor_msgs.msg import CompressedImage

from mec_coop.coop.codec import encode_jpeg
from mec_coop.coop.regional import encode_offload, mu_for_quality
from mec_coop.msg import OffloadRequest
from mec_coop.ros.conversions import to_stamp
from mec_coop.ros.qos import QOS_IMAGES

pytestmark = [pytest.mark.dds, pytest.mark.model]


def test_quality_maps_to_the_libjpeg_multiplier():
    assert mu_for_quality(50) == 1.0 and mu_for_quality(90) == pytest.approx(0.2)
    assert mu_for_quality(10) == 5.0
    with pytest.raises(ValueError, match='1..100'):
        mu_for_quality(0)
    image = np.zeros((32, 32, 3), np.uint8)
    assert encode_offload(image, 80, 'regionwise') == encode_jpeg(image, 80)  # nobody: plain
    with pytest.raises(ValueError, match='offload codec must be one of'):
        encode_offload(image, 80, 'webp')


def test_camera_offloads_regionwise_when_selected(harness, small_model, person_image):
    from mec_coop.nodes.camera_node import CameraNode
    node = harness.add(CameraNode(
        pose_backend=small_model, context=harness.context, namespace='cam0',
        parameter_overrides=[Parameter('theta_low', value=0.0),
                             Parameter('theta_high', value=1.01),
                             Parameter('roi_feedback', value=False)]))
    off = harness.collect(OffloadRequest, '/cam0/offload')
    pub = harness.node.create_publisher(CompressedImage, '/cam0/image/compressed', QOS_IMAGES)
    assert harness.wait_for(lambda: pub.get_subscription_count() > 0)

    def send():
        msg = CompressedImage(format='jpeg', data=encode_jpeg(person_image, 95))
        msg.header.stamp = to_stamp(harness.node.get_clock().now().nanoseconds * 1e-9)
        msg.header.frame_id = 'cam0_optical_frame'
        pub.publish(msg)

    send()
    assert harness.wait_for(lambda: len(off) == 1)
    result = node.set_parameters([Parameter('offload_codec', value='webp')])
    assert not result[0].successful and 'offload_codec must be one of' in result[0].reason
    assert node.set_parameters([Parameter('offload_codec', value='regionwise')])[0].successful
    send()
    assert harness.wait_for(lambda: len(off) == 2)
    plain, regional = (bytes(m.image.data) for m in off)
    decoded = cv2.imdecode(np.frombuffer(regional, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == person_image.shape and off[1].image.format == 'jpeg'
    # Same quality on the people, the background coarse: fewer bytes (two large people fill
    # much of zidane.jpg; the rig's small people save far more, benchmarks/compression.py).
    assert len(regional) < 0.85 * len(plain)
    assert off[1].compression_ratio == pytest.approx(len(regional) / person_image.size)
