# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The split route over DDS: camera heads, edge tails, the same skeleton as offloading the frames.

Frames of the virtual rig go to the cameras as PNG (lossless), so the offload route can be fed
the very pixels the heads saw: JPEG artefacts would otherwise hide what the split costs.
"""


import cv2
import numpy as np
import pytest
from rclpy.parameter import Parameter
from sensor_msgs.msg import CompressedImage

from mec_coop.msg import OffloadRequest, Skeleton3D, SplitTensor
from mec_coop.rig.virtual import VirtualRig
from mec_coop.ros.conversions import skeleton_joints, to_stamp
from mec_coop.ros.qos import QOS_IMAGES, QOS_RELIABLE

pytestmark = [pytest.mark.dds, pytest.mark.model]
IMGSZ = 640
POINT = 5          # after layer 4 of yolo11n-pose (a valid singleton cut of Algorithm 1)


@pytest.fixture(scope='module')
def split_models():
    from mec_coop.split.yolo import SplitPose
    return SplitPose(imgsz=IMGSZ), SplitPose(imgsz=IMGSZ)   # camera heads, edge tails


def _png(image, stamp, frame_id):
    msg = CompressedImage(format='png', data=cv2.imencode('.png', image)[1].tobytes())
    msg.header.stamp, msg.header.frame_id = to_stamp(stamp), frame_id
    return msg


def test_split_frames_give_the_offload_routes_skeleton(harness, small_model, split_models):
    from mec_coop.nodes.camera_node import CameraNode
    from mec_coop.nodes.edge_node import EdgeNode
    head, tail = split_models
    rig = VirtualRig(num_cameras=3, seed=0)
    names = [c.name for c in rig.cameras]
    edge = harness.add(EdgeNode(pose_backend=tail, context=harness.context, parameter_overrides=[
        Parameter('cameras', value=names), Parameter('input_namespace', value=''),
        Parameter('feedback', value=False), Parameter('smoothing', value='none'),
        Parameter('split_route', value=True), Parameter('imgsz', value=IMGSZ),
        Parameter('acquire_timeout_s', value=20.0), Parameter('sync_timeout_s', value=20.0),
        Parameter('camera_timeout_s', value=60.0)]))
    cams = {}
    for name in names:
        cams[name] = harness.add(CameraNode(
            pose_backend=small_model, split_model=head, context=harness.context, namespace=name,
            parameter_overrides=[Parameter('theta_low', value=0.0),
                                 Parameter('theta_high', value=1.01),
                                 Parameter('roi_feedback', value=False),
                                 Parameter('split_route', value=True),
                                 Parameter('split_imgsz', value=IMGSZ),
                                 Parameter('partition_point', value=POINT)]))
    harness.publish_calibration(rig.cameras)
    images = {n: harness.node.create_publisher(CompressedImage, f'/{n}/image/compressed',
                                               QOS_IMAGES) for n in names}
    offloads = {n: harness.node.create_publisher(OffloadRequest, f'/{n}/offload', QOS_RELIABLE)
                for n in names}
    splits = {n: harness.collect(SplitTensor, f'/{n}/split') for n in names}
    skeletons = harness.collect(Skeleton3D, '/skeleton')
    assert harness.wait_for(lambda: all(p.get_subscription_count() for p in images.values()))

    # Bad parameters are refused with a reason.
    result = cams['cam0'].set_parameters([Parameter('partition_point', value=len(head.cuts))])
    assert not result[0].successful and 'outside' in result[0].reason
    result = cams['cam0'].set_parameters([Parameter('split_dtype', value='bfloat16')])
    assert not result[0].successful and 'split_dtype' in result[0].reason

    now = harness.node.get_clock().now().nanoseconds * 1e-9
    frames = [rig.frame(t) for t in (2.0, 2.5)]
    for k, frame in enumerate(frames):          # offload route: the same pixels, as PNG
        for v, name in enumerate(names):
            msg = OffloadRequest(width=1280, height=720, selected_person=-1)
            msg.header = _png(frame.image(v), now + k, f'{name}_optical_frame').header
            msg.image = _png(frame.image(v), now + k, f'{name}_optical_frame')
            offloads[name].publish(msg)
        assert harness.wait_for(lambda: len(skeletons) == k + 1, timeout=15)
    for k, frame in enumerate(frames):          # split route: heads on the cameras
        # Stamped now: later than the offloads above, and not in the future (refused).
        stamp = harness.node.get_clock().now().nanoseconds * 1e-9
        for v, name in enumerate(names):
            image = _png(frame.image(v), stamp, f'{name}_optical_frame')
            for _ in range(3):      # images are best effort: a lost one is sent again
                images[name].publish(image)
                if harness.wait_for(lambda: len(splits[name]) == k + 1, timeout=5):
                    break
            assert len(splits[name]) == k + 1
        assert harness.wait_for(lambda: len(skeletons) == len(frames) + k + 1, timeout=15)
    sent = splits['cam0'][0]
    assert sent.dtype == 'float16' and sent.codec == 'zlib' and sent.partition_point == POINT
    assert list(sent.layer_ids) == head.layer_ids(POINT)
    for k in range(len(frames)):
        a, b = skeleton_joints(skeletons[k]), skeleton_joints(skeletons[len(frames) + k])
        valid = np.isfinite(a).all(axis=1)
        assert valid.sum() >= 10
        np.testing.assert_array_equal(valid, np.isfinite(b).all(axis=1))
        assert float(np.max(np.linalg.norm(a[valid] - b[valid], axis=1))) < 1e-3   # 1 mm
    assert edge.fusion.counts['cam0']['edge_accepted'] == 2 * len(frames)

    # A truncated payload and a wrong cut are rejected with a reason and counted.
    bad = splits['cam1'][-1]
    bad.payload = bytes(bad.payload)[:-50]
    pub = harness.node.create_publisher(SplitTensor, '/cam1/split', QOS_RELIABLE)
    pub.publish(bad)
    wrong = splits['cam2'][-1]
    wrong.partition_point = POINT + 1
    harness.node.create_publisher(SplitTensor, '/cam2/split', QOS_RELIABLE).publish(wrong)
    assert harness.wait_for(lambda: edge.fusion.counts['cam1']['bad_split'] == 1
                            and edge.fusion.counts['cam2']['bad_split'] == 1)


def test_a_camera_without_the_split_route_refuses_a_partition_point(harness, small_model):
    from mec_coop.nodes.camera_node import CameraNode
    node = harness.add(CameraNode(pose_backend=small_model, context=harness.context,
                                  namespace='cam0'))
    result = node.set_parameters([Parameter('partition_point', value=3)])
    assert not result[0].successful and 'split_route: true' in result[0].reason
    assert node.set_parameters([Parameter('partition_point', value=-1)])[0].successful


def test_a_camera_loads_its_head_and_refuses_a_cut_outside_the_list(harness, small_model):
    from mec_coop.nodes.camera_node import CameraNode

    def camera(point):
        return CameraNode(pose_backend=small_model, context=harness.context, namespace='cam1',
                          parameter_overrides=[Parameter('split_route', value=True),
                                               Parameter('split_imgsz', value=320),
                                               Parameter('partition_point', value=point)])
    node = harness.add(camera(3))
    assert node._head.imgsz == 320 and len(node._head.cuts) == 10
    assert node.set_parameters([Parameter('partition_point', value=9)])[0].successful
    with pytest.raises(RuntimeError, match='configure failed'):
        harness.add(camera(10))
