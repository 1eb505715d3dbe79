# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Allocator node over real DDS: live tuning of real camera, edge and uplink nodes.

The nodes run in this process on a multi-threaded executor (the harness of ``test_nodes``); the
allocator reaches the others only through their parameter services, as across processes.
"""

import json
import math
import re
import time
from types import SimpleNamespace

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
import pytest
from rclpy.parameter import Parameter
from std_msgs.msg import Float32

from mec_coop.alloc.model import route_probabilities
from mec_coop.msg import AllocationState, GroundTruth, PoseKeypoints2D
from mec_coop.ros.conversions import to_stamp
from mec_coop.ros.diagnostics import diagnostic, EdgeHealth
from mec_coop.ros.qos import QOS_LATCHED, QOS_RELIABLE

pytestmark = [pytest.mark.dds]

CAMERAS = ['cam0', 'cam1']
FLOAT32 = 1e-6


def make_allocator(h, **params):
    from mec_coop.nodes.allocator_node import AllocatorNode
    params = {'cameras': CAMERAS, 'resolve_period_s': 0.0, **params}
    return h.add(AllocatorNode(context=h.context, parameter_overrides=[
        Parameter(k, value=v) for k, v in params.items()]))


def applied_values(cameras, edge, uplink):
    """Read back what the nodes run with: per camera (low, high, server, share)."""
    return [(cameras[cam].theta_low, cameras[cam].theta_high,
             edge.get_parameter(f'theta_server.{cam}').value,
             uplink.get_parameter(f'tdma_share.{cam}').value) for cam in CAMERAS]


def state_values(state):
    return [(c.theta_low, c.theta_high, c.theta_server, c.tdma_share) for c in state.cameras]


def matches(cameras, edge, uplink, state):
    return np.allclose(applied_values(cameras, edge, uplink), state_values(state), atol=FLOAT32)


@pytest.mark.model
def test_allocator_tunes_real_nodes_live(harness, small_model):
    from mec_coop.nodes.camera_node import CameraNode
    from mec_coop.nodes.edge_node import EdgeNode
    from mec_coop.nodes.uplink_node import UplinkNode
    cameras = {cam: harness.add(CameraNode(pose_backend=small_model, context=harness.context,
                                           namespace=cam)) for cam in CAMERAS}
    listed = [Parameter('cameras', value=CAMERAS)]
    edge = harness.add(EdgeNode(pose_backend=small_model, context=harness.context,
                                parameter_overrides=listed))
    # The uplink owns the link: the allocator plans with the gains it publishes.
    uplink = harness.add(UplinkNode(context=harness.context, parameter_overrides=listed + [
        Parameter('channel_gain_db.cam0', value=-95.0),
        Parameter('channel_gain_db.cam1', value=-105.0)]))
    states = harness.collect(AllocationState, '/allocation', QOS_LATCHED)
    # The paper's delay model (19) as written, so the numbers below are the paper's.
    allocator = make_allocator(harness, delay_requirement_s=1.0, calibrate=False,
                               tx_model='per_second', uplink_combine='sum',
                               score_labels='prior')

    # Start-up: the solution with the uplink's link state reaches every node.
    assert harness.wait_for(lambda: states and states[-1].cameras[0].channel_gain_db == -95.0
                            and matches(cameras, edge, uplink, states[-1]))
    relaxed = states[-1]
    assert relaxed.feasible and relaxed.solver == 'proposed'
    assert relaxed.delay_requirement_s == pytest.approx(1.0)
    assert relaxed.predicted_delay_s <= 1.0
    assert sum(c.tdma_share for c in relaxed.cameras) == pytest.approx(1.0, abs=1e-5)
    # A loose bound: this process also runs the nodes; benchmarks/alloc_speed.py times solves.
    assert relaxed.solve_time_s < 2.0
    assert [c.channel_gain_db for c in relaxed.cameras] == [-95.0, -105.0]

    # A user tightens the requirement: new thresholds and shares are pushed.
    assert allocator.set_parameters([Parameter('delay_requirement_s', value=0.2)])[0].successful
    assert harness.wait_for(lambda: states[-1].delay_requirement_s == pytest.approx(0.2)
                            and matches(cameras, edge, uplink, states[-1]))
    tight = states[-1]
    assert tight.feasible and tight.predicted_delay_s <= 0.2 + FLOAT32
    assert state_values(tight) != state_values(relaxed)
    assert tight.predicted_accuracy < relaxed.predicted_accuracy

    # Invalid settings are rejected with a reason and change nothing.
    count = len(states)
    bad = allocator.set_parameters([Parameter('solver', value='nonsense')])[0]
    assert not bad.successful and 'solver must be one of' in bad.reason
    bad = allocator.set_parameters([Parameter('delay_requirement_s', value=-0.5)])[0]
    assert not bad.successful and 'out of range' in bad.reason
    assert allocator.get_parameter('solver').value == 'proposed'
    assert allocator.get_parameter('delay_requirement_s').value == pytest.approx(0.2)

    # Below the fixed delay terms (0.1355 s with Table I) nothing is feasible: reported, and
    # the solver's no-offload fallback is applied.
    assert allocator.set_parameters([Parameter('delay_requirement_s', value=0.1)])[0].successful
    assert harness.wait_for(lambda: len(states) > count
                            and states[-1].delay_requirement_s == pytest.approx(0.1)
                            and matches(cameras, edge, uplink, states[-1]))
    infeasible = states[-1]
    assert not infeasible.feasible
    assert infeasible.min_delay_s == pytest.approx(0.1355, abs=1e-3)
    assert infeasible.predicted_delay_s > 0.1
    assert all(c.theta_low == c.theta_high for c in infeasible.cameras)   # nothing offloaded

    # Another solver by name, live.
    assert allocator.set_parameters([Parameter('solver', value='server_centric')])[0].successful
    assert harness.wait_for(lambda: states[-1].solver == 'server_centric'
                            and matches(cameras, edge, uplink, states[-1]))
    assert all(cameras[cam].theta_low == 0.0 for cam in CAMERAS)
    counts = allocator.pusher.targets['uplink'].counts
    assert counts['rejected'] == counts['failed'] == 0

    # A better channel set on the uplink (its owner) changes the plan: less delay predicted.
    before = states[-1]
    assert uplink.set_parameters([Parameter('channel_gain_db.cam1', value=-80.0)])[0].successful
    assert harness.wait_for(lambda: states[-1].cameras[1].channel_gain_db == -80.0)
    assert states[-1].predicted_delay_s < before.predicted_delay_s


def _labelled_frame(pubs, stamp, truth_first):
    """Publish one capture instant: cam0 positive and confident, cam1 negative."""
    truth = GroundTruth(camera_ids=[f'{cam}_optical_frame' for cam in CAMERAS],
                        positive=[True, False])
    truth.header.stamp = to_stamp(stamp)
    kp = PoseKeypoints2D(route=PoseKeypoints2D.ROUTE_KEYPOINTS, frame_confidence=0.95,
                         inference_time_s=0.08)
    kp.header.stamp = to_stamp(stamp)
    # cam1's frame was an audit: its edge result carries the camera's score too.
    edge = PoseKeypoints2D(source=PoseKeypoints2D.SOURCE_EDGE, frame_confidence=0.02,
                           camera_confidence=0.4, audit=True, inference_time_s=0.3)
    edge.header.stamp = to_stamp(stamp)
    samples = [(pubs['kp0'], kp), (pubs['edge1'], edge), (pubs['score0'], Float32(data=0.95)),
               (pubs['score1'], Float32(data=0.4))]
    for pub, msg in ([(pubs['truth'], truth)] + samples if truth_first
                     else samples + [(pubs['truth'], truth)]):
        pub.publish(msg)


def test_online_update_and_late_nodes(harness):
    from mec_coop.nodes.uplink_node import UplinkNode
    allocator = make_allocator(harness, score_labels='ground_truth', cdf_window=20,
                               warmup_samples=0)
    states = harness.collect(AllocationState, '/allocation', QOS_LATCHED)
    assert harness.wait_for(lambda: len(states) == 1)
    # No other node runs yet: pushes wait, without blocking anything.
    assert harness.wait_for(lambda: allocator.pusher.targets['uplink'].counts['unavailable'] >= 2)
    assert not allocator.pusher.targets['uplink'].delivered

    node = harness.node
    pubs = {'truth': node.create_publisher(GroundTruth, '/ground_truth', QOS_RELIABLE),
            'kp0': node.create_publisher(PoseKeypoints2D, '/cam0/keypoints', QOS_RELIABLE),
            'edge1': node.create_publisher(PoseKeypoints2D, '/cam1/edge_result', QOS_RELIABLE),
            'score0': node.create_publisher(Float32, '/cam0/confidence', QOS_RELIABLE),
            'score1': node.create_publisher(Float32, '/cam1/confidence', QOS_RELIABLE)}
    assert harness.wait_for(lambda: all(p.get_subscription_count() for p in pubs.values()))
    for k in range(30):   # labels before and after their samples
        _labelled_frame(pubs, 1000.0 + 0.5 * k, truth_first=k % 2 == 0)
        time.sleep(0.05)  # paced like a rig: a burst beyond the QoS depth may lose messages
    observer = allocator.observer
    assert harness.wait_for(lambda: len(observer._labelled['ground_truth']) == 90  # unused yet
                            and all(len(observer.calibration.frame_scores[c]) == 30
                                    for c in CAMERAS))
    # A parameter change re-solves with the new samples.
    assert allocator.set_parameters([Parameter('segments', value=10)])[0].successful
    assert harness.wait_for(lambda: observer.counts['ground_truth'] == 90
                            and allocator.last.settings.segments == 10)
    scores = allocator.last.scores
    assert scores['cam0'][0] == pytest.approx(1.0)   # window of 20 real labels, all positive
    assert scores['cam1'][0] == pytest.approx(0.0)
    assert scores['cam0'][1] == {'x_pos': 30}
    assert scores['cam1'][1] == {'x_neg': 30, 'y_neg': 30}
    assert observer.joins['ground_truth'].unlabelled == 0
    assert observer.counts['audits'] == 30
    # The timings came along: camera and edge model times are calibrated.
    timing = allocator.last.settings.timing
    assert timing.edge_service_s == pytest.approx(0.3)
    assert np.allclose(timing.device_s[:, 0], 0.08)
    # Every frame's score and the audits came too: the plan routes frames as the cameras do.
    # cam0 kept all 30 frames (no audit), cam1 audited all 30 (scores 0.4).
    calibration = observer.calibration
    assert [len(calibration.frame_scores[c]) for c in CAMERAS] == [30, 30]
    cam0, cam1 = calibration.routed(allocator.laws.models('ground_truth', [-100.0] * 2))
    assert (cam0.audit_share, cam1.audit_share) == (0.0, 1.0)
    assert route_probabilities(cam0, 0.3, 0.9) == pytest.approx((0.0, 1.0))
    assert route_probabilities(cam1, 0.3, 0.9) == pytest.approx((1.0, 0.0))
    # cam1 sent no camera-model time (only audits): it keeps the prior, the slowest counts.
    assert allocator.last.settings.params.device_inference_s == pytest.approx(0.1)
    # The edge's diagnostics say how long offloads took on the cameras (cam0: 0.3 s after
    # capture, 0.22 s more than its keypoints' 0.08 s); a value that is not a number is ignored.
    # Six start-up offloads (2.5 s on the camera, at t = 1 s) are older than the edge's horizon
    # at t = 45 s: they would be the median of the eleven.
    health = EdgeHealth(CAMERAS, 1.0, 0.0)
    for age, link, now in ((2.5, 0.0, 1.0),) * 6 + (
            (0.35, 0.05, 40.0), (0.32, 0.02, 41.0), (0.31, 0.01, 42.0), (0.4, 0.1, 43.0),
            (0.3, 0.0, 44.0)):
        health.offload_arrived('cam0', age, SimpleNamespace(
            uplink_airtime_s=link / 2, uplink_queueing_s=link / 2), now)
    fusion = SimpleNamespace(counts={c: {} for c in CAMERAS}, silent=set(), totals={},
                             sync_stats={})
    diag = DiagnosticArray(status=health.statuses(fusion, lambda _c: True, 45.0,
                                                  {'batch_size': 2}))
    assert [kv.value for s in diag.status for kv in s.values if kv.key == 'offload_camera_s'] \
        == ['0.3', 'nan']
    diag.status[1].values[-1].value = 'garbage'
    diag_pub = node.create_publisher(DiagnosticArray, '/diagnostics', 10)
    diag_pub.publish(diag)
    assert harness.wait_for(lambda: observer.calibration.offload_camera_s['cam0'] == 0.3)
    # The edge's own status says its batch size: the replay batches as the edge does.
    assert observer.calibration.timing(allocator.last.settings.params).edge_batch == 2
    assert math.isnan(observer.calibration.offload_camera_s['cam1'])
    assert observer.calibration.timing(allocator.last.settings.params).offload_extra_s \
        == pytest.approx([0.22, 0.0])
    # cam1 runs with theta_low 0.5 (its diagnostics say): an image it scored 0.1 is a search for
    # people, one of its dropped frames; one it scored 0.6 is a threshold offload.
    camera = diagnostic('mec_coop/camera/cam1', 'cam1', 0, 'ok', {'theta_low': 0.5})
    diag_pub.publish(DiagnosticArray(status=[camera]))
    assert harness.wait_for(lambda: observer._theta_low.get('cam1') == 0.5)
    audits, searches = observer.calibration.audits['cam1'], observer.calibration.searches['cam1']
    before = len(audits), audits.samples().sum(), len(searches), searches.samples().sum()
    for k, score in enumerate((0.1, 0.6)):
        result = PoseKeypoints2D(source=PoseKeypoints2D.SOURCE_EDGE, camera_confidence=score,
                                 inference_time_s=0.3)
        result.header.stamp = to_stamp(2000.0 + k)
        pubs['edge1'].publish(result)
    # The search is a frame the audit draw passed by (a 0 among the audits) and a 1 among the
    # searches; the threshold offload is neither.
    assert harness.wait_for(lambda: observer.counts['searches'] == 1 and len(searches) > before[2])
    assert (len(audits), audits.samples().sum(), len(searches), searches.samples().sum()) == (
        before[0] + 1, before[1], before[2] + 1, before[3] + 1)
    # A drop notice is a dropped frame nobody searched: a 0 among cam0's searches.
    notice = PoseKeypoints2D(route=PoseKeypoints2D.ROUTE_DROP, inference_time_s=0.08)
    notice.header.stamp = to_stamp(2002.0)
    pubs['kp0'].publish(notice)
    assert harness.wait_for(lambda: len(observer.calibration.searches['cam0']) == 1)
    assert observer.calibration.searches['cam0'].samples().tolist() == [0.0]
    # The log line sets the replay's offloaded-view median beside the measured one (the Pareto
    # benchmark reads it): cam1's audits took 0.3 s at the edge, none was timed from capture.
    assert re.search(r'offloaded view p50 predicted [0-9.]+ s, measured nan s',
                     allocator.last.summary())
    # The plan applied would set the offloaded-view median its replay expects, but cam1 sent no
    # camera time: the calibration is not ready and nothing is expected (no gap measured).
    assert not allocator.last.extra['warming_up']
    assert math.isfinite(allocator.last.replayed_view_s())
    assert not observer.calibration.ready() and math.isnan(observer.calibration.predicted_view_s)
    assert allocator.last.values()['offload_view_residual_s'] == 0.0

    # The uplink starts late: the pending shares reach it (its link state also triggers a plan).
    solves = allocator.solves
    assert harness.wait_for(lambda: len(states) == solves)
    # cam1 sends an image with every frame (its audits): it gets nearly all the airtime, cam0
    # (keypoints only) little more than the minimum share.
    assert states[-1].cameras[1].tdma_share > 0.95
    # The calibrated replay's distribution goes out with the plan (99 quantiles, its median
    # the predicted p50): the evaluator pools those of a run's plans.
    quantiles = np.array(states[-1].predicted_delay_quantiles_s)
    assert quantiles.size == 99 and np.all(np.diff(quantiles) >= 0.0)
    assert quantiles[49] == pytest.approx(states[-1].predicted_delay_p50_s, rel=1e-5)
    uplink = harness.add(UplinkNode(context=harness.context, parameter_overrides=[
        Parameter('cameras', value=CAMERAS)]))
    assert harness.wait_for(
        lambda: allocator.pusher.targets['uplink'].delivered and len(states) == allocator.solves
        and [uplink.get_parameter(f'tdma_share.{cam}').value for cam in CAMERAS]
        == pytest.approx([c.tdma_share for c in states[-1].cameras], abs=FLOAT32))
    assert states[-1].cameras[1].tdma_share > 0.95
    # An edge result says the size of the offload it ran on (what the uplink charged): a frame
    # cam0 found nobody in (score 0) went up whole and is sized apart from the others.
    edge0 = node.create_publisher(PoseKeypoints2D, '/cam0/edge_result', QOS_RELIABLE)
    assert harness.wait_for(lambda: edge0.get_subscription_count() > 0)
    for k, (score, size) in enumerate(((0.0, 125_000), (0.8, 15_000))):
        result = PoseKeypoints2D(source=PoseKeypoints2D.SOURCE_EDGE, camera_confidence=score,
                                 offload_bytes=size, audit=True, inference_time_s=0.3)
        result.header.stamp = to_stamp(3000.0 + k)
        edge0.publish(result)
    calibration = observer.calibration
    assert harness.wait_for(lambda: len(calibration.empty_image_bytes['cam0']) == 1
                            and len(calibration.image_bytes['cam0']) == 1)
    assert calibration.empty_image_bytes['cam0'].samples().tolist() == [125_000]
    assert calibration.image_bytes['cam0'].samples().tolist() == [15_000]


@pytest.mark.model
def test_cocrra_plan_sets_jpeg_quality_on_real_cameras(harness, small_model):
    from mec_coop.alloc.cocrra_tdma import TdmaLink
    from mec_coop.alloc.model import SystemParams
    from mec_coop.alloc.uplink_plan import plan_uplink, rate_curve, upload_deadline
    from mec_coop.coop.uplink import db_to_linear, dbm_to_watt
    from mec_coop.nodes.camera_node import CameraNode
    from mec_coop.nodes.uplink_node import UplinkNode
    from mec_coop.ros.allocation import SIZE_SPREAD_PRIOR
    cameras = {cam: harness.add(CameraNode(pose_backend=small_model, context=harness.context,
                                           namespace=cam)) for cam in CAMERAS}
    # A tight uplink: 0.1 MHz, and cam1 15 dB weaker than cam0.
    gains = {'cam0': -95.0, 'cam1': -110.0}
    uplink = harness.add(UplinkNode(context=harness.context, parameter_overrides=[
        Parameter('cameras', value=CAMERAS), Parameter('bandwidth_hz', value=1e5),
        *(Parameter(f'channel_gain_db.{c}', value=g) for c, g in gains.items())]))
    states = harness.collect(AllocationState, '/allocation', QOS_LATCHED)
    # Priors only (no graph runs here): 135 KB offloads at the cameras' quality 90, D_req 0.6 s.
    allocator = make_allocator(harness, uplink_plan='cocrra', calibrate=False,
                               score_labels='prior', image_bytes=135_000.0,
                               delay_requirement_s=0.6, edge_node='')
    assert harness.wait_for(lambda: states and states[-1].cameras[1].channel_gain_db == -110.0
                            and all(c.jpeg_quality for c in states[-1].cameras))
    state = states[-1]
    # The same plan computed here from the same inputs: the uplink's fixed gains (its fading
    # 'none'), the prior spread of the sizes (none measured), an offload per frame period.
    t0 = upload_deadline(SystemParams(delay_req_s=0.6))
    link = TdmaLink(1e5, dbm_to_watt(30.0), dbm_to_watt(-165.0),
                    tuple(db_to_linear(g) for g in gains.values()), t0, 0.01, 'none',
                    SIZE_SPREAD_PRIOR, 1.0 / SystemParams().frame_rate_hz)
    expected = plan_uplink('cocrra', [rate_curve(135_000.0, 90)] * 2, link)
    assert [c.jpeg_quality for c in state.cameras] == list(expected.qualities)
    assert max(expected.qualities) < 90   # uniform JPEG at 90 would not make t0
    assert [c.tdma_share for c in state.cameras] == pytest.approx(expected.shares.tolist(),
                                                                  abs=FLOAT32)
    # The cameras accepted the pushed quality, the uplink the shares.
    assert harness.wait_for(lambda: all(
        cameras[cam].get_parameters(['jpeg_quality'])[0].value == c.jpeg_quality
        for cam, c in zip(CAMERAS, states[-1].cameras)))
    assert harness.wait_for(lambda: [uplink.get_parameter(f'tdma_share.{cam}').value
                                     for cam in CAMERAS] == pytest.approx(
        [c.tdma_share for c in states[-1].cameras], abs=FLOAT32))
    assert allocator.pusher.targets['camera:cam0'].counts['rejected'] == 0
    # The plan knows the quality now runs on the cameras.
    assert harness.wait_for(lambda: allocator.set_parameters(
        [Parameter('segments', value=10)])[0].successful and allocator.tasks.quality == {
        cam: c.jpeg_quality for cam, c in zip(CAMERAS, states[-1].cameras)})

    # cam1 switches to region-wise offloads (the camera owns its codec): the allocator reads it
    # and sizes cam1's offloads on the region-wise curve, whose quality 30 is 61% of quality
    # 90, not 25%: cam1 cannot make t0 any more and gets less airtime.
    assert cameras['cam1'].set_parameters(
        [Parameter('offload_codec', value='regionwise')])[0].successful
    regional = plan_uplink('cocrra', [rate_curve(135_000.0, 90),
                                      rate_curve(135_000.0, 90, codec='regionwise')], link)
    assert regional.shares[1] < expected.shares[1] - 0.02
    assert harness.wait_for(lambda: allocator.tasks.codec['cam1'] == 'regionwise' and [
        c.tdma_share for c in states[-1].cameras] == pytest.approx(regional.shares.tolist(),
                                                                   abs=FLOAT32))
    assert [c.jpeg_quality for c in states[-1].cameras] == list(regional.qualities)

    # A wrong plan name is rejected with the reason; FCRRA keeps uniform JPEG at 90.
    bad = allocator.set_parameters([Parameter('uplink_plan', value='fdma')])[0]
    assert not bad.successful and 'uplink_plan must be one of' in bad.reason
    assert allocator.set_parameters([Parameter('uplink_plan', value='fcrra')])[0].successful
    assert harness.wait_for(lambda: [c.jpeg_quality for c in states[-1].cameras] == [90, 90]
                            and all(cameras[cam].get_parameters(['jpeg_quality'])[0].value
                                    == 90 for cam in CAMERAS))


def test_the_horizon_forgets_old_frame_scores_also_without_calibrate(harness):
    # calibrate false plans thresholds with the constants, but an uplink plan still routes with
    # the measured frame scores: each plan forgets those older than calibration_horizon_s.
    states = harness.collect(AllocationState, '/allocation', QOS_LATCHED)
    allocator = make_allocator(harness, calibrate=False, score_labels='prior', edge_node='',
                               uplink_node='', camera_node='')
    assert harness.wait_for(lambda: states)
    observer = allocator.observer
    scores = observer.calibration.frame_scores['cam0']
    now = observer.now()
    for k in range(60):   # the last 30 s at 2 fps
        scores.add(0.5, now - 29.75 + 0.5 * k)
    assert allocator.set_parameters([Parameter('calibration_horizon_s', value=10.0)])[0] \
        .successful
    # The re-plan it makes keeps the last 10 s: 20 frames, less those that aged meanwhile.
    assert harness.wait_for(lambda: len(scores) <= 20)
    assert len(scores) >= 15


def test_action_allocation_sets_the_action_nodes_frames(harness):
    from mec_coop.nodes.action_node import ActionNode
    action = harness.add(ActionNode(context=harness.context))
    assert action.get_parameter('frames').value == 0     # picked per rate until the plan
    states = harness.collect(AllocationState, '/allocation', QOS_LATCHED)
    # No uplink node: the paper's link (1 MHz, -100 dB); a 5000-byte frame per camera.
    allocator = make_allocator(harness, action_allocation='edge_only', calibrate=False,
                               score_labels='prior', message_bytes=5000.0, edge_node='',
                               uplink_node='', camera_node='')
    assert harness.wait_for(lambda: states and states[-1].cameras[0].action_frames)
    # Both cameras on the edge with 6 frames each (Theorem 2 + GP), the node runs m = 6.
    assert [c.action_frames for c in states[-1].cameras] == [6, 6]
    assert harness.wait_for(lambda: action.get_parameters(['frames'])[0].value == 6
                            and action.tracker.model.m == 6)
    # Local execution costs no airtime: the largest model, live.
    assert allocator.set_parameters([Parameter('action_allocation',
                                               value='local_only')])[0].successful
    assert harness.wait_for(lambda: [c.action_frames for c in states[-1].cameras] == [16, 16]
                            and action.tracker.model.m == 16)
    bad = allocator.set_parameters([Parameter('action_allocation', value='off')])[0]
    assert not bad.successful and 'action_allocation must be one of' in bad.reason
    counts = allocator.pusher.targets['action'].counts
    # The node applies a value before its answer reaches the allocator: wait for the count.
    assert harness.wait_for(lambda: counts['applied'] >= 2) and counts['rejected'] == 0


def test_split_profile_sets_each_cameras_partition_point(harness, tmp_path):
    from rclpy.node import Node
    # A profile whose cut 3 sends 2 kB and takes 10 ms on each side: with a 2 s edge per JPEG,
    # every camera's offloads go as tensors; cut 5 loses 3 mm of accuracy and is no candidate.
    profile = tmp_path / 'split_pipeline.json'
    profile.write_text(json.dumps({'routes': {
        'JPEG offload (q90)': {'mpjpe_mm': 40.0, 'valid_joints': 1.0, 'bytes': 131072.0,
                               'camera_s': 0.0, 'edge_s': 2.0},
        'split 3 int8': {'mpjpe_mm': 40.5, 'valid_joints': 1.0, 'bytes': 2000.0,
                         'camera_s': 0.01, 'edge_s': 0.01},
        'split 5 int8': {'mpjpe_mm': 43.0, 'valid_joints': 1.0, 'bytes': 10.0,
                         'camera_s': 0.0, 'edge_s': 0.0}}}))
    cameras = {}
    for cam in CAMERAS:   # stand-ins that take what a camera node takes
        node = harness.add(Node('camera', namespace=cam, context=harness.context))
        for name, value in (('theta_low', 0.0), ('theta_high', 1.0), ('partition_point', -1),
                            ('split_dtype', 'float16')):
            node.declare_parameter(name, value)
        cameras[cam] = node
    make_allocator(harness, calibrate=False, score_labels='prior', server_inference_s=2.0,
                   split_profile=str(profile), edge_node='', uplink_node='')
    states = harness.collect(AllocationState, '/allocation', QOS_LATCHED)
    assert harness.wait_for(lambda: states and all(
        cameras[c].get_parameter('partition_point').value == 3 for c in CAMERAS))
    assert [c.partition_point for c in states[-1].cameras] == [3, 3]
    assert all(cameras[c].get_parameter('split_dtype').value == 'int8' for c in CAMERAS)
