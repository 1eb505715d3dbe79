# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Seed 001's allocation: closed forms, solvers against the search bound, fits (14)-(15)."""

import numpy as np
import pytest

from mec_coop.alloc.video import (edge_frames_cost, edge_only, gp_heuristic, local_only,
                                  random_offloading, search_edge, search_heuristic,
                                  search_search, theorem1, theorem2)
from mec_coop.alloc.video_admm import admm, cccp
from mec_coop.alloc.video_model import (AccuracyModel, channel_rates, fit_accuracy, fit_linear,
                                        VideoSystem)


def _system(n, seed, **kwargs):
    return VideoSystem(channel_rates(n, np.random.default_rng(seed)), m_max=16, **kwargs)


def test_theorem1_closed_form_and_integer_choice():
    system = _system(3, 0)
    m, f, cost = theorem1(system)
    w_t, w_e, _ = system.weights
    assert f == pytest.approx((w_t / (2 * system.kappa * w_e)) ** (1 / 3))   # interior, (48)
    assert f < system.f_local
    acc = system.accuracy
    m22 = np.log(system.weights[2] * acc.b * acc.c * 2 ** (2 / 3) / (
        3 * system.xi * system.macs.s1 * w_t ** (2 / 3) * (system.kappa * w_e) ** (1 / 3))) / acc.c
    assert abs(m[0] - m22) < 1.0                                             # (22), rounded
    grid = system.frame_range
    assert cost[0] == pytest.approx(system.local_cost(grid, f).min())      # best integer
    capped = VideoSystem(system.rates, f_local=1.0e9, m_max=16)
    assert theorem1(capped)[1] == 1.0e9                                      # (49): F^L binds


def test_theorem2_shares_are_optimal_for_the_frames():
    system = _system(4, 1)
    edge, m = np.arange(4), np.array([6.0, 8.0, 10.0, 12.0])
    tau, f = theorem2(system, edge, m)
    assert tau.sum() == pytest.approx(1.0) and f.sum() == pytest.approx(system.f_edge)
    best = system.edge_cost(m, tau, f, edge).sum()
    assert best == pytest.approx(edge_frames_cost(system, edge, m))          # (27)
    rng = np.random.default_rng(0)
    for _ in range(20):   # any other point of the simplices costs more
        t2, f2 = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4)) * system.f_edge
        assert system.edge_cost(m, t2, f2, edge).sum() >= best - 1e-12


@pytest.mark.parametrize('seed', range(6))
def test_admm_and_gp_heuristic_close_to_the_search_bound(seed):
    n = 2 + seed % 5
    system = _system(n, 100 + seed)
    bound = search_search(system).cost
    gap = {p.scheme: (p.cost - bound) / abs(bound) for p in
           (gp_heuristic(system), admm(system), search_heuristic(system), cccp(system),
            local_only(system), edge_only(system),
            random_offloading(system, np.random.default_rng(seed)))}
    assert gap['gp_heuristic'] <= 0.005 and gap['admm'] <= 0.01
    assert min(gap.values()) >= -1e-9          # nothing beats the bound


def test_search_edge_is_exhaustive():
    system = _system(2, 3)
    edge = np.arange(2)
    m, cost = search_edge(system, edge)
    grid = system.frame_range
    brute = min((edge_frames_cost(system, edge, np.array([a, b])), a, b)
                for a in grid for b in grid)
    assert cost == pytest.approx(brute[0]) and tuple(m) == brute[1:]


def test_infeasible_accuracy_requirement_is_an_error():
    with pytest.raises(ValueError, match='infeasible'):
        _ = VideoSystem(np.ones(2) * 1e7, a_min=0.899, m_max=16).frame_range


def test_fits_recover_the_models():
    truth = AccuracyModel(0.93, 0.4, 0.3)
    m = np.arange(1, 17)
    fitted, fit = fit_accuracy(m, truth(m))
    assert fit.rmse < 1e-6 and fitted.c == pytest.approx(0.3, rel=1e-3)
    model, line = fit_linear(m, 5.0 * m + 2.0)
    assert line.rmse < 1e-9 and (model.s1, model.s0) == pytest.approx((5.0, 2.0))
    b_t, c_t = truth.monomial(5, 16)      # GP surrogate of (28): close on its range
    r = m[4:]
    assert np.max(np.abs(b_t * r ** -c_t - truth.b * np.exp(-truth.c * r))) < 0.05
