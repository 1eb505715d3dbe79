# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Headless rendering of the virtual rig with OpenCV/numpy.

The static room (floor, walls, furniture) is ray-cast once per camera into a shaded image and a
depth map (:mod:`.room`). People are drawn per frame in painter's order: every convex body part
is the hull of projected sphere silhouettes and ellipse rings, filled in four nested layers
(shadow side to highlight, shifted towards the light) for Lambert-like shading, softened
slightly, and hidden where the static depth map is nearer. Depth is the camera-frame z
everywhere.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from mec_coop.geometry.camera import PinholeCamera

from .humanoid import BodyPose
from .layout import Box, Room
from .room import render_room

# Directional key light from the ceiling (towards the light), ambient and camera-side fill.
LIGHT = np.array([0.25, -0.15, 1.0]) / np.linalg.norm([0.25, -0.15, 1.0])
AMBIENT, KEY, FILL = 0.3, 0.5, 0.35
# A part is hidden by the room where it is this much behind the static depth: parts are drawn at
# one depth each (their centre), so their near surface lies up to about a radius in front.
OCCLUSION_TOLERANCE = 0.15
_SHIFT = 4                                     # fixed-point bits for sub-pixel polygon vertices
_N = 12                                        # samples per silhouette circle or ring
_ANGLES = np.linspace(0.0, 2.0 * np.pi, _N, endpoint=False)
_CIRCLE = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=1)
# Shading layers, outermost first: (scale, offset towards the light in radii, surface normal as
# weights of (towards the camera, towards the light)) for the Lambert shade of the layer.
_LAYERS = ((1.0, 0.0, (0.45, -0.9)), (0.82, 0.14, (0.9, -0.3)), (0.62, 0.3, (1.0, 0.25)),
           (0.38, 0.5, (0.75, 0.66)))


@dataclass
class DrawItem:
    """One body part as seen by one camera: polygons (fixed point) and colours per layer."""

    person: int
    depth: float
    polygons: list[np.ndarray]
    colors: list[tuple[float, ...]]
    face: tuple[np.ndarray, float] | None = None


@dataclass
class ViewGeometry:
    """All people as seen by one camera, far to near, plus their floor shadows."""

    items: list[DrawItem]
    shadows: list[np.ndarray]
    # x0, y0, x1, y1 (exclusive), or None when nobody is in the image
    bbox: tuple[int, int, int, int] | None


def _unit(v):
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 1e-12, n, 1.0)


class ViewRenderer:
    """Renders people into one camera's view of a static room."""

    def __init__(self, camera: PinholeCamera, room: Room, boxes: Iterable[Box],
                 seed: int | Sequence[int] = 0) -> None:
        self.camera = camera
        self.room = room
        self.boxes = tuple(boxes)
        self.seed = seed
        self._static: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def background(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """
        ``(image uint8 HxWx3 BGR, depth float32 HxW, floor bool HxW)`` of the empty room.

        Rendered on first use, then cached.
        """
        if self._static is None:
            self._static = render_room(self.camera, self.room, self.boxes, self.seed)
        return self._static

    # ---- geometry -------------------------------------------------------------------------
    def layout(self, bodies: Sequence[BodyPose]) -> ViewGeometry:
        """Project ``bodies`` (:class:`~.humanoid.BodyPose` list) into a :class:`ViewGeometry`."""
        cam = self.camera
        items, shadows, boxes = [], [], []
        centre = cam.center
        forward = cam.R[2]
        for person, body in enumerate(bodies):
            items += self._body_items(person, body, centre, forward)
            shadow = self._shadow(body)
            if shadow is not None:
                shadows.append(shadow)
        for it in items:
            boxes.append(it.polygons[0].reshape(-1, 2))
        boxes += [s.reshape(-1, 2) for s in shadows]
        bbox = None
        if boxes:
            pts = np.concatenate(boxes) / (1 << _SHIFT)
            x0, y0 = np.floor(pts.min(axis=0)).astype(int) - 2
            x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 3
            x0, y0 = max(x0, 0), max(y0, 0)
            x1, y1 = min(x1, cam.width), min(y1, cam.height)
            if x1 > x0 and y1 > y0:
                bbox = (int(x0), int(y0), int(x1), int(y1))
        items.sort(key=lambda it: -it.depth)
        return ViewGeometry(items, shadows, bbox)

    def _body_items(self, person, body, cam_centre, cam_forward):
        cam = self.camera
        parts = body.parts
        colors = {'skin': body.appearance.skin, 'hair': body.appearance.hair,
                  'shirt': body.appearance.shirt, 'trousers': body.appearance.trousers,
                  'shoes': body.appearance.shoes}
        # Flatten every sphere and ring of the body so one projection call serves all parts.
        sph_c = np.concatenate([p.centers for p in parts])
        sph_r = np.concatenate([p.radii for p in parts])
        sph_part = np.concatenate([np.full(len(p.radii), i) for i, p in enumerate(parts)])
        rings = np.concatenate([p.rings for p in parts])
        ring_part = np.concatenate([np.full(len(p.rings), i) for i, p in enumerate(parts)])
        part_centre = np.array([
            np.mean(np.concatenate([p.centers, p.rings[:, 0]]), axis=0) for p in parts])
        view = _unit(part_centre - cam_centre)
        light = LIGHT - (view @ LIGHT)[:, None] * view
        for i, p in enumerate(parts):
            if p.axis is not None:
                light[i] -= (light[i] @ p.axis) * p.axis
        light = _unit(light)
        sph_view = _unit(sph_c - cam_centre)
        e1 = _unit(np.cross(sph_view, np.array([0.0, 0.0, 1.0])))
        bad = np.linalg.norm(e1, axis=1) < 0.5
        e1[bad] = np.array([1.0, 0.0, 0.0])
        e2 = np.cross(sph_view, e1)
        ring_rad = 0.5 * (np.linalg.norm(rings[:, 1], axis=1)
                          + np.linalg.norm(rings[:, 2], axis=1))
        pts = []
        for scale, offset, _ in _LAYERS:
            c = sph_c + (offset * sph_r)[:, None] * light[sph_part]
            r = scale * sph_r
            pts.append(c[:, None] + r[:, None, None] * (
                _CIRCLE[None, :, :1] * e1[:, None] + _CIRCLE[None, :, 1:] * e2[:, None]))
            rc = rings[:, 0] + (offset * ring_rad)[:, None] * light[ring_part]
            pts.append(rc[:, None] + scale * (_CIRCLE[None, :, :1] * rings[:, None, 1]
                                              + _CIRCLE[None, :, 1:] * rings[:, None, 2]))
        world = np.concatenate([q.reshape(-1, 3) for q in pts])
        depth_all = (world - cam_centre) @ cam_forward
        # Parts reaching behind the camera are culled below; clipping keeps fixed point in range.
        pix = np.clip(np.nan_to_num(cam.project(world), nan=-1e5), -1e5, 1e5).astype(np.float32)
        n_s = len(sph_c) * _N
        layer_len = n_s + len(rings) * _N
        # Each part's samples are contiguous: its spheres, then (after all spheres) its rings.
        sph_end = np.cumsum([len(p.radii) for p in parts]) * _N
        ring_end = n_s + np.cumsum([len(p.rings) for p in parts]) * _N
        part_depth = (part_centre - cam_centre) @ cam_forward
        normals = _unit(np.stack([-wv * view + wl * light for _, _, (wv, wl) in _LAYERS], axis=1))
        shade = (AMBIENT + KEY * np.maximum(0.0, normals @ LIGHT)
                 + FILL * np.maximum(0.0, -np.einsum('plk,pk->pl', normals, view)))
        items = []
        w, h = cam.width, cam.height
        for i, part in enumerate(parts):
            sel = np.r_[sph_end[i - 1] if i else 0:sph_end[i],
                        ring_end[i - 1] if i else n_s:ring_end[i]]
            if np.min(depth_all[sel]) < 0.1:
                continue
            polys = [_fixed_hull(pix[k * layer_len + sel]) for k in range(len(_LAYERS))]
            outer = polys[0].reshape(-1, 2) / (1 << _SHIFT)
            if (outer[:, 0].max() < 0 or outer[:, 1].max() < 0 or outer[:, 0].min() > w
                    or outer[:, 1].min() > h):
                continue
            base = np.asarray(colors[part.material], dtype=np.float64)
            layer_colors = [tuple(float(c) for c in color)
                            for color in np.clip(shade[i][:, None] * base, 0, 255)]
            face = self._face(body, view[i]) if part.face else None
            items.append(DrawItem(person, float(part_depth[i]), polys, layer_colors, face))
        return items

    def _face(self, body, view):
        """Eye, brow and mouth strokes (pixels) when the face turns towards the camera."""
        hc, fwd, up, left = body.head
        if float(fwd @ -view) < 0.2:
            return None
        s = body.scale
        pts = np.array([
            body.joints[1], body.joints[2],
            body.joints[1] + (0.03 * up + 0.012 * left) * s,
            body.joints[1] + (0.033 * up - 0.014 * left) * s,
            body.joints[2] + (0.033 * up + 0.014 * left) * s,
            body.joints[2] + (0.03 * up - 0.012 * left) * s,
            hc + (0.083 * fwd - 0.058 * up + 0.024 * left) * s,
            hc + (0.088 * fwd - 0.062 * up) * s,
            hc + (0.083 * fwd - 0.058 * up - 0.024 * left) * s,
            body.joints[0],
        ])
        pix = self.camera.project(pts)
        if not np.all(np.isfinite(pix)):
            return None
        z = float((hc - self.camera.center) @ self.camera.R[2])
        eye_r = self.camera.K[0, 0] * 0.011 * s / z
        if eye_r < 0.6:
            return None
        return pix, eye_r

    def _shadow(self, body):
        """Soft contact shadow on the floor under the body (fixed-point polygon)."""
        ground = body.joints[:, :2]
        ring = (ground[:, None, :] + 0.22 * body.scale * _CIRCLE[None]).reshape(-1, 2)
        pts = np.column_stack([ring, np.full(len(ring), 0.002)])
        pix = self.camera.project(pts)
        if not np.all(np.isfinite(pix)) or np.min(self.camera.to_camera(pts)[:, 2]) < 0.1:
            return None
        return _fixed_hull(pix.astype(np.float32))

    # ---- drawing --------------------------------------------------------------------------
    def render(self, geometry: ViewGeometry) -> np.ndarray:
        """Draw the people of ``geometry`` into the room: BGR uint8 image."""
        bg, bg_depth, floor = self.background
        out = bg.copy()
        if geometry.bbox is None:
            return out
        x0, y0, x1, y1 = geometry.bbox
        origin = np.array([x0, y0], dtype=np.int32) << _SHIFT
        roi = out[y0:y1, x0:x1]
        if geometry.shadows:
            mask: np.ndarray = np.zeros(roi.shape[:2], np.uint8)
            for poly in geometry.shadows:
                cv2.fillConvexPoly(mask, poly - origin, 90, cv2.LINE_AA, _SHIFT)
            mask = cv2.GaussianBlur(mask, (0, 0), 3.0)
            # Shadows fall on the floor only, not on furniture standing in front of them.
            mask[~floor[y0:y1, x0:x1]] = 0
            shade = 1.0 - mask.astype(np.float32) / 255.0
            roi[:] = (roi * shade[..., None]).astype(np.uint8)
        depth = np.full(roi.shape[:2], np.inf, np.float32)
        for it in geometry.items:
            for poly, color in zip(it.polygons, it.colors):
                cv2.fillConvexPoly(roi, poly - origin, color, cv2.LINE_AA, _SHIFT)
            cv2.fillConvexPoly(depth, it.polygons[0] - origin, it.depth, cv2.LINE_8, _SHIFT)
            if it.face is not None:
                _draw_face(roi, it.face, (x0, y0))
        drawn = np.isfinite(depth)
        # Soften the shading bands and outlines as a real lens would, on the people only.
        soft = cv2.dilate(drawn.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
        roi[soft] = cv2.GaussianBlur(roi, (5, 5), 0.9)[soft]
        hidden = drawn & (depth > bg_depth[y0:y1, x0:x1] + OCCLUSION_TOLERANCE)
        if np.any(hidden):
            # Also restore the anti-aliased fringe around hidden parts.
            grow = cv2.dilate(hidden.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
            restore = grow & ~(drawn & ~hidden)
            roi[restore] = bg[y0:y1, x0:x1][restore]
        return out

    def people_buffers(self, geometry: ViewGeometry) -> tuple[
            tuple[int, int, int, int] | None, np.ndarray | None, np.ndarray | None]:
        """
        ``(bbox, depth, person)`` of the nearest person part per pixel inside ``bbox``.

        ``person`` is -1 where no one is drawn; None buffers when nobody is in the image.
        """
        if geometry.bbox is None:
            return None, None, None
        x0, y0, x1, y1 = geometry.bbox
        origin = np.array([x0, y0], dtype=np.int32) << _SHIFT
        depth = np.full((y1 - y0, x1 - x0), np.inf, np.float32)
        person = np.full((y1 - y0, x1 - x0), -1, np.int16)
        for it in geometry.items:
            poly = it.polygons[0] - origin
            cv2.fillConvexPoly(depth, poly, it.depth, cv2.LINE_8, _SHIFT)
            cv2.fillConvexPoly(person, poly, it.person, cv2.LINE_8, _SHIFT)
        return geometry.bbox, depth, person


def _fixed_hull(xy):
    hull = cv2.convexHull(xy.reshape(-1, 1, 2))
    return np.round(hull * (1 << _SHIFT)).astype(np.int32)


def _draw_face(img, face, origin):
    pix, eye_r = face
    p = pix - np.asarray(origin, dtype=np.float64)
    scale = 1 << _SHIFT

    def fx(q):
        return tuple(int(round(v * scale)) for v in q)

    r = max(int(round(eye_r * scale)), 1)
    for e in (0, 1):
        cv2.ellipse(img, fx(p[e]), (r, max(r * 2 // 3, 1)), 0, 0, 360, (35, 30, 30), -1,
                    cv2.LINE_AA, _SHIFT)
    thick = max(int(round(eye_r * 0.6)), 1)
    for a, b in ((2, 3), (4, 5)):
        cv2.line(img, fx(p[a]), fx(p[b]), (30, 35, 45), thick, cv2.LINE_AA, _SHIFT)
    mouth = np.array([p[6], p[7], p[8]])
    cv2.polylines(img, [np.round(mouth * scale).astype(np.int32)], False, (70, 70, 150), thick,
                  cv2.LINE_AA, _SHIFT)
    nose = fx(p[9])
    cv2.circle(img, nose, max(r // 2, 1), (90, 110, 150), -1, cv2.LINE_AA, _SHIFT)
