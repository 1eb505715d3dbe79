# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The uplink plan's instant objective (mec_coop.alloc.instant) against brute force and edges."""

import itertools

import numpy as np
import pytest

from mec_coop.alloc.cocrra_tdma import at_least, delivery, TdmaLink
from mec_coop.alloc.instant import instant_success, solve_instant, ViewRoutes, views
from mec_coop.alloc.uplink_plan import hold_plan, plan_uplink, rate_curve
from mec_coop.coop.uplink import db_to_linear, dbm_to_watt

GAINS = (-95.0, -100.0, -105.0, -110.0)
KEYPOINT_BITS = 2400.0   # a keypoint message of 300 bytes


def link_of(gains_db=GAINS, t0_s=0.5, model='gaussian', bandwidth_hz=45e3, period_s=0.5):
    """Return the graph's uplink (30 dBm, -165 dBm/Hz), 45 kHz, a frame every ``period_s``."""
    return TdmaLink(bandwidth_hz, dbm_to_watt(30.0), dbm_to_watt(-165.0),
                    tuple(db_to_linear(g) for g in gains_db), t0_s, 0.01, model, 0.15, period_s)


def routes_of(keypoints, offload, u=4):
    return ViewRoutes((offload,) * u, (keypoints,) * u, (KEYPOINT_BITS,) * u)


def ratios(curve):
    return np.array([1 - 8 * s / curve.full_bits for s in curve.sizes])


def brute_force(curve, link, routes, step=0.02):
    """Best instant success over every share split on a grid and every quality per camera."""
    u = len(link.gains)
    grid = np.arange(link.min_share, 1.0, step)
    tau = np.array([(*head, 1.0 - sum(head)) for head in itertools.product(grid, repeat=u - 1)
                    if 1.0 - sum(head) >= link.min_share - 1e-9])
    o = np.array(list(itertools.product(ratios(curve), repeat=u)))
    value = instant_success(o[None], tau[:, None], np.full(u, curve.full_bits), link, routes)
    return float(value.max())


@pytest.mark.parametrize('model,keypoints,offload', [('gaussian', 0.45, 0.5),
                                                     ('none', 0.8, 0.15),
                                                     ('gaussian', 0.1, 0.85)])
def test_instant_plan_against_brute_force(model, keypoints, offload):
    # Three cameras on a 25 kHz band: two views need the airtime split with care.
    link = link_of(GAINS[:3], 0.4, model, bandwidth_hz=25e3)
    curve = rate_curve(11_000, 30, min_quality=50, codec='regionwise')
    routes = routes_of(keypoints, offload, 3)
    d = np.full(3, curve.full_bits)
    reference = brute_force(curve, link, routes)
    assert 0.05 < reference < 0.999   # neither trivial nor impossible
    for exhaustive in (None, 0):      # the share grid searched whole, and coordinate ascent
        o, tau, value = solve_instant(d, link, routes, ratios(curve), exhaustive=exhaustive)
        assert value == pytest.approx(instant_success(o, tau, d, link, routes), abs=1e-12)
        assert tau.sum() <= 1 + 1e-9 and tau.min() >= link.min_share - 1e-12
        assert value >= 0.99 * reference


def test_fracr_beats_cocrra_in_the_instant_objective_and_the_instant_plan_both():
    # Cameras that send keypoints for 80% of their frames. Co-CRRA (paper D's per-device
    # objective) gives cam2 and cam3 nearly no airtime, and their keypoints wait behind their
    # offloads; FRACR's equal shares keep four views coming.
    link = link_of(t0_s=0.3)
    curves = [rate_curve(11_000, 30, codec='regionwise')] * 4
    routes = routes_of(0.8, 0.15)
    plans = {m: plan_uplink(m, curves, link, routes=routes)
             for m in ('cocrra', 'fracr', 'fcrra', 'msvra', 'cocrra_instant')}
    instant = {m: p.instant for m, p in plans.items()}
    # Measured here: Co-CRRA 0.844, FRACR 0.971, the instant plan 0.978.
    assert instant['fracr'] > instant['cocrra'] + 0.1
    assert plans['cocrra'].mean_success > plans['fracr'].mean_success   # its own objective
    assert instant['cocrra_instant'] >= max(instant.values()) - 1e-12
    assert instant['cocrra_instant'] == pytest.approx(0.978, abs=0.005)
    assert plans['cocrra_instant'].value == instant['cocrra_instant']
    assert plans['cocrra'].value == plans['cocrra'].mean_success


def test_routes_at_zero_and_one():
    link = link_of(t0_s=0.3)
    curve = rate_curve(11_000, 30, codec='regionwise')
    d = np.full(4, curve.full_bits)
    o = np.full(4, ratios(curve)[0])
    tau = np.array([0.4, 0.3, 0.2, 0.1])
    # Every frame dropped: no view, whatever the plan.
    assert np.all(views(o, tau, d, link, routes_of(0.0, 0.0)) == 0.0)
    _, _, value = solve_instant(d, link, routes_of(0.0, 0.0), ratios(curve))
    assert value == 0.0
    # Keypoints only: a view is the message's own delivery (no offload to wait behind), the
    # quality does not matter.
    kp = views(o, tau, d, link, routes_of(1.0, 0.0))
    own = delivery(0.0, tau, KEYPOINT_BITS, link)
    assert kp == pytest.approx(own, abs=1e-12)
    assert views(np.zeros(4), tau, d, link, routes_of(1.0, 0.0)) == pytest.approx(kp)
    assert instant_success(o, tau, d, link, routes_of(1.0, 0.0)) == pytest.approx(
        at_least(own, 2))
    # Offloads only, no frame period (no queue): eta times the offload's delivery, paper D's
    # Phi_i, and the instant objective is "at least two offloads on time".
    alone = link_of(t0_s=0.3, period_s=0.0)
    phi = plan_uplink('cocrra', [curve] * 4, alone).success
    cocrra = plan_uplink('cocrra', [curve] * 4, alone, routes=routes_of(0.0, 1.0))
    assert views(cocrra.ratios, cocrra.shares, d, alone, routes_of(0.0, 1.0)) == \
        pytest.approx(phi, abs=1e-12)
    assert cocrra.instant == pytest.approx(cocrra.views_success, abs=1e-12)
    # A camera that offloads every frame on 0.01 of the band (15 s per 11 KB, frames every
    # 0.5 s) has a queue that only grows: its keypoints never make it either. The others keep
    # their keypoint views (half the frames; their offloads need 0.33 s or more, t0 is 0.3 s).
    starved = views(o, np.array([0.33, 0.33, 0.33, 0.01]), d, link, routes_of(0.5, 0.5))
    assert starved[3] == 0.0 and starved[:3] == pytest.approx([0.5] * 3, abs=0.003)


def test_view_routes_reject_bad_input():
    with pytest.raises(ValueError, match='sum to at most 1'):
        ViewRoutes((0.7,), (0.6,), (100.0,))
    with pytest.raises(ValueError, match='message sizes positive'):
        ViewRoutes((0.5,), (0.5,), (0.0,))
    with pytest.raises(ValueError, match='one offload share'):
        ViewRoutes((0.5, 0.5), (0.5,), (100.0,))
    with pytest.raises(ValueError, match='needs the cameras'):
        plan_uplink('cocrra_instant', [rate_curve(11_000, 30)] * 4, link_of())


def test_the_instant_plan_is_held_on_its_own_objective():
    link = link_of(t0_s=0.3)
    curves = [rate_curve(11_000, 30, codec='regionwise')] * 4
    routes = routes_of(0.8, 0.15)
    first = plan_uplink('cocrra_instant', curves, link, routes=routes)
    again = hold_plan(first, plan_uplink('cocrra_instant', curves, link, routes=routes), curves,
                      link, routes=routes)
    assert again.held and again.instant == pytest.approx(first.instant)
    # The routes change (most frames offloaded now): judged on them, the plan in place falls
    # far below the new plan, which replaces it.
    busy = routes_of(0.1, 0.85)
    new = plan_uplink('cocrra_instant', curves, link, routes=busy)
    kept = hold_plan(first, new, curves, link, routes=busy)
    assert kept is new or kept.instant > new.instant - 0.05


def test_at_least_on_many_cases_at_once():
    rng = np.random.default_rng(3)
    p = rng.uniform(size=(6, 4))
    for k in range(5):
        assert at_least(p, k) == pytest.approx([at_least(row, k) for row in p], abs=1e-12)
