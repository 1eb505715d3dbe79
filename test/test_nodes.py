# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Camera, uplink and edge nodes over real DDS, driven message by message.

The nodes run in this process on a multi-threaded executor; the test talks to them through
topics and parameter calls exactly as other processes would. The pose model is the real
yolo11n-pose (at a small input size, to keep the suite fast).
"""

import time

from cv_bridge import CvBridge
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
import numpy as np
import pytest
from rclpy.parameter import Parameter
from sensor_msgs.msg import CompressedImage, Image
from visualization_msgs.msg import MarkerArray

from mec_coop.coop.codec import encode_jpeg
from mec_coop.msg import (Keypoint2D, LinkState, OffloadRequest, Person2D, PoseKeypoints2D,
                          Skeleton3D)
from mec_coop.rig.virtual import make_cameras
from mec_coop.ros.conversions import to_stamp
from mec_coop.ros.qos import QOS_IMAGES, QOS_LATCHED, QOS_RELIABLE

pytestmark = [pytest.mark.dds, pytest.mark.model]


def make_camera_node(harness, small_model, **params):
    from mec_coop.nodes.camera_node import CameraNode
    node = CameraNode(pose_backend=small_model, context=harness.context, namespace='cam0',
                      parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
    return harness.add(node)


def _publish_frame(harness, pub, image, stamp_s):
    msg = CompressedImage(format='jpeg', data=encode_jpeg(image, 90))
    msg.header.stamp = to_stamp(stamp_s)
    msg.header.frame_id = 'cam0_optical_frame'
    pub.publish(msg)


def _now(harness):
    return harness.node.get_clock().now().nanoseconds * 1e-9


def test_camera_routes_by_thresholds_and_updates_take_effect_next_frame(
        harness, small_model, person_image):
    node = make_camera_node(harness, small_model, theta_low=0.1, theta_high=0.2)
    kp = harness.collect(PoseKeypoints2D, '/cam0/keypoints')
    off = harness.collect(OffloadRequest, '/cam0/offload')
    pub = harness.node.create_publisher(CompressedImage, '/cam0/image/compressed', QOS_IMAGES)
    assert harness.wait_for(lambda: pub.get_subscription_count() > 0)

    _publish_frame(harness, pub, person_image, _now(harness))
    assert harness.wait_for(lambda: len(kp) == 1)
    assert kp[0].route == PoseKeypoints2D.ROUTE_KEYPOINTS and kp[0].people
    confidence = kp[0].frame_confidence
    assert 0.2 <= confidence <= 1.0
    # Default score without edge feedback: sqrt(mean joint confidence x box score) of the person.
    person = kp[0].people[kp[0].selected_person]
    expected = np.sqrt(person.mean_confidence * person.box_score)
    assert expected == pytest.approx(confidence, rel=1e-5)

    # An update that breaks theta_low <= theta_high is rejected with a reason, atomically.
    result = node.set_parameters_atomically([Parameter('theta_low', value=0.95),
                                             Parameter('theta_high', value=0.9)])
    assert not result.successful and 'must not exceed' in result.reason
    assert (node.theta_low, node.theta_high) == (0.1, 0.2)
    # Moving both together is valid: the very next frame is offloaded.
    assert node.set_parameters_atomically([Parameter('theta_low', value=0.05),
                                           Parameter('theta_high', value=1.01)]).successful
    _publish_frame(harness, pub, person_image, _now(harness))
    assert harness.wait_for(lambda: len(off) == 1)
    assert off[0].camera_confidence == pytest.approx(confidence, abs=1e-6)
    assert off[0].image.format == 'jpeg' and 0 < off[0].compression_ratio < 1
    # Above everything: dropped, announced with an empty keypoint message.
    assert node.set_parameters_atomically([Parameter('theta_low', value=1.0),
                                           Parameter('theta_high', value=1.0)]).successful
    _publish_frame(harness, pub, person_image, _now(harness))
    assert harness.wait_for(lambda: len(kp) == 2)
    assert kp[1].route == PoseKeypoints2D.ROUTE_DROP and not kp[1].people
    assert node.counts['keypoints'] == node.counts['offload'] == node.counts['drop'] == 1
    # Without a crop from the edge, every search_every-th frame it would drop is offloaded so
    # the edge's model can look, without the keypoints the thresholds refused.
    assert node.set_parameters([Parameter('search_every', value=1)])[0].successful
    _publish_frame(harness, pub, person_image, _now(harness))
    assert harness.wait_for(lambda: len(off) == 2)
    assert not off[1].people and off[1].selected_person == -1 and not off[1].audit
    assert node.counts['search'] == 1 and node.counts['drop'] == 1
    # Audits (every frame at audit_fraction 1): a dropped frame's carries no keypoints, a kept
    # frame's carries them (the edge takes them as the camera's final report).
    assert node.set_parameters([Parameter('search_every', value=0),
                                Parameter('audit_fraction', value=1.0)])[1].successful
    _publish_frame(harness, pub, person_image, _now(harness))
    assert harness.wait_for(lambda: len(off) == 3)
    assert off[2].audit and not off[2].people and off[2].selected_person == -1
    assert node.set_parameters_atomically([Parameter('theta_low', value=0.05),
                                           Parameter('theta_high', value=0.1)]).successful
    _publish_frame(harness, pub, person_image, _now(harness))
    assert harness.wait_for(lambda: len(off) == 4)
    assert off[3].audit and 0 <= off[3].selected_person < len(off[3].people)
    assert node.counts['audit'] == 2
    result = node.set_parameters([Parameter('jpeg_quality', value=0)])
    assert not result[0].successful


def test_camera_survives_bad_input_and_reports_it(harness, small_model, person_image):
    node = make_camera_node(harness, small_model, theta_low=0.0, theta_high=0.0)
    kp = harness.collect(PoseKeypoints2D, '/cam0/keypoints')
    diags = harness.collect(DiagnosticArray, '/diagnostics', 10)
    pub = harness.node.create_publisher(CompressedImage, '/cam0/image/compressed', QOS_IMAGES)
    assert harness.wait_for(lambda: pub.get_subscription_count() > 0)
    corrupt = CompressedImage(format='jpeg', data=encode_jpeg(person_image, 90)[:5000])
    corrupt.header.stamp = to_stamp(_now(harness))
    corrupt.header.frame_id = 'cam0_optical_frame'
    pub.publish(corrupt)
    assert harness.wait_for(lambda: node.counts['bad_input'] == 1)
    stamp = _now(harness)
    _publish_frame(harness, pub, person_image, stamp)
    assert harness.wait_for(lambda: len(kp) == 1)
    _publish_frame(harness, pub, person_image, stamp - 0.5)      # older than the last one
    assert harness.wait_for(lambda: node.counts['out_of_order'] == 1)
    _publish_frame(harness, pub, person_image, _now(harness) - 10.0)   # stale
    assert harness.wait_for(lambda: node.counts['stale'] == 1)
    _publish_frame(harness, pub, person_image, _now(harness))
    assert harness.wait_for(lambda: len(kp) == 2)                # still working
    assert harness.wait_for(lambda: any(
        s.name == 'mec_coop/camera/cam0' and {v.key: v.value for v in s.values}.get(
            'bad_input') == '1' for d in diags for s in d.status))


def test_raw_image_input_with_a_wrong_encoding(harness, small_model, person_image):
    node = make_camera_node(harness, small_model, input_transport='raw', theta_low=0.0,
                            theta_high=0.0)
    kp = harness.collect(PoseKeypoints2D, '/cam0/keypoints')
    pub = harness.node.create_publisher(Image, '/cam0/image', QOS_IMAGES)
    assert harness.wait_for(lambda: pub.get_subscription_count() > 0)
    bridge = CvBridge()
    depth = bridge.cv2_to_imgmsg(np.zeros((48, 64), np.float32), encoding='32FC1')
    depth.header.stamp = to_stamp(_now(harness))
    depth.header.frame_id = 'cam0_optical_frame'
    pub.publish(depth)
    assert harness.wait_for(lambda: node.counts['bad_input'] == 1)
    good = bridge.cv2_to_imgmsg(person_image, encoding='bgr8')
    good.header.stamp = to_stamp(_now(harness))
    good.header.frame_id = 'cam0_optical_frame'
    pub.publish(good)
    assert harness.wait_for(lambda: len(kp) == 1 and kp[0].people)


def _keypoint_msg(cam, pixels, stamp, conf=0.9):
    person = Person2D(box=[0.0, 0.0, 1.0, 1.0], box_score=0.9, mean_confidence=conf)
    person.keypoints = [Keypoint2D(x=float(x), y=float(y), confidence=conf) for x, y in pixels]
    msg = PoseKeypoints2D(route=PoseKeypoints2D.ROUTE_KEYPOINTS, people=[person],
                          selected_person=0, frame_confidence=conf, inference_time_s=0.05)
    msg.header.stamp = to_stamp(stamp)
    msg.header.frame_id = f'{cam.name}_optical_frame'
    return msg


@pytest.fixture
def edge_setup(harness, small_model):
    from mec_coop.nodes.edge_node import EdgeNode
    cams = make_cameras(4)
    names = [c.name for c in cams]
    node = harness.add(EdgeNode(pose_backend=small_model, context=harness.context,
                                parameter_overrides=[
                                    Parameter('cameras', value=names),
                                    Parameter('input_namespace', value=''),
                                    Parameter('camera_timeout_s', value=1.0)]))
    harness.publish_calibration(cams, without_info=('cam3',))  # cam3 never sends CameraInfo
    pubs = {c.name: harness.node.create_publisher(PoseKeypoints2D, f'/{c.name}/keypoints',
                                                  QOS_RELIABLE) for c in cams}
    assert harness.wait_for(lambda: all(p.get_subscription_count() for p in pubs.values()))
    skeletons = harness.collect(Skeleton3D, '/skeleton')
    node.markers = harness.collect(MarkerArray, '/skeleton/markers')
    return node, cams, pubs, skeletons


def test_edge_triangulates_and_copes_with_missing_calibration_and_silence(harness, edge_setup):
    node, cams, pubs, skeletons = edge_setup
    gt = np.random.default_rng(0).uniform((-0.5, -0.5, 0.1), (0.5, 0.5, 1.8), (17, 3))
    stamp = _now(harness)
    for cam in cams:
        pubs[cam.name].publish(_keypoint_msg(cam, cam.project(gt), stamp))
    assert harness.wait_for(lambda: len(skeletons) == 1)
    sk = skeletons[0]
    est = np.array([(j.position.x, j.position.y, j.position.z) for j in sk.joints])
    assert np.max(np.linalg.norm(est - gt, axis=1)) < 1e-3
    assert sorted(sk.camera_ids) == ['cam0', 'cam1', 'cam2']     # cam3 has no CameraInfo
    assert all(j.valid and j.num_views == 3 for j in sk.joints)
    # Exact keypoints: the noise estimate is ~0, so the covariances are tiny but present and
    # symmetric; RViz gets one uncertainty ellipsoid per measured joint.
    covariances = np.array([j.covariance for j in sk.joints]).reshape(-1, 3, 3)
    assert np.all(np.isfinite(covariances)) and np.all(np.trace(covariances, axis1=1,
                                                                axis2=2) < 1e-4)
    np.testing.assert_allclose(covariances, covariances.transpose(0, 2, 1), atol=1e-12)
    assert harness.wait_for(lambda: node.markers)
    assert sum(m.ns == 'uncertainty' for m in node.markers[0].markers) <= 17
    assert sk.latency.device_inference_s == pytest.approx(0.05)
    assert sk.latency.end_to_end_s > 0
    assert node.fusion.counts['cam3']['no_calibration'] >= 1
    # A late report for the released instant is dropped and counted.
    pubs['cam0'].publish(_keypoint_msg(cams[0], cams[0].project(gt), stamp))
    assert harness.wait_for(lambda: node.fusion.counts['cam0']['late'] == 1)
    # cam2 and cam3 go silent: after camera_timeout_s the edge stops waiting for them and
    # keeps producing skeletons from cam0 and cam1.
    for _ in range(1, 5):
        now = _now(harness)
        for cam in cams[:2]:
            pubs[cam.name].publish(_keypoint_msg(cam, cam.project(gt), now))
        time.sleep(0.6)
    assert harness.wait_for(lambda: node.fusion.silent == {'cam2', 'cam3'}, timeout=5)
    assert harness.wait_for(lambda: len(skeletons) >= 4, timeout=5)
    assert sorted(skeletons[-1].camera_ids) == ['cam0', 'cam1']


def test_an_audit_of_a_kept_frame_is_final_on_arrival_and_its_edge_result_only_labels(
        harness, edge_setup):
    # cam2's frame went up as an audit with its keypoints (the thresholds kept it): the edge
    # fuses those keypoints at once and publishes its own model's look at the image on
    # cam2/edge_result for the allocator, without waiting for it or fusing it (a black image:
    # the model finds nobody, which would have dropped cam2's view).
    from mec_coop.ros.qos import QOS_OFFLOAD
    node, cams, pubs, skeletons = edge_setup
    results = harness.collect(PoseKeypoints2D, '/cam2/edge_result')
    offload = harness.node.create_publisher(OffloadRequest, '/cam2/offload', QOS_OFFLOAD)
    assert harness.wait_for(lambda: offload.get_subscription_count() > 0)
    gt = np.random.default_rng(2).uniform((-0.5, -0.5, 0.1), (0.5, 0.5, 1.8), (17, 3))
    stamp = _now(harness)
    audit = OffloadRequest(audit=True, camera_confidence=0.9, width=1280, height=720,
                           selected_person=0)
    audit.header = _keypoint_msg(cams[2], cams[2].project(gt), stamp).header
    audit.people = _keypoint_msg(cams[2], cams[2].project(gt), stamp).people
    audit.image.format, audit.image.data = 'jpeg', encode_jpeg(np.zeros((720, 1280, 3),
                                                                        np.uint8), 90)
    offload.publish(audit)
    for cam in cams[:2]:
        pubs[cam.name].publish(_keypoint_msg(cam, cam.project(gt), stamp))
    assert harness.wait_for(lambda: len(skeletons) == 1 and len(results) == 1, timeout=10)
    assert sorted(skeletons[0].camera_ids) == ['cam0', 'cam1', 'cam2']
    assert all(j.num_views == 3 for j in skeletons[0].joints)
    assert results[0].audit and not results[0].people      # the edge's look: nobody
    # It says the size of the offload it ran on, what the uplink charges (the allocator's
    # offload sizes).
    from rclpy.serialization import serialize_message
    assert results[0].offload_bytes == len(serialize_message(audit))
    counts = node.fusion.counts['cam2']
    assert counts['edge_rejected'] == 1 and counts['late'] == 0 and counts['duplicate'] == 0
    assert counts['offload_late_camera_keypoints_used'] == 0


def test_uplink_delays_by_airtime_and_applies_new_shares(harness):
    from mec_coop.nodes.uplink_node import UplinkNode
    node = harness.add(UplinkNode(context=harness.context, parameter_overrides=[
        Parameter('cameras', value=['cam0', 'cam1']),
        Parameter('bandwidth_hz', value=1e4)]))     # slow link: airtime in the 100 ms range
    out = harness.collect(OffloadRequest, '/edge/cam0/offload')
    pub = harness.node.create_publisher(OffloadRequest, '/cam0/offload', QOS_RELIABLE)
    assert harness.wait_for(lambda: pub.get_subscription_count() > 0)
    msg = OffloadRequest()
    msg.image.data = bytes(2000)
    sent = time.monotonic()
    pub.publish(msg)
    assert harness.wait_for(lambda: len(out) == 1)
    expected = 8 * 2000 / (0.5 * 1e4 * np.log2(1 + 10 ** 5.5))  # > 2000 B with the header
    assert out[0].uplink_airtime_s >= expected
    assert time.monotonic() - sent >= out[0].uplink_airtime_s * 0.9
    bad = node.set_parameters_atomically([Parameter('tdma_share.cam0', value=0.8)])
    assert not bad.successful and 'sum to' in bad.reason
    assert node.set_parameters_atomically([Parameter('tdma_share.cam0', value=0.8),
                                           Parameter('tdma_share.cam1', value=0.2)]).successful
    pub.publish(msg)
    assert harness.wait_for(lambda: len(out) == 2)
    assert out[1].uplink_airtime_s == pytest.approx(out[0].uplink_airtime_s * 0.5 / 0.8,
                                                    rel=1e-3)
    # Two at once (the offload topics keep 2) queue behind each other; each leaves when its
    # airtime is over, not later (the delivery timer is armed for the earliest one).
    arrivals = []
    harness.node.create_subscription(OffloadRequest, '/edge/cam0/offload',
                                     lambda m: arrivals.append(time.monotonic()), QOS_RELIABLE)
    time.sleep(0.3)
    sent = time.monotonic()
    for _ in range(2):
        pub.publish(msg)
    assert harness.wait_for(lambda: len(out) == 4 and len(arrivals) == 2)
    done = np.cumsum([m.uplink_airtime_s for m in out[2:]])
    assert [m.uplink_queueing_s for m in out[2:]] == pytest.approx([0, done[0]], abs=0.01)
    late = np.array(arrivals) - sent - done
    assert np.all(late > -0.005) and np.all(late < 0.05), late
    # Queued on a 0.05 share (planned airtime ~1.9 s), then the share rises to 0.95: the rest
    # goes at the new rate and the offload leaves within ~0.3 s, not at the planned time.
    assert node.set_parameters_atomically([Parameter('tdma_share.cam0', value=0.05),
                                           Parameter('tdma_share.cam1', value=0.95)]).successful
    sent = time.monotonic()
    pub.publish(msg)
    time.sleep(0.2)
    planned = sent + out[0].uplink_airtime_s * 0.5 / 0.05
    assert node.set_parameters_atomically([Parameter('tdma_share.cam0', value=0.95),
                                           Parameter('tdma_share.cam1', value=0.05)]).successful
    assert harness.wait_for(lambda: len(arrivals) == 3, timeout=3)
    assert arrivals[2] - sent < 0.45 and planned - arrivals[2] > 1.2, (arrivals[2] - sent)
    assert out[4].uplink_airtime_s == pytest.approx(out[0].uplink_airtime_s * 0.5 / 0.95,
                                                    rel=1e-3)


def test_uplink_fading_is_a_validated_parameter_it_publishes_and_draws_per_message(harness):
    from mec_coop.nodes.uplink_node import UplinkNode
    node = harness.add(UplinkNode(context=harness.context, parameter_overrides=[
        Parameter('cameras', value=['cam0']), Parameter('bandwidth_hz', value=1e5)]))
    states = harness.collect(LinkState, '/uplink/link_state', QOS_LATCHED)
    assert harness.wait_for(lambda: states and states[-1].fading == 'none')
    bad = node.set_parameters([Parameter('fading', value='rayleigh')])[0]
    assert not bad.successful and "one of ['none', 'gaussian']" in bad.reason
    assert node.set_parameters([Parameter('fading', value='gaussian')])[0].successful
    assert harness.wait_for(lambda: states[-1].fading == 'gaussian')
    out = harness.collect(OffloadRequest, '/edge/cam0/offload')
    pub = harness.node.create_publisher(OffloadRequest, '/cam0/offload', QOS_RELIABLE)
    assert harness.wait_for(lambda: pub.get_subscription_count() > 0)
    msg = OffloadRequest()
    msg.image.data = bytes(500)
    for _ in range(6):
        pub.publish(msg)
        time.sleep(0.05)
    assert harness.wait_for(lambda: len(out) == 6, timeout=5)
    # The same bytes, a gain drawn per message: six different airtimes.
    assert len({round(m.uplink_airtime_s, 9) for m in out}) == 6


def test_camera_runs_its_model_on_the_edges_crop(harness, small_model, person_image):
    # The edge predicts the right-hand person (box x 741-1266): a crop around it is used for the
    # frame captured at the predicted time, and only that person comes back, in image pixels.
    from mec_coop.msg import CameraRoi, PersonRoi
    node = make_camera_node(harness, small_model, theta_low=0.05, theta_high=0.1,
                            full_frame_every=0, future_tolerance_s=5.0)
    kp = harness.collect(PoseKeypoints2D, '/cam0/keypoints')
    pub = harness.node.create_publisher(CompressedImage, '/cam0/image/compressed', QOS_IMAGES)
    roi_pub = harness.node.create_publisher(CameraRoi, '/cam0/roi', QOS_RELIABLE)
    assert harness.wait_for(lambda: pub.get_subscription_count() > 0
                            and roi_pub.get_subscription_count() > 0)
    stamp = _now(harness) + 0.2
    roi = CameraRoi(image_width=1280, image_height=720)
    roi.header.stamp = to_stamp(stamp)
    person = PersonRoi(track_id=0, x0=700, y0=0, size=600)
    person.keypoints = [Keypoint2D(x=1000.0, y=100.0 + 35.0 * k, confidence=1.0)
                        for k in range(17)]
    roi.people = [person]
    roi_pub.publish(roi)
    assert harness.wait_for(lambda: node._policy._priors)
    _publish_frame(harness, pub, person_image, stamp)
    assert harness.wait_for(lambda: len(kp) == 1)
    assert node.counts['roi_used'] == 1 and node.counts['roi_miss'] == 0
    people = kp[0].people
    assert len(people) == 1 and 700 <= people[0].box[0] and people[0].box[2] <= 1300
    # A stale crop (for a capture time 2 s away) is not used: the full frame finds both people.
    _publish_frame(harness, pub, person_image, stamp + 2.0)
    assert harness.wait_for(lambda: len(kp) == 2)
    assert node.counts['full_stale_prior'] == 1 and len(kp[1].people) == 2
    # A crop on the empty corner finds nobody, nor does the 1.3x wider retry: the frame is
    # dropped (the full frame, which would find both people, waits for its periodic turn).
    roi.header.stamp = to_stamp(stamp + 4.0)
    roi.people = [PersonRoi(track_id=0, x0=0, y0=0, size=160, keypoints=person.keypoints)]
    roi_pub.publish(roi)
    assert harness.wait_for(lambda: len(node._policy._priors) == 2)
    _publish_frame(harness, pub, person_image, stamp + 4.0)
    assert harness.wait_for(lambda: len(kp) == 3)
    assert node.counts['roi_retry'] == node.counts['roi_miss'] == 1
    assert kp[2].route == PoseKeypoints2D.ROUTE_DROP and not kp[2].people


def _levels(diags, name):
    return [(s.level, s.message) for d in diags for s in d.status if s.name == name]


def test_camera_refuses_future_stamps_wrong_frames_and_oversized_images(
        harness, small_model, person_image):
    # The case: three frames stamped an hour ahead used to set the ordering state into
    # the future, after which every real frame was "not newer" and dropped for good.
    node = make_camera_node(harness, small_model, theta_low=0.0, theta_high=0.0)
    kp = harness.collect(PoseKeypoints2D, '/cam0/keypoints')
    diags = harness.collect(DiagnosticArray, '/diagnostics', 10)
    pub = harness.node.create_publisher(CompressedImage, '/cam0/image/compressed', QOS_IMAGES)
    assert harness.wait_for(lambda: pub.get_subscription_count() > 0)
    for k in range(3):
        _publish_frame(harness, pub, person_image, _now(harness) + 3600.0)
        assert harness.wait_for(lambda: node.counts.get('future', 0) == k + 1)
    _publish_frame(harness, pub, person_image, _now(harness))
    assert harness.wait_for(lambda: len(kp) == 1 and kp[0].people)
    assert harness.wait_for(lambda: any(
        level == DiagnosticStatus.WARN and 'future' in text
        for level, text in _levels(diags, 'mec_coop/camera/cam0')), timeout=5)
    # Another camera's frame is not this camera's: refused.
    wrong = CompressedImage(format='jpeg', data=encode_jpeg(person_image, 90))
    wrong.header.stamp = to_stamp(_now(harness))
    wrong.header.frame_id = 'cam1_optical_frame'
    pub.publish(wrong)
    assert harness.wait_for(lambda: node.counts.get('wrong_frame', 0) == 1)
    # 5000 x 3000 pixels (15 M > max_pixels 12 M): refused from the header, never decoded.
    big = np.zeros((3000, 5000, 3), np.uint8)
    _publish_frame(harness, pub, big, _now(harness))
    assert harness.wait_for(lambda: node.counts.get('too_large', 0) == 1)
    _publish_frame(harness, pub, person_image, _now(harness))
    assert harness.wait_for(lambda: len(kp) == 2 and kp[1].people)
    assert node.counts['frames'] == 2 and node.counts['bad_input'] == 2
    assert len(kp) == 2                          # nothing published for a refused frame


def test_edge_refuses_future_stamps_bad_confidences_and_wrong_frames(harness, edge_setup):
    # cam0 reports from an hour ahead, cam1 with confidences of 1e6 and cam2 under another
    # camera's frame: each is refused and counted by cause, the good views go on being fused,
    # and no valid joint is off.
    node, cams, pubs, skeletons = edge_setup
    diags = harness.collect(DiagnosticArray, '/diagnostics', 10)
    gt = np.random.default_rng(1).uniform((-0.5, -0.5, 0.1), (0.5, 0.5, 1.8), (17, 3))
    off = {cam.name: cam.project(gt) for cam in cams}
    off['cam1'] = off['cam1'] + 300.0                # would pull joints far off if accepted
    off['cam2'] = off['cam2'] - 300.0
    for k in range(3):
        stamp = _now(harness)
        pubs['cam0'].publish(_keypoint_msg(cams[0], off['cam0'], stamp + 3600.0))
        pubs['cam1'].publish(_keypoint_msg(cams[1], off['cam1'], stamp, conf=1e6))
        wrong = _keypoint_msg(cams[2], off['cam2'], stamp)
        wrong.header.frame_id = 'cam0_optical_frame'
        pubs['cam2'].publish(wrong)
        pubs['cam3'].publish(_keypoint_msg(cams[3], off['cam3'], stamp))
        time.sleep(0.6)
    counts = node.fusion.counts
    assert harness.wait_for(lambda: counts['cam0']['future'] == 3
                            and counts['cam1']['confidence'] == 3
                            and counts['cam2']['wrong_frame'] == 3)
    assert len(skeletons) == 0           # cam3 alone (and uncalibrated): nothing to fuse
    # The same cameras with sane input are fused at once: nothing stuck from the bad reports.
    stamp = _now(harness)
    for cam in cams:
        pubs[cam.name].publish(_keypoint_msg(cam, cam.project(gt), stamp))
    assert harness.wait_for(lambda: len(skeletons) == 1, timeout=5)
    est = np.array([(j.position.x, j.position.y, j.position.z) for j in skeletons[0].joints])
    valid = np.array([j.valid for j in skeletons[0].joints])
    assert valid.all() and np.max(np.linalg.norm(est - gt, axis=1)) < 1e-3
    # The cause is named: WARN while cam0 also delivers, ERROR once it has delivered nothing
    # for camera_timeout_s (which of the two a 1 Hz status sees depends on the machine's load).
    assert harness.wait_for(lambda: any(
        level in (DiagnosticStatus.WARN, DiagnosticStatus.ERROR) and 'future' in text
        for level, text in _levels(diags, 'mec_coop/edge/cam0')), timeout=5)


def test_camera_accepts_a_clock_that_jumped_back_after_reorder_after_s(
        harness, small_model, person_image):
    node = make_camera_node(harness, small_model, theta_low=0.0, theta_high=0.0,
                            reorder_after_s=1.0)
    kp = harness.collect(PoseKeypoints2D, '/cam0/keypoints')
    pub = harness.node.create_publisher(CompressedImage, '/cam0/image/compressed', QOS_IMAGES)
    assert harness.wait_for(lambda: pub.get_subscription_count() > 0)
    _publish_frame(harness, pub, person_image, _now(harness))
    assert harness.wait_for(lambda: len(kp) == 1)
    # The driver's clock jumps 1.5 s back: its frames are out of order for reorder_after_s...
    _publish_frame(harness, pub, person_image, _now(harness) - 1.5)
    assert harness.wait_for(lambda: node.counts['out_of_order'] == 1)
    time.sleep(1.1)
    # ...then the ordering restarts from the new stamps: frames are processed again.
    jumped = _now(harness) - 1.5
    _publish_frame(harness, pub, person_image, jumped)
    assert harness.wait_for(lambda: len(kp) == 2)
    assert kp[1].header.stamp == to_stamp(jumped) and node._gate.restarts == 1
    _publish_frame(harness, pub, person_image, jumped + 0.5)
    assert harness.wait_for(lambda: len(kp) == 3)
