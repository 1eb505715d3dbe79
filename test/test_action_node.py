# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The action node over real DDS: a scripted fall gives exactly one fall event in time.

The skeletons are the virtual rig's ground truth of a scripted fall with the edge's measured
errors added (:func:`mec_coop.action.data.corrupt_3d`: ~50 mm, invalid joints, missing
instants), published as ``Skeleton3D`` at 5 Hz rig time. Running the whole graph (rendering,
pose models) for this would take minutes on the test machine; the node sees exactly the
message type and topic the edge publishes.
"""

import time

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
import pytest
from rclpy.parameter import Parameter
from visualization_msgs.msg import MarkerArray

from mec_coop.action.data import corrupt_3d
from mec_coop.action.rates import load_profiles
from mec_coop.msg import ActionEvent, Joint3D, Skeleton3D, Skeleton3DArray
from mec_coop.rig.virtual import ACTIONS, default_furniture, Humanoid, Room
from mec_coop.ros.conversions import from_stamp, to_stamp

pytestmark = [pytest.mark.dds]
LATENCY_BOUND_S = 1.0
LATENCY_BOUND_S_2HZ = 1.5
BASE_S = 1000.0


def _scripted_fall(period_s=0.2, lead_s=3.0):
    """Ground truth around the first fall of a person who only stands and falls."""
    room = Room()
    person = Humanoid(4, room, default_furniture(room), actions=('stand', 'fall'))
    t, fall = 0.0, None
    while fall is None:
        ep = person.episode(t)
        fall = ep if ep.action == 'fall' else None
        t = ep.end
    stamps = np.arange(fall.start - lead_s, fall.end + 1.0, period_s)
    poses = [person.pose(s) for s in stamps]
    truth = np.array([p.joints for p in poses])
    labels = np.array([ACTIONS.index(p.action) for p in poses])
    joints, present = corrupt_3d(truth, labels, np.random.default_rng(16))
    return fall, stamps[present], joints[present]


def _skeleton(stamp, joints, track_id=7):
    msg = Skeleton3D(track_id=track_id)
    msg.header.stamp = to_stamp(stamp)
    msg.header.frame_id = 'world'
    for k, p in enumerate(joints):
        ok = bool(np.all(np.isfinite(p)))
        msg.joints[k] = Joint3D(valid=ok)
        if ok:
            msg.joints[k].position.x, msg.joints[k].position.y = float(p[0]), float(p[1])
            msg.joints[k].position.z = float(p[2])
    return msg


def _picks():
    """Return the profile picked per rate on validation (models/detectors.json), by rate."""
    return {p.rate_hz: p for p in load_profiles() if p.selected}


def test_scripted_fall_gives_one_fall_event_within_the_bound(harness):
    from mec_coop.nodes.action_node import ActionNode
    node = harness.add(ActionNode(context=harness.context))
    picked = _picks()[5.0].m
    events = harness.collect(ActionEvent, '/actions')
    markers = harness.collect(MarkerArray, '/actions/markers')
    diagnostics = harness.collect(DiagnosticArray, '/diagnostics')
    pub = harness.node.create_publisher(Skeleton3D, '/skeleton', 100)
    assert harness.wait_for(lambda: pub.get_subscription_count() > 0)
    fall, stamps, joints = _scripted_fall()
    for stamp, points in zip(stamps, joints):
        pub.publish(_skeleton(BASE_S + stamp, points))
        time.sleep(0.05)     # 4x real time; the topic keeps the last 20 skeletons
    assert harness.wait_for(lambda: len(markers) == len(stamps), timeout=25.0)
    falls = [e for e in events if e.action == 'fall']
    assert len(falls) == 1, [(e.action, from_stamp(e.header.stamp) - BASE_S) for e in events]
    event = falls[0]
    latency = from_stamp(event.header.stamp) - BASE_S - fall.start
    assert 0.0 <= latency <= LATENCY_BOUND_S
    assert abs(from_stamp(event.onset) - BASE_S - fall.start) <= 1.0
    # The event says which m ran: the one picked for 5 Hz (no parameter set it).
    assert (event.track_id, event.frames_used, event.source) == (
        7, picked, ActionEvent.SOURCE_EDGE_3D)
    assert 0.6 <= event.confidence <= 1.0
    text = markers[-1].markers[0]
    assert text.type == text.TEXT_VIEW_FACING and text.pose.position.z > 0.0
    # Parameters are validated together; a rejected set changes nothing.
    for name, value, reason in (('frames', 5, 'bundled'), ('off_threshold', 0.9, 'off_threshold'),
                                ('actions', ['dance'], 'subset')):
        result = node.set_parameters([Parameter(name, value=value)])[0]
        assert not result.successful and reason in result.reason
    assert node.set_parameters([Parameter('frames', value=4)])[0].successful
    assert node.tracker.model.m == 4

    def counted():
        return any(s.name == 'mec_coop/action' and {kv.key: kv.value for kv in s.values}.get(
            'published') == str(len(events)) for d in diagnostics for s in d.status)
    assert harness.wait_for(counted, timeout=5.0)


def _fall_on(node):
    return node.tracker.settings.of('fall').on_threshold


def _detector_status(diagnostics):
    values = [{kv.key: kv.value for kv in s.values} for d in diagnostics for s in d.status
              if s.name == 'mec_coop/action']
    return values[-1] if values else {}


def test_2hz_skeletons_run_the_m_and_thresholds_picked_for_2hz(harness):
    from mec_coop.nodes.action_node import ActionNode
    node = harness.add(ActionNode(context=harness.context))
    events = harness.collect(ActionEvent, '/actions')
    markers = harness.collect(MarkerArray, '/actions/markers')
    diagnostics = harness.collect(DiagnosticArray, '/diagnostics')
    pub = harness.node.create_publisher(Skeleton3D, '/skeleton', 100)
    assert harness.wait_for(lambda: pub.get_subscription_count() > 0)
    picks = _picks()
    # Picked on the validation seeds (benchmarks/actions.py --part events --write-models):
    # m = 1 at 2 Hz, where m = 8 fired falls 0.12 s later on the held-out seeds.
    assert picks[2.0].m == 1
    # Before any interval is measured the node runs the fastest rate's pick (5 Hz).
    assert node.running == f'per_rate 5 Hz, m {picks[5.0].m}'
    assert node.tracker.settings.per_action == picks[5.0].settings.per_action
    fall, stamps, joints = _scripted_fall(period_s=0.5, lead_s=5.0)
    for stamp, points in zip(stamps, joints):
        pub.publish(_skeleton(BASE_S + stamp, points))
        time.sleep(0.05)
    assert harness.wait_for(lambda: len(markers) == len(stamps), timeout=25.0)
    assert node.running == 'per_rate 2 Hz, m 1' and node.tracker.model.m == 1
    assert node.tracker.settings.per_action == picks[2.0].settings.per_action
    assert harness.wait_for(lambda: _detector_status(diagnostics).get('detector')
                            == 'per_rate 2 Hz, m 1', timeout=5.0)
    status = _detector_status(diagnostics)
    assert float(status['skeleton_rate_hz']) == pytest.approx(2.0) and status['frames'] == '1'
    assert status['thresholds fall'] == picks[2.0].settings.thresholds()['fall']
    falls = [e for e in events if e.action == 'fall']
    # One fall, from the 2 Hz pick; at 2 Hz the first skeleton that shows it can come 1.1 s
    # after the onset.
    assert len(falls) == 1 and falls[0].frames_used == 1
    latency = from_stamp(falls[0].header.stamp) - BASE_S - fall.start
    assert 0.0 <= latency <= LATENCY_BOUND_S_2HZ, latency
    # A set m overrides the pick (the allocator sets it), 0 gives it back.
    assert node.set_parameters([Parameter('frames', value=8)])[0].successful
    assert node.running == 'per_rate 2 Hz, m 8' and node.tracker.model.m == 8
    assert node.set_parameters([Parameter('frames', value=0)])[0].successful
    assert node.running == 'per_rate 2 Hz, m 1' and node.tracker.model.m == 1
    # A set rate overrides the measured one; 'parameters' runs the threshold parameters.
    assert node.set_parameters([Parameter('skeleton_rate_hz', value=5.0)])[0].successful
    assert node.running == f'per_rate 5 Hz, m {picks[5.0].m}'
    assert node.tracker.settings.per_action == picks[5.0].settings.per_action
    assert not node.set_parameters([Parameter('skeleton_rate_hz', value=0.1)])[0].successful
    assert not node.set_parameters([Parameter('detector', value='fast')])[0].successful
    assert node.set_parameters([Parameter('detector', value='parameters'),
                                Parameter('on_threshold', value=0.65)])[0].successful
    assert node.running == f'parameters, m {picks[5.0].m}' and _fall_on(node) == 0.65


def test_every_tracked_person_gets_its_own_events(harness):
    from mec_coop.nodes.action_node import ActionNode
    harness.add(ActionNode(context=harness.context,
                           parameter_overrides=[Parameter('input', value='skeletons')]))
    events = harness.collect(ActionEvent, '/actions')
    markers = harness.collect(MarkerArray, '/actions/markers')
    pub = harness.node.create_publisher(Skeleton3DArray, '/skeletons', 100)
    assert harness.wait_for(lambda: pub.get_subscription_count() > 0)
    fall, stamps, joints = _scripted_fall()
    standing = Humanoid(9, actions=('stand',), start=(-2.0, -2.0)).pose(0.0).joints
    for stamp, points in zip(stamps, joints):
        msg = Skeleton3DArray(skeletons=[_skeleton(BASE_S + stamp, points, 3),
                                         _skeleton(BASE_S + stamp, standing, 5)])
        msg.header = msg.skeletons[0].header
        pub.publish(msg)
        time.sleep(0.05)
    assert harness.wait_for(lambda: len(markers) == len(stamps), timeout=25.0)
    assert {m.id for m in markers[-1].markers} == {3, 5}
    assert [e.track_id for e in events if e.action == 'fall'] == [3]
    assert all(e.track_id == 3 for e in events)     # the standing person does nothing
