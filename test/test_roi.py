# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Crops around predicted people: placement, the exact crop <-> image mapping, ROI inference."""

import time

import cv2
import numpy as np
import pytest

from mec_coop.geometry.camera import PinholeCamera
from mec_coop.pose.backend import PoseBackend, PoseEstimate
from mec_coop.pose.roi import (crop_input_size, crops_for_model, PAD_VALUE, Roi,
                               roi_from_keypoints, rois_from_people)

W, H = 1280, 720


def standing(x, y_feet, height, joints=17):
    """Return 17 keypoints on a vertical line: a person ``height`` px tall, feet at (x, y_feet)."""
    ys = np.linspace(y_feet - height, y_feet, joints)
    return np.stack([np.full(joints, float(x)), ys], axis=1)


def ramp(axis):
    """Return a float image whose value is the x (axis 1) or y (axis 0) pixel coordinate."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    return (xx if axis == 1 else yy)[..., None].repeat(3, axis=2)


@pytest.mark.parametrize('input_size', [None, 96, 320, 1000])
def test_mapping_round_trip_is_exact(input_size):
    rng = np.random.default_rng(1)
    for _ in range(20):
        size = int(rng.integers(20, 900))
        roi = Roi(int(rng.integers(-size + 1, W)), int(rng.integers(-size + 1, H)), size, W, H)
        full = rng.uniform(-100, 1400, (50, 2))
        np.testing.assert_allclose(roi.to_full(roi.to_crop(full, input_size), input_size), full,
                                   atol=1e-6, rtol=0)
    assert np.isnan(roi.to_full(np.array([np.nan, 3.0]), input_size)[0])


@pytest.mark.parametrize('size,input_size', [(100, 320), (137, 320), (640, 320), (500, 317)])
def test_mapping_matches_the_pixels_of_the_resized_crop(size, input_size):
    # A crop of an image whose value is its own x (or y) coordinate, resized like the model's
    # input, holds at pixel (u, v) exactly the full-image coordinate that to_full gives.
    roi = Roi(301, 57, size, W, H)
    grid = np.stack(np.meshgrid(np.arange(input_size), np.arange(input_size)), axis=-1)
    mapped = roi.to_full(grid, input_size)
    # Away from the crop's edge, where resizing clamps to the border pixels.
    inner = np.all((mapped >= roi.box[:2]) & (mapped <= np.array(roi.box[2:]) - 1), axis=-1)
    for axis, coord in ((1, 0), (0, 1)):
        resized = roi.crop(ramp(axis), input_size)[..., 0]
        np.testing.assert_allclose(resized[inner], mapped[..., coord][inner], atol=1e-3)


def test_crop_without_resize_is_the_image_slice():
    image = np.random.default_rng(0).integers(0, 255, (H, W, 3), dtype=np.uint8)
    roi = Roi(10, 20, 50, W, H)
    np.testing.assert_array_equal(roi.crop(image), image[20:70, 10:60])
    assert roi.crop(image, 320).shape == (320, 320, 3)
    np.testing.assert_array_equal(roi.to_full([[0, 0], [49, 49]]), [[10, 20], [59, 69]])


def test_small_person_gets_the_minimum_crop_centred_on_them():
    kp = standing(600.0, 400.0, 30.0)
    roi = roi_from_keypoints(kp, W, H, margin=1.4, min_size=96)
    assert roi.size == 96 and not roi.padded
    centre = np.array(roi.box[:2]) - 0.5 + roi.size / 2
    np.testing.assert_allclose(centre, [600.0, 385.0], atol=0.5)
    assert roi.contains(kp).all()


def test_large_person_gets_margin_times_extent():
    kp = standing(600.0, 650.0, 300.0)
    roi = roi_from_keypoints(kp, W, H, margin=1.4, min_size=96)
    assert roi.size == 420 and roi.contains(kp).all() and not roi.padded


@pytest.mark.parametrize('x,y_feet', [(5.0, 715.0), (1275.0, 100.0), (1279.0, 719.0),
                                      (0.0, 60.0)])
def test_crops_near_borders_are_shifted_inside_the_image(x, y_feet):
    kp = standing(x, y_feet, 50.0)
    kp = kp[np.all((kp >= 0) & (kp <= (W - 1, H - 1)), axis=1)]
    roi = roi_from_keypoints(kp, W, H)
    x0, y0, x1, y1 = roi.box
    assert 0 <= x0 and x1 <= W and 0 <= y0 and y1 <= H and not roi.padded
    assert roi.contains(kp).all()


def test_person_partly_outside_gets_a_crop_around_the_part_inside():
    kp = standing(200.0, 900.0, 400.0)   # feet 180 px below the image
    kp[:, 0] += np.linspace(-30, 30, 17)
    inside = kp[:, 1] <= H - 1
    roi = roi_from_keypoints(kp, W, H, margin=1.4)
    x0, y0, x1, y1 = roi.box
    assert y1 == H and 0 <= y0 and not roi.padded
    assert roi.contains(kp[inside]).all() and not roi.contains(kp[~inside]).any()
    # Cut to the image: smaller than the 560 px square around the whole person.
    assert roi.size < 1.4 * 400


def test_person_taller_than_the_image_gets_a_padded_crop():
    kp = standing(640.0, 900.0, 1000.0)
    roi = roi_from_keypoints(kp, W, H, margin=1.4)
    assert roi.padded and roi.size >= H
    image = np.full((H, W, 3), 7, np.uint8)
    crop = roi.crop(image)
    inside = roi.to_crop(np.array([[640.0, 0.0], [640.0, H - 1.0]])).round().astype(int)
    assert crop[inside[0, 1], inside[0, 0], 0] == 7 and crop[inside[1, 1], inside[1, 0], 0] == 7
    assert (crop == PAD_VALUE).any() and crop.shape == (roi.size, roi.size, 3)


def test_distorted_camera_projections_lie_in_their_roi():
    # Strong barrel distortion moves joints near the image corner by tens of pixels; the crop is
    # built from the distorted pixels, as PinholeCamera.project gives them.
    cam = PinholeCamera.look_at('c', (0.0, -4.0, 2.5), (0.0, 0.0, 1.0), hfov_deg=100.0,
                                dist=(-0.32, 0.12, 0.001, -0.001, -0.02))
    ideal = PinholeCamera.look_at('c', (0.0, -4.0, 2.5), (0.0, 0.0, 1.0), hfov_deg=100.0)
    rng = np.random.default_rng(3)
    shifts = []
    for x, y in ((-3.0, 0.5), (3.0, 0.5), (0.0, 0.0), (-2.5, -1.5), (3.5, 2.0)):
        body = np.stack([np.full(17, x), np.full(17, y), np.linspace(0.05, 1.75, 17)], axis=1)
        body[:, :2] += rng.normal(0.0, 0.1, (17, 2))
        pixels = cam.project(body)
        shifts.append(np.nanmax(np.abs(pixels - ideal.project(body))))
        roi = roi_from_keypoints(pixels, W, H)
        seen = cam.in_image(pixels)
        assert roi is not None and roi.contains(pixels[seen]).all()
    assert max(shifts) > 30.0


def test_nan_joints_are_ignored_and_nothing_to_see_gives_none():
    kp = standing(600.0, 400.0, 120.0)
    kp[[0, 5, 16]] = np.nan
    roi = roi_from_keypoints(kp, W, H)
    assert roi.contains(kp[np.isfinite(kp[:, 0])]).all()
    assert roi_from_keypoints(np.full((17, 2), np.nan), W, H) is None
    assert roi_from_keypoints(standing(-500.0, 400.0, 100.0), W, H) is None
    assert roi_from_keypoints(standing(600.0, -300.0, 100.0), W, H) is None


def test_several_people_give_one_roi_each():
    people = np.stack([standing(200.0, 500.0, 150.0), standing(900.0, 600.0, 80.0),
                       standing(5000.0, 600.0, 80.0)])
    rois = rois_from_people(people, W, H)
    assert len(rois) == 2
    assert rois[0].contains(people[0]).all() and rois[1].contains(people[1]).all()


@pytest.mark.parametrize('args,match', [
    ((0.5, 2, 10, W, H), 'integer'), ((True, 2, 10, W, H), 'integer'),
    ((0, 0, 0, W, H), 'positive'), ((0, 0, 10, 0, H), 'positive'),
    ((W, 0, 10, W, H), 'overlap'), ((-10, 0, 10, W, H), 'overlap'),
    ((0, H + 5, 10, W, H), 'overlap')])
def test_invalid_rois_are_rejected(args, match):
    with pytest.raises(ValueError, match=match):
        Roi(*args)


@pytest.mark.parametrize('kwargs,match', [
    ({'margin': 0.9}, 'margin'), ({'margin': float('nan')}, 'margin'),
    ({'min_size': 0}, 'min_size'), ({'image_width': 0}, 'image size'),
    ({'keypoints': np.zeros((17, 3))}, r'\(J, 2\)')])
def test_invalid_roi_arguments_are_rejected(kwargs, match):
    args = {'keypoints': standing(600.0, 400.0, 100.0), 'image_width': W, 'image_height': H}
    with pytest.raises(ValueError, match=match):
        roi_from_keypoints(**{**args, **kwargs})


def test_crop_of_a_wrong_sized_image_and_bad_input_size_are_rejected():
    roi = Roi(0, 0, 50, W, H)
    with pytest.raises(ValueError, match='1280x720'):
        roi.crop(np.zeros((480, 640, 3), np.uint8))
    with pytest.raises(ValueError, match='input_size'):
        roi.to_full(np.zeros(2), 0)


class BrightestPixel(PoseBackend):
    """Fake model: one person, all joints at the brightest pixel of its (square) input."""

    name = 'brightest'
    input_size = 160

    def predict(self, image_bgr):
        y, x = np.unravel_index(np.argmax(image_bgr[..., 0]), image_bgr.shape[:2])
        if image_bgr[y, x, 0] < 200:
            return PoseEstimate.empty(0.01, self.name)
        kp = np.tile([[float(x), float(y)]], (17, 1))
        return PoseEstimate([[x - 5.0, y - 5.0, x + 5.0, y + 5.0]], [0.9], kp[None],
                            np.ones((1, 17)), 0.01, self.name)


def test_predict_roi_maps_back_to_full_pixels_and_merges_duplicates():
    image = np.zeros((H, W, 3), np.uint8)
    image[401:404, 700:703] = 255   # a 3x3 dot centred on (701, 402)
    model = BrightestPixel()
    # Two overlapping crops see the same dot: one person; a crop elsewhere sees nothing.
    rois = [Roi(650, 350, 150, W, H), Roi(600, 300, 200, W, H), Roi(0, 0, 100, W, H)]
    est = model.predict_roi(image, rois)
    assert est.num_people == 1
    np.testing.assert_allclose(est.keypoints[0], np.tile([701.0, 402.0], (17, 1)), atol=1.0)
    assert est.inference_time_s == pytest.approx(0.03)
    nothing = model.predict_roi(image, [])
    assert nothing.num_people == 0 and nothing.model_name == 'brightest'
    assert len(model.predict_batch([image, image])) == 2


@pytest.mark.model
def test_roi_finds_the_person_the_full_frame_misses_at_imgsz_320():
    from mec_coop.pose.ultralytics_backend import UltralyticsPose
    from mec_coop.rig.virtual import VirtualRig

    # Seed 0, t = 3 s, cam3: a person ~130 px tall that yolo11n-pose misses at imgsz 320.
    frame = VirtualRig(num_cameras=4, seed=0).frame(3.0)
    truth, image = frame.keypoints_2d[3, 0], frame.image(3)
    model = UltralyticsPose(imgsz=320, conf=0.05, threads=1)
    full = model.predict(image)
    predicted = truth + np.array([12.0, -9.0])   # 15 px of tracking error
    est = model.predict_roi(image, rois_from_people(predicted[None], W, H))
    assert est.num_people == 1 and est.box_scores[0] > 0.5
    error = np.median(np.linalg.norm(est.keypoints[0] - truth, axis=-1))
    # Measured: full frame finds nobody; ROI 2.6 px median error, box score 0.88.
    assert error < 6.0
    if full.num_people:
        assert np.median(np.linalg.norm(full.keypoints[full.best()] - truth, axis=-1)) > error


@pytest.mark.model
def test_batch_gives_the_single_image_results_and_flip_tta_works_on_crops():
    from mec_coop.pose.ultralytics_backend import UltralyticsPose
    from mec_coop.rig.virtual import VirtualRig

    frame = VirtualRig(num_cameras=4, seed=0).frame(3.0)
    images = [frame.image(0), frame.image(2)]
    model = UltralyticsPose(imgsz=320, conf=0.05, threads=1, flip_tta=True)
    batch = model.predict_batch(images)
    for image, est in zip(images, batch):
        single = model.predict(image)
        assert est.num_people == single.num_people >= 1
        np.testing.assert_allclose(est.keypoints, single.keypoints, atol=0.05)
    rois = rois_from_people(frame.keypoints_2d[0, :1], W, H)
    est = model.predict_roi(images[0], rois)
    error = np.median(np.linalg.norm(est.keypoints[est.best()] - frame.keypoints_2d[0, 0],
                                     axis=-1))
    assert est.num_people == 1 and error < 6.0


def test_a_widened_crop_keeps_its_centre_and_stays_in_the_image():
    roi = Roi(93, 322, 160, 1280, 720)
    wide = roi.widened(1.3)
    assert wide.size == 208 and (wide.x0, wide.y0) == (69, 298)
    # In a corner the wider square is cut to the image like any crop around a person there.
    corner = Roi(0, 0, 160, 1280, 720).widened(1.3)
    assert corner.x0 == corner.y0 == 0 and 160 < corner.size < 208


def test_crops_for_a_model_are_at_least_half_its_input():
    people = np.array([[[600.0, 300.0], [640.0, 420.0]], [[50.0, 50.0], [60.0, 80.0]]])
    edge = crops_for_model(people, 1280, 720, 960)
    assert [roi.size for roi in edge] == [480, 480]
    assert edge[0].contains(people[0]).all() and edge[1].contains(people[1]).all()
    # Without an input size: the camera's 160 px floor; the first person (120 px) x 1.4 margin.
    assert [roi.size for roi in crops_for_model(people, 1280, 720, None)] == [168, 160]
    assert crop_input_size(960) == 640 and crop_input_size(320) == 320
    assert crop_input_size(None) is None


def test_the_edge_runs_offloads_with_the_cameras_people_on_crops():
    from mec_coop.msg import Keypoint2D, OffloadRequest, Person2D
    from mec_coop.ros.split_route import edge_estimates

    class Recorder(PoseBackend):
        input_size = 960

        def __init__(self):
            self.batches, self.crops = [], []

        def predict_batch(self, images_bgr):
            self.batches.append(len(images_bgr))
            return [PoseEstimate.empty() for _ in images_bgr]

        def predict_roi(self, image_bgr, rois, input_size=None):
            self.crops.append((list(rois), input_size))
            return PoseEstimate.empty()

    jpeg = cv2.imencode('.jpg', np.zeros((720, 1280, 3), np.uint8))[1].tobytes()
    searched, found = OffloadRequest(), OffloadRequest()   # without people / with one
    for msg in (searched, found):
        msg.image.format, msg.image.data = 'jpeg', jpeg
    found.people = [Person2D(keypoints=[Keypoint2D(x=600.0 + k, y=300.0 + 8 * k, confidence=0.5)
                                        for k in range(17)])]
    model = Recorder()
    out = edge_estimates(model, [('cam0', searched), ('cam1', found)], None, max_crops=1)
    assert [cam for cam, *_ in out] == ['cam0', 'cam1'] and model.batches == [1]
    # Crops run at 640, not the model's 960 (a square 960 input costs 1.75x a whole frame), so
    # the smallest crop is 320 px (enlarged at most 2x).
    (roi,), size = model.crops[0]
    assert size == 640 and roi.size == 320
    assert roi.contains(np.array([[600.0, 300.0], [616.0, 428.0]])).all()
    model = Recorder()
    start = time.perf_counter()
    out = edge_estimates(model, [('cam0', searched), ('cam1', found)], None, max_crops=0)
    took = time.perf_counter() - start
    assert model.batches == [2] and model.crops == []
    # Each image's time is its share of all the batch took (decoding two 1280x720 JPEGs here;
    # the recorder's model takes none): what the edge's queue costs, not the model's time.
    times = [estimate.inference_time_s for *_, estimate in out]
    assert times[0] == times[1] and 0.0 < 2 * times[0] <= took
    # More people than max_crops: the whole frame (two crops would cost more than it).
    found.people = [found.people[0]] * 2
    model = Recorder()
    edge_estimates(model, [('cam1', found)], None, max_crops=1)
    assert model.batches == [1] and model.crops == []
