# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Allocator core (the paper): system model (3)-(25), closed-form shares (39), solvers of (P2)."""

from dataclasses import replace
import json

import numpy as np
import pytest
from scipy import optimize, stats

from mec_coop.alloc import baselines, model, plan, scores, solvers, tables
from mec_coop.alloc.model import SystemParams
from mec_coop.alloc.scores import CameraModel, EmpiricalCdf
from mec_coop.coop.routing import Thresholds


def random_params(rng):
    return SystemParams(delay_req_s=rng.uniform(0.15, 1.0),
                        tx_model=str(rng.choice(model.TX_MODELS)))


def binding_params(rng, cameras, segments):
    """Draw parameters whose D_req lies between the smallest delay and the free optimum's."""
    params = random_params(rng)
    lowest, highest = baselines.requirement_range(cameras, params, segments=segments)
    return replace(params, delay_req_s=rng.uniform(lowest, highest))


@pytest.fixture(scope='module')
def paper_cameras():
    """Build the A.11 prototype setting: assumed Beta laws, gains -100/-95/-105/-100 dB."""
    return [CameraModel.assumed(g) for g in (-100.0, -95.0, -105.0, -100.0)]


# --- score CDFs ----------------------------------------------------------------------------------

def test_empirical_cdf_counts_scores_strictly_below():
    cdf = EmpiricalCdf([0.2, 0.5, 0.5, 0.9])
    np.testing.assert_allclose(cdf([0.0, 0.2, 0.5, 0.6, 1.0]), [0.0, 0.0, 0.25, 0.75, 1.0])
    # Consistent with the routing rule "keep when score >= threshold".
    assert 1.0 - cdf(0.5) == np.mean(np.array([0.2, 0.5, 0.5, 0.9]) >= 0.5)


def test_empirical_cdf_window_keeps_newest_scores():
    cdf = EmpiricalCdf([0.1, 0.2, 0.3], window=3)
    cdf.update([0.8, 0.9])
    assert cdf.size == 3
    np.testing.assert_allclose(cdf([0.25, 0.85]), [0.0, 2 / 3])
    with pytest.raises(ValueError):
        cdf.update([np.nan])
    with pytest.raises(ValueError):
        EmpiricalCdf([])


def test_beta_cdf_matches_the_law_and_acts_as_prior():
    z = np.linspace(0.0, 1.0, 101)
    cdf = EmpiricalCdf.from_beta(5.0, 2.0, num_points=4096, window=4096)
    assert np.max(np.abs(cdf(z) - stats.beta.cdf(z, 5.0, 2.0))) <= 1.0 / 4096
    # Real scores push out a random subset of pseudo-samples, not one tail of the law.
    cdf.update(np.full(2048, 0.5))
    assert cdf.size == 4096
    expected = 0.5 * stats.beta.cdf(z, 5.0, 2.0) + 0.5 * (z > 0.5)
    assert np.max(np.abs(cdf(z) - expected)) < 0.03


# --- accuracy (3)-(9) and its special cases (20), (22), (24) -------------------------------------

def test_confusion_entries_partition_all_images():
    camera = CameraModel.assumed()
    low, high = np.meshgrid(np.linspace(0, 1, 21), np.linspace(0, 1, 21), indexing='ij')
    low, high = np.minimum(low, high), np.maximum(low, high)
    entries = model.confusion(camera, low, high)
    np.testing.assert_allclose(sum(entries), 1.0, atol=1e-12)
    assert all(np.all(e >= -1e-12) for e in entries)


def test_accuracy_special_cases_match_closed_forms():
    camera = scores.synthetic_cameras(np.random.default_rng(3), 1)[0]
    theta, server = np.meshgrid(np.linspace(0, 1, 21), np.linspace(0, 1, 21), indexing='ij')
    np.testing.assert_allclose(model.accuracy(camera, theta, theta, server),
                               model.device_centric_accuracy(camera, theta), atol=1e-12)
    low, high = model.SERVER_CENTRIC_THETA
    np.testing.assert_allclose(model.accuracy(camera, low, high, server),
                               model.server_centric_accuracy(camera, server), atol=1e-12)
    np.testing.assert_allclose(model.accuracy(camera, 0.0, theta, server),
                               model.cascade_accuracy(camera, theta, server), atol=1e-12)
    # theta^L = 0, theta^H = 1: nothing decided on the device (TP = FN = FP = TN = 0).
    entries = model.confusion(camera, 0.0, 1.01)
    assert entries.tp == entries.fn == entries.fp == entries.tn == 0.0


# --- delay (19) and its special cases (21), (23), (25) -------------------------------------------

@pytest.mark.parametrize('tx_model', model.TX_MODELS)
@pytest.mark.parametrize('combine', model.UPLINK_COMBINES)
def test_delay_special_cases_match_closed_forms(tx_model, combine):
    rng = np.random.default_rng(4)
    cameras = scores.synthetic_cameras(rng, 3)
    params = SystemParams(tx_model=tx_model, uplink_combine=combine)
    theta = rng.uniform(0, 1, (50, 3))
    tau = rng.dirichlet(np.ones(3), 50)
    for shares in (tau, None):
        np.testing.assert_allclose(model.end_to_end_delay(cameras, params, theta, theta, shares),
                                   model.device_centric_delay(cameras, params, theta, shares))
        np.testing.assert_allclose(model.end_to_end_delay(cameras, params, 0.0, theta, shares),
                                   model.cascade_delay(cameras, params, theta, shares))
        low, high = model.SERVER_CENTRIC_THETA
        np.testing.assert_allclose(
            model.end_to_end_delay(cameras, params, np.full(3, low), np.full(3, high), shares),
            model.server_centric_delay(cameras, params, shares))


def test_server_centric_without_device_inference():
    cameras = [CameraModel.assumed() for _ in range(2)]
    full = model.server_centric_delay(cameras, SystemParams(), np.full(2, 0.5))
    lean = model.server_centric_delay(
        cameras, SystemParams(server_centric_device_inference=False), np.full(2, 0.5))
    assert full - lean == pytest.approx(SystemParams().device_inference_s)


# Table in reconstruction note A.4: equal gains, tau = 1/N, Table I timings, best device threshold.
@pytest.mark.parametrize('num, gain_db, per_second, per_frame, device', [
    (2, -100.0, 0.356, 0.266, 0.136),
    (4, -100.0, 0.937, 0.576, 0.137),
    (4, -60.0, 0.552, 0.384, 0.136),
    (8, -100.0, 3.18, 1.74, 0.140),
])
def test_delay_table_a4_is_reproduced(num, gain_db, per_second, per_frame, device):
    cameras = [CameraModel.assumed(gain_db) for _ in range(num)]
    equal = np.full(num, 1.0 / num)
    for tx_model, expected in (('per_second', per_second), ('per_frame', per_frame)):
        delay = model.server_centric_delay(cameras, SystemParams(tx_model=tx_model), equal)
        assert delay == pytest.approx(expected, abs=0.0015 if expected < 1 else 0.006)
    best = baselines.device_centric(cameras)
    assert model.device_centric_delay(cameras, SystemParams(), best.theta_low, equal) \
        == pytest.approx(device, abs=0.0006)


def test_best_single_scheme_accuracies_of_a3():
    """A.3 quotes 0.886 (device-centric) and 0.984 (server-centric): optima over theta."""
    cameras = [CameraModel.assumed()]
    # The quoted values are the optima over continuous thresholds (a fine grid here) ...
    fine = {name: plan.SOLVERS[name](cameras, segments=1000).accuracy
            for name in ('device_centric', 'server_centric')}
    assert fine['device_centric'] == pytest.approx(0.886, abs=5e-4)
    assert fine['server_centric'] == pytest.approx(0.984, abs=5e-4)
    # ... on the K = 20 grid the device-centric optimum (theta = 0.4) is 0.885.
    coarse = baselines.device_centric(cameras, segments=20)
    assert coarse.accuracy == pytest.approx(0.885, abs=5e-4)
    assert coarse.theta_low[0] == coarse.theta_high[0] == pytest.approx(0.4)
    srv = baselines.server_centric(cameras, segments=20)
    assert srv.accuracy == pytest.approx(0.984, abs=5e-4)


# --- shares (39) ---------------------------------------------------------------------------------

def test_closed_form_shares_are_optimal():
    rng = np.random.default_rng(5)
    load = rng.uniform(0.0, 0.3, 6)
    tau = model.optimal_shares(load)
    assert tau.sum() == pytest.approx(1.0)
    best = model.uplink_delay(load, tau)
    assert best == pytest.approx(model.uplink_delay(load))
    assert best == pytest.approx(np.sqrt(load).sum() ** 2)
    assert best < model.uplink_delay(load, np.full(6, 1 / 6))
    assert np.all(best <= model.uplink_delay(load, rng.dirichlet(np.ones(6), 2000)) + 1e-12)
    numeric = optimize.minimize(lambda t: np.sum(load / t), np.full(6, 1 / 6), method='SLSQP',
                                bounds=[(1e-6, 1.0)] * 6,
                                constraints={'type': 'eq', 'fun': lambda t: t.sum() - 1.0})
    np.testing.assert_allclose(numeric.x, tau, atol=2e-3)


def test_max_combine_equalises_terms_and_idle_cameras_get_no_share():
    load = np.array([0.1, 0.3, 0.0])
    tau = model.optimal_shares(load, 'max')
    np.testing.assert_allclose(tau, [0.25, 0.75, 0.0])
    assert model.uplink_delay(load, tau, 'max') == pytest.approx(load.sum())
    assert model.uplink_delay(load, None, 'max') == pytest.approx(load.sum())
    np.testing.assert_allclose(model.optimal_shares(np.zeros(4)), 0.25)
    assert model.uplink_delay(np.array([0.1, 0.0]), np.array([0.0, 1.0])) == np.inf


# --- solver internals ----------------------------------------------------------------------------

def test_pair_table_profiles_the_server_threshold_exactly():
    camera = scores.synthetic_cameras(np.random.default_rng(6), 1)[0]
    table = tables.PairTable([camera], SystemParams(), 'cooperative', 10)
    brute = model.accuracy(camera, table.low[:, None], table.high[:, None], table.grid)
    np.testing.assert_allclose(table.acc[0], brute.max(axis=1), atol=1e-12)
    np.testing.assert_allclose(
        table.acc[0], model.accuracy(camera, table.low, table.high, table.server_theta[0]))


@pytest.mark.parametrize('combine', model.UPLINK_COMBINES)
def test_incremental_delays_match_the_model(combine):
    rng = np.random.default_rng(7)
    cameras = scores.synthetic_cameras(rng, 4)
    params = SystemParams(uplink_combine=combine)
    table = tables.PairTable(cameras, params, 'cooperative', 8)
    idx = rng.integers(0, table.low.size, 4)
    for tau in (None, rng.dirichlet(np.ones(4))):
        airtime = tables.Airtime(table, params, tau)
        grid = airtime.candidates(idx)
        for camera in range(4):
            moved = np.tile(idx, (table.low.size, 1))
            moved[:, camera] = np.arange(table.low.size)
            shares = None if tau is None else np.tile(tau, (table.low.size, 1))
            expected = model.end_to_end_delay(cameras, params, table.low[moved],
                                              table.high[moved], shares)
            np.testing.assert_allclose(grid[camera], expected, rtol=1e-10)
        both = airtime.changed(idx, [0, 2], [np.arange(3)[:, None], np.arange(2)[None, :]])
        moved = idx.copy()
        moved[[0, 2]] = 2, 1
        assert both[2, 1] == pytest.approx(
            model.end_to_end_delay(cameras, params, table.low[moved], table.high[moved], tau))


def test_undominated_pruning_keeps_the_optimum():
    rng = np.random.default_rng(8)
    cameras = scores.synthetic_cameras(rng, 2)
    params = SystemParams(delay_req_s=0.25)
    full = baselines.exhaustive(cameras, params, segments=8, prune=False)
    pruned = baselines.exhaustive(cameras, params, segments=8)
    assert pruned.accuracy == pytest.approx(full.accuracy, abs=1e-12)
    assert pruned.min_delay_s == pytest.approx(full.min_delay_s)
    assert pruned.iterations < full.iterations


# --- solvers -------------------------------------------------------------------------------------

def _check_allocation(result, cameras, params):
    num = len(cameras)
    for field in ('theta_low', 'theta_high', 'theta_server', 'tau', 'accuracy_per_camera'):
        assert getattr(result, field).shape == (num,)
    assert np.all(result.theta_low <= result.theta_high)
    assert result.tau.sum() == pytest.approx(1.0) and np.all(result.tau >= 0.0)
    # Reported numbers are the model's (9) and (19) at the returned variables.
    assert result.delay_s == pytest.approx(model.end_to_end_delay(
        cameras, params, result.theta_low, result.theta_high, result.tau))
    assert result.accuracy == pytest.approx(np.mean([
        model.accuracy(c, lo, hi, s) for c, lo, hi, s in
        zip(cameras, result.theta_low, result.theta_high, result.theta_server)]))
    assert result.feasible == (result.delay_s <= params.delay_req_s + 1e-9)
    assert result.min_delay_s <= result.delay_s + 1e-9
    assert np.all(np.diff(result.history) >= 0.0)


@pytest.mark.parametrize('name', sorted(plan.SOLVERS))
def test_every_solver_shares_the_interface(name, paper_cameras):
    params = SystemParams()
    result = plan.SOLVERS[name](paper_cameras, params, segments=10)
    assert isinstance(result, tables.Allocation) and result.solver == name
    _check_allocation(result, paper_cameras, params)
    assert all(isinstance(t, Thresholds) for t in result.thresholds())
    json.dumps(result.as_dict())


def test_scheme_shapes(paper_cameras):
    params = SystemParams()
    assert np.all(solvers.cascade(paper_cameras, params).theta_low == 0.0)
    dev = baselines.device_centric(paper_cameras, params)
    np.testing.assert_array_equal(dev.theta_low, dev.theta_high)
    srv = baselines.server_centric(paper_cameras, params)
    assert not srv.feasible and srv.min_delay_s == pytest.approx(srv.delay_s)
    np.testing.assert_allclose(solvers.proposed_fixed_tau(paper_cameras, params).tau, 0.25)


def _exchange_pair_by_pair(table, airtime, idx, delay_req, choices):
    """Exchange moves as a reference: one joint move of two cameras evaluated at a time."""
    improved = True
    while improved:
        improved = False
        for first in range(idx.size):
            for second in range(first + 1, idx.size):
                mine, theirs = choices[first], choices[second]
                delays = airtime.changed(idx, [first, second],
                                         [mine[:, None], theirs[None, :]])
                gain = (table.acc[first, mine][:, None] + table.acc[second, theirs][None, :]
                        - table.acc[first, idx[first]] - table.acc[second, idx[second]])
                gain = np.where(delays <= delay_req + 1e-9, gain, -np.inf)
                best = np.unravel_index(np.argmax(gain), gain.shape)
                if gain[best] > 1e-9:
                    idx[first], idx[second] = mine[best[0]], theirs[best[1]]
                    improved = True
    return idx


@pytest.mark.parametrize('combine', model.UPLINK_COMBINES)
def test_vectorised_pair_exchange_takes_the_pair_by_pair_moves(combine):
    rng = np.random.default_rng(12)
    moved = 0
    for trial in range(12):
        num = (2, 3, 5, 9)[trial % 4]
        cameras = scores.synthetic_cameras(rng, num)
        params = replace(binding_params(rng, cameras, 10), uplink_combine=combine)
        table = tables.PairTable(cameras, params, 'cooperative', 10)
        choices = tables.undominated(table)
        tau = None if trial % 2 else rng.dirichlet(np.ones(num))
        airtime = tables.Airtime(table, params, tau)
        start = table.fastest()
        fast = solvers.pair_exchange(table, airtime, start.copy(), params.delay_req_s, choices)
        slow = _exchange_pair_by_pair(table, airtime, start.copy(), params.delay_req_s,
                                      choices)
        np.testing.assert_array_equal(fast, slow)
        moved += not np.array_equal(fast, start)
    assert moved >= 6  # the comparison covers real moves, not only fixed points


@pytest.mark.parametrize('num, segments, trials', [(2, 10, 40), (3, 10, 15), (4, 6, 5)])
def test_proposed_matches_exhaustive_on_random_instances(num, segments, trials):
    rng = np.random.default_rng(num)
    for _ in range(trials):
        cameras = scores.synthetic_cameras(rng, num)
        params = binding_params(rng, cameras, segments)
        best = baselines.exhaustive(cameras, params, segments=segments)
        result = solvers.proposed(cameras, params, segments=segments)
        _check_allocation(result, cameras, params)
        assert result.feasible == best.feasible
        if result.feasible:
            assert result.delay_s <= params.delay_req_s + 1e-9
            assert result.accuracy >= 0.99 * best.accuracy
            assert result.accuracy <= best.accuracy + 1e-9


def test_paper_operating_points(paper_cameras):
    """A.11 prototype: about 0.96 at D_req = 0.5 s; saturation at 0.15/0.85, 0.77 s."""
    tight = solvers.proposed(paper_cameras, SystemParams(delay_req_s=0.5))
    assert tight.feasible and tight.delay_s <= 0.5 and tight.accuracy >= 0.96
    reference = baselines.exhaustive(paper_cameras, SystemParams(delay_req_s=0.5), segments=10)
    coarse = solvers.proposed(paper_cameras, SystemParams(delay_req_s=0.5), segments=10)
    assert coarse.accuracy >= reference.accuracy - 1e-3
    loose = solvers.proposed(paper_cameras, SystemParams(delay_req_s=1.0))
    np.testing.assert_allclose(loose.theta_low, 0.15)
    np.testing.assert_allclose(loose.theta_high, 0.85)
    assert loose.delay_s == pytest.approx(0.77, abs=0.01)
    # Device-centric < cascade < proposed <= server-centric accuracy (Fig. 8 ordering).
    params = SystemParams(delay_req_s=0.5)
    acc = {name: plan.SOLVERS[name](paper_cameras, params).accuracy
           for name in ('device_centric', 'cascade', 'proposed', 'server_centric')}
    assert acc['device_centric'] < acc['cascade'] < acc['proposed'] <= acc['server_centric']


@pytest.mark.parametrize('options', [
    {}, {'search': 'marginal'}, {'search': 'sweeps', 'exchange': False},
    {'candidate_tau': 'previous'}, {'equal_shares': True}, {'scheme': 'cascade'},
])
def test_objective_history_never_decreases(options):
    rng = np.random.default_rng(9)
    for _ in range(8):
        cameras, params = scores.synthetic_cameras(rng, 4), random_params(rng)
        result = solvers.algorithm1(cameras, params, segments=10, **options)
        assert np.all(np.diff(result.history) >= 0.0), result.history
        assert result.history[-1] == pytest.approx(result.accuracy)
        if result.feasible:
            assert result.delay_s <= params.delay_req_s + 1e-9


def test_infeasible_requirement_is_reported(paper_cameras):
    # Fig. 12: past T_d^I = D_req - 35.5 ms nothing meets the requirement.
    params = SystemParams(device_inference_s=0.47)
    floor = params.fixed_delay_s
    assert floor > params.delay_req_s
    for name in ('proposed', 'proposed_fixed_tau', 'cascade', 'exhaustive'):
        options = {'segments': 10} if name == 'exhaustive' else {}
        result = plan.SOLVERS[name](paper_cameras, params, **options)
        assert not result.feasible
        assert result.delay_s > params.delay_req_s
        assert result.min_delay_s == pytest.approx(floor, abs=2e-3)
        # Falls back to its no-offload start: device-centric thresholds (cascade: theta^H = 0).
        assert np.all(result.theta_low == result.theta_high) or name == 'cascade'
    ok = solvers.proposed(paper_cameras, SystemParams(device_inference_s=0.46))
    assert ok.feasible


def test_min_delay_is_the_brute_force_minimum():
    rng = np.random.default_rng(10)
    cameras = scores.synthetic_cameras(rng, 2)
    params = SystemParams(delay_req_s=0.01)
    brute = baselines.exhaustive(cameras, params, segments=6, prune=False)
    assert not brute.feasible
    assert solvers.proposed(cameras, params, segments=6).min_delay_s \
        == pytest.approx(brute.min_delay_s)


def test_requirement_range_brackets_the_binding_requirements():
    cameras = scores.synthetic_cameras(np.random.default_rng(11), 3)
    lowest, highest = baselines.requirement_range(cameras, segments=8)
    unconstrained = baselines.exhaustive(cameras, SystemParams(delay_req_s=np.inf), segments=8)
    at_top = baselines.exhaustive(cameras, SystemParams(delay_req_s=highest), segments=8)
    assert at_top.accuracy == pytest.approx(unconstrained.accuracy)
    assert at_top.delay_s == pytest.approx(highest)
    below = baselines.exhaustive(cameras, SystemParams(delay_req_s=0.999 * highest), segments=8)
    assert below.accuracy < unconstrained.accuracy
    assert not baselines.exhaustive(cameras, SystemParams(delay_req_s=lowest - 1e-6),
                                    segments=8).feasible


def test_invalid_arguments_are_rejected(paper_cameras):
    with pytest.raises(ValueError):
        SystemParams(tx_model='per_minute')
    with pytest.raises(ValueError):
        CameraModel.assumed(pi=1.5)
    with pytest.raises(ValueError):
        solvers.proposed(paper_cameras, search='random')
    with pytest.raises(ValueError):
        solvers.proposed([])
    with pytest.raises(ValueError):
        baselines.exhaustive(paper_cameras, segments=20, prune=False)


@pytest.mark.parametrize('requirement', [0.5, 1.0])
def test_accuracy_tolerance_takes_the_fastest_plan_that_loses_at_most_that(paper_cameras,
                                                                           requirement):
    params = SystemParams(delay_req_s=requirement)
    paper = plan.plan(paper_cameras, plan.PlanSettings(params=params))
    for tolerance in (0.005, 0.02):
        fast = plan.plan(paper_cameras, plan.PlanSettings(params=params,
                                                          accuracy_tolerance=tolerance))
        assert fast.feasible
        assert fast.allocation.accuracy >= paper.allocation.accuracy - tolerance - 1e-9
        # The paper's objective fills the budget for little accuracy: 0.005 of it buys
        # at least a tenth of the delay back here (A.11 setting).
        assert fast.delay_s < 0.9 * paper.delay_s
        assert fast.solves == paper.solves + plan.TOLERANCE_STEPS
    with pytest.raises(ValueError, match='accuracy_tolerance'):
        plan.PlanSettings(params=params, accuracy_tolerance=-0.1)
