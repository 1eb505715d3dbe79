# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The empty room of the virtual rig, ray-cast once per camera (:func:`render_room`).

Every pixel's ray is intersected with the room's walls, floor and ceiling and with the furniture
boxes; the surface hit gives the colour (tiles, rug, wall decorations, wood grain), the ceiling
lamps the light, and lens vignetting and sensor noise finish the image.
"""

from collections.abc import Sequence

import cv2
import numpy as np

from mec_coop.geometry.camera import PinholeCamera

from .layout import Box, Room

# Ceiling lamps lighting the static room.
LAMPS = np.array([[-2.5, -2.5], [2.5, -2.5], [2.5, 2.5], [-2.5, 2.5]])


def _hash(*args):
    x = np.zeros_like(args[0], dtype=np.float64)
    for i, a in enumerate(args):
        x = x + a * (12.9898 + 65.233 * i)
    return np.modf(np.abs(np.sin(x) * 43758.5453))[0]


# Outward normals of box faces and room surfaces, indexed by face id (-x, +x, -y, +y, -z, +z).
_FACE_NORMALS = np.array([[-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0], [0, 0, -1], [0, 0, 1]],
                         dtype=np.float32)


def camera_rays(camera: PinholeCamera) -> np.ndarray:
    """Camera-frame ray directions ``(H*W, 3)`` with z = 1 through every pixel centre."""
    k = camera.K
    if camera.has_distortion:
        u, v = np.meshgrid(np.arange(camera.width, dtype=np.float64),
                           np.arange(camera.height, dtype=np.float64))
        ideal = camera.undistort_pixels(np.stack([u, v], axis=-1).reshape(-1, 2))
        x, y = (ideal[:, 0] - k[0, 2]) / k[0, 0], (ideal[:, 1] - k[1, 2]) / k[1, 1]
    else:
        x = np.broadcast_to((np.arange(camera.width) - k[0, 2]) / k[0, 0],
                            (camera.height, camera.width)).ravel()
        y = np.repeat((np.arange(camera.height) - k[1, 2]) / k[1, 1], camera.width)
    rays = np.ones((len(x), 3), np.float32)
    rays[:, 0] = x
    rays[:, 1] = y
    return rays


def _box_candidates(camera, rays, lo, hi):
    """Return the indices of the rays that may hit the box (all if it reaches behind us)."""
    corners = np.array(np.meshgrid(*zip(lo, hi))).reshape(3, -1).T
    pc = camera.to_camera(corners)
    if pc[:, 2].min() <= 1e-3:
        return np.arange(len(rays))
    xy = pc[:, :2] / pc[:, 2:]
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    return np.flatnonzero((rays[:, 0] >= x0) & (rays[:, 0] <= x1)
                          & (rays[:, 1] >= y0) & (rays[:, 1] <= y1))


def render_room(camera: PinholeCamera, room: Room, boxes: Sequence[Box],
                seed: int | Sequence[int] = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Ray-cast the empty room: ``(image uint8 HxWx3 BGR, depth float32 HxW, floor bool HxW)``.

    Depth is the camera-frame z; ``floor`` marks pixels that see the floor.
    """
    rays = camera_rays(camera)
    d = rays @ camera.R.astype(np.float32)          # world directions; t is the camera z
    c = camera.center.astype(np.float32)
    n = len(d)
    with np.errstate(divide='ignore', invalid='ignore'):
        inv = np.float32(1.0) / d
    # Exit through the room's walls, floor or ceiling (the camera is inside).
    t = np.full(n, np.inf, np.float32)
    face = np.zeros(n, np.int8)
    for ax in range(3):
        with np.errstate(divide='ignore', invalid='ignore'):
            t_ax = np.where(d[:, ax] > 0, np.float32(room.hi[ax] - c[ax]),
                            np.float32(room.lo[ax] - c[ax])) * inv[:, ax]
        first = (t_ax > 0) & (t_ax < t)
        t[first] = t_ax[first]
        # Room surfaces face inwards: leaving through +x means the east wall, normal -x.
        face[first] = 2 * ax + (d[first, ax] < 0)
    # Surface ids: 0 floor, 1 ceiling, 2 west, 3 east, 4 south, 5 north, 6+ boxes.
    surface = np.choose(face, [3, 2, 5, 4, 1, 0]).astype(np.int16)
    for b, box in enumerate(boxes):
        lo, hi = np.asarray(box.lo, np.float32), np.asarray(box.hi, np.float32)
        idx = _box_candidates(camera, rays, lo, hi)
        with np.errstate(divide='ignore', invalid='ignore'):
            t0 = (lo - c) * inv[idx]
            t1 = (hi - c) * inv[idx]
        near = np.minimum(t0, t1)
        enter = np.max(near, axis=1)
        leave = np.min(np.maximum(t0, t1), axis=1)
        hit = (enter <= leave) & (enter > 0) & (enter < t[idx])
        idx = idx[hit]
        ax = np.argmax(near[hit], axis=1)
        t[idx] = enter[hit]
        face[idx] = 2 * ax + (d[idx, ax] < 0)
        surface[idx] = 6 + b
    point = c + t[:, None] * d
    color = _room_albedo(point, surface, room, boxes)
    light = _room_light(point, _FACE_NORMALS[face], room)
    img = color * light[:, None]
    ceiling = np.flatnonzero(surface == 1)
    img[ceiling[_in_lamp(point[ceiling])]] = 250.0
    h, w = camera.height, camera.width
    img = img.reshape(h, w, 3).astype(np.float32)
    # Lens vignetting and sensor noise make the empty room look photographed, not drawn.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
    img *= (1.0 - 0.25 * r2)[..., None]
    img = cv2.GaussianBlur(img, (3, 3), 0.7)
    img += 2.5 * np.random.default_rng(seed).standard_normal(img.shape, dtype=np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    return img, t.reshape(h, w), (surface == 0).reshape(h, w)


def _in_lamp(point):
    near = np.min(np.max(np.abs(point[:, None, :2] - LAMPS[None]) / np.array([0.6, 0.3]),
                         axis=2), axis=1)
    return near < 1.0


def _room_light(point, normal, room):
    lamps = np.column_stack([LAMPS, np.full(len(LAMPS), room.height - 0.05)])
    # The ceiling faces away from its own lamps; light bouncing off the floor keeps it bright.
    total = np.where(normal[:, 2] < -0.5, 0.85, 0.45)
    for lamp in lamps:
        to = lamp - point
        dist = np.linalg.norm(to, axis=1)
        cos = np.einsum('ij,ij->i', normal, to) / np.maximum(dist, 1e-6)
        total += 0.75 * np.clip(cos, 0.0, 1.0) / (1.0 + (dist / 3.5) ** 2)
    return np.clip(total, 0.0, 1.6)


def _rect(u, z, u0, u1, z0, z1):
    return (u >= u0) & (u <= u1) & (z >= z0) & (z <= z1)


# Wall decorations: (surface id, u0, u1, z0, z1, BGR); u is y on west/east walls, x otherwise.
_DECALS = (
    (5, -3.7, -2.6, 0.0, 2.15, (55, 75, 105)),        # door frame
    (5, -3.62, -2.68, 0.0, 2.1, (70, 100, 140)),      # door
    (3, -1.3, 1.3, 0.95, 2.35, (235, 235, 235)),      # window frame
    (3, -1.22, -0.03, 1.03, 2.27, (225, 205, 170)),   # window panes
    (3, 0.03, 1.22, 1.03, 2.27, (225, 205, 170)),
    (2, -3.6, -2.2, 1.3, 2.15, (40, 40, 40)),         # picture frame
    (2, -3.52, -2.28, 1.38, 2.07, (60, 140, 200)),    # picture
    (4, -2.6, -0.4, 1.0, 2.0, (120, 120, 120)),       # whiteboard frame
    (4, -2.55, -0.45, 1.05, 1.95, (242, 242, 240)),   # whiteboard
    (5, 0.4, 1.3, 1.35, 2.3, (150, 90, 40)),          # poster
    (5, 0.5, 1.2, 1.45, 2.2, (60, 190, 230)),
    (2, 2.8, 3.8, 1.5, 2.2, (50, 50, 110)),           # second picture
    (4, 3.0, 3.1, 1.1, 1.2, (200, 200, 200)),         # light switch
)
_WALLS = {2: (200, 208, 214), 3: (182, 198, 212), 4: (205, 214, 204), 5: (212, 210, 196)}


def _room_albedo(p, surface, room, boxes):
    color = np.zeros((len(p), 3))
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    floor = surface == 0
    if np.any(floor):
        color[floor] = _floor_albedo(x[floor], y[floor])
    color[surface == 1] = (228, 230, 232)
    for sid, base in _WALLS.items():
        m = surface == sid
        if not np.any(m):
            continue
        u = np.where(sid in (2, 3), y[m], x[m])
        zz = z[m]
        c = np.tile(np.asarray(base, dtype=np.float64), (int(m.sum()), 1))
        c *= (0.97 + 0.03 * np.sin(u * 3.1 + zz * 2.3))[:, None]
        for did, u0, u1, z0, z1, dc in _DECALS:
            if did == sid:
                c[_rect(u, zz, u0, u1, z0, z1)] = dc
        c[zz < 0.1] = (55, 62, 72)
        color[m] = c
    for b, box in enumerate(boxes):
        m = surface == 6 + b
        if np.any(m):
            cell = np.floor(p[m] * 25.0)
            grain = 0.92 + 0.08 * _hash(cell[:, 0], cell[:, 1], cell[:, 2])
            color[m] = np.asarray(box.color, dtype=np.float64) * grain[:, None]
    return color


def _floor_albedo(x, y):
    """
    Light grey office floor tiles around a patterned rug.

    A neutral floor measurably helps the pretrained model (light grey tiles instead of orange wood
    raised detections at imgsz 320 from 29% to 44% of positive views); skin and wood hues clash.
    """
    tile = 0.6
    h = _hash(np.floor(x / tile), np.floor(y / tile))
    base = np.array([170.0, 175.0, 178.0])
    c = base[None] * ((0.93 + 0.1 * h) * (1.0 + 0.03 * np.sin(x * 31.0 + y * 17.0)))[:, None]
    seam = (np.modf(np.abs(x) / tile)[0] < 0.012) | (np.modf(np.abs(y) / tile)[0] < 0.012)
    c[seam] *= 0.7
    rug = (x > -1.6) & (x < 1.0) & (y > -1.2) & (y < 0.6)
    border = rug & ~((x > -1.45) & (x < 0.85) & (y > -1.05) & (y < 0.45))
    pattern = np.sin(x * 7.0) * np.sin(y * 7.0) > 0.2
    c[rug] = np.where(pattern[rug, None], (45.0, 50.0, 150.0), (60.0, 70.0, 115.0))
    c[border] = (170, 200, 210)
    return c
