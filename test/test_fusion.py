# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The edge's fusion core without DDS: verdicts, silent cameras, view selection, latency."""

import numpy as np
import pytest

from mec_coop.fusion.edge import EdgeFusion, FusionSettings, Report
from mec_coop.fusion.sync import Verdict
from mec_coop.rig.virtual import make_cameras

CAMERAS = ['cam0', 'cam1', 'cam2']


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def rig():
    cameras = dict(zip(CAMERAS, make_cameras(3)))
    rng = np.random.default_rng(0)
    joints = np.array([0.0, 0.0, 1.0]) + rng.uniform(-0.3, 0.3, size=(17, 3))
    return cameras, joints


def report(camera, joints, source='camera', **times):
    return Report(camera.project(joints), np.full(17, 0.9), source, **times)


def make_fusion(cameras, clock, calibrated=CAMERAS, **settings):
    settings = {'sync_timeout_s': 1.0, 'acquire_timeout_s': 1.0, **settings}
    return EdgeFusion(CAMERAS, FusionSettings(**settings),
                      lambda cam: cameras[cam] if cam in calibrated else None, clock)


def test_complete_instant_is_triangulated_with_its_latency(rig):
    cameras, joints = rig
    clock = Clock()
    fusion = make_fusion(cameras, clock)
    for k, cam in enumerate(CAMERAS):
        assert fusion.add(cam, 10.0 + 0.001 * k, report(
            cameras[cam], joints, device_s=0.1 * k, airtime_s=0.05, queueing_s=0.01 * k,
            edge_s=0.0)) is Verdict.ACCEPTED
    out = fusion.poll(stamp_now=10.5)
    (skeleton,) = out.skeletons
    assert skeleton.camera_ids == CAMERAS
    np.testing.assert_allclose(skeleton.triangulation.points, joints, atol=1e-6)
    assert skeleton.stamp == 10.0
    lat = skeleton.latency
    assert (lat.device_inference_s, lat.queueing_s) == pytest.approx((0.2, 0.02))
    assert lat.end_to_end_s == pytest.approx(0.5)
    assert fusion.totals['skeletons'] == 1


def test_late_out_of_order_and_duplicate_reports_are_told_apart(rig):
    cameras, joints = rig
    clock = Clock()
    fusion = make_fusion(cameras, clock)
    assert fusion.add('cam0', 10.0, report(cameras['cam0'], joints)) is Verdict.ACCEPTED
    assert fusion.add('cam0', 10.0, report(cameras['cam0'], joints)) is Verdict.DUPLICATE
    clock.now += 1.1                                      # the instant times out
    assert len(fusion.poll(0.0).skeletons) == 0           # one view: too few
    assert fusion.add('cam1', 10.01, report(cameras['cam1'], joints)) is Verdict.LATE
    assert fusion.add('cam0', 11.0, report(cameras['cam0'], joints)) is Verdict.ACCEPTED
    assert fusion.add('cam0', 10.5, report(cameras['cam0'], joints)) is Verdict.OUT_OF_ORDER
    assert dict(fusion.counts['cam0']) == {'accepted': 2, 'duplicate': 1, 'out_of_order': 1}
    assert dict(fusion.counts['cam1']) == {'late': 1}
    assert fusion.totals['too_few_views'] == 1


def test_silent_camera_is_not_waited_for_and_comes_back(rig):
    cameras, joints = rig
    clock = Clock()
    fusion = make_fusion(cameras, clock, camera_timeout_s=2.0, sync_timeout_s=5.0)
    for cam in CAMERAS:
        fusion.add(cam, 1.0, report(cameras[cam], joints))
    assert len(fusion.poll(1.0).skeletons) == 1
    for t in range(2, 6):                                  # cam2 stops publishing
        clock.now += 1.0
        for cam in ('cam0', 'cam1'):
            fusion.add(cam, float(t), report(cameras[cam], joints))
        out = fusion.poll(float(t))
        if 'cam2' in out.went_silent:
            break
    assert fusion.silent == {'cam2'}
    # Without cam2 an instant is released as soon as cam0 and cam1 reported.
    fusion.add('cam0', 9.0, report(cameras['cam0'], joints))
    fusion.add('cam1', 9.0, report(cameras['cam1'], joints))
    (skeleton,) = fusion.poll(9.0).skeletons
    assert skeleton.camera_ids == ['cam0', 'cam1']
    fusion.add('cam2', 10.0, report(cameras['cam2'], joints))
    assert fusion.poll(10.0).came_back == ['cam2'] and not fusion.silent


def test_views_without_keypoints_or_calibration_do_not_count(rig):
    cameras, joints = rig
    clock = Clock()
    fusion = make_fusion(cameras, clock, calibrated=['cam0', 'cam1'], min_views=2)
    fusion.add('cam0', 1.0, report(cameras['cam0'], joints))
    fusion.add('cam1', 1.0, Report(None, None, 'dropped'))
    fusion.add('cam2', 1.0, report(cameras['cam2'], joints))
    assert fusion.poll(1.0).skeletons == []               # cam2 is not calibrated
    assert fusion.counts['cam2']['no_calibration'] == 1
    assert fusion.totals['too_few_views'] == 1


def test_bad_reports_are_rejected_with_a_reason(rig):
    cameras, joints = rig
    fusion = make_fusion(cameras, Clock())
    with pytest.raises(KeyError, match='unknown camera'):
        fusion.add('cam9', 1.0, report(cameras['cam0'], joints))
    with pytest.raises(ValueError, match='finite'):
        fusion.add('cam0', float('nan'), report(cameras['cam0'], joints))
    with pytest.raises(ValueError, match='source'):
        Report(None, None, 'server')


def test_one_cameras_future_clock_cannot_stall_the_others(rig):
    # The case: cam0 stamps reports an hour ahead. They are refused (FUTURE, counted,
    # not a sign of life), and instants of the other cameras keep being fused, also after
    # far more instants than the synchroniser remembers.
    cameras, joints = rig
    clock = Clock()
    fusion = make_fusion(cameras, clock, camera_timeout_s=2.0)
    produced = 0
    for k in range(600):
        now = 1000.0 + 0.5 * k
        clock.now = now
        assert fusion.add('cam0', now + 3600.0, report(cameras['cam0'], joints),
                          now) is Verdict.FUTURE
        for cam in ('cam1', 'cam2'):
            assert fusion.add(cam, now, report(cameras[cam], joints), now) is Verdict.ACCEPTED
        clock.now += 0.3
        produced += len(fusion.poll(now + 0.3).skeletons)
    assert fusion.counts['cam0']['future'] == 600 and 'cam0' in fusion.silent
    assert fusion.counts['cam1']['late'] == 0 and produced >= 598
    # Within the tolerance (clock offset between hosts) a report is used.
    assert fusion.add('cam0', clock.now + 0.5, report(cameras['cam0'], joints),
                      clock.now) is Verdict.ACCEPTED


def test_a_camera_whose_clock_jumps_back_is_accepted_again_after_reorder_after_s(rig):
    cameras, joints = rig
    clock = Clock()
    fusion = make_fusion(cameras, clock, reorder_after_s=2.0)
    assert fusion.add('cam0', 50.0, report(cameras['cam0'], joints)) is Verdict.ACCEPTED
    clock.now += 1.0
    assert fusion.add('cam0', 40.0, report(cameras['cam0'], joints)) is Verdict.OUT_OF_ORDER
    clock.now += 1.5                       # 2.5 s without an accepted report of cam0
    assert fusion.add('cam0', 40.5, report(cameras['cam0'], joints)) is Verdict.ACCEPTED
    assert fusion.add('cam0', 41.0, report(cameras['cam0'], joints)) is Verdict.ACCEPTED


def test_keypoints_with_bad_confidences_are_rejected_and_outside_ones_lose_weight(rig):
    from mec_coop.coop.guard import Rejected
    cameras, joints = rig
    fusion = make_fusion(cameras, Clock())
    pixels = cameras['cam0'].project(joints)
    for weights, cause in ((np.full(17, 1e6), 'confidence'), (np.full(17, np.nan), 'confidence'),
                           (np.full(17, -0.1), 'confidence')):
        with pytest.raises(Rejected, match=r'\[0, 1\]') as exc:
            fusion.add('cam0', 1.0, Report(pixels, weights, 'camera'))
        assert exc.value.cause == cause
    with pytest.raises(Rejected) as exc:
        fusion.add('cam0', 1.0, Report(np.full((17, 2), np.inf), np.full(17, 0.9), 'camera'))
    assert exc.value.cause == 'coordinates'
    assert fusion.counts['cam0']['confidence'] == 3 and fusion.counts['cam0']['coordinates'] == 1
    far = pixels.copy()
    far[:3] = (1e5, -50.0)                 # three keypoints outside the 640x480 image
    assert fusion.add('cam0', 1.0, Report(far, np.full(17, 0.9), 'camera')) is Verdict.ACCEPTED
    assert fusion.counts['cam0']['outside_image'] == 3


def test_track_places_each_cameras_crop_around_the_person_at_its_next_frame():
    # The virtual rig's walking humanoid at 2 fps, perfect keypoints: after each instant every
    # camera gets a crop for the next capture time that holds all of the next frame's joints.
    from mec_coop.rig.virtual import VirtualRig
    rig = VirtualRig.from_parameters({'num_cameras': 4, 'seed': 3})
    cameras = {f'cam{i}': cam for i, cam in enumerate(rig.cameras)}
    clock = Clock()
    fusion = EdgeFusion(list(cameras), FusionSettings(), cameras.get, clock)
    inside = []
    for k in range(8):
        stamp = 1.0 + 0.5 * k
        frame = rig.frame(stamp)
        for v, cam in enumerate(cameras):
            fusion.add(cam, stamp, Report(frame.keypoints_2d[v, 0], np.full(17, 0.9), 'camera'))
        out = fusion.poll(stamp + 0.2)
        (skeleton,) = out.skeletons
        assert skeleton.filtered is not None and not skeleton.predicted.any()
        assert {p.stamp for ps in out.priors.values() for p in ps} <= {stamp + 0.5, stamp + 1.0}
        following = rig.frame(stamp + 0.5)
        for v, cam in enumerate(cameras):
            seen = following.in_image[v, 0]
            if cam in out.priors and seen.sum() >= 6:
                inside.append(out.priors[cam][0].roi.contains(
                    following.keypoints_2d[v, 0][seen]))
    assert len(inside) >= 20
    assert np.mean(np.concatenate(inside)) > 0.95


def test_crops_continue_from_the_track_after_an_instant_without_a_skeleton(rig):
    cameras, joints = rig
    clock = Clock()
    fusion = make_fusion(cameras, clock)
    for cam in CAMERAS:
        fusion.add(cam, 1.0, report(cameras[cam], joints))
    assert fusion.poll(1.0).priors                               # after a skeleton
    fusion.add('cam0', 1.5, report(cameras['cam0'], joints))     # only one view this time
    clock.now += 1.1
    out = fusion.poll(1.6)
    assert out.skeletons == [] and set(out.priors) == set(CAMERAS)
    assert min(p.stamp for ps in out.priors.values() for p in ps) > 1.5


def test_the_edge_waits_longer_for_views_until_someone_is_tracked(rig):
    cameras, joints = rig
    clock = Clock()
    fusion = make_fusion(cameras, clock, sync_timeout_s=0.4, acquire_timeout_s=1.5)
    fusion.add('cam0', 1.0, report(cameras['cam0'], joints), stamp_now=1.1)
    clock.now += 0.5                      # past the budget, but nobody is tracked yet
    assert fusion.poll(1.6).skeletons == []
    fusion.add('cam1', 1.0, report(cameras['cam1'], joints), stamp_now=1.7)   # offloaded view
    clock.now += 1.0
    (first,) = fusion.poll(2.1).skeletons                     # released 1.5 s after capture
    assert first.camera_ids == ['cam0', 'cam1']
    # Tracking now: the next instant is released at its 0.4 s budget with the views it has.
    for cam in ('cam0', 'cam1'):
        fusion.add(cam, 1.5, report(cameras[cam], joints), stamp_now=1.5)
    clock.now += 0.35
    assert fusion.poll(1.85).skeletons == []
    clock.now += 0.1
    (second,) = fusion.poll(1.95).skeletons
    assert second.camera_ids == ['cam0', 'cam1']


def test_a_crop_covers_the_joints_the_track_lacks():
    # One camera cannot see the legs, so the track has none: a crop around the joints it has
    # cuts the legs off in the cameras that see them. complete_body extends the torso.
    from mec_coop.fusion.feedback import FeedbackSettings, track_prior
    from mec_coop.fusion.tracking import SkeletonTrack
    from mec_coop.geometry.skeleton import complete_body
    from mec_coop.pose.roi import roi_from_keypoints
    from mec_coop.rig.virtual import Humanoid
    cameras = make_cameras(4)
    covered, cut = [], []
    for seed in range(3):
        human = Humanoid(seed)
        for t in np.arange(0.0, 90.0, 1.0):
            joints = human.pose(t).joints
            legless = joints.copy()
            legless[13:] = np.nan
            track = SkeletonTrack()
            track.update(t, legless)
            for camera in cameras:
                truth = camera.project(joints)
                if not camera.in_image(truth).all():
                    continue
                prior = track_prior(track, FeedbackSettings(), camera, t)
                covered.append(prior.roi.contains(truth).all())
                assert np.isnan(prior.keypoints[13:]).all()   # the prior keypoints stay measured
                cut.append(roi_from_keypoints(camera.project(legless), camera.width,
                                              camera.height).contains(truth).all())
            # Standing, walking, falling, jumping: the filled ankles are within a fifth of the
            # person's height (crouching overshoots: a larger crop, never a cut one).
            action = human.pose(t).action
            if action != 'crouch':
                error = np.linalg.norm(complete_body(legless)[15:] - joints[15:], axis=-1)
                assert error.max() < 0.25 * human.pose(t).appearance.height, (action, error)
    assert len(covered) > 500
    assert np.mean(covered) == 1.0 and np.mean(cut) < 0.3
    with pytest.raises(ValueError, match='shape'):
        complete_body(np.zeros((16, 3)))
    torso_unknown = np.full((17, 3), np.nan)
    torso_unknown[0] = 1.0
    assert np.array_equal(complete_body(torso_unknown), torso_unknown, equal_nan=True)


def test_a_lost_track_keeps_searching_where_the_person_was_widening_with_time():
    from mec_coop.fusion.feedback import FeedbackSettings, track_prior
    from mec_coop.fusion.tracking import SkeletonTrack
    from mec_coop.rig.virtual import Humanoid
    camera = make_cameras(4)[0]
    settings = FeedbackSettings(max_horizon_s=1.5, search_horizon_s=6.0)
    track = SkeletonTrack()
    track.update(10.0, Humanoid(1).pose(20.0).joints)
    sizes = {}
    for dt in (0.5, 1.5, 3.0, 6.0, 6.5):
        prior = track_prior(track, settings, camera, 10.0 + dt)
        sizes[dt] = prior.roi.size if prior else None
    # Within the horizon the crop stays the person's; then it grows by the distance they may
    # have walked (1 m/s), and past search_horizon_s there is no prior.
    assert sizes[0.5] == sizes[1.5]
    assert sizes[1.5] < sizes[3.0] < sizes[6.0]
    assert sizes[6.5] is None
    with pytest.raises(ValueError, match='search_horizon_s'):
        FeedbackSettings(max_horizon_s=2.0, search_horizon_s=1.0)


def test_a_mirrored_view_is_relabelled_from_the_track_and_only_then(rig):
    # Seen from behind, the pose model labels a view as if the person faced the camera. With two
    # views nothing tells which one is mirrored; the track's prediction does (a person standing
    # still here: a walking one is predicted 30-40 px off half a second ahead, as far as a
    # mirror moves arms held by the side, and is left alone).
    from mec_coop.geometry.human_checks import mirrored
    from mec_coop.geometry.skeleton import COCO_FLIP_INDEX
    cameras, joints = rig
    flip = list(COCO_FLIP_INDEX)
    truth = {cam: cameras[cam].project(joints) for cam in CAMERAS}
    results = {}
    for feedback in (True, False):
        clock = Clock()
        fusion = make_fusion(cameras, clock, **({} if feedback else {'feedback': None}))
        for k in range(4):
            for cam in CAMERAS:
                fusion.add(cam, 1.0 + 0.5 * k, report(cameras[cam], joints))
            assert len(fusion.poll(1.2 + 0.5 * k).skeletons) == 1
        fusion.add('cam0', 3.0, Report(truth['cam0'][flip], np.full(17, 0.9), 'camera'))
        fusion.add('cam1', 3.0, report(cameras['cam1'], joints))
        clock.now += 2.0     # cam2 does not report: the instant is released at the timeout
        out = fusion.poll(3.2)
        results[feedback] = (out.skeletons, fusion.counts['cam0']['mirrored_relabelled'])
    (skeleton,), relabelled = results[True]
    assert relabelled == 1
    tri = skeleton.triangulation
    assert tri.valid.sum() == 17
    np.testing.assert_allclose(tri.points, joints, atol=1e-3)
    # Without a track the view is not relabelled, and its joints are not published as if right.
    skeletons, relabelled = results[False]
    assert relabelled == 0
    for s in skeletons:
        wrong = np.linalg.norm(s.triangulation.points - joints, axis=-1) > 0.05
        assert not (wrong & s.triangulation.valid).any()
    # A view that fits both ways (twins projecting together: side-on) is left alone, as is a
    # correct one with the odd wrong joint.
    side_on = truth['cam1'].copy()
    side_on[flip[1::2]] = side_on[1::2] + 1.0
    assert not mirrored(side_on, np.full(17, 0.9), side_on)
    noisy = truth['cam1'].copy()
    noisy[9] += 80.0
    assert not mirrored(noisy, np.full(17, 0.9), truth['cam1'])
    assert mirrored(truth['cam1'][flip], np.full(17, 0.9), truth['cam1'])
