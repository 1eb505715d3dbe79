# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Smoothing of the published 3D skeleton: One Euro filter, or the Kalman track's estimate.

The One Euro filter (Casiez, Roussel and Vogel, "1 Euro Filter: A Simple Speed-based Low-pass
Filter for Noisy Input in Interactive Systems", CHI 2012) is a first-order low-pass filter whose
cutoff rises with speed: ``f_c = min_cutoff + beta * |v|``, with ``v`` the joint velocity
(itself low-passed at ``d_cutoff``). Slow joints are smoothed hard (jitter), fast ones lightly
(lag). Here it runs on ``(J, 3)`` skeletons at a variable rate (the step is the difference of
capture stamps) and the speed is the norm of a joint's 3D velocity, so every axis of a joint gets
the same cutoff and the filter does not depend on the world frame's orientation.

Timing: every output is stamped with the capture time of the measurement it was computed from,
never with the time it is published. A first-order low-pass filter has a steady-state lag on a
ramp of speed ``v`` of ``tau = 1 / (2 pi f_c)`` seconds, i.e. a position error of
``v / (2 pi (min_cutoff + beta v))``, which is below ``1 / (2 pi beta)`` metres at any speed
(16 mm for the default ``beta``). The Kalman track's estimate (``method='kalman'``) has no
steady-state lag on constant-velocity motion, but smooths less at high frame rates (see
``benchmarks/tracking.py``).
"""

from dataclasses import dataclass
import math
from typing import Optional, Union

import numpy as np

from .tracking import TrackUpdate
from ..geometry.skeleton import NUM_JOINTS

SMOOTHING_METHODS = ('none', 'one_euro', 'kalman')


@dataclass(frozen=True)
class OneEuroConfig:
    """
    One Euro parameters.

    :param min_cutoff: cutoff frequency of a still joint [Hz]; lower smooths more.
    :param beta: cutoff increase per unit speed [Hz per m/s]; higher lags less on fast motion.
    :param d_cutoff: cutoff of the velocity estimate [Hz].
    :param max_gap_s: a step longer than this restarts every joint [s].
    """

    min_cutoff: float = 0.5
    beta: float = 10.0
    d_cutoff: float = 1.0
    max_gap_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ('min_cutoff', 'd_cutoff', 'max_gap_s'):
            if not getattr(self, name) > 0.0:
                raise ValueError(f'{name} must be > 0, got {getattr(self, name)}')
        if not self.beta >= 0.0:
            raise ValueError(f'beta must be >= 0, got {self.beta}')


def _alpha(cutoff: Union[float, np.ndarray], dt: float) -> np.ndarray:
    """Smoothing factor of a first-order low-pass filter at ``cutoff`` Hz for a step ``dt``."""
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff))
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """
    One Euro filter over ``(J, 3)`` points, time-stamped and NaN-aware.

    A joint that is invalid (NaN or masked) outputs NaN and restarts from its next valid sample,
    which passes through unfiltered.

    :param config: filter parameters (defaults: :class:`OneEuroConfig`).
    :param num_joints: points per sample.
    """

    def __init__(self, config: Optional[OneEuroConfig] = None,
                 num_joints: int = NUM_JOINTS) -> None:
        self.config = config or OneEuroConfig()
        self.num_joints = int(num_joints)
        self.reset()

    def reset(self) -> None:
        """Forget all joints."""
        J = self.num_joints
        self._x: np.ndarray = np.full((J, 3), np.nan)
        self._dx: np.ndarray = np.zeros((J, 3))
        self._stamp: Optional[float] = None

    def __call__(self, stamp_s: float, points: np.ndarray,
                 valid: Optional[np.ndarray] = None) -> np.ndarray:
        """
        Filter one sample.

        :param stamp_s: capture time [s], strictly after the previous sample's.
        :param points: ``(J, 3)`` positions [m]; NaN marks invalid joints.
        :param valid: optional ``(J,)`` bool mask, and-ed with finiteness.
        :return: ``(J, 3)`` filtered positions at ``stamp_s``, NaN where invalid.
        :raises ValueError: on a stamp not after the previous one, or malformed arrays.
        """
        stamp_s = float(stamp_s)
        x = np.asarray(points, dtype=np.float64)
        J = self.num_joints
        if x.shape != (J, 3):
            raise ValueError(f'points must have shape ({J}, 3), got {x.shape}')
        ok = np.all(np.isfinite(x), axis=1)
        if valid is not None:
            ok &= np.asarray(valid, dtype=bool).reshape(J)
        if not math.isfinite(stamp_s) or (self._stamp is not None and stamp_s <= self._stamp):
            raise ValueError(f'stamp {stamp_s} s is not after the previous one ({self._stamp} s)')
        if self._stamp is not None and stamp_s - self._stamp > self.config.max_gap_s:
            self.reset()
        cfg = self.config
        running = ok & np.all(np.isfinite(self._x), axis=1)
        if self._stamp is not None and np.any(running):
            dt = stamp_s - self._stamp
            dx = (x - self._x) / dt
            dx_hat = self._dx + _alpha(cfg.d_cutoff, dt) * (dx - self._dx)
            cutoff = cfg.min_cutoff + cfg.beta * np.linalg.norm(dx_hat, axis=1)
            x_hat = self._x + _alpha(cutoff, dt)[:, None] * (x - self._x)
            self._x = np.where(running[:, None], x_hat, self._x)
            self._dx = np.where(running[:, None], dx_hat, self._dx)
        started = ok & ~running
        self._x = np.where(started[:, None], x, np.where(ok[:, None], self._x, np.nan))
        self._dx = np.where(ok[:, None] & ~started[:, None], self._dx, 0.0)
        self._stamp = stamp_s
        return self._x.copy()


@dataclass
class SmoothedSkeleton:
    """
    The skeleton to publish, at capture time ``stamp`` (s).

    ``points (J, 3)`` NaN where not ``valid``; ``predicted (J,)`` marks joints filled from the
    track's motion model (bounded by ``TrackConfig.max_fill_s``), which must not be presented
    as measured.
    """

    stamp: float
    method: str
    points: np.ndarray
    valid: np.ndarray
    predicted: np.ndarray


class SkeletonSmoother:
    """
    Turn accepted track updates into the published skeleton, with a choice of smoothing.

    The method is one of :data:`SMOOTHING_METHODS`.

    ``'none'`` publishes the fused measurement (gated, swap-corrected), ``'one_euro'`` filters it
    with :class:`OneEuroFilter`, ``'kalman'`` publishes the track's filtered estimate. In every
    method, joints the track reports as ``predicted`` are taken from the track and flagged.

    :param method: one of :data:`SMOOTHING_METHODS`.
    :param one_euro: One Euro parameters (``'one_euro'`` only).
    :param num_joints: joints per skeleton.
    """

    def __init__(self, method: str = 'one_euro', one_euro: Optional[OneEuroConfig] = None,
                 num_joints: int = NUM_JOINTS) -> None:
        if method not in SMOOTHING_METHODS:
            raise ValueError(f'smoothing method must be one of {SMOOTHING_METHODS}, got '
                             f'{method!r}')
        self.method = method
        self._euro = OneEuroFilter(one_euro, num_joints)

    def reset(self) -> None:
        """Forget the filter state (e.g. when the track is reset)."""
        self._euro.reset()

    def __call__(self, update: TrackUpdate) -> SmoothedSkeleton:
        """
        Return the skeleton to publish for one track update.

        :param update: an accepted update of the person's :class:`SkeletonTrack`.
        :raises ValueError: for a refused update (nothing new to publish).
        """
        if not update.accepted:
            raise ValueError(f'refused track update ({update.status}): {update.reason}')
        if self.method == 'kalman':
            points = update.points
        else:
            points = update.measurement
            if self.method == 'one_euro':
                points = self._euro(update.stamp, points, update.measured)
            points = np.where(update.predicted[:, None], update.points, points)
        valid = np.all(np.isfinite(points), axis=1)
        return SmoothedSkeleton(update.stamp, self.method, points, valid,
                                update.predicted & valid)
