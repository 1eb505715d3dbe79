# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Two-view geometry for matching people across cameras: essential matrices and epipolar distances.

Distances are in *normalised* image coordinates (``K^-1`` applied to ideal pixels), so one gate
fits cameras of any resolution and focal length: a distance of 0.01 is about 0.6 degrees of
viewing angle, 6 px at a 640 px focal length.
"""

import numpy as np

from .camera import PinholeCamera


def normalised(camera: PinholeCamera, ideal_pixels: np.ndarray) -> np.ndarray:
    """Homogeneous normalised coordinates ``(..., 3)`` of ideal pixels ``(..., 2)``."""
    K = camera.K
    xy = (np.asarray(ideal_pixels, dtype=np.float64) - K[:2, 2]) / np.diag(K)[:2]
    xy[..., 0] -= K[0, 1] / K[0, 0] * xy[..., 1]  # skew (zero for most cameras)
    return np.concatenate([xy, np.ones(xy.shape[:-1] + (1,))], axis=-1)


def essential(a: PinholeCamera, b: PinholeCamera) -> np.ndarray:
    """Essential matrix ``E`` with ``x_b^T E x_a = 0`` for normalised coordinates of one point."""
    R = b.R @ a.R.T
    t = b.t - R @ a.t
    tx = np.array([[0.0, -t[2], t[1]], [t[2], 0.0, -t[0]], [-t[1], t[0], 0.0]])
    return tx @ R


def symmetric_distance(E: np.ndarray, xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
    """
    Symmetric epipolar distance of homogeneous normalised points ``xa (..., 3)``, ``xb (..., 3)``.

    The mean of the distances of ``xb`` to the epipolar line of ``xa`` and of ``xa`` to that of
    ``xb`` (Hartley and Zisserman, "Multiple View Geometry", 2nd ed., eq. (11.10) uses their
    squares' sum; the mean distance keeps the unit of one point-to-line distance).
    """
    lb = xa @ E.T          # lines in b
    la = xb @ E            # lines in a
    residual = np.abs(np.sum(xb * lb, axis=-1))
    with np.errstate(divide='ignore', invalid='ignore'):
        return 0.5 * residual * (1.0 / np.linalg.norm(lb[..., :2], axis=-1)
                                 + 1.0 / np.linalg.norm(la[..., :2], axis=-1))
