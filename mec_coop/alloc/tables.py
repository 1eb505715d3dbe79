# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Candidate tables shared by the solvers of problem (P2): the grid, per-camera pairs, airtime.

:class:`PairTable` evaluates every camera's accuracy, route probabilities and uplink load for
every threshold pair of a scheme once (vectorised), with the best server threshold per pair;
:class:`Airtime` evaluates the delay (19) of a choice of pairs incrementally. The solvers
(:mod:`mec_coop.alloc.solvers`, :mod:`mec_coop.alloc.baselines`) only pick indices into these.
Equation numbers: "Cooperative Inference for Real-Time 3D Human Pose Estimation in Multi-Device
Edge Networks".
"""

from dataclasses import dataclass
import time

import numpy as np

from mec_coop.alloc.model import (accuracy, airtime_terms, end_to_end_delay,
                                  route_probabilities, SERVER_CENTRIC_THETA, uplink_load)
from mec_coop.coop.routing import Thresholds

# Algorithm 1 starts the server thresholds here; ties between server thresholds resolve to it.
START_THETA_SERVER = 0.5
SCHEMES = ('cooperative', 'cascade', 'device_centric', 'server_centric')
# Slack for comparing accuracies and delays computed along different floating-point paths.
TOL = 1e-9
CHUNK = 1 << 20


@dataclass(frozen=True)
class Allocation:
    """
    Result of a solver: per-camera thresholds and shares with their predicted performance.

    ``accuracy`` is the mean of ``accuracy_per_camera`` (eq. (9)), ``delay_s`` the end-to-end
    delay (19); both are re-evaluated with :mod:`mec_coop.alloc.model` from the returned
    variables. ``feasible`` tells whether ``delay_s <= delay_req_s``; ``min_delay_s`` is the
    smallest delay the solver's scheme can reach (the number to quote when infeasible).
    ``history`` holds the mean accuracy at the start and after every outer iteration;
    ``iterations`` counts the outer iterations (exhaustive search: the combinations evaluated).
    """

    solver: str
    theta_low: np.ndarray
    theta_high: np.ndarray
    theta_server: np.ndarray
    tau: np.ndarray
    accuracy: float
    accuracy_per_camera: np.ndarray
    delay_s: float
    delay_req_s: float
    feasible: bool
    min_delay_s: float
    solve_time_s: float
    iterations: int
    history: tuple

    def thresholds(self):
        """Return the per-camera :class:`~mec_coop.coop.routing.Thresholds`."""
        return [Thresholds(float(lo), float(hi), float(s))
                for lo, hi, s in zip(self.theta_low, self.theta_high, self.theta_server)]

    def as_dict(self):
        """Return the allocation as JSON-friendly builtins."""
        return {key: value.tolist() if isinstance(value, np.ndarray) else value
                for key, value in self.__dict__.items()}


def threshold_grid(segments):
    """Return the threshold grid ``{0, 1/K, ..., 1}`` for ``K = segments``."""
    if int(segments) != segments or segments < 1:
        raise ValueError(f'segments must be a positive integer, got {segments}')
    return np.linspace(0.0, 1.0, int(segments) + 1)


def scheme_pairs(scheme, grid):
    """
    Return the ``(theta^L, theta^H)`` candidates a scheme allows, as two arrays.

    ``'cooperative'``: every grid pair ``theta^L <= theta^H`` (30); ``'cascade'``:
    ``theta^L = 0``; ``'device_centric'``: ``theta^L = theta^H``; ``'server_centric'``: the
    single setting that forwards every frame.

    :param scheme: one of :data:`SCHEMES`.
    :param grid: threshold grid.
    :return: ``(theta_low, theta_high)``.
    """
    if scheme == 'cooperative':
        low, high = np.triu_indices(grid.size)
        return grid[low], grid[high]
    if scheme == 'cascade':
        return np.zeros_like(grid), grid.copy()
    if scheme == 'device_centric':
        return grid.copy(), grid.copy()
    if scheme == 'server_centric':
        return np.array([SERVER_CENTRIC_THETA[0]]), np.array([SERVER_CENTRIC_THETA[1]])
    raise ValueError(f'unknown scheme {scheme!r}; choose one of {SCHEMES}')


class PairTable:
    """
    Per-camera values of every candidate device pair, with the best server threshold.

    Arrays are ``(N, P)`` for N cameras and P pairs: ``acc`` (eq. (9) at the best grid
    ``theta^S``), ``server_theta`` (that threshold), ``p_uncertain``/``p_positive`` ((11),
    (13)) and ``load`` (``a_n`` of :func:`~mec_coop.alloc.model.uplink_load`). All CDF values
    are computed here once; the searches only index these arrays.

    :param cameras: sequence of :class:`~mec_coop.alloc.model.CameraModel`.
    :param params: :class:`~mec_coop.alloc.model.SystemParams`.
    :param scheme: one of :data:`SCHEMES`.
    :param segments: grid segments K.
    """

    def __init__(self, cameras, params, scheme, segments):
        if not cameras:
            raise ValueError('at least one camera is needed')
        self.grid = threshold_grid(segments)
        self.low, self.high = scheme_pairs(scheme, self.grid)
        acc, server, p_uncertain, p_positive = [], [], [], []
        for camera in cameras:
            # (P, G): accuracy of every pair with every server threshold.
            table = accuracy(camera, self.low[:, None], self.high[:, None], self.grid[None, :])
            best = table.max(axis=1, keepdims=True)
            dist = np.where(table >= best - TOL, np.abs(self.grid - START_THETA_SERVER), np.inf)
            choice = dist.argmin(axis=1)
            acc.append(table[np.arange(self.low.size), choice])
            server.append(self.grid[choice])
            routes = route_probabilities(camera, self.low, self.high)
            p_uncertain.append(routes[0])
            p_positive.append(routes[1])
        self.acc, self.server_theta = np.array(acc), np.array(server)
        self.p_uncertain, self.p_positive = np.array(p_uncertain), np.array(p_positive)
        self.load = uplink_load(cameras, params, self.p_uncertain.T, self.p_positive.T).T

    def pick(self, idx, values):
        """Return ``values[n, idx[n]]`` for every camera ``n``."""
        return values[np.arange(values.shape[0]), idx]

    def start(self):
        """
        Return the pair index per camera where Algorithm 1 starts (its line 1).

        That is the most accurate pair among those that re-infer least at the server: the best
        device-centric threshold for the cooperative scheme (``theta^L = theta^H``).
        """
        least = self.p_uncertain <= self.p_uncertain.min(axis=1, keepdims=True) + TOL
        return np.where(least, self.acc, -np.inf).argmax(axis=1)

    def most_accurate(self):
        """Return each camera's most accurate pair (ties: least uplink, then server load)."""
        return np.array([np.lexsort((pu, load, -acc))[0]
                         for acc, pu, load in zip(self.acc, self.p_uncertain, self.load)])

    def fastest(self):
        """
        Return the pair index per camera that loads the uplink and server least.

        Each camera takes its least-load pair (ties: least server load). The delay is
        non-decreasing in every ``a_n`` and ``P^U_n``, so this is the minimum-delay configuration
        whenever one pair minimises both; that holds for every scheme here when ``S_I >= S_M``
        (``theta^L = theta^H = 1`` sends nothing; the cascade's ``theta^H = 0`` sends only
        messages).
        """
        return np.array([np.lexsort((pu, load))[0]
                         for pu, load in zip(self.p_uncertain, self.load)])


def _max_of_others(values):
    """Return, for every element, the maximum of the other elements (0 when there are none)."""
    order = np.argsort(values)
    out = np.full(values.shape, values[order[-1]])
    out[order[-1]] = values[order[-2]] if values.size > 1 else 0.0
    return out


class Airtime:
    """
    Delay (19) of configurations that differ from the current one in a few cameras.

    With ``tau=None`` every candidate gets its own optimal shares (39), in closed form:
    the uplink term is ``(sum_n sqrt(a_n))^2`` (``'sum'``) or ``sum_n a_n`` (``'max'``). With
    fixed ``tau`` it is ``sum_n a_n / tau_n`` or ``max_n a_n / tau_n``. Either way it is an
    aggregate of per-camera terms, so replacing a few cameras' terms gives whole arrays of
    candidates at once.

    :param table: :class:`PairTable`.
    :param params: :class:`~mec_coop.alloc.model.SystemParams`.
    :param tau: fixed shares, or ``None``.
    """

    def __init__(self, table, params, tau=None):
        self.table, self.params = table, params
        combine = params.uplink_combine
        if tau is None:
            self.terms = np.sqrt(table.load) if combine == 'sum' else table.load
            self.combine, self.square = 'sum', combine == 'sum'
        else:
            self.terms = airtime_terms(table.load, np.asarray(tau)[:, None])
            self.combine, self.square = combine, False

    def _delay(self, uplink, p_uncertain):
        uplink = uplink ** 2 if self.square else uplink
        return (self.params.fixed_delay_s + self.params.server_inference_s * p_uncertain
                + uplink)

    def changed(self, idx, cameras, pairs):
        """
        Return the delays when ``cameras[k]`` takes ``pairs[k]`` for every k, others kept.

        :param idx: current pair index per camera.
        :param cameras: distinct camera indices (may be empty: the current delay).
        :param pairs: one pair-index array per camera; they broadcast together, e.g. a column
            and a row give the delays of all joint moves of two cameras.
        :return: delays with the broadcast shape of ``pairs``.
        """
        kept = np.ones(idx.size, dtype=bool)
        kept[list(cameras)] = False
        terms = self.table.pick(idx, self.terms)[kept]
        p_uncertain = self.table.pick(idx, self.table.p_uncertain)[kept].sum()
        uplink = terms.sum() if self.combine == 'sum' else terms.max(initial=0.0)
        for camera, pair in zip(cameras, pairs):
            new = self.terms[camera, pair]
            uplink = uplink + new if self.combine == 'sum' else np.maximum(uplink, new)
            p_uncertain = p_uncertain + self.table.p_uncertain[camera, pair]
        return self._delay(uplink, p_uncertain)

    def delay(self, idx):
        """Return the delay of the configuration ``idx`` (pair index per camera)."""
        return float(self.changed(idx, [], []))

    def candidates(self, idx):
        """
        Return the delays when one camera ``n`` switches to pair ``p``, others kept.

        The single-camera case of :meth:`changed` for all cameras at once.

        :param idx: current pair index per camera.
        :return: array ``(N, P)``.
        """
        terms = self.table.pick(idx, self.terms)
        if self.combine == 'sum':
            uplink = terms.sum() - terms[:, None] + self.terms
        else:
            uplink = np.maximum(_max_of_others(terms)[:, None], self.terms)
        current = self.table.pick(idx, self.table.p_uncertain)
        p_uncertain = current.sum() - current[:, None] + self.table.p_uncertain
        return self._delay(uplink, p_uncertain)


def make_allocation(name, cameras, params, table, idx, tau, started, iterations, history,
                    min_delay):
    """Build the :class:`Allocation` of ``idx``, re-evaluating (9) and (19) with the model."""
    low, high = table.low[idx], table.high[idx]
    server = table.pick(idx, table.server_theta)
    acc = np.array([float(accuracy(c, lo, hi, s))
                    for c, lo, hi, s in zip(cameras, low, high, server)])
    delay = float(end_to_end_delay(cameras, params, low, high, tau))
    return Allocation(solver=name, theta_low=low, theta_high=high, theta_server=server,
                      tau=np.asarray(tau, dtype=float), accuracy=float(acc.mean()),
                      accuracy_per_camera=acc, delay_s=delay, delay_req_s=params.delay_req_s,
                      feasible=bool(delay <= params.delay_req_s + TOL),
                      min_delay_s=float(min_delay), solve_time_s=time.perf_counter() - started,
                      iterations=iterations, history=tuple(float(h) for h in history))


def undominated(table):
    """
    Return, per camera, the pair indices that no other pair dominates.

    A pair is dominated when another is at least as accurate and loads neither the uplink
    (``a_n``) nor the server (``P^U_n``) more, and is strictly better in one of them (or is an
    identical pair listed earlier). The objective rises with every ``A_n`` and the delay (19)
    with every ``a_n`` and ``P^U_n``, so dropping dominated pairs never loses the optimum.

    :param table: :class:`PairTable`.
    :return: list of index arrays, one per camera.
    """
    kept = []
    for acc, pu, load in zip(table.acc, table.p_uncertain, table.load):
        no_worse = ((acc[:, None] >= acc[None, :]) & (pu[:, None] <= pu[None, :])
                    & (load[:, None] <= load[None, :]))
        better = ((acc[:, None] > acc[None, :]) | (pu[:, None] < pu[None, :])
                  | (load[:, None] < load[None, :]))
        earlier = np.arange(acc.size)[:, None] < np.arange(acc.size)[None, :]
        kept.append(np.flatnonzero(~(no_worse & (better | earlier)).any(axis=0)))
    return kept
