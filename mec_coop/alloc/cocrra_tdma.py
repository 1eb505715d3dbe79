# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Co-CRRA on this product's uplink: TDMA shares of one band at one power, JPEG quality per camera.

Paper D (Xiao et al., IEEE TCCN 2024) gives each user its own band ``b_i`` and power ``p_i``
(FDMA). The uplink here (:mod:`mec_coop.coop.uplink`, paper A eq. (16)) gives each camera a
share ``tau_i`` of the airtime of one band ``B`` at one power ``P``. A camera sending at ``P``
for ``tau_i`` of the time has the SNR of the whole band and the rate of an FDMA user with
``b_i = tau_i B`` and ``p_i = tau_i P`` (same energy per second), so the delivery probability
(2) holds with those and a per-camera channel scale ``delta_i`` (its gain): the threshold is
``x_i = (2^{D_i (1 - o_i) / (tau_i B t0)} - 1) N0 B / (P delta_i)``. P1 is unchanged (the
ratio grid); P2 reduces to the shares, ``max sum_i eta(o_i) gamma_i(tau_i)`` with
``sum_i tau_i <= 1`` and ``tau_i >= tau_min``, solved from the equal split and from corner
starts. :class:`RateCurve` then turns a ratio into the camera's JPEG quality: the highest
quality whose measured offload size fits ``D_i (1 - o_i)``.

Paper D's users are independent, but a 3D instant needs at least two views: this product's
objective of an instant is in :mod:`mec_coop.alloc.instant`.

The delivery model (``TdmaLink.model``, :data:`DELIVERY_MODELS`) follows the link the plan
runs on. ``'paper'``: paper D's optimisation form of (2), ``exp(-x^2 / 2)`` (the paper's
literal model, whatever the link). ``'gaussian'``: (2) itself, ``2 Q(x)``, what an uplink with
Gaussian fading (:mod:`mec_coop.coop.uplink`) realises; ``exp(-x^2/2)`` overstates it (0.61
against 0.32 at ``x = 1``). ``'none'``: fixed gains, a deterministic link: an upload is on
time iff its bits fit the airtime ``tau B t0 log2(1 + P g / (N0 B))`` (``x <= 1``), a step.
Offload sizes vary from frame to frame, so the step is taken over their spread: log-normal
sizes around the planned one with ``size_spread`` (the std of the log size) give
``Phi((ln capacity - ln bits) / size_spread)``, smooth for the optimiser and the step at
``size_spread = 0``. What is queued ahead of an upload: with an offload every ``period_s``
(0: none queued) and airtimes ``S`` at load ``rho = E[S] / period_s``, Kingman's mean wait for
periodic arrivals, ``W = rho / (1 - rho) c_s^2 / 2 E[S]`` (``c_s^2 = exp(size_spread^2) - 1``):
an upload waits with probability ``rho``, then for an exponential time of mean ``W / rho``
(an approximation of the wait's law), and is on time when wait and airtime fit ``t0``;
``rho >= 1`` never makes ``t0``. At ``size_spread = 0`` no upload waits below ``rho = 1``, the
step again. The cameras' keypoint messages (a few hundred bytes) are neglected.
"""

from dataclasses import dataclass
import itertools
from typing import Sequence, Union

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm

from mec_coop.alloc.cocrra import eta, O_GRID


DELIVERY_MODELS = ('paper', 'gaussian', 'none')
_LAGUERRE = np.polynomial.laguerre.laggauss(16)   # nodes and weights of int_0^inf e^-u f(u)


@dataclass(frozen=True)
class TdmaLink:
    """
    One band shared in time.

    Bandwidth (Hz), power (W), noise density (W/Hz), per-camera channel scales ``delta_i``
    (linear power gains), the upload deadline (s) and the least share a camera keeps.
    """

    bandwidth_hz: float
    power_w: float
    n0_w_per_hz: float
    gains: tuple
    t0_s: float
    min_share: float = 0.02
    model: str = 'paper'        # one of DELIVERY_MODELS
    size_spread: float = 0.0    # std of the log offload size ('none' only; 0: the step)
    period_s: float = 0.0       # one offload per camera this often ('none' only; 0: no queue)

    def __post_init__(self):
        if self.model not in DELIVERY_MODELS:
            raise ValueError(f'delivery model must be one of {DELIVERY_MODELS}, got '
                             f'{self.model!r}')
        if not (self.size_spread >= 0.0 and self.period_s >= 0.0):
            raise ValueError(f'size_spread and period_s must be >= 0, got {self.size_spread}, '
                             f'{self.period_s}')
        u = len(self.gains)
        if u == 0 or not all(g > 0 for g in self.gains):
            raise ValueError('every camera needs a positive channel gain')
        if not 0.0 <= self.min_share * u <= 1.0:
            raise ValueError(f'min_share {self.min_share} x {u} cameras exceeds the airtime')
        if self.t0_s <= 0 or self.bandwidth_hz <= 0 or self.power_w <= 0:
            raise ValueError('bandwidth, power and the deadline must be positive')

    @property
    def snr(self) -> np.ndarray:
        """Per camera, ``P g_i / (N0 B)``: the SNR of the whole band (a TDMA slot has it)."""
        return self.power_w * np.asarray(self.gains) / (self.n0_w_per_hz * self.bandwidth_hz)

    @property
    def rates_bps(self) -> np.ndarray:
        """Per camera, ``B log2(1 + SNR)``: the rate with the whole airtime (``tau = 1``)."""
        return self.bandwidth_hz * np.log2(1.0 + self.snr)


def delivery(o, tau, data_bits, link: TdmaLink) -> np.ndarray:
    """``Pr(upload within t0)`` per camera under ``link.model`` (module docstring)."""
    tau = np.maximum(np.asarray(tau, dtype=np.float64), 1e-9)
    bits = np.asarray(data_bits, dtype=np.float64) * (1.0 - np.asarray(o))
    if link.model == 'none':
        return _fits(bits, tau * link.rates_bps, link)
    with np.errstate(over='ignore'):
        # x: the gain the upload needs, in units of the camera's gain (b = tau B, p = tau P).
        x = (np.exp2(np.minimum(bits / (tau * link.bandwidth_hz * link.t0_s), 1000.0)) - 1.0) \
            / link.snr
        if link.model == 'gaussian':
            return 2.0 * norm.sf(x)
        return np.exp(-0.5 * np.minimum(x, 1e150) ** 2)


def _fits(bits, rate, link: TdmaLink) -> np.ndarray:
    """``Pr(wait + airtime <= t0)`` on a deterministic link (module docstring)."""
    def airtime_fits(seconds):
        # Pr(size <= rate * seconds), the sizes log-normal around ``bits``.
        with np.errstate(divide='ignore', invalid='ignore'):
            margin = np.where(seconds > 0.0, np.log(np.maximum(rate * seconds, 1e-300))
                              - np.log(np.maximum(bits, 1e-300)), -np.inf)
        if link.size_spread == 0.0:
            return (margin >= 0.0).astype(np.float64)
        return norm.cdf(margin / link.size_spread)

    bits, rate = np.broadcast_arrays(np.asarray(bits, dtype=np.float64), rate)
    alone = airtime_fits(np.full(bits.shape, link.t0_s))
    if link.period_s == 0.0:
        return alone
    mean_s = bits * np.exp(0.5 * link.size_spread ** 2) / rate
    rho = mean_s / link.period_s
    # An upload waits with probability rho, then for an exponential time whose mean makes
    # the overall mean wait Kingman's: Gauss-Laguerre nodes integrate over it.
    with np.errstate(divide='ignore', invalid='ignore'):
        busy_mean = np.where(rho < 1.0, 0.5 * np.expm1(link.size_spread ** 2) * mean_s
                             / (1.0 - rho), np.inf)
    waited = sum(w * airtime_fits(link.t0_s - busy_mean * u) for u, w in zip(*_LAGUERRE))
    return np.where(rho < 1.0, (1.0 - rho) * alone + rho * waited, 0.0)


def at_least(phi, k: int):
    """
    Probability that at least ``k`` of independent events with probabilities ``phi`` occur.

    The events lie on the last axis; leading axes are separate cases (an array back), a 1-D
    ``phi`` gives a float.
    """
    phi = np.asarray(phi, dtype=np.float64)
    dist = np.zeros((*phi.shape[:-1], phi.shape[-1] + 1))
    dist[..., 0] = 1.0
    for i in range(phi.shape[-1]):
        p = phi[..., i:i + 1]
        dist[..., 1:] = dist[..., 1:] * (1.0 - p) + dist[..., :-1] * p
        dist[..., :1] *= 1.0 - p
    total = dist[..., k:].sum(axis=-1)
    return float(total) if phi.ndim == 1 else total


def share_starts(u: int, min_share: float) -> list[np.ndarray]:
    """
    List the starting shares: the equal split, one camera given most, and groups alone.

    "Most": one camera gets 70% of the airtime above the minimums. "Alone": a group of one,
    two or all but one cameras splits the spare airtime, the others keep the minimum. With a
    sharp delivery curve the optimum is often such a corner (the cameras on weak channels give
    up and the others get their time), which alternation from the equal split misses; with
    four cameras on a tight band starting only from single-camera corners missed the best
    pair (mean success 0.25 instead of 0.43).
    """
    spare = 1.0 - u * min_share
    out: list[np.ndarray] = [np.full(u, 1.0 / u)]
    for i in range(u if u > 1 else 0):
        most = np.full(u, 0.3 / (u - 1))
        most[i] = 0.7
        out.append(min_share + spare * most)
    for size in sorted({1, 2, u - 1} & set(range(1, u))):
        for group in itertools.combinations(range(u), size):
            alone = np.zeros(u)
            alone[list(group)] = 1.0 / size
            out.append(min_share + spare * alone)
    return out


def grid_shares(data_bits, link: TdmaLink, grid=O_GRID, step: float = 0.005) -> np.ndarray:
    """
    Shares that maximise the mean success on a ``step`` grid (exact there), a start for P2.

    With each camera at its best ratio for its share (P1), the mean success is a sum of one
    function per camera's share, so dynamic programming over the spare airtime finds its best
    split on the grid whatever the shape of those functions (the alternation only climbs).
    """
    u = len(link.gains)
    units = int(round((1.0 - u * link.min_share) / step))
    tau = link.min_share + step * np.arange(units + 1)
    g = np.asarray(grid, dtype=np.float64)[:, None, None]
    d = np.asarray(data_bits, dtype=np.float64)
    # value[i, k]: camera i's best success with k units of spare airtime.
    value = (eta(g) * delivery(g, np.repeat(tau[None, :, None], u, axis=2),
                               np.broadcast_to(d, (1, units + 1, u)), link)).max(axis=0).T
    best, choice = value[0].copy(), []
    for i in range(1, u):
        # total[b, k]: the first i cameras on b - k units, camera i on k.
        b, k = np.meshgrid(np.arange(units + 1), np.arange(units + 1), indexing='ij')
        total = np.where(k <= b, best[np.clip(b - k, 0, None)] + value[i][k], -np.inf)
        choice.append(np.argmax(total, axis=1))
        best = total.max(axis=1)
    units_of = np.zeros(u, dtype=int)
    left = int(np.argmax(best))
    for i in range(u - 1, 0, -1):
        units_of[i] = choice[i - 1][left]
        left -= units_of[i]
    units_of[0] = left
    return link.min_share + step * units_of


def solve_shares(o, data_bits, link: TdmaLink, phi, start) -> np.ndarray:
    """P2 on the shares (ratios fixed): SLSQP from ``start``; never worse than ``start``."""
    u = len(link.gains)

    def neg(tau):
        return -float(np.sum(phi * delivery(o, tau, data_bits, link)))
    res = minimize(neg, start, method='SLSQP', bounds=[(link.min_share, 1.0)] * u,
                   constraints=[{'type': 'ineq', 'fun': lambda t: 1.0 - t.sum()}],
                   options={'ftol': 1e-12, 'maxiter': 200})
    tau = np.clip(res.x, link.min_share, 1.0)
    tau = tau / max(1.0, float(tau.sum()))
    return tau if neg(tau) < neg(start) else np.asarray(start, dtype=np.float64)


def co_crra_tdma(data_bits: Union[Sequence[float], np.ndarray], link: TdmaLink,
                 max_outer: int = 20, eps1: float = 1e-6,
                 grid=O_GRID) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Algorithm 1 with the TDMA P2 from each of :func:`share_starts`: ``(o, tau, Phi)``.

    ``grid``: the ratios P1 chooses from (the paper's 0.01 steps, or the ratios a codec can
    reach, e.g. those of a camera's JPEG qualities).
    """
    d = np.asarray(data_bits, dtype=np.float64)
    if len(d) != len(link.gains) or not np.all(d > 0):
        raise ValueError('one positive data size per camera with a gain is needed')
    best = None
    for tau in [*share_starts(len(d), link.min_share), grid_shares(d, link, grid)]:
        total = -np.inf
        for _ in range(max_outer):
            o = best_ratios(d, tau, link, grid)
            tau = solve_shares(o, d, link, eta(o), tau)
            new = float(np.sum(eta(o) * delivery(o, tau, d, link)))
            if abs(new - total) < eps1:
                break
            total = new
        o = best_ratios(d, tau, link, grid)
        phi = eta(o) * delivery(o, tau, d, link)
        if best is None or phi.sum() > best[2].sum():
            best = (o, tau, phi)
    assert best is not None  # share_starts always yields the equal split
    return best


def best_ratios(data_bits, tau, link: TdmaLink, grid=O_GRID) -> np.ndarray:
    """P1 for fixed shares: each camera's ratio on the grid."""
    g = np.asarray(grid, dtype=np.float64)[:, None]
    values = eta(g) * delivery(g, np.asarray(tau)[None], np.asarray(data_bits)[None], link)
    return g[np.argmax(values, axis=0), 0]


@dataclass(frozen=True)
class RateCurve:
    """
    Measured offload size (bytes) per JPEG quality of one camera.

    E.g. from ``docs/figures/compression.json``; sizes must not grow as the quality falls.
    """

    qualities: tuple
    sizes: tuple

    def __post_init__(self):
        order = np.argsort(self.qualities)
        if len(self.qualities) != len(self.sizes) or not len(order):
            raise ValueError('a rate curve needs one size per quality')
        if np.any(np.diff(np.asarray(self.sizes, dtype=float)[order]) < 0):
            raise ValueError('offload sizes must not grow as the JPEG quality falls')

    @property
    def full_bits(self) -> float:
        """``D_i``: the bits of an offload at the highest quality."""
        return 8.0 * float(self.sizes[int(np.argmax(self.qualities))])

    def quality_for(self, ratio: float) -> int:
        """Highest quality whose size fits ``D (1 - ratio)``; the lowest quality if none does."""
        budget = self.full_bits * (1.0 - float(ratio)) / 8.0
        fits = [q for q, s in zip(self.qualities, self.sizes) if s <= budget + 1e-9]
        return int(max(fits) if fits else min(self.qualities))
