# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Articulated figure of the virtual humanoid: joint angles to COCO-17 joints and convex parts.

:mod:`.humanoid` decides how a person moves (joint angles over time); this module builds the
body those angles describe, places it in the room and cuts it into the convex parts the
renderer draws.

Body frame: x forward, y left, z up; ``side`` is +1 for the person's left, -1 for the right.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Part:
    """
    Convex body part: hull of spheres ``(k, 3)``/``(k,)`` and ellipse rings ``(m, 3, 3)``.

    A ring is ``(centre, u, v)``: points ``centre + cos(a) u + sin(a) v``. ``axis`` is the limb
    direction (shading is spread across it), None for blobs. ``material`` names an
    :class:`~.humanoid.Appearance` colour.
    """

    material: str
    centers: np.ndarray
    radii: np.ndarray
    rings: np.ndarray
    axis: np.ndarray | None = None
    face: bool = False


def pose_figure(ang: Mapping[str, Any], s: float, position: np.ndarray, heading: float,
                fall_sign: float,
                long_sleeves: bool) -> tuple[np.ndarray, np.ndarray, tuple[Part, ...]]:
    """
    Place the figure of joint angles ``ang`` in the world.

    :param ang: joint angles (the keys of the neutral pose of :mod:`.humanoid`), radians.
    :param s: body scale relative to the 1.75 m reference figure.
    :param position: floor position ``(x, y)`` of the body centre.
    :param heading: facing direction, radians from +x.
    :param fall_sign: +1 to fall forwards, -1 backwards (``ang['tilt']`` sets how far).
    :param long_sleeves: whether the shirt covers the forearms.
    :return: ``(joints (17, 3), head (4, 3), parts)``: COCO-17 joints, the head's centre and
        forward, up and left directions, and the :class:`Part` tuple.
    """
    pts, dirs = _skeleton(ang, s)
    names = list(pts)
    local = np.array([pts[n] for n in names])
    axes = np.array([dirs[n] for n in dirs])
    # Falling rotates the whole body about the ankle line, forward or backward.
    theta = ang['tilt'] * fall_sign
    if theta:
        pivot = 0.5 * (pts['lank'] + pts['rank'])
        rot = _rot_y(theta)
        local = (local - pivot) @ rot.T + pivot
        axes = axes @ rot.T
    # Rest the lowest contact point on the floor, then add jump height.
    contact = np.array([_CONTACT_RADIUS.get(n, 0.0) for n in names]) * s
    hit = np.array([n in _CONTACT_RADIUS for n in names])
    local[:, 2] += ang['lift'] - np.min(local[hit, 2] - contact[hit])
    c, sn = np.cos(heading), np.sin(heading)
    yaw = np.array([[c, -sn, 0.0], [sn, c, 0.0], [0.0, 0.0, 1.0]])
    world = local @ yaw.T + np.array([position[0], position[1], 0.0])
    axes = axes @ yaw.T
    p = dict(zip(names, world))
    d = dict(zip(dirs, axes))
    joints = np.array([p[n] for n in _COCO_KEYS])
    head = np.array([p['head_c'], d['face_fwd'], d['head_up'], d['head_left']])
    return joints, head, _parts(p, d, s, long_sleeves)


_COCO_KEYS = ('nose', 'leye', 'reye', 'lear', 'rear', 'lsho', 'rsho', 'lelb', 'relb', 'lwri',
              'rwri', 'lhip', 'rhip', 'lknee', 'rknee', 'lank', 'rank')
_CONTACT_RADIUS = {'lank': 0.075, 'rank': 0.075, 'ltoe': 0.035, 'rtoe': 0.035, 'pelvis': 0.13,
                   'chest': 0.13, 'head_c': 0.11, 'lknee': 0.06, 'rknee': 0.06, 'lhand': 0.03,
                   'rhand': 0.03, 'lelb': 0.045, 'relb': 0.045}


def _limb_dir(flex, abd, side):
    """Return the direction of a limb hanging down, swung forward by ``flex``, out by ``abd``."""
    return np.array([np.sin(flex) * np.cos(abd), side * np.sin(abd), -np.cos(flex) * np.cos(abd)])


def _rot_y(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _skeleton(ang, s):
    """Named points and unit directions of the body frame (ground under the pelvis)."""
    p = {}
    hip_z = 0.94 * s
    pelvis = np.array([0.0, 0.0, hip_z + 0.03 * s])
    p['pelvis'] = pelvis
    for side, key in ((1, 'l'), (-1, 'r')):
        i = 0 if side > 0 else 1
        hip = np.array([0.0, side * 0.09 * s, hip_z])
        thigh = _limb_dir(ang['hip_flex'][i], ang['hip_abd'][i], side)
        shin = _limb_dir(ang['hip_flex'][i] - ang['knee'][i], ang['hip_abd'][i], side)
        p[key + 'hip'] = hip
        p[key + 'knee'] = hip + 0.43 * s * thigh
        p[key + 'ank'] = p[key + 'knee'] + 0.43 * s * shin
        p[key + 'heel'] = p[key + 'ank'] + np.array([-0.04, 0.0, -0.035]) * s
        p[key + 'toe'] = p[key + 'ank'] + np.array([0.17, side * 0.015, -0.05]) * s
    # Upper body: built upright about the pelvis, then leaned forward by 'pitch'.
    up = {}
    up['waist'] = pelvis + np.array([0.0, 0.0, 0.2]) * s
    up['chest'] = pelvis + np.array([0.01, 0.0, 0.36]) * s
    up['neck'] = pelvis + np.array([0.0, 0.0, 0.49]) * s
    for side, key in ((1, 'l'), (-1, 'r')):
        i = 0 if side > 0 else 1
        sho = up['neck'] + np.array([0.0, side * 0.185, -0.035]) * s
        upper = _limb_dir(ang['sh_flex'][i], ang['sh_abd'][i], side)
        fore = _limb_dir(ang['sh_flex'][i] + ang['elbow'][i], ang['sh_abd'][i], side)
        up[key + 'sho'] = sho
        up[key + 'elb'] = sho + 0.29 * s * upper
        up[key + 'wri'] = up[key + 'elb'] + 0.25 * s * fore
        up[key + 'hand'] = up[key + 'wri'] + 0.085 * s * fore
    hp, hy = ang['head_pitch'], ang['head_yaw']
    fwd = np.array([np.cos(hy) * np.cos(hp), np.sin(hy) * np.cos(hp), -np.sin(hp)])
    left = np.array([-np.sin(hy), np.cos(hy), 0.0])
    hup = np.cross(fwd, left)
    hc = up['neck'] + np.array([0.01, 0.0, 0.16]) * s
    up['head_c'] = hc
    up['nose'] = hc + (0.1 * fwd - 0.015 * hup) * s
    up['chin'] = hc + (0.04 * fwd - 0.075 * hup) * s
    for side, key in ((1, 'l'), (-1, 'r')):
        up[key + 'eye'] = hc + (0.085 * fwd + 0.025 * hup + side * 0.033 * left) * s
        up[key + 'ear'] = hc + (-0.005 * fwd - 0.01 * hup + side * 0.078 * left) * s
    rot = _rot_y(ang['pitch'])
    for name, point in up.items():
        p[name] = (point - pelvis) @ rot.T + pelvis
    dirs = {'up': rot @ np.array([0.0, 0.0, 1.0]), 'fwd': rot @ np.array([1.0, 0.0, 0.0]),
            'left': np.array([0.0, 1.0, 0.0]), 'face_fwd': rot @ fwd, 'head_up': rot @ hup,
            'head_left': rot @ left, 'hip_up': np.array([0.0, 0.0, 1.0]),
            'hip_fwd': np.array([1.0, 0.0, 0.0])}
    return p, dirs


def _limb(material, a, b, ra, rb, s, face=False, bulge=None):
    """Tapered limb from ``a`` to ``b``; ``bulge`` ``(fraction, radius)`` adds a muscle."""
    axis = b - a
    n = np.linalg.norm(axis)
    centers, radii = [a, b], [ra, rb]
    if bulge is not None:
        centers.append(a + bulge[0] * axis)
        radii.append(bulge[1])
    return Part(material, np.array(centers), np.array(radii) * s, np.zeros((0, 3, 3)),
                axis / n if n > 1e-9 else None, face)


def _torso_ring(centre, left, fwd, half_width, half_depth, s):
    return np.array([centre, left * half_width * s, fwd * half_depth * s])


def _parts(p, d, s, long_sleeves):
    """Convex parts of the figure (world coordinates)."""
    up, fwd, left = d['up'], d['fwd'], d['left']
    parts = [
        Part('shirt', np.array([p['lsho'], p['rsho']]), np.full(2, 0.056 * s), np.array([
            _torso_ring(p['pelvis'] + 0.07 * s * up, left, fwd, 0.155, 0.1, s),
            _torso_ring(p['waist'], left, fwd, 0.15, 0.1, s),
            _torso_ring(p['chest'] + 0.012 * s * fwd, left, fwd, 0.175, 0.12, s),
            _torso_ring(p['neck'] - 0.02 * s * up, left, fwd, 0.14, 0.08, s)]), up),
        Part('trousers', np.zeros((0, 3)), np.zeros(0), np.array([
            _torso_ring(p['pelvis'] - (0.08 * d['hip_up'] + 0.015 * d['hip_fwd']) * s, left,
                        d['hip_fwd'], 0.165, 0.115, s),
            _torso_ring(p['pelvis'], left, d['hip_fwd'], 0.165, 0.105, s),
            _torso_ring(p['pelvis'] + 0.07 * s * up, left, fwd, 0.153, 0.1, s)]), up),
        _limb('skin', p['neck'] - 0.02 * s * up, p['head_c'] - 0.05 * s * d['head_up'],
              0.05, 0.048, s),
        _limb('hair', p['head_c'] + (0.022 * d['head_up'] - 0.015 * d['face_fwd']) * s,
              p['head_c'] + (-0.02 * d['head_up'] - 0.03 * d['face_fwd']) * s, 0.09, 0.083, s),
        _limb('skin', p['head_c'] + 0.015 * s * d['face_fwd'], p['chin'], 0.082, 0.05, s,
              face=True),
    ]
    for k in ('l', 'r'):
        parts += [
            _limb('trousers', p[k + 'hip'], p[k + 'knee'], 0.095, 0.064, s),
            _limb('trousers', p[k + 'knee'], p[k + 'ank'], 0.062, 0.046, s,
                  bulge=(0.3, 0.066)),
            _limb('shoes', p[k + 'heel'], p[k + 'toe'], 0.045, 0.038, s),
            _limb('shirt', p[k + 'sho'], p[k + 'elb'], 0.06, 0.048, s),
            _limb('shirt', p[k + 'elb'], p[k + 'wri'], 0.046, 0.035, s) if long_sleeves else
            _limb('skin', p[k + 'elb'], p[k + 'wri'], 0.041, 0.03, s, bulge=(0.3, 0.044)),
            _limb('skin', p[k + 'wri'], p[k + 'hand'], 0.03, 0.036, s),
        ]
    return tuple(parts)
