# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Solvers of problem (P2): thresholds and TDMA shares that maximise ``sum_n A_n`` under (28)-(30).

Every solver is called as ``solver(cameras, params=SystemParams(), **options)`` and returns an
:class:`Allocation`; :data:`SOLVERS` maps the names to the functions. Thresholds live on the
grid ``{0, 1/K, ..., 1}`` of ``K = segments`` segments (note A-8: K = 20).

Two reductions are exact and shared by all solvers:

* ``theta^S_n`` enters neither the delay nor another camera's accuracy, so for every device
  pair ``(theta^L_n, theta^H_n)`` the best server threshold is found once, by scanning the grid
  (vectorised). This is Algorithm 1's server step (lines 17-18) done for every pair up front.
  Ties, e.g. when a pair forwards nothing, go to the grid value nearest 0.5, the algorithm's
  start value (note A-12).
* For given thresholds, the optimal shares are the closed form of (39),
  ``tau_n = sqrt(a_n) / sum_m sqrt(a_m)`` (:func:`mec_coop.alloc.model.optimal_shares`).

What is left is a choice of one grid pair per camera. ``proposed`` searches it greedily
(Algorithm 1, A.9, note A-7: marginal-utility greedy, randomised Gauss-Seidel sweeps and joint
moves of two cameras); ``exhaustive`` enumerates it.

Infeasibility is never hidden: when even the smallest delay the scheme can reach exceeds
``D_req``, the solver returns its no-offload start point (device-centric thresholds, the
paper's fallback in Fig. 12) with ``feasible=False``; ``min_delay_s`` always holds the smallest
delay reachable within the solver's scheme and share rule.
"""

from dataclasses import dataclass
import itertools
import time

import numpy as np

from mec_coop.alloc.model import (accuracy, airtime_terms, delay_from_routes,
                                  end_to_end_delay, optimal_shares, route_probabilities,
                                  SERVER_CENTRIC_THETA, SystemParams, uplink_load)
from mec_coop.coop.routing import Thresholds

# Algorithm 1 starts the server thresholds here; ties between server thresholds resolve to it.
START_THETA_SERVER = 0.5
SCHEMES = ('cooperative', 'cascade', 'device_centric', 'server_centric')
SEARCHES = ('marginal', 'sweeps', 'both')
CANDIDATE_TAUS = ('optimal', 'previous')
# Slack for comparing accuracies and delays computed along different floating-point paths.
_TOL = 1e-9
_CHUNK = 1 << 20


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
            dist = np.where(table >= best - _TOL, np.abs(self.grid - START_THETA_SERVER), np.inf)
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
        least = self.p_uncertain <= self.p_uncertain.min(axis=1, keepdims=True) + _TOL
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


def _max_of_others(values):
    """Return, for every element, the maximum of the other elements (0 when there are none)."""
    order = np.argsort(values)
    out = np.full(values.shape, values[order[-1]])
    out[order[-1]] = values[order[-2]] if values.size > 1 else 0.0
    return out


def marginal_greedy(table, airtime, idx, delay_req):
    """
    Raise accuracy one camera at a time by the move with the most accuracy per added delay.

    Note A-7: moves that add no delay are taken first (largest gain); otherwise the camera and
    pair with the largest ``Delta sum A / Delta D`` among those that keep (28) win. Stops when
    no move raises the accuracy within the budget. Every move raises the objective.

    :param table: :class:`PairTable`.
    :param airtime: :class:`Airtime` that checks (28).
    :param idx: feasible start, pair index per camera (updated in place).
    :param delay_req: ``D_req`` in seconds.
    :return: ``idx``.
    """
    while True:
        delays = airtime.candidates(idx)
        gain = table.acc - table.pick(idx, table.acc)[:, None]
        ok = (delays <= delay_req + _TOL) & (gain > _TOL)
        if not ok.any():
            return idx
        extra = delays - airtime.delay(idx)
        free = ok & (extra <= 0.0)
        if free.any():
            score = np.where(free, gain, -np.inf)
        else:
            score = np.divide(gain, extra, out=np.full(gain.shape, -np.inf), where=ok)
        camera, pair = np.unravel_index(np.argmax(score), score.shape)
        idx[camera] = pair


def gauss_seidel(table, airtime, idx, delay_req, rng, max_sweeps=20):
    """
    Sweep the cameras in random order; each takes its best pair with the others fixed (A.9).

    A camera moves to its most accurate pair that keeps (28); among equally accurate pairs it
    takes the fastest, which leaves delay budget to the others. Random orders (note A-7) keep
    the first camera of a fixed order from always taking the whole budget. Stops after a sweep
    without change.

    :param table: :class:`PairTable`.
    :param airtime: :class:`Airtime` that checks (28).
    :param idx: feasible start, pair index per camera (updated in place).
    :param delay_req: ``D_req`` in seconds.
    :param rng: ``numpy.random.Generator`` for the sweep orders.
    :param max_sweeps: upper bound on the sweeps.
    :return: ``idx``.
    """
    for _ in range(max_sweeps):
        changed = False
        for camera in rng.permutation(idx.size):
            delays = airtime.changed(idx, [camera], [np.arange(table.low.size)])
            acc = np.where(delays <= delay_req + _TOL, table.acc[camera], -np.inf)
            best = np.flatnonzero(acc >= acc.max() - _TOL)
            pair = best[np.argmin(delays[best])]
            now = idx[camera]
            if acc[pair] > acc[now] + _TOL or (acc[pair] >= acc[now]
                                               and delays[pair] < delays[now] - _TOL):
                idx[camera] = pair
                changed = True
        if not changed:
            break
    return idx


def pair_exchange(table, airtime, idx, delay_req, choices):
    """
    Move two cameras at once: each camera pair takes its best feasible joint change.

    With optimal shares the uplink term ``(sum_n sqrt(a_n))^2`` rewards putting the offload on
    few cameras, so single-camera moves can lock in a worse split: one camera's offload
    blocks a better one elsewhere. Trading load between two cameras escapes that. Only
    improving moves are taken, so the objective rises; stops when no pair improves.

    :param table: :class:`PairTable`.
    :param airtime: :class:`Airtime` that checks (28).
    :param idx: feasible start, pair index per camera (updated in place).
    :param delay_req: ``D_req`` in seconds.
    :param choices: candidate pair indices per camera (e.g. :func:`undominated`).
    :return: ``idx``.
    """
    improved = True
    while improved:
        improved = False
        for first, second in itertools.combinations(range(idx.size), 2):
            mine, theirs = choices[first], choices[second]
            delays = airtime.changed(idx, [first, second], [mine[:, None], theirs[None, :]])
            gain = (table.acc[first, mine][:, None] + table.acc[second, theirs][None, :]
                    - table.acc[first, idx[first]] - table.acc[second, idx[second]])
            gain = np.where(delays <= delay_req + _TOL, gain, -np.inf)
            best = np.unravel_index(np.argmax(gain), gain.shape)
            if gain[best] > _TOL:
                idx[first], idx[second] = mine[best[0]], theirs[best[1]]
                improved = True
    return idx


def _threshold_step(table, airtime, idx, delay_req, search, exchange, rng):
    """Solve (P2-2) for one share rule: the chosen moves, repeated until none applies."""
    while True:
        before = idx.copy()
        if search != 'sweeps':
            marginal_greedy(table, airtime, idx, delay_req)
        if search != 'marginal':
            gauss_seidel(table, airtime, idx, delay_req, rng)
        if exchange is not None:
            pair_exchange(table, airtime, idx, delay_req, exchange)
        if np.array_equal(before, idx):
            return idx


def _allocation(name, cameras, params, table, idx, tau, started, iterations, history,
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
                      feasible=bool(delay <= params.delay_req_s + _TOL),
                      min_delay_s=float(min_delay), solve_time_s=time.perf_counter() - started,
                      iterations=iterations, history=tuple(float(h) for h in history))


def _check_choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f'{name} must be one of {allowed}, got {value!r}')


def algorithm1(cameras, params=SystemParams(), *, scheme='cooperative', segments=20,
               equal_shares=False, search='both', exchange=True, candidate_tau='optimal',
               seed=0, max_outer=50, tol=1e-4, name='proposed'):
    """
    Alternate the share step (P2-1) and the greedy threshold step (P2-2): Algorithm 1.

    Start (line 1): the most accurate no-offload pair per camera (the best device-centric
    threshold), or, if that misses ``D_req``, the fastest configuration. Each outer iteration
    sets the shares in closed form (39) (lines 5-8) and then improves the thresholds with the
    shares' rule (lines 10-20). Neither step lowers ``sum_n A_n`` and the shares never raise
    the delay of the current thresholds, so the objective history is non-decreasing
    (Remark 1). Stops when the thresholds no longer change or the mean accuracy gains less
    than ``tol``. With ``candidate_tau='optimal'`` (default) or equal shares the threshold step
    does not depend on the previous shares, so one outer iteration reaches the fixed point.

    Defaults come from a comparison with :func:`exhaustive` on random instances (see
    ``benchmarks/alloc_speed.py``): the paper's literal scheme (``search='sweeps'``,
    ``exchange=False``, ``candidate_tau='previous'``) lands a few per cent below the optimum,
    the default usually on it.

    :param cameras: sequence of :class:`~mec_coop.alloc.model.CameraModel`.
    :param params: :class:`~mec_coop.alloc.model.SystemParams` (with ``delay_req_s``).
    :param scheme: ``'cooperative'`` (both device thresholds) or ``'cascade'``
        (``theta^L = 0``), see :func:`scheme_pairs`.
    :param segments: grid segments K.
    :param equal_shares: keep ``tau_n = 1/N`` instead of (39) ("proposed w/o optimal tau").
    :param search: ``'marginal'`` (marginal-utility greedy), ``'sweeps'`` (randomised
        Gauss-Seidel) or ``'both'`` (alternate them until neither moves), note A-7.
    :param exchange: also try joint moves of two cameras (:func:`pair_exchange`) over their
        undominated pairs.
    :param candidate_tau: how the threshold step checks (28): ``'optimal'`` gives every
        candidate its own closed-form shares; ``'previous'`` keeps the shares of the last share
        step, as the paper's alternation does. Then a camera that sends nothing has no share
        and can never start sending (it locks out). Ignored with ``equal_shares``.
    :param seed: seed of the sweep orders.
    :param max_outer: upper bound on outer iterations.
    :param tol: stop when the mean accuracy gains less than this in an iteration (A-8).
    :param name: solver name recorded in the result.
    :return: :class:`Allocation`.
    """
    started = time.perf_counter()
    _check_choice('search', search, SEARCHES)
    _check_choice('candidate_tau', candidate_tau, CANDIDATE_TAUS)
    table = PairTable(cameras, params, scheme, segments)
    equal = np.full(len(cameras), 1.0 / len(cameras))

    def shares(idx):
        return equal if equal_shares else optimal_shares(table.pick(idx, table.load),
                                                         params.uplink_combine)

    def delay_of(idx):
        return Airtime(table, params, shares(idx)).delay(idx)

    idx, fastest = table.start(), table.fastest()
    min_delay = delay_of(fastest)
    if min_delay > params.delay_req_s + _TOL:
        return _allocation(name, cameras, params, table, idx, shares(idx), started, 0,
                           [table.pick(idx, table.acc).mean()], min_delay)
    if delay_of(idx) > params.delay_req_s + _TOL:
        idx = fastest
    rng = np.random.default_rng(seed)
    choices = undominated(table) if exchange else None
    history = [table.pick(idx, table.acc).mean()]
    iterations = 0
    # With per-candidate or equal shares the threshold step does not depend on the last share
    # step, so its first result is already the fixed point of the alternation.
    follows_shares = candidate_tau == 'previous' and not equal_shares
    while iterations < max_outer:
        iterations += 1
        tau = shares(idx)
        airtime = Airtime(table, params, tau if follows_shares or equal_shares else None)
        before = idx.copy()
        _threshold_step(table, airtime, idx, params.delay_req_s, search, choices, rng)
        history.append(table.pick(idx, table.acc).mean())
        if (not follows_shares or np.array_equal(before, idx)
                or history[-1] - history[-2] < tol):
            break
    return _allocation(name, cameras, params, table, idx, shares(idx), started, iterations,
                       history, min_delay)


def proposed(cameras, params=SystemParams(), **options):
    """
    Solve (P2) with Algorithm 1: both device thresholds, shares from (39).

    :param cameras: sequence of :class:`~mec_coop.alloc.model.CameraModel`.
    :param params: :class:`~mec_coop.alloc.model.SystemParams`.
    :param options: keyword options of :func:`algorithm1`.
    :return: :class:`Allocation`.
    """
    return algorithm1(cameras, params, **{'name': 'proposed', **options})


def proposed_fixed_tau(cameras, params=SystemParams(), **options):
    """
    Solve (P2) with Algorithm 1 but equal shares ``tau_n = 1/N`` ("w/o optimal tau", A.10).

    :param cameras: sequence of :class:`~mec_coop.alloc.model.CameraModel`.
    :param params: :class:`~mec_coop.alloc.model.SystemParams`.
    :param options: keyword options of :func:`algorithm1`.
    :return: :class:`Allocation`.
    """
    return algorithm1(cameras, params, **{'name': 'proposed_fixed_tau', 'equal_shares': True,
                                          **options})


def cascade(cameras, params=SystemParams(), **options):
    """
    Solve the cascade baseline: ``theta^L = 0``, ``theta^H``, ``theta^S`` and tau by Algorithm 1.

    :param cameras: sequence of :class:`~mec_coop.alloc.model.CameraModel`.
    :param params: :class:`~mec_coop.alloc.model.SystemParams`.
    :param options: keyword options of :func:`algorithm1`.
    :return: :class:`Allocation`.
    """
    return algorithm1(cameras, params, **{'name': 'cascade', 'scheme': 'cascade', **options})


def _most_accurate(name, scheme, cameras, params, segments):
    """Take each camera's most accurate pair of ``scheme``, whatever the delay; shares (39)."""
    started = time.perf_counter()
    table = PairTable(cameras, params, scheme, segments)
    idx = table.most_accurate()
    fastest = table.fastest()
    min_delay = Airtime(table, params).delay(fastest)
    tau = optimal_shares(table.pick(idx, table.load), params.uplink_combine)
    return _allocation(name, cameras, params, table, idx, tau, started, 1,
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
    for first in range(0, total, _CHUNK):
        flat = np.arange(first, min(total, first + _CHUNK))
        idx = np.stack([c[i] for c, i in zip(choices, np.unravel_index(flat, shape))], axis=-1)
        delay = delay_from_routes(cameras, params, table.p_uncertain[cams, idx],
                                  table.p_positive[cams, idx])
        min_delay = min(min_delay, delay.min())
        acc = table.acc[cams, idx].sum(axis=-1)
        order = np.lexsort((delay, -np.where(delay <= params.delay_req_s + _TOL, acc, -np.inf)))
        key = (acc[order[0]], -delay[order[0]])
        if delay[order[0]] <= params.delay_req_s + _TOL and key > best_key:
            best_key, best_idx = key, idx[order[0]]
    idx = table.start() if best_idx is None else best_idx
    tau = optimal_shares(table.pick(idx, table.load), params.uplink_combine)
    return _allocation('exhaustive', cameras, params, table, idx, tau, started, total,
                       [table.pick(idx, table.acc).mean()], min_delay)


SOLVERS = {
    'proposed': proposed,
    'proposed_fixed_tau': proposed_fixed_tau,
    'cascade': cascade,
    'device_centric': device_centric,
    'server_centric': server_centric,
    'exhaustive': exhaustive,
}
