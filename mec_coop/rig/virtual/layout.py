# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Room, furniture and camera placement of the virtual rig (paper, Sec. V).

World frame: z up, origin at the centre of the room's floor, metres. The paper's room is a
10 x 10 x 3 m box with cameras at the corners and along the edges, all aimed at the centre.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from mec_coop.geometry.camera import PinholeCamera

MAX_CAMERAS = 16


@dataclass(frozen=True)
class Room:
    """Axis-aligned room centred on the origin, floor at z = 0."""

    size_x: float = 10.0
    size_y: float = 10.0
    height: float = 3.0

    @property
    def lo(self) -> np.ndarray:
        """Lower corner ``(3,)``."""
        return np.array([-self.size_x / 2.0, -self.size_y / 2.0, 0.0])

    @property
    def hi(self) -> np.ndarray:
        """Upper corner ``(3,)``."""
        return np.array([self.size_x / 2.0, self.size_y / 2.0, self.height])

    def contains(self, points: ArrayLike, margin: ArrayLike = 0.0) -> np.ndarray:
        """Boolean mask of points ``(..., 3)`` inside the room shrunk by ``margin``."""
        points = np.asarray(points, dtype=np.float64)
        return np.all((points >= self.lo + margin) & (points <= self.hi - margin), axis=-1)


@dataclass(frozen=True)
class Box:
    """Axis-aligned box occluder (furniture, partition wall); ``color`` is BGR 0-255."""

    name: str
    lo: tuple
    hi: tuple
    color: tuple

    def footprint_hits(self, a: ArrayLike, b: ArrayLike, clearance: float = 0.0) -> bool:
        """Whether the floor segment ``a -> b`` (2D) comes within ``clearance`` of the box."""
        lo = np.asarray(self.lo[:2]) - clearance
        hi = np.asarray(self.hi[:2]) + clearance
        return bool(segments_hit_box(np.atleast_2d(a), np.atleast_2d(b), lo, hi)[0])


def segments_hit_box(a: ArrayLike, b: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> np.ndarray:
    """Mask ``(N,)``: which segments ``a[i] -> b[i]`` (any dimension) meet the box ``[lo, hi]``."""
    a = np.asarray(a, dtype=np.float64)
    d = np.asarray(b, dtype=np.float64) - a
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    with np.errstate(divide='ignore', invalid='ignore'):
        inv = 1.0 / d
        t0 = (lo - a) * inv
        t1 = (hi - a) * inv
    # A segment parallel to a slab either lies inside it for all t or never does.
    parallel = d == 0.0
    inside = (a >= lo) & (a <= hi)
    near = np.where(parallel, np.where(inside, -np.inf, np.inf), np.minimum(t0, t1))
    far = np.where(parallel, np.where(inside, np.inf, -np.inf), np.maximum(t0, t1))
    enter = np.max(near, axis=-1)
    leave = np.min(far, axis=-1)
    return (enter <= leave) & (leave >= 0.0) & (enter <= 1.0)


def default_furniture(room: Room = Room()) -> list[Box]:
    """
    Return fixed furniture and a partition wall, scaled to the room (a reproducible layout).

    Sized to occlude people partly (table, sofa) or fully (cabinet, partition wall) in some views.
    """
    sx, sy = room.size_x / 10.0, room.size_y / 10.0

    def box(name, x0, y0, z0, x1, y1, z1, color):
        return Box(name, (x0 * sx, y0 * sy, z0), (x1 * sx, y1 * sy, z1), color)

    boxes = [
        box('partition_wall', 1.2, 1.55, 0.0, 3.7, 1.67, 2.2, (196, 200, 204)),
        box('cabinet', -4.95, 1.0, 0.0, -4.35, 2.4, 1.95, (52, 74, 112)),
        box('table_top', -2.7, -2.9, 0.70, -1.1, -1.9, 0.76, (84, 128, 170)),
        box('sofa_seat', 1.4, -4.95, 0.0, 3.6, -4.1, 0.45, (112, 70, 48)),
        box('sofa_back', 1.4, -4.95, 0.45, 3.6, -4.7, 0.9, (100, 62, 42)),
        box('shelf', 2.9, 4.55, 0.0, 4.6, 4.95, 1.7, (215, 222, 226)),
        box('crate', -0.9, -3.4, 0.0, -0.3, -2.8, 0.6, (70, 110, 150)),
        box('plant_pot', 4.2, -1.2, 0.0, 4.6, -0.8, 0.45, (60, 90, 170)),
        box('plant', 4.1, -1.3, 0.45, 4.7, -0.7, 1.3, (60, 130, 50)),
    ]
    for i, (x, y) in enumerate(((-2.65, -2.85), (-1.2, -2.85), (-2.65, -1.95), (-1.2, -1.95))):
        boxes.append(box(f'table_leg{i}', x, y, 0.0, x + 0.05, y + 0.05, 0.70, (70, 105, 140)))
    return boxes


def camera_positions(num_cameras: int, room: Room = Room(), mount_height: float = 2.8,
                     inset: float = 0.15) -> np.ndarray:
    """
    Mount points ``(N, 3)``: 4 corners, then 4 edge midpoints, then 8 quarter points.

    Corners go counter-clockwise so that any two consecutive cameras look at the centre from
    directions 90 degrees apart; later groups keep the ring balanced as N grows.
    """
    if not 2 <= num_cameras <= MAX_CAMERAS:
        raise ValueError(f'num_cameras must be in 2..{MAX_CAMERAS}, got {num_cameras}')
    hx = room.size_x / 2.0 - inset
    hy = room.size_y / 2.0 - inset
    corners = [(-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy)]
    midpoints = [(0.0, -hy), (hx, 0.0), (0.0, hy), (-hx, 0.0)]
    quarters = [(-hx / 2, -hy), (hx, -hy / 2), (hx / 2, hy), (-hx, hy / 2),
                (hx / 2, -hy), (hx, hy / 2), (-hx / 2, hy), (-hx, -hy / 2)]
    xy = np.array(corners + midpoints + quarters)[:num_cameras]
    return np.column_stack([xy, np.full(num_cameras, float(mount_height))])


def make_cameras(num_cameras: int = 4, room: Room = Room(), width: int = 1280, height: int = 720,
                 hfov_deg: float = 90.0, distortion: Sequence[float] | None = None,
                 mount_height: float = 2.8, aim_height: float = 1.0) -> list[PinholeCamera]:
    """
    Cameras ``cam0..`` at :func:`camera_positions`, aimed at ``(0, 0, aim_height)``.

    ``distortion``: plumb_bob coefficients ``(k1, k2, p1, p2, k3)`` shared by all cameras, or None.
    """
    target = np.array([0.0, 0.0, aim_height])
    dist = () if distortion is None else tuple(float(c) for c in distortion)
    return [PinholeCamera.look_at(f'cam{i}', pos, target, width=width, height=height,
                                  hfov_deg=hfov_deg, dist=dist)
            for i, pos in enumerate(camera_positions(num_cameras, room, mount_height))]
