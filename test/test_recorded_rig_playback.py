# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Tests of the recorded rig's playback: rates, offsets, loops and read errors.

Pose2Sim's demos (``pip install --no-deps pose2sim==0.10.49``; tests that need them skip
without it) and small synthetic rigs written here.
"""

import itertools
import shutil

import cv2
import numpy as np
import pytest

from mec_coop.rig.recorded.playback import RecordedRig
from mec_coop.rig.recorded.qualisys import read_qca
from mec_coop.rig.recorded.video import iter_video, VideoReadError


def _write_video(path, frames, fps=60.0):
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), fps, (w, h))
    assert writer.isOpened(), 'OpenCV cannot write MJPG .avi here'
    for frame in frames:
        writer.write(frame)
    writer.release()


@pytest.fixture
def rig_folder(tmp_path, ring_cameras, write_qca):
    """Return a factory of synthetic rigs in ``tmp_path``: it returns ``(trial, cameras)``."""
    def make(width=64, height=48, count=10, calibration_in_parent=False):
        trial = tmp_path / 'trial'
        (trial / 'videos').mkdir(parents=True)
        calib_dir = (tmp_path if calibration_in_parent else trial) / 'calibration'
        calib_dir.mkdir(parents=True)
        cams = ring_cameras(2, width, height)
        write_qca(calib_dir / 'Calib.qca.txt', cams)
        rng = np.random.default_rng(0)
        for cam in cams:
            frames = []
            for i in range(count):
                img = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
                # The frame number is painted as a bright bar so decoded frames can be identified.
                img[:, :4 * (i + 1)] = 255
                frames.append(img)
            _write_video(trial / 'videos' / f'{cam.name}.avi', frames)
        return trial, cams
    return make


def _frame_number(image):
    return int(round(np.sum(image[image.shape[0] // 2, :, 1] > 180) / 4)) - 1


@pytest.mark.usefixtures('pose2sim_demos')
def test_rig_rate_stamps_and_image_sizes():
    rig = RecordedRig('Demo_SinglePerson', rate_hz=20)
    assert rig.source_fps == pytest.approx(60.0)
    assert rig.step == pytest.approx(3.0)
    assert len(rig) == 34                      # source frames 0, 3, ..., 99
    assert rig.offsets == {'cam01': 0, 'cam02': 0, 'cam03': 0, 'cam04': 0}
    # cam01/cam02 videos are 1080 wide (codec crop of the calibrated 1088): K is kept.
    calibrated = read_qca(rig.calibration_path)
    for cam, cal in zip(rig.cameras, calibrated):
        np.testing.assert_array_equal(cam.K, cal.K)
    assert [c.width for c in rig.cameras] == [1080, 1080, 1088, 1088]
    frames = list(rig.frames(stop=3))
    assert [f.index for f in frames] == [0, 1, 2]
    assert [f.stamp_s for f in frames] == pytest.approx([0.0, 0.05, 0.1])
    for frame in frames:
        assert [img.shape for img in frame.images] == [(c.height, c.width, 3)
                                                       for c in rig.cameras]
    index, stamp, images = frames[1]
    assert index == 1 and len(images) == 4


@pytest.mark.usefixtures('pose2sim_demos')
def test_rig_offsets_select_the_right_source_frames():
    rig = RecordedRig('Demo_SinglePerson', offsets={'cam02': 2, 'cam03': -1})
    assert rig.first_frame == {'cam01': 1, 'cam02': 3, 'cam03': 0, 'cam04': 1}
    assert rig.num_source_frames == 97 and len(rig) == 97
    assert rig.source_indices(5) == {'cam01': 6, 'cam02': 8, 'cam03': 5, 'cam04': 6}
    source = {name: [img for _, img in itertools.islice(iter_video(path), 6)]
              for name, path in rig.video_paths.items()}
    for index, _, images in rig.frames(stop=3):
        for name, img in zip(rig.camera_names, images):
            np.testing.assert_array_equal(img, source[name][index + rig.first_frame[name]])


@pytest.mark.usefixtures('pose2sim_demos')
def test_rig_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='unknown camera'):
        RecordedRig('Demo_SinglePerson', offsets={'cam09': 1})
    with pytest.raises(ValueError, match='whole number'):
        RecordedRig('Demo_SinglePerson', offsets={'cam02': 0.5})
    with pytest.raises(ValueError, match='no frame common'):
        RecordedRig('Demo_SinglePerson', offsets={'cam02': 100})
    for rate in (0, -5, 61):
        with pytest.raises(ValueError, match='rate_hz'):
            RecordedRig('Demo_SinglePerson', rate_hz=rate)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        RecordedRig(tmp_path / 'nowhere')
    rig = RecordedRig('Demo_SinglePerson', rate_hz=30)
    with pytest.raises(IndexError):
        next(rig.frames(start=len(rig)))


def test_synthetic_folder_loop_and_batch_layout(rig_folder):
    trial, cams = rig_folder(calibration_in_parent=True)
    rig = RecordedRig(trial, rate_hz=30, offsets={'cam02': 1})
    assert rig.name == 'trial' and rig.camera_names == ('cam01', 'cam02')
    assert len(rig) == 5                        # timeline frames 0, 2, 4, 6, 8 of 9 common
    got = list(itertools.islice(rig.frames(start=3, loop=True), 5))
    assert [f.index for f in got] == [3, 4, 5, 6, 7]
    assert np.all(np.diff([f.stamp_s for f in got]) == pytest.approx(1 / 30))
    numbers = [[_frame_number(img) for img in f.images] for f in got]
    assert numbers == [[6, 7], [8, 9], [6, 7], [8, 9], [6, 7]]


def test_synthetic_folder_read_errors(rig_folder):
    trial, cams = rig_folder()
    video = trial / 'videos' / 'cam02.avi'
    data = video.read_bytes()
    video.write_bytes(data[:int(len(data) * 0.6)])
    rig = RecordedRig(trial)
    assert rig.videos['cam02'].frame_count == 10
    with pytest.raises(VideoReadError, match=r'cam02\.avi: frame \d could not be'):
        list(rig)
    with pytest.raises(VideoReadError, match='could not be decoded'):
        list(iter_video(video))
    video.write_bytes(b'not a video at all')
    with pytest.raises(VideoReadError, match='cannot open'):
        RecordedRig(trial)
    video.unlink()
    with pytest.raises(FileNotFoundError, match='cam02'):
        RecordedRig(trial)


def test_synthetic_folder_size_mismatch(rig_folder):
    trial, cams = rig_folder()
    _write_video(trial / 'videos' / 'cam02.avi', [np.zeros((48, 96, 3), np.uint8)] * 3)
    with pytest.raises(ValueError, match='video is 96x48 but the calibration is for 64x48'):
        RecordedRig(trial)
    shutil.rmtree(trial / 'calibration')
    with pytest.raises(FileNotFoundError, match='qca'):
        RecordedRig(trial)
