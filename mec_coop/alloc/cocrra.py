# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Co-CRRA: each camera's compression ratio with its bandwidth and power (paper D, Sec. IV).

"Adaptive Compression Offloading and Resource Allocation for Edge Vision Computing" (Xiao et
al., IEEE TCCN 2024). User ``i`` sends ``D_i^0 (1 - o_i)`` bits at the Shannon rate (1) of its
band ``b_i`` and power ``p_i`` over a channel ``h_i ~ N(0, delta^2)``. It succeeds when the
upload takes at most ``t0`` (2) and the model is right on the compressed data, ``eta(o)`` (3):
``Phi_i = eta(o_i) Pr(t_i <= t0)``. P* maximises ``sum_i Phi_i`` under the band and power budgets
C1-C4 (4)-(9). Algorithm 1 alternates P1 (``o`` on a grid, per user, (10)) and P2 (``b, p`` by
successive convex approximation of the slack-variable problem P2.1/P2.2, (12)-(25)).

Units inside: bandwidth in MHz, power in W, data in bit. The paper's printed ``eta(0) = 1.4``
is normalised by ``eta(0)`` (PAPERS_MATH D-1; argmax unchanged, ``Phi <= 1``).
"""

from dataclasses import dataclass, field, replace
from typing import Optional

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm

O_GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)   # P1's grid, epsilon_o = 0.01
MHZ = 1e6
L_FLOOR = -60.0   # log success floor: exp(-60) is zero in every figure, and keeps SCA finite


def eta(o, zeta=(0.6, -0.3, 0.8, -0.4), normalise: bool = True):
    """Give the probability the model is right on data compressed by ``o``, (eta) (D-1)."""
    z1, z2, z3, z4 = zeta
    o = np.asarray(o, dtype=np.float64)
    value = z1 * np.exp(z2 * o) + z3 * np.exp(z4 * o)
    return value / (z1 + z3) if normalise else value


@dataclass(frozen=True)
class CoCrraProblem:
    """One instance of P*: users' raw data and the budgets (defaults: PAPERS_MATH D.1)."""

    data_bits: np.ndarray                      # D_i^0 per user
    b_max_mhz: float = 15.0
    b_min_mhz: float = 5.0
    p_max_w: float = 0.1
    p_min_w: float = 0.01
    t0_s: float = 0.1
    delta: float = 1e-9                        # channel std [ASSUMPTION D.1]
    n0_w_per_hz: float = 10 ** ((-174.0 - 30.0) / 10.0)
    zeta: tuple = (0.6, -0.3, 0.8, -0.4)
    normalise_eta: bool = True
    data: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        d = np.asarray(self.data_bits, dtype=np.float64).reshape(-1)
        object.__setattr__(self, 'data', d)
        u = len(d)
        if u == 0 or not np.all(d > 0):
            raise ValueError('Co-CRRA needs at least one user with positive data')
        if u * self.b_min_mhz > self.b_max_mhz + 1e-12 or u * self.p_min_w > self.p_max_w + 1e-15:
            raise ValueError(f'infeasible budgets: {u} users need {u * self.b_min_mhz} MHz and '
                             f'{u * self.p_min_w} W at least, have {self.b_max_mhz} MHz and '
                             f'{self.p_max_w} W')

    @property
    def users(self) -> int:
        return len(self.data)

    def eta(self, o):
        """Give the probability the model is right on compressed data, :func:`eta`."""
        return eta(o, self.zeta, self.normalise_eta)

    def threshold(self, o, b_mhz, p_w):
        """``x = (2^{alpha (1-o)} - 1) N0 b / (p delta)``: the channel gain needed, in deltas."""
        b = np.asarray(b_mhz, dtype=np.float64) * MHZ
        alpha = self.data / (b * self.t0_s)
        with np.errstate(over='ignore'):
            return (np.exp2(alpha * (1.0 - np.asarray(o))) - 1.0) * self.n0_w_per_hz * b / (
                np.asarray(p_w) * self.delta)

    def delivery(self, o, b_mhz, p_w, exact=False):
        """``Pr(t_i <= t0)``: (2) exactly (``2 Q(x)``) or the approximation the paper optimises."""
        x = self.threshold(o, b_mhz, p_w)
        if exact:
            return 2.0 * norm.sf(x)
        with np.errstate(over='ignore'):
            return np.exp(-0.5 * np.minimum(x, 1e150) ** 2)

    def success(self, o, b_mhz, p_w, exact=False):
        """``Phi_i``, (3), per user."""
        return self.eta(o) * self.delivery(o, b_mhz, p_w, exact)


@dataclass
class CoCrraPlan:
    """A solution: ratios, bands (MHz), powers (W), per-user ``Phi`` and the method's name."""

    o: np.ndarray
    b_mhz: np.ndarray
    p_w: np.ndarray
    phi: np.ndarray
    method: str
    iterations: int = 0

    @property
    def mean_success(self) -> float:
        return float(np.mean(self.phi))


def solve_p1(problem: CoCrraProblem, b_mhz, p_w, grid=O_GRID) -> np.ndarray:
    """P1 (10): for fixed ``b, p`` each user's best ratio on the grid (separable)."""
    o = np.asarray(grid, dtype=np.float64)[:, None]
    values = problem.eta(o) * problem.delivery(o, np.asarray(b_mhz)[None], np.asarray(p_w)[None])
    return o[np.argmax(values, axis=0), 0]


def _unpack(x, u):
    return x.reshape(7, u)   # b, p, l, y, m_hat, q, z_hat (m, z scaled per user)


def _sca_step(problem, o, phi, b0, p0, paper_sca):
    """
    One convex subproblem P2.2 (21)-(25) around ``(b0, p0)``; returns the new ``(b, p)``.

    Slacks at the expansion point are tight (Algorithm 1, lines 12-13). ``m`` and ``z`` are
    scaled by their values there so every variable is O(1) for the solver. The tangent (23)
    replaces C6 and (19) the bilinear ``z >= b m``; (20) is the conservative form (only
    ``(y+p)^2`` linearised, PAPERS_MATH D-3) unless ``paper_sca`` (both squares, as printed).
    """
    u = problem.users
    c = problem.n0_w_per_hz * MHZ / problem.delta          # y >= c b m / p, b in MHz
    q0 = problem.data * (1.0 - o) / (b0 * MHZ * problem.t0_s)
    m0 = np.exp2(q0) - 1.0
    y0 = c * b0 * m0 / p0
    l0 = np.maximum(-0.5 * y0 ** 2, L_FLOOR)
    y0 = np.sqrt(-2.0 * l0)
    ms, zs = np.maximum(m0, 1e-9), np.maximum(b0 * m0, 1e-9)
    x0 = np.concatenate([b0, p0, l0, y0, m0 / ms, q0, b0 * m0 / zs])
    weight = phi * np.exp(l0)
    scale = max(float(weight.sum()), 1e-300)

    def objective(x):
        return -float(np.sum(weight * (1.0 + _unpack(x, u)[2] - l0))) / scale

    def objective_grad(x):
        g = np.zeros_like(x)
        g[2 * u:3 * u] = -weight / scale
        return g

    d0, s0, e0 = b0 - m0, y0 + p0, y0 - p0
    den = np.maximum(4.0 * c * zs, 1e-12)
    flow = problem.data * (1.0 - o) / (MHZ * problem.t0_s)

    def constraints(x):
        b, p, ll, y, mh, q, zh = _unpack(x, u)
        m, z = mh * ms, zh * zs
        c12 = (z - (0.25 * ((b + m) ** 2 + d0 ** 2) - 0.5 * d0 * (b - m))) / zs
        rhs = 2.0 * (y + p) * s0 - s0 ** 2
        rhs = rhs - (2.0 * (y - p) * e0 - e0 ** 2 if paper_sca else (y - p) ** 2)
        return np.concatenate([
            [problem.b_max_mhz - b.sum(), problem.p_max_w - p.sum()],
            -0.5 * y ** 2 - ll,                                            # C7
            (m - (np.exp2(np.minimum(q, 1000.0)) - 1.0)) / (ms + 1.0),     # C9
            q - flow / b,                                                  # C10
            c12, (rhs - 4.0 * c * z) / den])                               # (19), (20)

    def jacobian(x):
        b, p, ll, y, mh, q, zh = _unpack(x, u)
        m = mh * ms
        jac = np.zeros((2 + 5 * u, 7 * u))
        jac[0, :u] = -1.0
        jac[1, u:2 * u] = -1.0
        i = np.arange(u)
        col = {name: k * u + i for k, name in enumerate(('b', 'p', 'l', 'y', 'm', 'q', 'z'))}
        r7, r9, r10, r12, r13 = (2 + k * u + i for k in range(5))
        jac[r7, col['y']], jac[r7, col['l']] = -y, -1.0
        jac[r9, col['m']] = ms / (ms + 1.0)
        jac[r9, col['q']] = -np.log(2.0) * np.exp2(np.minimum(q, 1000.0)) / (ms + 1.0)
        jac[r10, col['q']], jac[r10, col['b']] = 1.0, flow / b ** 2
        jac[r12, col['z']] = 1.0
        jac[r12, col['b']] = (-0.5 * (b + m) + 0.5 * d0) / zs
        jac[r12, col['m']] = (-0.5 * (b + m) - 0.5 * d0) * ms / zs
        g = 2.0 * e0 if paper_sca else 2.0 * (y - p)
        jac[r13, col['y']], jac[r13, col['p']] = (2.0 * s0 - g) / den, (2.0 * s0 + g) / den
        jac[r13, col['z']] = -4.0 * c * zs / den
        return jac

    bounds = ([(problem.b_min_mhz, problem.b_max_mhz)] * u + [(problem.p_min_w,
                                                              problem.p_max_w)] * u +
              [(L_FLOOR, 0.0)] * u + [(0.0, None)] * u + [(0.0, None)] * u +
              [(0.0, None)] * u + [(0.0, None)] * u)
    res = minimize(objective, x0, jac=objective_grad, method='SLSQP', bounds=bounds,
                   constraints=[{'type': 'ineq', 'fun': constraints, 'jac': jacobian}],
                   options={'maxiter': 200, 'ftol': 1e-10})
    b, p = _unpack(res.x, u)[:2]
    return np.clip(b, problem.b_min_mhz, None), np.clip(p, problem.p_min_w, None)


def _feasible(problem, b, p):
    return (b.sum() <= problem.b_max_mhz * (1 + 1e-6) and p.sum() <= problem.p_max_w * (1 + 1e-6)
            and (b >= problem.b_min_mhz * (1 - 1e-9)).all()
            and (p >= problem.p_min_w * (1 - 1e-9)).all())


def solve_p2(problem: CoCrraProblem, o, b0, p0, eps2: float = 1e-4, max_iter: int = 30,
             paper_sca: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """
    Solve P2 (11) by SCA (Algorithm 1, lines 12-17).

    The convex P2.2 is solved around the last point until ``sum_i eta_i gamma_i`` changes by
    less than ``eps2``. A step that makes the true objective worse or leaves the budgets (the
    solver's tolerance) is not taken.
    """
    phi = problem.eta(o)
    b, p = np.asarray(b0, dtype=np.float64), np.asarray(p0, dtype=np.float64)
    value = float(np.sum(phi * problem.delivery(o, b, p)))
    k = 0
    for k in range(1, max_iter + 1):
        nb, np_ = _sca_step(problem, o, phi, b, p, paper_sca)
        new = float(np.sum(phi * problem.delivery(o, nb, np_)))
        if not _feasible(problem, nb, np_) or new < value - 1e-12:
            break
        b, p, done = nb, np_, abs(new - value) < eps2
        value = new
        if done:
            break
    return b, p, k


def equal_split(problem: CoCrraProblem) -> tuple[np.ndarray, np.ndarray]:
    u = problem.users
    return np.full(u, problem.b_max_mhz / u), np.full(u, problem.p_max_w / u)


def starts(problem: CoCrraProblem, multi: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """
    List the starting splits of Algorithm 1.

    The equal split (Algorithm 1, line 1), and with ``multi`` one start per user that gives it
    most of the budget above the minimums. P* is not concave and its optimum often lies at
    such a corner (one user with a wide band and high power), which SCA from the equal split
    does not reach.
    """
    out = [equal_split(problem)]
    u = problem.users
    if multi and u > 1:
        spare_b = problem.b_max_mhz - u * problem.b_min_mhz
        spare_p = problem.p_max_w - u * problem.p_min_w
        for i in range(u):
            w = np.full(u, 0.3 / (u - 1))
            w[i] = 0.7
            out.append((problem.b_min_mhz + spare_b * w, problem.p_min_w + spare_p * w))
    return out


def co_crra(problem: CoCrraProblem, eps1: float = 1e-4, max_outer: int = 20,
            paper_sca: bool = False, multi_start: bool = True) -> CoCrraPlan:
    """
    Algorithm 1: P1 and P2 in turn until the objective settles, from each of :func:`starts`.

    ``multi_start=False, paper_sca=True`` is the paper's method as written (equal split, the
    printed SCA constraint (20)); the default keeps the best of the corner starts too.
    """
    plans = []
    for b, p in starts(problem, multi_start):
        total, n = -np.inf, 0
        for n in range(1, max_outer + 1):
            o = solve_p1(problem, b, p)
            b, p, _ = solve_p2(problem, o, b, p, paper_sca=paper_sca)
            new = float(np.sum(problem.success(o, b, p)))
            settled = abs(new - total) < eps1
            total = new
            if settled:
                break
        o = solve_p1(problem, b, p)
        plans.append(CoCrraPlan(o, b, p, problem.success(o, b, p), 'co_crra' + (
            '_paper_sca' if paper_sca else '') + ('' if multi_start else '_equal_start'), n))
    return max(plans, key=lambda plan: float(plan.phi.sum()))


# ---- baselines (PAPERS_MATH D.5) ---------------------------------------------------------------

def msvra(problem: CoCrraProblem, o_fixed: float = 0.5) -> CoCrraPlan:
    """Run MSVRA: maximise the sum rate (channel at its scale ``delta``), ``o`` fixed."""
    u = problem.users
    b0, p0 = equal_split(problem)

    # Mbit/s over (MHz, W / P_max): every number O(1) for the solver.
    snr_per_unit = problem.p_max_w * problem.delta / (problem.n0_w_per_hz * MHZ)

    def neg_rate(x):
        b, p = x[:u], x[u:]
        return -float(np.sum(b * np.log2(1.0 + p * snr_per_unit / b)))
    res = minimize(neg_rate, np.concatenate([b0, p0 / problem.p_max_w]), method='SLSQP',
                   bounds=[(problem.b_min_mhz, problem.b_max_mhz)] * u +
                   [(problem.p_min_w / problem.p_max_w, 1.0)] * u,
                   constraints=[{'type': 'ineq', 'fun': lambda x: problem.b_max_mhz - x[:u].sum()},
                                {'type': 'ineq', 'fun': lambda x: 1.0 - x[u:].sum()}],
                   options={'ftol': 1e-12, 'maxiter': 500})
    b, p = res.x[:u], res.x[u:] * problem.p_max_w
    if not (res.success and _feasible(problem, b, p)):
        raise RuntimeError(f'MSVRA sum-rate solve failed: {res.message}')
    o = np.full(u, o_fixed)
    return CoCrraPlan(o, b, p, problem.success(o, b, p), 'msvra')


def fcrra(problem: CoCrraProblem, o_fixed: float = 0.5) -> CoCrraPlan:
    """Run FCRRA: a fixed ratio for all users, ``b, p`` from P2."""
    o = np.full(problem.users, o_fixed)
    b, p, k = solve_p2(problem, o, *equal_split(problem))
    return CoCrraPlan(o, b, p, problem.success(o, b, p), 'fcrra', k)


def fracr(problem: CoCrraProblem) -> CoCrraPlan:
    """Run FRACR: fixed equal resources, ``o`` from P1."""
    b, p = equal_split(problem)
    o = solve_p1(problem, b, p)
    return CoCrraPlan(o, b, p, problem.success(o, b, p), 'fracr')


def brute_force(problem: CoCrraProblem, points: int = 41) -> CoCrraPlan:
    """
    Find the reference optimum of P* on a grid.

    All band and power splits that spend the budgets
    (the success grows with both), each user's best ratio on P1's grid. Two or three users.
    """
    u = problem.users
    if u not in (2, 3):
        raise ValueError('the brute-force reference handles 2 or 3 users')
    bs = np.linspace(problem.b_min_mhz, problem.b_max_mhz - (u - 1) * problem.b_min_mhz, points)
    ps = np.linspace(problem.p_min_w, problem.p_max_w - (u - 1) * problem.p_min_w, points)
    o = O_GRID[:, None, None]
    best_user = []
    for i in range(u):
        single = replace(problem, data_bits=problem.data[i:i + 1], b_min_mhz=0.0, p_min_w=0.0)
        v = single.eta(o) * single.delivery(o, bs[None, :, None], ps[None, None, :])
        best_user.append(v.max(axis=0))                       # (points_b, points_p)
    # Indices of one split sum to points - 1: then the bands (powers) sum to the budget.
    best = -np.inf
    arg: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())
    if u == 2:
        total = best_user[0] + best_user[1][::-1, ::-1]
        i, j = (int(k) for k in np.unravel_index(np.argmax(total), total.shape))
        arg = ((i, points - 1 - i), (j, points - 1 - j))
    else:
        lead = points - 1
        for i1 in range(points):
            for i2 in range(points - i1):
                i3 = lead - i1 - i2
                if i3 < 0:
                    continue
                for j1 in range(points):
                    j2 = np.arange(points - j1)
                    j3 = lead - j1 - j2
                    ok = j3 >= 0
                    vals = (best_user[0][i1, j1] + best_user[1][i2, j2[ok]] +
                            best_user[2][i3, j3[ok]])
                    k = int(np.argmax(vals))
                    if vals[k] > best:
                        best = float(vals[k])
                        arg = ((i1, i2, int(i3)), (j1, int(j2[ok][k]), int(j3[ok][k])))
    b, p = bs[list(arg[0])], ps[list(arg[1])]
    o_best = solve_p1(problem, b, p)
    return CoCrraPlan(o_best, b, p, problem.success(o_best, b, p), 'brute_force')


def baselines(problem: CoCrraProblem, o_fixed: float = 0.5,
              include: Optional[tuple] = None) -> dict:
    """Co-CRRA and the paper's baselines on one instance, by name."""
    plans = {'co_crra': co_crra(problem), 'msvra': msvra(problem, o_fixed),
             'fcrra': fcrra(problem, o_fixed), 'fracr': fracr(problem)}
    return {k: v for k, v in plans.items() if include is None or k in include}
