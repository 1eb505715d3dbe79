# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Reference points of problem (P2): the conventional schemes and the exhaustive optimum.

Device-centric (20) and server-centric (22)-(23) take each camera's most accurate thresholds of
their scheme whatever the delay; :func:`exhaustive` enumerates the grid (with exact pruning) and
is the yardstick the greedy solvers of :mod:`mec_coop.alloc.solvers` are measured against.
Equation numbers: "Cooperative Inference for Real-Time 3D Human Pose Estimation in Multi-Device
Edge Networks".
"""

import time

import numpy as np

from mec_coop.alloc.model import delay_from_routes, optimal_shares, SystemParams
from mec_coop.alloc.tables import (Airtime, CHUNK, make_allocation, PairTable, TOL,
                                   undominated)


def _most_accurate(name, scheme, cameras, params, segments):
    """Take each camera's most accurate pair of ``scheme``, whatever the delay; shares (39)."""
    started = time.perf_counter()
    table = PairTable(cameras, params, scheme, segments)
    idx = table.most_accurate()
    fastest = table.fastest()
    min_delay = Airtime(table, params).delay(fastest)
    tau = optimal_shares(table.pick(idx, table.load), params.uplink_combine)
    return make_allocation(name, cameras, params, table, idx, tau, started, 1,
                           [table.pick(idx, table.acc).mean()], min_delay)


def device_centric(cameras, params=SystemParams(), *, segments=20):
    """
    Solve the device-centric baseline: ``theta^L = theta^H = argmax A^dev_n`` (20) per camera.

    Independent of ``D_req`` (A.10); shares from (39). ``min_delay_s`` is that of
    ``theta = 1`` (nothing sent).

    :param cameras: sequence of :class:`~mec_coop.alloc.model.CameraModel`.
    :param params: :class:`~mec_coop.alloc.model.SystemParams`.
    :param segments: grid segments K.
    :return: :class:`Allocation`.
    """
    return _most_accurate('device_centric', 'device_centric', cameras, params, segments)


def server_centric(cameras, params=SystemParams(), *, segments=20):
    """
    Solve the server-centric baseline: every frame offloaded, ``theta^S = argmax A^srv_n`` (22).

    Shares from (39); the delay is (23) and does not depend on ``D_req``.

    :param cameras: sequence of :class:`~mec_coop.alloc.model.CameraModel`.
    :param params: :class:`~mec_coop.alloc.model.SystemParams`.
    :param segments: grid segments K (for ``theta^S``).
    :return: :class:`Allocation`.
    """
    return _most_accurate('server_centric', 'server_centric', cameras, params, segments)


def requirement_range(cameras, params=SystemParams(), *, segments=20):
    """
    Return the interval of ``D_req`` over which the delay requirement binds (cooperative scheme).

    Below the lower end nothing is feasible; from the upper end on, every camera runs its most
    accurate thresholds (with optimal shares), so accuracy saturates (Fig. 8).

    :param cameras: sequence of :class:`~mec_coop.alloc.model.CameraModel`.
    :param params: :class:`~mec_coop.alloc.model.SystemParams` (``delay_req_s`` is ignored).
    :param segments: grid segments K.
    :return: ``(lowest, highest)`` in seconds.
    """
    table = PairTable(cameras, params, 'cooperative', segments)
    airtime = Airtime(table, params)
    return airtime.delay(table.fastest()), airtime.delay(table.most_accurate())


def exhaustive(cameras, params=SystemParams(), *, segments=20, prune=True,
               max_combinations=50_000_000):
    """
    Solve (P2) by brute force over all grid pairs of all cameras: the reference.

    Every combination of ``(theta^L_n, theta^H_n)`` grid pairs is evaluated with the model's
    (19) at its optimal shares (39); ``theta^S`` is eliminated exactly per pair (module
    docstring). This is the exact grid optimum, with ``tau`` exact rather than on a simplex
    grid (A.10). ``prune`` first drops dominated pairs (:func:`undominated`), which is exact and
    makes N = 4 at K = 20 tractable. The most accurate feasible combination wins (ties: lower
    delay); ``min_delay_s`` is the smallest delay of all combinations.

    :param cameras: sequence of :class:`~mec_coop.alloc.model.CameraModel`.
    :param params: :class:`~mec_coop.alloc.model.SystemParams`.
    :param segments: grid segments K.
    :param prune: drop dominated pairs first.
    :param max_combinations: refuse (``ValueError``) larger enumerations.
    :return: :class:`Allocation`.
    """
    started = time.perf_counter()
    table = PairTable(cameras, params, 'cooperative', segments)
    choices = undominated(table) if prune else [np.arange(table.low.size)] * len(cameras)
    shape = tuple(c.size for c in choices)
    total = int(np.prod(shape, dtype=float))
    if total > max_combinations:
        raise ValueError(f'{total:.3g} combinations exceed max_combinations='
                         f'{max_combinations:.3g}; use fewer cameras or segments')
    cams = np.arange(len(cameras))
    best_key, best_idx, min_delay = (-np.inf, np.inf), None, np.inf
    for first in range(0, total, CHUNK):
        flat = np.arange(first, min(total, first + CHUNK))
        idx = np.stack([c[i] for c, i in zip(choices, np.unravel_index(flat, shape))], axis=-1)
        delay = delay_from_routes(cameras, params, table.p_uncertain[cams, idx],
                                  table.p_positive[cams, idx])
        min_delay = min(min_delay, delay.min())
        acc = table.acc[cams, idx].sum(axis=-1)
        order = np.lexsort((delay, -np.where(delay <= params.delay_req_s + TOL, acc, -np.inf)))
        key = (acc[order[0]], -delay[order[0]])
        if delay[order[0]] <= params.delay_req_s + TOL and key > best_key:
            best_key, best_idx = key, idx[order[0]]
    idx = table.start() if best_idx is None else best_idx
    tau = optimal_shares(table.pick(idx, table.load), params.uplink_combine)
    return make_allocation('exhaustive', cameras, params, table, idx, tau, started, total,
                           [table.pick(idx, table.acc).mean()], min_delay)
