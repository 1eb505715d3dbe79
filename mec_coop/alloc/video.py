# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Seed 001's allocation: local vs edge, frames m_n, TDMA shares tau_n, f^L_n and f^E_n.

"Joint Optimization of Video-based AI Inference Tasks in MEC-assisted Augmented Reality
Systems" (reconstruction B.4-B.8): Theorem 1 (local set, closed form), Theorem 2 (edge set:
tau and f^E in closed form (25)-(26) given m), Algorithm 1 (exact search over m for the edge
set), Algorithm 2 (GP on the monomial accuracy surrogate (28)-(29), solved by SLSQP in log
variables, then rounded), Algorithm 3 (Channel-Aware offloading), and the baselines Local-only,
Edge-only, Random and the Search+Search bound (exhaustive over offloading too). ADMM and CCCP
are in :mod:`.video_admm`. Each solver returns a :class:`VideoPlan`, whose cost is the true
objective (13) (never the surrogate).
"""

from dataclasses import dataclass
import itertools
import time
from typing import Callable

import numpy as np
from scipy.optimize import minimize

from .video_model import VideoSystem


@dataclass
class VideoPlan:
    """A complete decision: offloading x, frames m, shares tau, frequencies, and its cost."""

    scheme: str
    x: np.ndarray
    m: np.ndarray
    tau: np.ndarray
    f_local: np.ndarray
    f_edge: np.ndarray
    cost: float
    solve_time_s: float = 0.0
    iterations: int = 0
    history: tuple[float, ...] = ()

    @property
    def offloading_rate(self) -> float:
        """Fraction of devices on the edge."""
        return float(np.mean(self.x))


def theorem1(system: VideoSystem) -> tuple[np.ndarray, float, np.ndarray]:
    """
    Local optimum of every device, eqs. (19)-(22): integer ``m``, ``f^L``, cost C^L* each.

    f* = min((w_T / (2 kappa w_E))^(1/3), F^L) (48)-(49); m from (51)-(52), clipped to the frame
    range, then the better of floor and ceil (B-8).
    """
    w_t, w_e, w_a = system.weights
    f = min((w_t / (2.0 * system.kappa * w_e)) ** (1.0 / 3.0), system.f_local)
    g = w_t / f + w_e * system.kappa * f ** 2
    acc = system.accuracy
    frames = system.frame_range
    ratio = w_a * acc.b * acc.c / (system.xi * system.macs.s1 * g)
    m0 = np.log(ratio) / acc.c if ratio > 0 else -np.inf
    m_star = float(np.clip(m0, frames[0], frames[-1]))
    candidates = np.unique(np.clip([np.floor(m_star), np.ceil(m_star)], frames[0], frames[-1]))
    costs = system.local_cost(candidates, f)
    best = candidates[int(np.argmin(costs))]
    return np.full(system.n, best), f, np.full(system.n, float(costs.min()))


def theorem2(system: VideoSystem, edge: np.ndarray, m: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Shares (25) and edge frequencies (26) of the devices ``edge`` (indices) given ``m``."""
    tau, f = np.zeros(system.n), np.zeros(system.n)
    if len(edge):
        a = np.sqrt(system.omega[edge] * m[edge] / system.rates[edge])
        b = np.sqrt(system.macs(m[edge]))
        tau[edge] = a / a.sum()
        f[edge] = system.f_edge * b / b.sum()
    return tau, f


def edge_frames_cost(system: VideoSystem, edge: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Objective (27) of the edge set for frame choices ``m`` (..., |edge|) (vectorised)."""
    w_t, w_e, w_a = system.weights
    m = np.asarray(m, dtype=np.float64)
    s1 = np.sqrt(system.omega[edge] * m / system.rates[edge]).sum(axis=-1)
    s2 = np.sqrt(system.macs(m)).sum(axis=-1)
    extra = 0.0
    if system.on_air_energy:
        extra = (w_e * system.power_w * m * system.frame_bits / system.rates[edge]).sum(-1)
    return system.frame_bits * s1 ** 2 + w_t * system.xi / system.f_edge * s2 ** 2 + extra \
        - w_a * system.accuracy(m).sum(axis=-1)


def search_edge(system: VideoSystem, edge: np.ndarray) -> tuple[np.ndarray, float]:
    """Algorithm 1: exact frames of the edge set by exhaustive search (|M|^|edge| points)."""
    if len(edge) == 0:
        return np.zeros(0), 0.0
    frames = system.frame_range.astype(np.float64)
    # Sums over devices by broadcasting one axis per device: no list of tuples in memory.
    grids = np.meshgrid(*([frames] * len(edge)), indexing='ij', sparse=True)
    w_t, w_e, w_a = system.weights
    s1 = sum(np.sqrt(system.omega[e] * g / system.rates[e]) for e, g in zip(edge, grids))
    s2 = sum(np.sqrt(system.macs(g)) for g in grids)
    acc = sum(system.accuracy(g) for g in grids)
    extra = 0.0
    if system.on_air_energy:
        extra = sum(w_e * system.power_w * g * system.frame_bits / system.rates[e]
                    for e, g in zip(edge, grids))
    total = system.frame_bits * s1 ** 2 + w_t * system.xi / system.f_edge * s2 ** 2 + extra \
        - w_a * acc
    best = np.unravel_index(int(np.argmin(total)), total.shape)
    return frames[list(best)], float(total[best])


def gp_edge(system: VideoSystem, edge: np.ndarray) -> tuple[np.ndarray, float]:
    """
    Solve the edge set's frames by Algorithm 2 (GP).

    The monomial surrogate (28) in log variables (29), SLSQP, warm start
    at the middle of the frame range and equal shares; m rounded and clipped, then evaluated
    with the true objective (27).
    """
    k = len(edge)
    if k == 0:
        return np.zeros(0), 0.0
    w_t, w_e, w_a = system.weights
    frames = system.frame_range
    b_t, c_t = system.accuracy.monomial(frames[0], frames[-1])
    comm = system.omega[edge] * system.frame_bits / system.rates[edge]
    comp = w_t * system.xi / system.f_edge
    if system.on_air_energy:
        air = w_e * system.power_w * system.frame_bits / system.rates[edge]
    else:
        air = np.zeros(k)

    def objective(z):
        u, v, p = z[:k], z[k:2 * k], z[2 * k:]
        m = np.exp(u)
        terms = comm * np.exp(u - v) + comp * (system.macs.s1 * m + system.macs.s0) \
            * np.exp(-p) + w_a * b_t * np.exp(-c_t * u) + air * m
        grad_u = comm * np.exp(u - v) + comp * system.macs.s1 * m * np.exp(-p) \
            - w_a * b_t * c_t * np.exp(-c_t * u) + air * m
        grad_v = -comm * np.exp(u - v)
        grad_p = -comp * (system.macs.s1 * m + system.macs.s0) * np.exp(-p)
        return float(terms.sum()), np.concatenate([grad_u, grad_v, grad_p])

    share = np.full(k, np.log(1.0 / k))
    z0 = np.concatenate([np.full(k, np.log(np.sqrt(frames[0] * frames[-1]))), share, share])
    simplex = [{'type': 'ineq', 'fun': lambda z, s=s: -np.log(np.exp(z[s]).sum()),
                'jac': lambda z, s=s: -_softmax_jac(z, s, k)} for s in
               (slice(k, 2 * k), slice(2 * k, 3 * k))]
    bounds = [(np.log(frames[0]), np.log(frames[-1]))] * k + [(-30.0, 0.0)] * (2 * k)
    result = minimize(objective, z0, jac=True, method='SLSQP', bounds=bounds,
                      constraints=simplex, options={'maxiter': 300, 'ftol': 1e-10})
    m = np.clip(np.round(np.exp(result.x[:k])), frames[0], frames[-1])
    return m, float(edge_frames_cost(system, edge, m))


def _softmax_jac(z, s, k):
    """Gradient of log(sum(exp(z[s]))) over the whole variable vector."""
    grad = np.zeros(3 * k)
    e = np.exp(z[s] - z[s].max())
    grad[s] = e / e.sum()
    return grad


EdgeSolver = Callable[[VideoSystem, np.ndarray], tuple[np.ndarray, float]]


def plan_from(system: VideoSystem, scheme: str, x: np.ndarray, edge_solver: EdgeSolver,
              started: float) -> VideoPlan:
    """Complete a decision for offloading ``x``: Theorem 1 locally, ``edge_solver`` + (25)-(26)."""
    x = np.asarray(x, dtype=bool)
    m_local, f_star, _ = theorem1(system)
    edge = np.flatnonzero(x)
    m = m_local.astype(np.float64).copy()
    m_edge, _ = edge_solver(system, edge)
    m[edge] = m_edge
    tau, f_edge = theorem2(system, edge, m)
    f_local = np.where(x, 0.0, f_star)
    return VideoPlan(scheme, x, m, tau, f_local, f_edge,
                     system.cost(x, m, tau, f_local, f_edge), time.perf_counter() - started)


def channel_aware(system: VideoSystem, edge_solver: EdgeSolver, scheme: str) -> VideoPlan:
    """Algorithm 3: start all on the edge, move the weakest channel local while it pays."""
    started = time.perf_counter()
    _, _, local_cost = theorem1(system)
    x = np.ones(system.n, dtype=bool)
    best = edge_solver(system, np.flatnonzero(x))[1]
    evaluations = 1
    while x.any():
        edge = np.flatnonzero(x)
        k = edge[int(np.argmin(system.rates[edge]))]
        trial = x.copy()
        trial[k] = False
        cost = local_cost[~trial].sum() + edge_solver(system, np.flatnonzero(trial))[1]
        evaluations += 1
        if cost >= best:
            break
        x, best = trial, cost
    plan = plan_from(system, scheme, x, edge_solver, started)
    plan.iterations = evaluations
    return plan


def search_search(system: VideoSystem) -> VideoPlan:
    """Search+Search, the bound: every offloading vector (2^N), Algorithm 1 on its edge set."""
    started = time.perf_counter()
    _, _, local_cost = theorem1(system)
    best_x: np.ndarray = np.zeros(system.n, dtype=bool)
    best = np.inf
    for bits in itertools.product((False, True), repeat=system.n):
        x = np.array(bits)
        cost = local_cost[~x].sum() + search_edge(system, np.flatnonzero(x))[1]
        if cost < best:
            best_x, best = x, cost
    return plan_from(system, 'search_search', best_x, search_edge, started)


def local_only(system: VideoSystem) -> VideoPlan:
    """Every device runs locally (Theorem 1)."""
    return plan_from(system, 'local', np.zeros(system.n, bool), gp_edge, time.perf_counter())


def edge_only(system: VideoSystem) -> VideoPlan:
    """Every device offloads (GP)."""
    return plan_from(system, 'edge', np.ones(system.n, bool), gp_edge, time.perf_counter())


def random_offloading(system: VideoSystem, rng: np.random.Generator) -> VideoPlan:
    """x_n ~ Bernoulli(0.5), Theorem 1 + GP."""
    return plan_from(system, 'random', rng.random(system.n) < 0.5, gp_edge,
                     time.perf_counter())


def search_heuristic(system: VideoSystem) -> VideoPlan:
    """Channel-Aware offloading with Algorithm 1 (exact edge frames)."""
    return channel_aware(system, search_edge, 'search_heuristic')


def gp_heuristic(system: VideoSystem) -> VideoPlan:
    """GP + Channel-Aware heuristic (proposed)."""
    return channel_aware(system, gp_edge, 'gp_heuristic')
