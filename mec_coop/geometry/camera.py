# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Pinhole camera with lens distortion, in the ROS optical-frame convention.

Camera frame: x right, y down, z forward (REP 103 ``*_optical_frame``). Extrinsics map world points
into the camera frame, ``X_cam = R @ X_world + t``. Distortion follows OpenCV / ROS CameraInfo:
``plumb_bob`` (k1, k2, p1, p2, k3) or ``rational_polynomial`` (k1, k2, p1, p2, k3, k4, k5, k6).
"""

from dataclasses import dataclass, field

import cv2
import numpy as np

DISTORTION_MODELS = {'plumb_bob': 5, 'rational_polynomial': 8}


def _as_matrix(value, shape, name):
    arr = np.asarray(value, dtype=np.float64).reshape(shape)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'{name} has non-finite entries: {arr.tolist()}')
    return arr


@dataclass(frozen=True)
class PinholeCamera:
    """Intrinsics, distortion and extrinsics of one calibrated camera."""

    name: str
    width: int
    height: int
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    dist: np.ndarray = field(default_factory=lambda: np.zeros(5))
    distortion_model: str = 'plumb_bob'

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, 'K', _as_matrix(self.K, (3, 3), 'K'))
        set_(self, 'R', _as_matrix(self.R, (3, 3), 'R'))
        set_(self, 't', _as_matrix(self.t, (3,), 't'))
        if self.distortion_model not in DISTORTION_MODELS:
            raise ValueError(
                f'camera {self.name!r}: distortion model {self.distortion_model!r} is not '
                f'supported (use one of {sorted(DISTORTION_MODELS)})')
        n = DISTORTION_MODELS[self.distortion_model]
        d = np.zeros(n)
        given = np.asarray(self.dist, dtype=np.float64).ravel()
        if given.size > n or not np.all(np.isfinite(given)):
            raise ValueError(
                f'camera {self.name!r}: {given.size} distortion coefficients {given.tolist()} '
                f'for model {self.distortion_model!r} (at most {n}, all finite)')
        d[:given.size] = given
        set_(self, 'dist', d)
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f'camera {self.name!r}: image size {self.width}x{self.height}')
        if self.K[0, 0] <= 0 or self.K[1, 1] <= 0 or np.any(self.K[2] != (0.0, 0.0, 1.0)):
            raise ValueError(f'camera {self.name!r}: K is not intrinsic: {self.K.tolist()}')
        if not np.allclose(self.R @ self.R.T, np.eye(3), atol=1e-6) or np.linalg.det(self.R) < 0:
            raise ValueError(f'camera {self.name!r}: R is not a rotation: {self.R.tolist()}')

    @classmethod
    def look_at(cls, name, position, target, width=1280, height=720, hfov_deg=90.0,
                up=(0.0, 0.0, 1.0), dist=(), distortion_model='plumb_bob'):
        """Camera at ``position`` aimed at ``target`` (world z up), square pixels."""
        position = np.asarray(position, dtype=np.float64)
        forward = np.asarray(target, dtype=np.float64) - position
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, np.asarray(up, dtype=np.float64))
        if np.linalg.norm(right) < 1e-9:
            raise ValueError(f'camera {name!r}: viewing direction is parallel to up')
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        R = np.stack([right, down, forward])
        f = 0.5 * width / np.tan(np.radians(hfov_deg) / 2.0)
        K = np.array([[f, 0.0, (width - 1) / 2.0], [0.0, f, (height - 1) / 2.0], [0.0, 0.0, 1.0]])
        return cls(name, width, height, K, R, -R @ position, np.asarray(dist, dtype=np.float64),
                   distortion_model)

    @property
    def P(self):
        """3x4 projection matrix ``K [R | t]`` (for ideal, undistorted pixels)."""
        return self.K @ np.hstack([self.R, self.t[:, None]])

    @property
    def center(self):
        """Optical centre in world coordinates."""
        return -self.R.T @ self.t

    @property
    def has_distortion(self):
        return bool(np.any(self.dist != 0.0))

    def to_camera(self, points_world):
        """World points ``(..., 3)`` to camera-frame points ``(..., 3)``."""
        return np.asarray(points_world, dtype=np.float64) @ self.R.T + self.t

    def project(self, points_world):
        """
        Pixels ``(..., 2)`` of world points ``(..., 3)``, distortion applied.

        Points at or behind the camera plane give NaN pixels.
        """
        pc = self.to_camera(points_world)
        z = pc[..., 2]
        with np.errstate(divide='ignore', invalid='ignore'):
            xy = pc[..., :2] / np.where(z > 1e-9, z, np.nan)[..., None]
        xy = self._distort(xy)
        return xy @ self.K[:2, :2].T + self.K[:2, 2]

    def _distort(self, xy):
        if not self.has_distortion:
            return xy
        k1, k2, p1, p2, k3 = self.dist[:5]
        k4, k5, k6 = self.dist[5:8] if self.dist.size == 8 else (0.0, 0.0, 0.0)
        x, y = xy[..., 0], xy[..., 1]
        r2 = x * x + y * y
        radial = (1 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1 + r2 * (k4 + r2 * (k5 + r2 * k6)))
        xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
        yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
        return np.stack([xd, yd], axis=-1)

    def undistort_pixels(self, pixels):
        """
        Ideal (distortion-free) pixels ``(..., 2)`` for measured pixels ``(..., 2)``.

        The result is consistent with :attr:`P`. NaN inputs stay NaN.
        """
        pixels = np.asarray(pixels, dtype=np.float64)
        if not self.has_distortion:
            return pixels.copy()
        flat = pixels.reshape(-1, 2)
        out = np.full_like(flat, np.nan)
        ok = np.all(np.isfinite(flat), axis=1)
        if np.any(ok):
            criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-12)
            und = cv2.undistortPointsIter(flat[ok].reshape(-1, 1, 2), self.K, self.dist,
                                          None, self.K, criteria)
            out[ok] = und.reshape(-1, 2)
        return out.reshape(pixels.shape)

    def backproject(self, pixels, depth):
        """World points ``(..., 3)`` at camera-frame ``depth`` along the rays of ``pixels``."""
        ideal = self.undistort_pixels(pixels)
        rays = np.concatenate([(ideal - self.K[:2, 2]) / np.diag(self.K)[:2],
                               np.ones(ideal.shape[:-1] + (1,))], axis=-1)
        points_cam = rays * np.asarray(depth, dtype=np.float64)[..., None]
        return (points_cam - self.t) @ self.R

    def in_image(self, pixels):
        """Boolean mask of pixels ``(..., 2)`` inside the image."""
        pixels = np.asarray(pixels)
        with np.errstate(invalid='ignore'):
            return ((pixels[..., 0] >= 0) & (pixels[..., 0] <= self.width - 1)
                    & (pixels[..., 1] >= 0) & (pixels[..., 1] <= self.height - 1))


def stack_projections(cameras):
    """``(V, 3, 4)`` projection matrices of a sequence of cameras."""
    return np.stack([cam.P for cam in cameras])
