# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Qualisys ``.qca.txt`` calibrations read as :class:`~mec_coop.geometry.camera.PinholeCamera`.

The conventions, as Pose2Sim's converter (``Pose2Sim/calibration.py``, ``read_qca`` and
``calib_qca_fun``) interprets them and as :func:`read_qca` implements them:

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
"""

import os
from pathlib import Path
import re
import xml.etree.ElementTree as ET

import numpy as np

from mec_coop.geometry.camera import PinholeCamera

# Qualisys stores image coordinates in sub-pixels.
_SUBPIXELS = 64.0


def _natural_key(text):
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r'(\d+)', text)]


def read_qca(path: str | os.PathLike[str], binning_factor: int = 1) -> list[PinholeCamera]:
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
