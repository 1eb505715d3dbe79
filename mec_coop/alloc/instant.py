# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The uplink plan's instant-level objective (ours): does an instant yield a skeleton in time.

Paper D ("Adaptive Compression Offloading and Resource Allocation for Edge Vision Computing",
Xiao et al., IEEE TCCN 2024) scores each user's offload, ``Phi_i = eta(o_i) Pr(t_i <= t0)``
(eq. (3)), and P* maximises their sum. What the graph measures is an *instant*: a skeleton
needs at least :data:`MIN_VIEWS` views on time, by any route. Under the dual threshold of
"Cooperative Inference for Real-Time 3D Human Pose Estimation in Multi-Device Edge Networks"
a camera sends its keypoints (a message of a few hundred bytes) with probability ``p_kp``,
its image with ``p_off`` (uncertain frames, audits, searches: ``P^U`` of eq. (11) as
:func:`~mec_coop.alloc.model.route_probabilities` estimates it) and no view otherwise. Camera
``i``'s view is on time with

    v_i = p_kp s_kp(o_i, tau_i) + p_off eta(o_i) s_off(o_i, tau_i)

and, the cameras independent, the instant succeeds with ``P(at least MIN_VIEWS of v)``
(Poisson binomial, :func:`~mec_coop.alloc.cocrra_tdma.at_least`).

``s_off`` is the offload's delivery under the link's model
(:func:`~mec_coop.alloc.cocrra_tdma.delivery`; on fixed gains its queue is that of one offload
every ``period / p_off``, the camera's own offload rate). A camera's messages share one FIFO
(:mod:`mec_coop.coop.uplink`), so ``s_kp`` is the keypoint message's own delivery times the
chance it is not held behind the previous frame's offload: that offload is done within
``period + t0`` (the same delivery model at that deadline) or the frame before was no offload.
Older frames are neglected, except that a camera whose offloads alone fill its share
(``p_off`` x the offload's airtime at the fixed gain >= the frame period) has a growing queue:
neither route is on time then.

:func:`solve_instant` maximises the instant success over the shares and each camera's ratio.
``v_i`` depends on camera ``i``'s own share and ratio only and the objective grows with every
``v_i``, so P1 is each camera's best ratio for its share (as in paper D) and the search runs over
the shares alone, on a grid: exhaustively where the splits are few (four cameras at 0.01
steps: 156,849), else by coordinate ascent (moves of airtime between two cameras) from the
given starts (the baselines' shares), the equal split and the corners of
:func:`~mec_coop.alloc.cocrra_tdma.share_starts`. The starts evaluated at their own
shares are candidates too, so the result is never below them.
"""

from dataclasses import dataclass, replace
import itertools
import math
from typing import Callable, Optional, Sequence

import numpy as np

from mec_coop.alloc.cocrra import eta
from mec_coop.alloc.cocrra_tdma import at_least, delivery, share_starts, TdmaLink

# A triangulation needs two views (the edge's min_views default).
MIN_VIEWS = 2
# Share splits searched exhaustively up to this many; more go to coordinate ascent.
EXHAUSTIVE_SPLITS = 200_000


@dataclass(frozen=True)
class ViewRoutes:
    """
    Per camera: the share of frames offloaded and sent as keypoints, the keypoint message.

    ``empty``: the share of frames sent as images in which the camera found nobody (part of
    ``offload``; () when not known): such an image brings the edge no keypoints of its own.
    """

    offload: tuple
    keypoints: tuple
    message_bits: tuple
    empty: tuple = ()

    def __post_init__(self):
        off, kp, bits = (np.asarray(v, dtype=float)
                         for v in (self.offload, self.keypoints, self.message_bits))
        if not (off.shape == kp.shape == bits.shape and off.ndim == 1):
            raise ValueError('one offload share, keypoint share and message size per camera')
        if not (np.all((off >= 0) & (kp >= 0) & (off + kp <= 1 + 1e-9)) and np.all(bits > 0)
                and np.all(np.isfinite(bits))):
            raise ValueError(f'route shares must be in [0, 1] and sum to at most 1, message '
                             f'sizes positive: offload {self.offload}, keypoints '
                             f'{self.keypoints}, bits {self.message_bits}')
        empty = np.asarray(self.empty, dtype=float)
        if self.empty and not (empty.shape == off.shape and np.all(empty >= 0)
                               and np.all(empty <= off + 1e-9)):
            raise ValueError(f'empty image shares must be in [0, offload share] per camera: '
                             f'empty {self.empty}, offload {self.offload}')


def _camera_link(link: TdmaLink, i: int, p_off: float) -> TdmaLink:
    # One camera alone, its offloads queued at its own offload rate (no queue without offloads).
    period = link.period_s / p_off if link.period_s > 0 and p_off > 0 else 0.0
    return replace(link, gains=(link.gains[i],), period_s=period)


def route_parts(o, tau, data_bits, link: TdmaLink, routes: ViewRoutes
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Return per camera the keypoint view on time, the offload on time and the image share.

    ``(p_kp s_kp, s_off, p_image)``, ``p_image`` the frames sent as images that a view can come
    from (those of nobody left out). Zero where the camera's offloads alone fill its share
    (its queue only grows). ``o`` and ``tau`` broadcast together (e.g. a grid of ratios
    against a grid of shares).
    """
    o, tau = np.broadcast_arrays(np.asarray(o, dtype=float), np.asarray(tau, dtype=float))
    kp_on_time, off_on_time = np.empty(o.shape), np.empty(o.shape)
    d = np.asarray(data_bits, dtype=float)
    for i in range(len(link.gains)):
        p_off, p_kp = routes.offload[i], routes.keypoints[i]
        mine = _camera_link(link, i, p_off)
        oi, ti = o[..., i], np.maximum(tau[..., i], 1e-9)
        off = delivery(oi, ti, d[i], mine)
        s_kp = delivery(0.0, ti, routes.message_bits[i], replace(mine, period_s=0.0))
        if link.period_s > 0:
            done = delivery(oi, ti, d[i], replace(mine, t0_s=link.t0_s + link.period_s,
                                                  period_s=0.0))
            s_kp = s_kp * (1.0 - p_off * (1.0 - done))
            airtime = d[i] * (1.0 - oi) / (ti * mine.rates_bps[0])
            full = p_off * airtime >= link.period_s
        else:
            full = np.zeros(oi.shape, dtype=bool)
        kp_on_time[..., i] = np.where(full, 0.0, p_kp * s_kp)
        off_on_time[..., i] = np.where(full, 0.0, off)
    image = np.asarray(routes.offload, dtype=float) - np.asarray(routes.empty or 0.0)
    return kp_on_time, off_on_time, image


def views(o, tau, data_bits, link: TdmaLink, routes: ViewRoutes) -> np.ndarray:
    """
    ``v_i``: each camera's view on time (module docstring); cameras on the last axis.

    ``o`` and ``tau`` broadcast together (e.g. a grid of ratios against a grid of shares).
    """
    kp, off, _ = route_parts(o, tau, data_bits, link, routes)
    return kp + np.asarray(routes.offload) * eta(np.asarray(o, dtype=float)) * off


def instant_success(o, tau, data_bits, link: TdmaLink, routes: ViewRoutes,
                    min_views: int = MIN_VIEWS):
    """Probability that at least ``min_views`` views of an instant are on time."""
    return at_least(views(o, tau, data_bits, link, routes), min_views)


def _splits(units: int, u: int) -> np.ndarray:
    """Every split of ``units`` airtime units over ``u`` cameras (stars and bars)."""
    bars = np.array(list(itertools.combinations(range(units + u - 1), u - 1)), dtype=int)
    bars = bars.reshape(-1, u - 1)
    edges = np.concatenate([np.full((len(bars), 1), -1), bars,
                            np.full((len(bars), 1), units + u - 1)], axis=1)
    return np.diff(edges, axis=1) - 1


def _ascend(value: np.ndarray, units_of: np.ndarray, objective: Callable) -> np.ndarray:
    """Move airtime between pairs of cameras while the objective grows (largest moves first)."""
    u, cams = len(units_of), np.arange(len(units_of))
    current = float(objective(value[cams, units_of][None])[0])
    step = max(1, int(units_of.sum()) // 2)
    while step >= 1:
        moved = False
        for src, dst in itertools.permutations(range(u), 2):
            if units_of[src] < step:
                continue
            trial = units_of.copy()
            trial[src] -= step
            trial[dst] += step
            new = float(objective(value[cams, trial][None])[0])
            if new > current + 1e-12:
                units_of, current, moved = trial, new, True
        if not moved:
            step //= 2
    return units_of


def _on_grid(tau, min_share: float, step: float, units: int) -> np.ndarray:
    """Shares as airtime units of the grid, all of it spent (the rest to the first camera)."""
    units_of = np.clip(np.floor((np.asarray(tau, dtype=float) - min_share) / step + 1e-9), 0,
                       units).astype(int)
    while units_of.sum() > units:
        units_of[int(np.argmax(units_of))] -= 1
    units_of[0] += units - units_of.sum()
    return units_of


def solve_instant(data_bits, link: TdmaLink, routes: ViewRoutes, grid,
                  starts: Sequence[np.ndarray] = (), step: float = 0.01,
                  min_views: int = MIN_VIEWS, exhaustive: Optional[int] = None
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """
    Shares and ratios of the highest instant success: ``(o, tau, success)``.

    :param grid: the ratios each camera may take (P1's grid).
    :param starts: shares to start the ascent from and to beat (e.g. the baselines').
    :param step: the share grid's step above ``link.min_share``.
    :param exhaustive: search every split on the grid up to this many (default
        :data:`EXHAUSTIVE_SPLITS`; 0: always ascend).
    """
    def value(o, tau):
        return views(o, tau, data_bits, link, routes)[..., None]

    return search_shares(value, lambda v: at_least(v[..., 0], min_views), len(data_bits),
                         link, routes, grid, starts, step, exhaustive)


def search_shares(value: Callable, objective: Callable, cameras: int, link: TdmaLink,
                  routes: ViewRoutes, grid, starts: Sequence[np.ndarray] = (),
                  step: float = 0.01, exhaustive: Optional[int] = None
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """
    Shares and ratios that maximise ``objective``: ``(o, tau, objective)``.

    ``value(o, tau)``: per camera (second-last axis) the terms the objective takes (last
    axis), each camera's from its own share and ratio; each camera takes the ratio of the
    largest sum of its terms at each share (P1). ``objective(values)``: one number per case
    of the leading axes. The search is that of :func:`solve_instant` (module docstring).
    """
    u = len(link.gains)
    if cameras != u or len(routes.offload) != u:
        raise ValueError(f'{cameras} data sizes and {len(routes.offload)} routes for {u} '
                         'cameras')
    units = int(math.floor((1.0 - u * link.min_share) / step + 1e-9))
    tau_grid = link.min_share + step * np.arange(units + 1)
    g = np.asarray(grid, dtype=float)
    # (ratios, shares, cameras, terms): each camera's best ratio per share.
    terms = value(np.broadcast_to(g[:, None, None], (len(g), len(tau_grid), u)),
                  np.repeat(tau_grid[None, :, None], u, 2))
    best = np.argmax(terms.sum(axis=-1), axis=0)                       # (shares, cameras)
    table = np.take_along_axis(terms, best[None, ..., None], 0)[0].transpose(1, 0, 2)
    ratio = g[best].T                                                    # (cameras, shares)
    cams = np.arange(u)
    limit = EXHAUSTIVE_SPLITS if exhaustive is None else exhaustive
    if u > 1 and math.comb(units + u - 1, u - 1) <= limit:
        splits = _splits(units, u)
        found = [splits[int(np.argmax(objective(table[cams, splits])))]]
    else:
        # The corners too (groups of cameras alone): where every camera on an equal share
        # fails, one move of airtime makes one view, not two, and the ascent would not start.
        found = [_ascend(table, _on_grid(s, link.min_share, step, units), objective)
                 for s in [*share_starts(u, link.min_share), *starts]]
    candidates = [(ratio[cams, k], tau_grid[k]) for k in found]
    for tau in starts:   # each start at its own shares, each camera's best ratio there
        tau = np.asarray(tau, dtype=float)
        v = value(g[:, None], tau[None])
        candidates.append((g[np.argmax(v.sum(axis=-1), axis=0)], tau))
    scored = [(float(objective(value(o, tau)[None])[0]), o, tau) for o, tau in candidates]
    top = max(scored, key=lambda c: c[0])
    return top[1], top[2], top[0]
