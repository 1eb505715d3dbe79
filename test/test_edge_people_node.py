# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The edge node with several people over real DDS: skeleton arrays, ids, markers, crops."""

import time

import numpy as np
import pytest
from rclpy.parameter import Parameter
from visualization_msgs.msg import MarkerArray

from mec_coop.msg import (CameraRoi, Keypoint2D, Person2D, PoseKeypoints2D, Skeleton3D,
                          Skeleton3DArray)
from mec_coop.rig.virtual import Humanoid, make_cameras
from mec_coop.ros.conversions import skeleton_joints, to_stamp
from mec_coop.ros.qos import QOS_RELIABLE

pytestmark = [pytest.mark.dds, pytest.mark.model]

BODY = Humanoid(0, actions=('stand',), start=(0.0, 0.0), heading=0.0).pose(0.0).joints


def _people_msg(cam, people, stamp):
    msg = PoseKeypoints2D(route=PoseKeypoints2D.ROUTE_KEYPOINTS, selected_person=0,
                          frame_confidence=0.9, inference_time_s=0.05)
    for joints in people:
        person = Person2D(box=[0.0, 0.0, 1.0, 1.0], box_score=0.9, mean_confidence=0.9)
        person.keypoints = [Keypoint2D(x=float(x), y=float(y), confidence=0.9)
                            for x, y in cam.project(joints)]
        msg.people.append(person)
    msg.header.stamp = to_stamp(stamp)
    msg.header.frame_id = f'{cam.name}_optical_frame'
    return msg


def test_edge_publishes_every_person_with_an_id_markers_and_crops(harness, small_model):
    from mec_coop.nodes.edge_node import EdgeNode
    cams = make_cameras(4)
    harness.add(EdgeNode(pose_backend=small_model, context=harness.context,
                         parameter_overrides=[
                             Parameter('cameras', value=[c.name for c in cams]),
                             Parameter('input_namespace', value=''),
                             Parameter('association', value=True)]))
    harness.publish_calibration(cams)
    pubs = {c.name: harness.node.create_publisher(PoseKeypoints2D, f'/{c.name}/keypoints',
                                                  QOS_RELIABLE) for c in cams}
    assert harness.wait_for(lambda: all(p.get_subscription_count() for p in pubs.values()))
    arrays = harness.collect(Skeleton3DArray, '/skeletons')
    markers = harness.collect(MarkerArray, '/skeletons/markers')
    single = harness.collect(Skeleton3D, '/skeleton')
    rois = harness.collect(CameraRoi, '/cam0/roi')
    truth = np.stack([BODY + [-1.0, 0.0, 0.0], BODY + [1.0, 0.5, 0.0]])
    for k in range(3):
        # Stamped when sent (a report older than the edge's deadline would be dropped as late)
        # and 0.25 s apart (closer stamps would join the previous instant).
        time.sleep(0.25)
        stamp = harness.node.get_clock().now().nanoseconds * 1e-9
        for v, cam in enumerate(cams):
            order = truth[::-1] if v % 2 else truth   # each camera lists the people differently
            pubs[cam.name].publish(_people_msg(cam, order, stamp))
        assert harness.wait_for(lambda: len(arrays) == k + 1)
    assert len(arrays[0].skeletons) == 0     # births need two consistent instants
    last = arrays[-1]
    assert sorted(s.track_id for s in last.skeletons) == [1, 2]
    for skeleton in last.skeletons:
        joints = skeleton_joints(skeleton)
        gt = int(np.argmin(np.nanmean(np.linalg.norm(truth - joints, axis=-1), axis=-1)))
        assert np.nanmax(np.linalg.norm(joints - truth[gt], axis=-1)) < 0.01
        # The index of this person in each camera's list, per the order published above.
        expected = [gt if int(c[3:]) % 2 == 0 else 1 - gt for c in skeleton.camera_ids]
        assert list(skeleton.person_indices) == expected
    assert harness.wait_for(lambda: single and single[-1].track_id == 1)
    assert harness.wait_for(lambda: any(m.text == 'id 2' for a in markers for m in a.markers))
    assert harness.wait_for(lambda: rois and sorted(p.track_id for p in rois[-1].people) == [1, 2])
