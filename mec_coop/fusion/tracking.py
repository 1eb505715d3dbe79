# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Per-person 3D skeleton track: a constant-velocity Kalman filter per COCO-17 joint.

Each joint has the state ``(position, velocity)`` in world metres, driven by continuous white-noise
acceleration of spectral density ``q`` (m^2/s^3; Bar-Shalom, Li and Kirubarajan, "Estimation with
Applications to Tracking and Navigation", 2001, Sec. 6.2.2). Over a step ``dt`` the velocity
random walk gains a standard deviation ``sqrt(q dt)``, i.e. an RMS acceleration ``sqrt(q / dt)``
m/s^2: ``q = 8`` lets a joint change speed by about 0.9 m/s in 0.1 s and 2 m/s in 0.5 s (wrists
and ankles of a walking, jumping or falling person). The model is exact under any split of a step,
so predictions at arbitrary horizons and irregular frame rates are consistent. Human limbs
reverse within a fraction of a second, so constant-velocity extrapolation overshoots beyond about
0.1 s; ``velocity_decay_s`` switches to a velocity that decays with that time constant
(integrated Ornstein-Uhlenbeck, of stationary speed variance ``q tau / 2`` per axis), which
predicts better on virtual-rig motion (``benchmarks/tracking.py``).

Every instant is stamped with the capture time of its views. The estimate returned by
:meth:`SkeletonTrack.update` is the filtered state *at* that capture time: a constant-velocity
filter has no steady-state lag on a constant-velocity ramp (a decaying velocity lags slightly), so
the skeleton can be published with the capture stamp as is.

Robustness, all reported per joint in :class:`TrackUpdate`, never silent:

* time: a stamp older than or equal to the last update is refused with a reason; a joint without
  a fused measurement for ``max_gap_s`` restarts from its next measurement (velocity zero);
* gating: a measurement whose squared Mahalanobis distance to the prediction exceeds the
  chi-square quantile (3 dof, ``gate_probability``) is rejected; ``reinit_after`` consecutive
  rejections, or rejection of more than ``reinit_fraction`` of the measured joints at one instant
  (the person really moved), re-initialise from the measurement;
* left/right swaps: a COCO left/right pair whose swapped assignment fits the prediction much
  better than the given one is reported and (``fix_swaps``) swapped back before fusion;
* bounded fill: a joint without an accepted measurement is filled from the prediction for at most
  ``max_fill_s`` after its last fused measurement and flagged ``predicted``; later it is NaN.

Projection into a camera (for example to seed a 2D search) is
:meth:`SkeletonTrack.predict_keypoints_2d`, which uses :meth:`PinholeCamera.project`.
"""

from dataclasses import dataclass
import functools
import math
from typing import Optional

import numpy as np
from scipy import stats

from ..geometry.camera import PinholeCamera
from ..geometry.skeleton import COCO_FLIP_INDEX, COCO_JOINTS, NUM_JOINTS

# COCO left/right pairs (left index, right index): eyes, ears, shoulders, ..., ankles.
LR_PAIRS = tuple((i, j) for i, j in enumerate(COCO_FLIP_INDEX) if i < j)
LR_PAIR_NAMES = tuple(COCO_JOINTS[i].removeprefix('left_') for i, _ in LR_PAIRS)
_LEFT = np.array([i for i, _ in LR_PAIRS])
_RIGHT = np.array([j for _, j in LR_PAIRS])

STATUSES = ('initialised', 'updated', 'reinitialised', 'out_of_order', 'duplicate')


@dataclass(frozen=True)
class TrackConfig:
    """
    Parameters of a :class:`SkeletonTrack` (units in brackets).

    :param accel_psd: spectral density ``q`` of the white-noise acceleration [m^2/s^3].
    :param measurement_std: isotropic standard deviation of a 3D joint measurement, used when no
        covariance is given [m].
    :param init_velocity_std: prior standard deviation of a new joint's velocity [m/s].
    :param gate_probability: probability mass of the chi-square gate (3 dof per joint).
    :param reinit_after: consecutive rejections after which a joint restarts at its measurement.
    :param reinit_fraction: if more than this fraction of the gated joints (at least
        ``min_reinit_joints``) is rejected at one instant, all measured joints restart.
    :param min_reinit_joints: fewest gated joints for the whole-skeleton re-initialisation.
    :param swap_ratio: a left/right pair is swapped when the swapped assignment's Mahalanobis
        cost is below this fraction of the given one's (and the given one fails its gate).
    :param fix_swaps: swap detected pairs back before fusion (else only report them).
    :param max_fill_s: longest a joint is filled from the prediction after its last fused
        measurement [s]; a limb extrapolated for 0.5 s is typically 0.3 m off.
    :param max_gap_s: a joint not measured for longer restarts from its next measurement [s].
    :param velocity_decay_s: None for constant velocity; else the time constant [s] with which
        the velocity decays in predictions (limbs reverse: see ``benchmarks/tracking.py``).
    """

    accel_psd: float = 8.0
    measurement_std: float = 0.03
    init_velocity_std: float = 1.0
    gate_probability: float = 0.999
    reinit_after: int = 2
    reinit_fraction: float = 0.3
    min_reinit_joints: int = 4
    swap_ratio: float = 0.25
    fix_swaps: bool = True
    max_fill_s: float = 0.3
    max_gap_s: float = 1.0
    velocity_decay_s: Optional[float] = None

    def __post_init__(self) -> None:
        positive = ('accel_psd', 'measurement_std', 'init_velocity_std', 'max_gap_s')
        for name in positive + ('velocity_decay_s',) * (self.velocity_decay_s is not None):
            if not getattr(self, name) > 0.0:
                raise ValueError(f'{name} must be > 0, got {getattr(self, name)}')
        if not 0.0 < self.gate_probability < 1.0:
            raise ValueError(f'gate_probability must be in (0, 1), got {self.gate_probability}')
        if not 0.0 < self.reinit_fraction <= 1.0 or not 0.0 < self.swap_ratio <= 1.0:
            raise ValueError('reinit_fraction and swap_ratio must be in (0, 1]')
        if self.reinit_after < 1 or self.min_reinit_joints < 1:
            raise ValueError('reinit_after and min_reinit_joints must be >= 1')
        if not 0.0 <= self.max_fill_s <= self.max_gap_s:
            raise ValueError(f'need 0 <= max_fill_s ({self.max_fill_s}) <= max_gap_s '
                             f'({self.max_gap_s})')


@dataclass
class TrackUpdate:
    """
    Outcome of :meth:`SkeletonTrack.update` at ``stamp`` (capture time, s); per-joint ``(J, ...)``.

    ``points``/``covariance`` are the filtered estimate, NaN where not ``valid``. A valid joint is
    either ``measured`` (a measurement was fused now) or ``predicted`` (filled from the motion
    model), never both. ``measurement`` is the input as fused: swap-corrected, NaN where missing or
    ``rejected``. ``mahalanobis`` is the squared distance of each gated measurement (NaN if
    untested). ``swapped`` is per :data:`LR_PAIRS`. A refused update (``accepted`` false) leaves
    the track untouched and says why in ``reason``.
    """

    stamp: float
    status: str
    reason: str
    points: np.ndarray
    covariance: np.ndarray
    valid: np.ndarray
    measured: np.ndarray
    predicted: np.ndarray
    rejected: np.ndarray
    reinitialised: np.ndarray
    swapped: np.ndarray
    measurement: np.ndarray
    mahalanobis: np.ndarray

    @property
    def accepted(self) -> bool:
        return self.status not in ('out_of_order', 'duplicate')

    @property
    def swapped_pairs(self) -> tuple:
        """Names (``'wrist'``, ...) of the left/right pairs found swapped."""
        return tuple(name for name, s in zip(LR_PAIR_NAMES, self.swapped) if s)


@dataclass
class SkeletonPrediction:
    """
    Track state extrapolated to ``stamp`` (s): ``points (J, 3)``, ``covariance (J, 3, 3)``.

    ``predicted_only`` marks valid joints not measured at exactly ``stamp``; joints past
    ``max_fill_s`` since their last measurement, or never seen, are NaN and not ``valid``.
    """

    stamp: float
    points: np.ndarray
    covariance: np.ndarray
    valid: np.ndarray
    predicted_only: np.ndarray


@functools.lru_cache(maxsize=256)
def _transition(dt: float, q: float, tau: Optional[float]) -> tuple:
    """
    State transition ``F (6, 6)`` and process noise ``Q (6, 6)`` for a step of ``dt``.

    ``tau`` None: constant velocity; else velocity decaying with time constant ``tau``
    (integrated Ornstein-Uhlenbeck; tends to constant velocity as ``tau`` grows).
    """
    if tau is None:
        f = (dt, 1.0)
        qpp, qpv, qvv = dt ** 3 / 3.0, dt ** 2 / 2.0, dt
    else:
        # expm1 keeps the O((dt/tau)^3) position term accurate for tau >> dt.
        m1, m2 = math.expm1(-dt / tau), math.expm1(-2.0 * dt / tau)
        f = (-tau * m1, 1.0 + m1)
        qpp = tau ** 3 / 2.0 * (2.0 * dt / tau + 4.0 * m1 - m2)
        qpv, qvv = tau ** 2 / 2.0 * m1 ** 2, -tau / 2.0 * m2
    F = np.kron(np.array([[1.0, f[0]], [0.0, f[1]]]), np.eye(3))
    Q = q * np.kron(np.array([[qpp, qpv], [qpv, qvv]]), np.eye(3))
    # Cached (tracks of several people step by the same dt): shared, so read-only.
    F.flags.writeable = Q.flags.writeable = False
    return F, Q


def _mahalanobis2(residual: np.ndarray, cov: np.ndarray) -> np.ndarray:
    return np.einsum('...i,...i->...', residual, np.linalg.solve(cov, residual[..., None])[..., 0])


class SkeletonTrack:
    """
    One person's 3D skeleton, filtered over time; see the module docstring.

    Not thread-safe: one track is owned by one fusion loop.

    :param config: filter parameters (defaults: :class:`TrackConfig`).
    :param num_joints: joints per skeleton (COCO-17).
    """

    def __init__(self, config: Optional[TrackConfig] = None,
                 num_joints: int = NUM_JOINTS) -> None:
        self.config = config or TrackConfig()
        self.num_joints = int(num_joints)
        self._gate = float(stats.chi2.ppf(self.config.gate_probability, 3))
        self._pair_gate = float(stats.chi2.ppf(self.config.gate_probability, 6))
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next update initialises the track."""
        J = self.num_joints
        self._x: np.ndarray = np.zeros((J, 6))
        self._P: np.ndarray = np.tile(np.eye(6), (J, 1, 1))
        self._alive: np.ndarray = np.zeros(J, dtype=bool)
        self._last_measured: np.ndarray = np.full(J, -np.inf)
        self._rejections: np.ndarray = np.zeros(J, dtype=int)
        self._swap_streak: np.ndarray = np.zeros(len(LR_PAIRS), dtype=int)
        self._stamp: Optional[float] = None

    @property
    def stamp(self) -> Optional[float]:
        """Capture time (s) of the last accepted update, None before the first."""
        return self._stamp

    @property
    def gate(self) -> float:
        """Squared Mahalanobis distance above which a joint measurement is rejected."""
        return self._gate

    # ---- prediction ----------------------------------------------------------------------
    def _extrapolate(self, stamp_s: float) -> tuple:
        dt = 0.0 if self._stamp is None else stamp_s - self._stamp
        if dt == 0.0:
            return self._x.copy(), self._P.copy()
        F, Q = _transition(dt, self.config.accel_psd, self.config.velocity_decay_s)
        return self._x @ F.T, F @ self._P @ F.T + Q

    def _fillable(self, stamp_s: float, fill_s: Optional[float] = None) -> np.ndarray:
        fill_s = self.config.max_fill_s if fill_s is None else fill_s
        return self._alive & (stamp_s - self._last_measured <= fill_s + 1e-9)

    def predict(self, stamp_s: float, fill_s: Optional[float] = None) -> SkeletonPrediction:
        """
        Extrapolate the track to ``stamp_s`` without changing it.

        :param stamp_s: time (s), not before the last accepted update.
        :param fill_s: predict joints measured at most this long before ``stamp_s`` (default
            ``max_fill_s``, the bound for published joints; a search prior may look further).
        :return: :class:`SkeletonPrediction`; joints beyond the bounded fill are NaN.
        :raises ValueError: for a non-finite stamp or one before the last update.
        """
        stamp_s = float(stamp_s)
        if not math.isfinite(stamp_s):
            raise ValueError(f'stamp must be finite, got {stamp_s}')
        if self._stamp is not None and stamp_s < self._stamp:
            raise ValueError(f'cannot predict at {stamp_s:.6f} s, before the last update '
                             f'({self._stamp:.6f} s): the track only extrapolates forwards')
        x, P = self._extrapolate(stamp_s)
        valid = self._fillable(stamp_s, fill_s)
        return SkeletonPrediction(
            stamp=stamp_s,
            points=np.where(valid[:, None], x[:, :3], np.nan),
            covariance=np.where(valid[:, None, None], P[:, :3, :3], np.nan),
            valid=valid,
            predicted_only=valid & (self._last_measured != stamp_s))

    def predict_keypoints_2d(self, camera: PinholeCamera, stamp_s: float,
                             fill_s: Optional[float] = None) -> tuple:
        """
        Predicted pixels ``(J, 2)`` of the skeleton in ``camera`` at ``stamp_s``.

        ``fill_s`` as in :meth:`predict`.

        :return: ``(pixels, valid)``: distorted pixels, NaN for invalid joints or joints behind
            the camera; ``valid (J,)`` marks finite pixels (they may lie outside the image).
        """
        pixels = camera.project(self.predict(stamp_s, fill_s).points)
        return pixels, np.all(np.isfinite(pixels), axis=-1)

    # ---- update --------------------------------------------------------------------------
    def _refused(self, stamp_s: float, status: str, reason: str) -> TrackUpdate:
        J = self.num_joints

        def none() -> np.ndarray:
            return np.zeros(J, dtype=bool)
        return TrackUpdate(stamp_s, status, reason, np.full((J, 3), np.nan),
                           np.full((J, 3, 3), np.nan), none(), none(), none(), none(), none(),
                           np.zeros(len(LR_PAIRS), dtype=bool), np.full((J, 3), np.nan),
                           np.full(J, np.nan))

    def _measurement(self, points: np.ndarray, valid: Optional[np.ndarray],
                     covariance: Optional[np.ndarray]) -> tuple:
        J = self.num_joints
        z = np.asarray(points, dtype=np.float64)
        if z.shape != (J, 3):
            raise ValueError(f'points must have shape ({J}, 3), got {z.shape}')
        ok = np.all(np.isfinite(z), axis=1)
        if valid is not None:
            valid = np.asarray(valid, dtype=bool)
            if valid.shape != (J,):
                raise ValueError(f'valid must have shape ({J},), got {valid.shape}')
            ok &= valid
        if covariance is None:
            R = np.tile(self.config.measurement_std ** 2 * np.eye(3), (J, 1, 1))
        else:
            R = np.array(covariance, dtype=np.float64)
            if R.shape != (J, 3, 3):
                raise ValueError(f'covariance must have shape ({J}, 3, 3), got {R.shape}')
            bad = ok & ~np.all(np.isfinite(R), axis=(1, 2))
            bad[ok] |= np.any(np.linalg.eigvalsh(0.5 * (R[ok] + R[ok].transpose(0, 2, 1)))
                              <= 0.0, axis=1)
            if np.any(bad):
                names = [COCO_JOINTS[j] if J == NUM_JOINTS else str(j)
                         for j in np.flatnonzero(bad)]
                raise ValueError(f'covariance of valid joints {names} is not finite positive '
                                 'definite')
        z = np.where(ok[:, None], z, 0.0)
        R = np.where(ok[:, None, None], R, np.eye(3))
        return z, ok, R

    def _swaps(self, z: np.ndarray, R: np.ndarray, x: np.ndarray, P: np.ndarray,
               gated: np.ndarray) -> np.ndarray:
        """Left/right pairs whose swapped assignment fits the prediction much better."""
        both = gated[_LEFT] & gated[_RIGHT]
        mean, cov = x[:, :3], P[:, :3, :3]
        keep = (_mahalanobis2(z[_LEFT] - mean[_LEFT], cov[_LEFT] + R[_LEFT])
                + _mahalanobis2(z[_RIGHT] - mean[_RIGHT], cov[_RIGHT] + R[_RIGHT]))
        swap = (_mahalanobis2(z[_LEFT] - mean[_RIGHT], cov[_RIGHT] + R[_LEFT])
                + _mahalanobis2(z[_RIGHT] - mean[_LEFT], cov[_LEFT] + R[_RIGHT]))
        return (both & (keep > self._pair_gate) & (swap <= self._pair_gate)
                & (swap < self.config.swap_ratio * keep))

    def update(self, stamp_s: float, points: np.ndarray, valid: Optional[np.ndarray] = None,
               covariance: Optional[np.ndarray] = None) -> TrackUpdate:
        """
        Fuse one instant's 3D skeleton.

        :param stamp_s: capture time of the views (s); must increase strictly.
        :param points: ``(J, 3)`` world joints [m]; NaN marks an invalid joint.
        :param valid: ``(J,)`` bool, optional extra validity mask (e.g. triangulation ``valid``).
        :param covariance: ``(J, 3, 3)`` measurement covariance per joint [m^2], e.g. from
            :func:`~mec_coop.geometry.triangulation.crlb_covariance`; None uses
            ``measurement_std``. Must be finite positive definite on valid joints.
        :return: :class:`TrackUpdate`; a stale or duplicate stamp is refused (``accepted`` false)
            without touching the track.
        :raises ValueError: on a non-finite stamp or malformed arrays (caller bugs).
        """
        stamp_s = float(stamp_s)
        if not math.isfinite(stamp_s):
            raise ValueError(f'stamp must be finite, got {stamp_s}')
        if self._stamp is not None and stamp_s <= self._stamp:
            status = 'duplicate' if stamp_s == self._stamp else 'out_of_order'
            return self._refused(stamp_s, status, f'stamp {stamp_s:.6f} s is not after the last '
                                 f'update ({self._stamp:.6f} s): {status} instant ignored')
        z, ok, R = self._measurement(points, valid, covariance)
        cfg, J = self.config, self.num_joints
        # A joint unseen for max_gap_s has an uninformative velocity: restart it.
        stale = self._alive & (stamp_s - self._last_measured > cfg.max_gap_s)
        self._alive &= ~stale
        first = not np.any(self._alive)
        reason = (f'no joint measured for {stamp_s - self._last_measured.max():.3f} s '
                  f'(max_gap_s {cfg.max_gap_s} s): track restarted' if first and np.any(stale)
                  else '')
        x, P = self._extrapolate(stamp_s)
        gated = ok & self._alive

        swapped = self._swaps(z, R, x, P, gated)
        self._swap_streak = np.where(swapped, self._swap_streak + 1, 0)
        # A swap seen reinit_after times in a row means the track, not the detector, has the
        # sides wrong (e.g. it was re-initialised from a swapped skeleton): relabel the track.
        relabel = swapped & (self._swap_streak >= cfg.reinit_after)
        relabelled = np.zeros(J, dtype=bool)
        if np.any(relabel):
            left, right = _LEFT[relabel], _RIGHT[relabel]
            for state in (x, P, self._last_measured, self._rejections):
                state[left], state[right] = state[right], state[left].copy()
            relabelled[left] = relabelled[right] = True
            self._swap_streak[relabel] = 0
            swapped &= ~relabel
            names = [LR_PAIR_NAMES[p] for p in np.flatnonzero(relabel)]
            reason = f'left/right {names} swapped {cfg.reinit_after} times: track relabelled'
        if cfg.fix_swaps and np.any(swapped):
            left, right = _LEFT[swapped], _RIGHT[swapped]
            z[left], z[right] = z[right], z[left].copy()
            R[left], R[right] = R[right], R[left].copy()

        S = P[:, :3, :3] + R
        d2 = np.where(gated, _mahalanobis2(z - x[:, :3], S), np.nan)
        rejected = gated & ~(d2 <= self._gate)
        # A missing measurement is no evidence either way: it keeps the rejection count.
        self._rejections[gated & ~rejected] = 0
        self._rejections[rejected] += 1
        restart = (ok & ~self._alive) | (rejected & (self._rejections >= cfg.reinit_after))
        if (gated.sum() >= cfg.min_reinit_joints
                and rejected.sum() > cfg.reinit_fraction * gated.sum()):
            restart |= ok
            reason = (f'{rejected.sum()} of {gated.sum()} joints failed the gate: skeleton '
                      're-initialised at the measurement')
        reinitialised = (restart & self._alive) | relabelled
        status = ('reinitialised' if np.any(reinitialised)
                  else 'initialised' if first and np.any(ok) else 'updated')
        rejected &= ~restart
        fuse = gated & ~rejected & ~restart

        # Kalman update of the accepted joints: K = P H^T S^-1, P -= K H P.
        K = P[:, :, :3] @ np.linalg.inv(S)
        x_new = x + np.einsum('jik,jk->ji', K, z - x[:, :3])
        P_new = P - K @ P[:, :3, :]
        P_new = 0.5 * (P_new + P_new.transpose(0, 2, 1))
        x = np.where(fuse[:, None], x_new, x)
        P = np.where(fuse[:, None, None], P_new, P)

        init_P = np.zeros((J, 6, 6))
        init_P[:, :3, :3] = R
        init_P[:, 3:, 3:] = cfg.init_velocity_std ** 2 * np.eye(3)
        x = np.where(restart[:, None], np.concatenate([z, np.zeros((J, 3))], axis=1), x)
        P = np.where(restart[:, None, None], init_P, P)

        measured = fuse | restart
        self._x, self._P, self._stamp = x, P, stamp_s
        self._alive |= restart
        self._last_measured = np.where(measured, stamp_s, self._last_measured)
        self._rejections[restart] = 0
        valid_out = self._fillable(stamp_s)
        return TrackUpdate(
            stamp=stamp_s, status=status, reason=reason,
            points=np.where(valid_out[:, None], x[:, :3], np.nan),
            covariance=np.where(valid_out[:, None, None], P[:, :3, :3], np.nan),
            valid=valid_out, measured=measured, predicted=valid_out & ~measured,
            rejected=rejected, reinitialised=reinitialised, swapped=swapped,
            measurement=np.where(measured[:, None], z, np.nan), mahalanobis=d2)
