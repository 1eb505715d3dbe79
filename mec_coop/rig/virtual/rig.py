# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The virtual rig: cameras, people, occluders, ground truth and labelled camera frames.

A camera frame is *negative* (paper, Sec. III) when it contains no person or only people with a
significant part of their joints occluded; here that means every person in it has at least
``negative_fraction`` of the 17 joints hidden (outside the image, behind furniture, or behind
another person). Self-occlusion does not count: COCO labels such joints and pose models predict
them. Everything else is *positive*.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np

from .humanoid import BodyPose, Humanoid
from .layout import default_furniture, make_cameras, Room, segments_hit_box
from .render import ViewGeometry, ViewRenderer

# A joint is hidden by another person whose drawn surface is this much nearer the camera.
PERSON_OCCLUSION_TOLERANCE = 0.1
# 'random': people walk to random points; 'crossing': back and forth through the room centre.
SCENARIOS = ('random', 'crossing')
# Crossing lines: half length (m) and the angle of the first one (rad), clear of the furniture.
_CROSSING_HALF_LENGTH = 2.2
_CROSSING_FIRST_ANGLE = 0.52


def crossing_line(i: int, num_people: int) -> np.ndarray:
    """
    End points ``(2, 2)`` of person ``i``'s walk: lines through the centre, evenly turned.

    Everyone passes the centre every few seconds at their own speed (0.9-1.4 m/s), so the
    people cross and hide each other from some cameras, again and again.
    """
    angle = _CROSSING_FIRST_ANGLE + np.pi * i / max(num_people, 1)
    end = _CROSSING_HALF_LENGTH * np.array([np.cos(angle), np.sin(angle)])
    return np.stack([-end, end]) if i % 2 == 0 else np.stack([end, -end])


class RigFrame:
    """
    Ground truth of all cameras at one instant; images are rendered on first access.

    Attributes: ``stamp`` (s), ``joints_world (P, 17, 3)``, ``actions`` (P labels),
    ``keypoints_2d (V, P, 17, 2)`` (distorted pixels, NaN behind a camera),
    ``in_image (V, P, 17)``,
    ``visibility (V, P, 17)`` (in image and not occluded), ``visible_fraction (V, P)`` and
    ``positive (V,)``.
    """

    def __init__(self, rig: 'VirtualRig', stamp: float, bodies: Sequence[BodyPose]) -> None:
        self.stamp = float(stamp)
        self._rig = rig
        self._bodies = bodies
        self._geometry: list[ViewGeometry | None] = [None] * len(rig.cameras)
        self._images: list[np.ndarray | None] = [None] * len(rig.cameras)
        self.joints_world = np.array([b.joints for b in bodies]).reshape(len(bodies), 17, 3)
        self.actions = tuple(b.action for b in bodies)
        self.keypoints_2d = np.array([cam.project(self.joints_world) for cam in rig.cameras])
        self.in_image = np.array([cam.in_image(kp)
                                  for cam, kp in zip(rig.cameras, self.keypoints_2d)])
        self.visibility = self.in_image & ~self._occluded()
        self.visible_fraction = self.visibility.mean(axis=2) if bodies else np.zeros((
            len(rig.cameras), 0))
        self.positive = np.any(self.visible_fraction > 1.0 - rig.negative_fraction, axis=1)

    def _occluded(self):
        rig = self._rig
        num_views, num_people = len(rig.cameras), len(self._bodies)
        hidden = np.zeros((num_views, num_people, 17), dtype=bool)
        if num_people == 0:
            return hidden
        joints = self.joints_world.reshape(-1, 3)
        for v, cam in enumerate(rig.cameras):
            # Stop just short of the joint so a joint resting on a surface is not hidden by it.
            start = np.broadcast_to(cam.center, joints.shape)
            end = cam.center + 0.99 * (joints - cam.center)
            by_room = np.zeros(len(joints), dtype=bool)
            for box in rig.boxes:
                by_room |= segments_hit_box(start, end, box.lo, box.hi)
            hidden[v] = by_room.reshape(num_people, 17)
            if num_people > 1:
                hidden[v] |= self._hidden_by_people(v)
        return hidden

    def _hidden_by_people(self, v):
        cam = self._rig.cameras[v]
        bbox, depth, person = self._rig.renderers[v].people_buffers(self.geometry(v))
        hidden = np.zeros((len(self._bodies), 17), dtype=bool)
        if bbox is None:
            return hidden
        x0, y0, x1, y1 = bbox
        z = cam.to_camera(self.joints_world)[..., 2]
        px = np.round(np.nan_to_num(self.keypoints_2d[v], nan=-1.0)).astype(int)
        inside = ((px[..., 0] >= x0) & (px[..., 0] < x1) & (px[..., 1] >= y0) & (px[..., 1] < y1))
        for p, j in zip(*np.nonzero(inside)):
            u, w = px[p, j, 0] - x0, px[p, j, 1] - y0
            other = person[w, u]
            hidden[p, j] = (other >= 0 and other != p
                            and depth[w, u] < z[p, j] - PERSON_OCCLUSION_TOLERANCE)
        return hidden

    def geometry(self, v: int) -> ViewGeometry:
        """Projected body parts of camera ``v`` (:class:`~.render.ViewGeometry`, cached)."""
        geometry = self._geometry[v]
        if geometry is None:
            geometry = self._geometry[v] = self._rig.renderers[v].layout(self._bodies)
        return geometry

    def image(self, v: int) -> np.ndarray:
        """BGR uint8 image of camera ``v`` (rendered once, then cached)."""
        image = self._images[v]
        if image is None:
            image = self._images[v] = self._rig.renderers[v].render(self.geometry(v))
        return image

    @property
    def images(self) -> list[np.ndarray]:
        """Images of all cameras (renders the ones not rendered yet)."""
        return [self.image(v) for v in range(len(self._images))]


class VirtualRig:
    """
    Paper-style room with N cameras, moving humanoids and furniture; query by time.

    Deterministic for a given ``seed``: the same ``frame(t)`` for any query order or frame rate.
    """

    def __init__(self, num_cameras: int = 4, width: int = 1280, height: int = 720, seed: int = 0,
                 num_people: int = 1, occluders: bool = True,
                 distortion: Sequence[float] | None = None, hfov_deg: float = 90.0,
                 room: Room = Room(), negative_fraction: float = 0.4, mount_height: float = 2.8,
                 aim_height: float = 1.0, scenario: str = 'random') -> None:
        if not 0.0 < negative_fraction <= 1.0:
            raise ValueError(f'negative_fraction must be in (0, 1], got {negative_fraction}')
        if scenario not in SCENARIOS:
            raise ValueError(f'scenario must be one of {SCENARIOS}, got {scenario!r}')
        self.room = room
        self.seed = seed
        self.negative_fraction = float(negative_fraction)
        self.boxes = tuple(default_furniture(room)) if occluders else ()
        self.cameras = make_cameras(num_cameras, room, width, height, hfov_deg, distortion,
                                    mount_height, aim_height)
        self.people = [Humanoid((seed, i), room, self.boxes,
                                waypoints=crossing_line(i, num_people) if scenario == 'crossing'
                                else None) for i in range(num_people)]
        self.renderers = [ViewRenderer(cam, room, self.boxes, (seed, v))
                          for v, cam in enumerate(self.cameras)]

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> Self:
        """Rig from a parameter dict (the rig node's parameters); unknown keys are ignored."""
        keys = ('num_cameras', 'width', 'height', 'seed', 'num_people', 'occluders', 'hfov_deg',
                'negative_fraction', 'scenario')
        return cls(**{k: parameters[k] for k in keys if k in parameters})

    def frame(self, t: float) -> RigFrame:
        """:class:`RigFrame` at time ``t`` seconds."""
        return RigFrame(self, t, [person.pose(t) for person in self.people])

    def empty_image(self, v: int) -> np.ndarray:
        """Camera ``v``'s view of the room without people."""
        return self.renderers[v].background[0].copy()
