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
TRUTH = np.stack([BODY + [-1.0, 0.0, 0.0], BODY + [1.0, 0.5, 0.0]])


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


def _edge_with_cameras(harness, small_model):
    """Start an edge with association on and a publisher per camera; return them."""
    from mec_coop.nodes.edge_node import EdgeNode
    cams = make_cameras(4)
    edge = harness.add(EdgeNode(pose_backend=small_model, context=harness.context,
                                parameter_overrides=[
                                    Parameter('cameras', value=[c.name for c in cams]),
                                    Parameter('input_namespace', value=''),
                                    Parameter('association', value=True)]))
    harness.publish_calibration(cams)
    pubs = {c.name: harness.node.create_publisher(PoseKeypoints2D, f'/{c.name}/keypoints',
                                                  QOS_RELIABLE) for c in cams}
    assert harness.wait_for(lambda: all(p.get_subscription_count() for p in pubs.values()))
    return edge, cams, pubs


def _send_instant(harness, cams, pubs, truth):
    """Publish every camera's view of the people in ``truth``, each camera in its own order."""
    # Stamped when sent (a report older than the edge's deadline would be dropped as late)
    # and 0.25 s apart (closer stamps would join the previous instant).
    time.sleep(0.25)
    stamp = harness.node.get_clock().now().nanoseconds * 1e-9
    for v, cam in enumerate(cams):
        order = truth[::-1] if v % 2 else truth
        pubs[cam.name].publish(_people_msg(cam, order, stamp))


def test_edge_publishes_every_person_with_an_id_markers_and_crops(harness, small_model):
    _, cams, pubs = _edge_with_cameras(harness, small_model)
    arrays = harness.collect(Skeleton3DArray, '/skeletons')
    markers = harness.collect(MarkerArray, '/skeletons/markers')
    single = harness.collect(Skeleton3D, '/skeleton')
    rois = harness.collect(CameraRoi, '/cam0/roi')
    for k in range(3):
        _send_instant(harness, cams, pubs, TRUTH)
        assert harness.wait_for(lambda: len(arrays) == k + 1)
    assert len(arrays[0].skeletons) == 0     # births need two consistent instants
    last = arrays[-1]
    assert sorted(s.track_id for s in last.skeletons) == [1, 2]
    for skeleton in last.skeletons:
        joints = skeleton_joints(skeleton)
        gt = int(np.argmin(np.nanmean(np.linalg.norm(TRUTH - joints, axis=-1), axis=-1)))
        assert np.nanmax(np.linalg.norm(joints - TRUTH[gt], axis=-1)) < 0.01
        # The index of this person in each camera's list, per the order published above.
        expected = [gt if int(c[3:]) % 2 == 0 else 1 - gt for c in skeleton.camera_ids]
        assert list(skeleton.person_indices) == expected
    assert harness.wait_for(lambda: single and single[-1].track_id == 1)
    assert harness.wait_for(lambda: any(m.text == 'id 2' for a in markers for m in a.markers))
    assert harness.wait_for(lambda: rois and sorted(p.track_id for p in rois[-1].people) == [1, 2])


def test_association_parameters_apply_live_and_bad_ones_are_refused(harness, small_model):
    from rclpy.parameter_client import AsyncParameterClient
    edge, cams, pubs = _edge_with_cameras(harness, small_model)
    arrays = harness.collect(Skeleton3DArray, '/skeletons')
    for k in range(3):
        _send_instant(harness, cams, pubs, TRUTH)
        assert harness.wait_for(lambda: len(arrays) == k + 1)
    assert sorted(s.track_id for s in arrays[-1].skeletons) == [1, 2]

    client = AsyncParameterClient(harness.node, '/edge')
    assert client.wait_for_services(timeout_sec=10.0)

    def set_parameters(**values):
        future = client.set_parameters([Parameter(n, value=v) for n, v in values.items()])
        assert harness.wait_for(future.done)
        return future.result().results

    people = edge.fusion.people
    results = set_parameters(association_match_gate=0.8, association_death_timeout_s=4.0,
                             association_human_checks=False)
    assert all(r.successful for r in results), results
    settings = edge.fusion.people.associator.settings
    assert (settings.match_gate, settings.death_timeout_s, settings.human_checks) == (
        0.8, 4.0, False)
    # The shared values keep their one owner: the fusion's min_views, also for the association.
    assert set_parameters(min_views=3)[0].successful
    assert edge.fusion.people.associator.settings.min_views == 3
    # Inside the descriptor's range, refused by the settings' own check, with the reason.
    (bad,) = set_parameters(association_match_gate=0.0)
    assert not bad.successful and 'match_gate must be > 0' in bad.reason
    # Outside the descriptor's range: refused by rclpy before our check.
    (bad,) = set_parameters(association_birth_instants=0)
    assert not bad.successful and bad.reason
    values = client.get_parameters(['association_match_gate', 'association_birth_instants'])
    assert harness.wait_for(values.done)
    assert [v.double_value or v.integer_value for v in values.result().values] == [0.8, 2]
    assert edge.fusion.people.associator.settings.match_gate == 0.8
    # The tracks and ids lived through the changes: the next instant has the same people.
    assert edge.fusion.people is people
    _send_instant(harness, cams, pubs, TRUTH)
    assert harness.wait_for(lambda: len(arrays) == 4)
    assert sorted(s.track_id for s in arrays[-1].skeletons) == [1, 2]
