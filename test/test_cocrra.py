# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Co-CRRA (paper D, Algorithm 1) against a brute-force grid, its pieces and the baselines."""

import numpy as np
import pytest

from mec_coop.alloc.cocrra import (brute_force, co_crra, CoCrraProblem, equal_split, fcrra,
                                   fracr, msvra, O_GRID, solve_p1, solve_p2)


def instances(u, count, seed=0):
    rng = np.random.default_rng(seed)
    return [CoCrraProblem(rng.uniform(10e6, 20e6, u),
                          b_max_mhz=float(rng.uniform(5 * u + 1, 5 * u + 6)),
                          p_max_w=float(rng.choice([0.05, 0.1, 0.2])))
            for _ in range(count)]


@pytest.mark.parametrize('problem', instances(2, 5), ids=lambda p: f'{p.b_max_mhz:.1f}MHz')
def test_co_crra_within_one_percent_of_brute_force_two_users(problem):
    plan = co_crra(problem)
    ref = brute_force(problem, points=201)
    assert plan.phi.sum() >= 0.99 * ref.phi.sum()
    assert plan.b_mhz.sum() <= problem.b_max_mhz + 1e-6
    assert plan.p_w.sum() <= problem.p_max_w + 1e-9
    assert (plan.b_mhz >= problem.b_min_mhz - 1e-9).all()
    assert (plan.p_w >= problem.p_min_w - 1e-12).all()


def test_co_crra_within_one_percent_of_brute_force_three_users():
    # The instance whose optimum is a corner (one user gets most of band and power).
    problem = CoCrraProblem(np.array([18.3e6, 11.2e6, 10.5e6]), b_max_mhz=20.0, p_max_w=0.2)
    plan, ref = co_crra(problem), brute_force(problem, points=41)
    assert plan.phi.sum() >= 0.99 * ref.phi.sum()


def test_p1_is_the_grid_argmax_and_p2_improves_on_its_start():
    problem = instances(3, 1, seed=4)[0]
    b, p = equal_split(problem)
    o = solve_p1(problem, b, p)
    for i in range(3):
        values = [problem.success(np.where(np.arange(3) == i, g, o), b, p)[i] for g in O_GRID]
        assert problem.success(o, b, p)[i] == pytest.approx(max(values))
    nb, np_, _ = solve_p2(problem, o, b, p)
    assert problem.success(o, nb, np_).sum() >= problem.success(o, b, p).sum() - 1e-12
    assert nb.sum() <= problem.b_max_mhz + 1e-6 and np_.sum() <= problem.p_max_w + 1e-9


def test_success_model_matches_equations():
    problem = CoCrraProblem(np.array([15e6]), b_max_mhz=10.0, b_min_mhz=1.0, p_max_w=0.1)
    assert problem.eta(0.0) == pytest.approx(1.0)             # normalised (PAPERS_MATH D-1)
    raw = CoCrraProblem(np.array([15e6]), normalise_eta=False, b_max_mhz=10.0, b_min_mhz=1.0)
    assert raw.eta(0.0) == pytest.approx(1.4)
    o, b, p = 0.7, 10.0, 0.1
    alpha = 15e6 / (10e6 * 0.1)
    x = (2 ** (alpha * (1 - o)) - 1) * problem.n0_w_per_hz * 10e6 / (p * 1e-9)
    assert problem.delivery(o, b, p)[0] == pytest.approx(np.exp(-0.5 * x ** 2))
    from scipy.stats import norm
    assert problem.delivery(o, b, p, exact=True)[0] == pytest.approx(2 * norm.sf(x))
    # More band, more power or more compression never lowers delivery.
    assert problem.delivery(o, 12.0, p) >= problem.delivery(o, b, p)
    assert problem.delivery(o, b, 0.2) >= problem.delivery(o, b, p)
    assert problem.delivery(0.8, b, p) >= problem.delivery(o, b, p)


def test_baselines_follow_their_definitions():
    problem = instances(3, 1, seed=2)[0]
    equal_b, equal_p = equal_split(problem)
    fr = fracr(problem)
    np.testing.assert_allclose(fr.b_mhz, equal_b)
    np.testing.assert_allclose(fr.o, solve_p1(problem, equal_b, equal_p))
    fc = fcrra(problem, 0.6)
    assert np.all(fc.o == 0.6)
    ms = msvra(problem, 0.6)
    assert np.all(ms.o == 0.6)

    def rate(b, p):
        return np.sum(b * 1e6 * np.log2(1 + p * problem.delta / (problem.n0_w_per_hz * b * 1e6)))
    assert rate(ms.b_mhz, ms.p_w) >= rate(equal_b, equal_p) - 1e-6
    best = co_crra(problem)
    for plan in (fr, fc, ms):
        assert best.phi.sum() >= plan.phi.sum() - 1e-9


def test_infeasible_budgets_are_rejected_with_the_reason():
    with pytest.raises(ValueError, match='need 20.0 MHz'):
        CoCrraProblem(np.full(4, 15e6), b_max_mhz=15.0)
    with pytest.raises(ValueError, match='positive data'):
        CoCrraProblem(np.array([0.0]))
