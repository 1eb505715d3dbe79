# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Seed 001's distributed ADMM (B.7, eqs. (30)-(46)) and the CCCP baseline (B.8).

ADMM, linear domain with phi_n = f^E_n / F^E (note B-7): each device solves its own step 1
(local: Theorem 1; edge: for every integer m, tau and phi each by a 1-D convex minimisation,
here bisection on the derivative), the MEC projects the global copies onto the simplices with
a bisection on eta_1, eta_2 (43)-(44), and the scaled duals are updated (45)-(46). The cost of
an iterate is evaluated on a feasible point: the devices' x and m with tau and f^E from
(25)-(26) (the copies themselves can give an offloading device a zero share). Stop on a
relative cost change below ``tol`` (B-7: 1e-4) with a small consensus residual, or
``max_iter`` iterations.
"""

import time

import numpy as np
from scipy.optimize import minimize

from .video import gp_edge, plan_from, theorem1, theorem2, VideoPlan
from .video_model import VideoSystem


def _argmin_share(a, beta, rho, hat):
    """Minimise a/s + beta s + rho/2 (s - hat)^2 (convex) over s in (0, 1] by bisection."""
    lo, hi = np.full_like(a, 1e-9), np.ones_like(a)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        slope = -a / mid ** 2 + beta + rho * (mid - hat)
        lo, hi = np.where(slope < 0, mid, lo), np.where(slope < 0, hi, mid)
    return 0.5 * (lo + hi)


def _project(values, total=1.0):
    """[values - eta]^+ with the smallest eta >= 0 that makes the sum at most ``total``."""
    if np.maximum(values, 0.0).sum() <= total:
        return np.maximum(values, 0.0)
    lo, hi = 0.0, float(values.max())
    for _ in range(60):
        eta = 0.5 * (lo + hi)
        if np.maximum(values - eta, 0.0).sum() > total:
            lo = eta
        else:
            hi = eta
    return np.maximum(values - hi, 0.0)


def admm(system: VideoSystem, rho: float = 0.3, tol: float = 1e-4, residual_tol: float = 1e-3,
         max_iter: int = 50) -> VideoPlan:
    """
    Run the distributed ADMM of (30)-(46): offloading, frames, shares, edge frequencies.

    Stops when the cost changes by less than ``tol`` (relative) and the consensus residual
    sum |tau - tau^| + |phi - phi^| is below ``residual_tol``: the cost alone can stall for a
    few iterations before the duals have moved. x is binary, so ADMM is a heuristic here; the
    best feasible iterate is returned.
    """
    started = time.perf_counter()
    n = system.n
    w_t, w_e, w_a = system.weights
    frames = system.frame_range.astype(np.float64)
    b_t, c_t = system.accuracy.monomial(frames[0], frames[-1])
    m_local, _, local_cost = theorem1(system)
    # Per device and frame count: transmission and computation coefficients of (31).
    comm = system.omega[:, None] * frames[None, :] * system.frame_bits / system.rates[:, None]
    comp = np.broadcast_to(w_t * system.xi * system.macs(frames) / system.f_edge, comm.shape)
    surrogate = w_a * b_t * frames ** -c_t
    if system.on_air_energy:
        surrogate = surrogate + w_e * system.power_w * frames[None, :] * system.frame_bits \
            / system.rates[:, None]
    h_star = local_cost + w_a * system.accuracy.a         # (32): same offset as (31)
    tau_hat, phi_hat = np.full(n, 1.0 / n), np.full(n, 1.0 / n)
    beta, gamma = np.zeros(n), np.zeros(n)
    history, previous, best_cost = [], None, None
    for iteration in range(1, max_iter + 1):
        # Step 1 (40)-(41), every device on its own.
        tau_m = _argmin_share(comm, beta[:, None], rho, tau_hat[:, None])
        phi_m = _argmin_share(comp, gamma[:, None], rho, phi_hat[:, None])
        value = comm / tau_m + comp / phi_m + surrogate + beta[:, None] * tau_m \
            + gamma[:, None] * phi_m + 0.5 * rho * ((tau_m - tau_hat[:, None]) ** 2
                                                    + (phi_m - phi_hat[:, None]) ** 2)
        best = np.argmin(value, axis=1)
        edge_value = value[np.arange(n), best]
        local_value = h_star + 0.5 * rho * (tau_hat ** 2 + phi_hat ** 2)
        x = edge_value < local_value
        m = np.where(x, frames[best], m_local)
        tau = np.where(x, tau_m[np.arange(n), best], 0.0)
        phi = np.where(x, phi_m[np.arange(n), best], 0.0)
        # Step 2 (42)-(44) at the MEC, step 3 (45)-(46).
        tau_hat = _project(tau + beta / rho)
        phi_hat = _project(phi + gamma / rho)
        beta += rho * (tau - tau_hat)
        gamma += rho * (phi - phi_hat)
        cost = _feasible_cost(system, x, m)
        history.append(cost)
        if best_cost is None or cost < best_cost:
            best_cost, best_x, best_m = cost, x, m
        residual = np.abs(tau - tau_hat).sum() + np.abs(phi - phi_hat).sum()
        if previous is not None and abs(cost - previous) <= tol * abs(cost) \
                and residual <= residual_tol:
            break
        previous = cost
    x, m = best_x, best_m
    edge = np.flatnonzero(x)
    shares, f_edge = theorem2(system, edge, m)
    f_local = np.where(x, 0.0, theorem1(system)[1])
    return VideoPlan('admm', x, m, shares, f_local, f_edge, system.cost(x, m, shares, f_local,
                                                                        f_edge),
                     time.perf_counter() - started, iteration, tuple(history))


def _feasible_cost(system, x, m):
    shares, f_edge = theorem2(system, np.flatnonzero(x), m)
    f_local = np.where(x, 0.0, theorem1(system)[1])
    return system.cost(x, m, shares, f_local, f_edge)


def cccp(system: VideoSystem, penalty: float = 0.5, max_iter: int = 30) -> VideoPlan:
    """
    Solve with the CCCP baseline (B.8, reconstructed).

    x relaxed to [0, 1] with the concave penalty
    penalty * sum x (1 - x), linearised at the current x each iteration; the edge cost is
    (27) with each device's terms scaled by x_n at the all-edge GP frames. Rounded at the end,
    then Theorem 1 + GP.
    """
    started = time.perf_counter()
    n = system.n
    w_t, _, w_a = system.weights
    everyone = np.arange(n)
    m_edge, _ = gp_edge(system, everyone)
    _, _, local_cost = theorem1(system)
    a = np.sqrt(system.omega * m_edge / system.rates)
    b = np.sqrt(system.macs(m_edge))
    acc = system.accuracy(m_edge)
    k = w_t * system.xi / system.f_edge

    def relaxed(x, linear):
        s1, s2 = x @ a, x @ b
        value = system.frame_bits * s1 ** 2 + k * s2 ** 2 - w_a * (x @ acc) \
            + (1 - x) @ local_cost + linear @ x
        grad = 2 * system.frame_bits * s1 * a + 2 * k * s2 * b - w_a * acc - local_cost + linear
        return value, grad
    x = np.full(n, 0.5)
    for iteration in range(1, max_iter + 1):
        linear = penalty * (1.0 - 2.0 * x)       # gradient of the concave penalty at x
        new = minimize(relaxed, x, args=(linear,), jac=True, method='L-BFGS-B',
                       bounds=[(0.0, 1.0)] * n).x
        if np.max(np.abs(new - x)) < 1e-6:
            x = new
            break
        x = new
    plan = plan_from(system, 'cccp', x > 0.5, gp_edge, started)
    plan.iterations = iteration
    return plan
