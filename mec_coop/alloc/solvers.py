# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Solvers of problem (P2): thresholds and TDMA shares that maximise ``sum_n A_n`` under (28)-(30).

Every solver is called as ``solver(cameras, params=SystemParams(), **options)`` and returns an
:class:`Allocation`; :data:`mec_coop.alloc.plan.SOLVERS` maps the names to the functions.
Thresholds live on the grid ``{0, 1/K, ..., 1}`` of ``K = segments`` segments (note A-8: K = 20).

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

import time
from typing import Any, Sequence

import numpy as np

from mec_coop.alloc.model import optimal_shares, SystemParams
from mec_coop.alloc.scores import CameraModel
from mec_coop.alloc.tables import (_max_of_others, Airtime, Allocation, make_allocation,
                                   PairTable, TOL, undominated)

SEARCHES = ('marginal', 'sweeps', 'both')
CANDIDATE_TAUS = ('optimal', 'previous')


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
        ok = (delays <= delay_req + TOL) & (gain > TOL)
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
            acc = np.where(delays <= delay_req + TOL, table.acc[camera], -np.inf)
            best = np.flatnonzero(acc >= acc.max() - TOL)
            pair = best[np.argmin(delays[best])]
            now = idx[camera]
            if acc[pair] > acc[now] + TOL or (acc[pair] >= acc[now]
                                              and delays[pair] < delays[now] - TOL):
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

    Camera pairs are visited in order ``(0, 1), (0, 2), ..., (N-2, N-1)`` and an improving move
    is taken at once. The pairs of one ``first`` camera are evaluated together, as one
    ``(choices of first, choices of all later cameras)`` array, up to the first pair that
    improves; after a move the rest of that row is evaluated again. That is the pair-by-pair
    visit, without a Python call per pair (N = 64 has 2016 pairs).

    :param table: :class:`PairTable`.
    :param airtime: :class:`Airtime` that checks (28).
    :param idx: feasible start, pair index per camera (updated in place).
    :param delay_req: ``D_req`` in seconds.
    :param choices: candidate pair indices per camera (e.g. :func:`undominated`).
    :return: ``idx``.
    """
    # All cameras' candidates end to end; the later cameras of ``first`` are a suffix.
    owner = np.concatenate([np.full(c.size, n) for n, c in enumerate(choices)])
    pair = np.concatenate(choices)
    offset = np.cumsum([0] + [c.size for c in choices])
    terms, p_unc, acc = (values[owner, pair] for values in
                         (airtime.terms, table.p_uncertain, table.acc))
    summed = airtime.combine == 'sum'
    improved = True
    while improved:
        improved = False
        for first in range(idx.size - 1):
            mine = choices[first]
            mine_acc, mine_terms, mine_unc = (values[first, mine] for values in
                                              (table.acc, airtime.terms, table.p_uncertain))
            start = offset[first + 1]
            while start < owner.size:
                cam = owner[start:]
                # Aggregates of the cameras other than ``first`` and each later camera.
                now_terms, now_unc, now_acc = (table.pick(idx, values).copy() for values in
                                               (airtime.terms, table.p_uncertain, table.acc))
                now_terms[first] = now_unc[first] = 0.0  # neutral for the sum and the max
                if summed:
                    kept = now_terms.sum() - now_terms[cam] + terms[start:]
                else:
                    kept = np.maximum(_max_of_others(now_terms)[cam], terms[start:])
                kept_unc = now_unc.sum() - now_unc[cam] + p_unc[start:]
                # Bounds over all choices of ``first`` skip the later candidates that cannot
                # improve. They take the same operations in the same order as the exact values
                # below, so rounding cannot make a bound drop a move.
                bound = mine_acc.max() + acc[start:] - now_acc[first] - now_acc[cam]
                fastest = airtime._delay(_combine(summed, kept, mine_terms.min()),
                                         kept_unc + mine_unc.min())
                cols = np.flatnonzero((bound > TOL) & (fastest <= delay_req + TOL))
                delays = airtime._delay(_combine(summed, kept[cols][None, :],
                                                 mine_terms[:, None]),
                                        kept_unc[cols][None, :] + mine_unc[:, None])
                gain = (mine_acc[:, None] + acc[start + cols][None, :]
                        - now_acc[first] - now_acc[cam[cols]][None, :])
                gain = np.where(delays <= delay_req + TOL, gain, -np.inf)
                hits = np.flatnonzero(gain.max(axis=0, initial=-np.inf) > TOL)
                if not hits.size:
                    break
                # The first later camera with a move takes its best one; the screened-out
                # candidates cannot be that best, so the argmax over the kept ones is it.
                second = cam[cols[hits[0]]]
                block = owner[start + cols] == second
                row, col = np.unravel_index(np.argmax(gain[:, block]), (mine.size, block.sum()))
                idx[first], idx[second] = mine[row], pair[start + cols[block][col]]
                improved = True
                start = offset[second + 1]
    return idx


def _combine(summed, uplink, term):
    """Add a camera's airtime term to the others' aggregate (``'sum'``) or take the max."""
    return uplink + term if summed else np.maximum(uplink, term)


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
    if min_delay > params.delay_req_s + TOL:
        return make_allocation(name, cameras, params, table, idx, shares(idx), started, 0,
                               [table.pick(idx, table.acc).mean()], min_delay)
    if delay_of(idx) > params.delay_req_s + TOL:
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
    return make_allocation(name, cameras, params, table, idx, shares(idx), started, iterations,
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


def paper_literal(cameras: Sequence[CameraModel], params: SystemParams = SystemParams(),
                  **options: Any) -> Allocation:
    """
    Solve (P2) with Algorithm 1 as the paper writes it.

    Gauss-Seidel sweeps, no pair exchange, candidates judged with the shares of the previous
    share step (the paper-literal scheme of the issue's report, selectable beside the default).

    Kept selectable so reports can show it beside :func:`proposed`, the enhanced default.

    :param cameras: sequence of :class:`~mec_coop.alloc.scores.CameraModel`.
    :param params: :class:`~mec_coop.alloc.model.SystemParams`.
    :param options: keyword options of :func:`algorithm1`.
    :return: :class:`Allocation`.
    """
    return algorithm1(cameras, params, **{'name': 'paper_literal', 'search': 'sweeps',
                                          'exchange': False, 'candidate_tau': 'previous',
                                          **options})


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
