# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The served-instant objective (mec_coop.alloc.served) against enumeration and brute force."""

import itertools

import numpy as np
import pytest
from test_instant import brute_force, link_of, ratios, routes_of

from mec_coop.alloc.cocrra_tdma import at_least
from mec_coop.alloc.instant import ViewRoutes
from mec_coop.alloc.served import (served_probability, served_success, served_views,
                                   solve_served, success_matrix, VIEW_SUCCESS)
from mec_coop.alloc.uplink_plan import plan_uplink, rate_curve

# A table like the measured one: image views are worth less than keypoint views.
TABLE = {(2, 0): 0.95, (1, 1): 0.6, (0, 2): 0.1, (3, 0): 0.97, (2, 1): 0.75, (1, 2): 0.5}


def enumerate_cases(kp, image, matrix):
    """Sum over every camera's outcome (none, keypoint view, image view) of P x success."""
    total = 0.0
    for outcome in itertools.product(range(3), repeat=len(kp)):
        p = np.prod([(1 - a - b, a, b)[o] for a, b, o in zip(kp, image, outcome)])
        total += p * matrix[outcome.count(1), outcome.count(2)]
    return total


def test_served_probability_against_enumeration():
    rng = np.random.default_rng(0)
    matrix = success_matrix(4, TABLE)
    for _ in range(20):
        kp = rng.uniform(0, 0.6, 4)
        image = rng.uniform(0, 0.4, 4)
        assert served_probability(kp, image, matrix) == pytest.approx(
            enumerate_cases(kp, image, matrix), abs=1e-12)
    # Many cases at once on the leading axes.
    kp, image = rng.uniform(0, 0.5, (3, 5, 4)), rng.uniform(0, 0.5, (3, 5, 4))
    batch = served_probability(kp, image, matrix)
    assert batch.shape == (3, 5)
    assert batch[2, 4] == pytest.approx(served_probability(kp[2, 4], image[2, 4], matrix))


def test_without_a_table_it_is_the_instant_models_two_views():
    # Every cell 1 from two views on: P(at least two views), whatever their kind.
    matrix = success_matrix(4, {})
    assert matrix[0, 2] == matrix[2, 0] == matrix[1, 3] == 1.0
    assert matrix[1, 0] == matrix[0, 1] == matrix[0, 0] == 0.0
    kp, image = np.array([0.5, 0.7, 0.1, 0.0]), np.array([0.3, 0.1, 0.2, 0.6])
    assert served_probability(kp, image, matrix) == pytest.approx(at_least(kp + image, 2))


def test_success_matrix_fills_cells_from_the_nearest_measured_one():
    matrix = success_matrix(4, TABLE)
    assert matrix[2, 1] == 0.75 and matrix[0, 2] == 0.1
    # Four views, none measured: the three-view cells, the nearest number of images.
    assert matrix[4, 0] == 0.97 and matrix[3, 1] == 0.75   # (3, 0) and (2, 1)
    assert matrix[1, 3] == 0.5 and matrix[0, 4] == 0.5      # (1, 2): two images, the most
    assert matrix[0, 3] == 0.5                              # three views, nearest is (1, 2)


def test_images_of_nobody_are_no_view():
    link = link_of(t0_s=0.7)
    curve = rate_curve(10_000, 30, codec='regionwise')
    d = np.full(4, curve.full_bits)
    o, tau = np.full(4, ratios(curve)[0]), np.full(4, 0.25)
    seen = ViewRoutes((0.3,) * 4, (0.7,) * 4, (2400.0,) * 4)
    empty = ViewRoutes((0.3,) * 4, (0.7,) * 4, (2400.0,) * 4, (0.3,) * 4)
    with_people = served_views(o, tau, d, link, seen)
    nobody = served_views(o, tau, d, link, empty)
    assert np.all(with_people[:, 1] > 0.25) and np.all(nobody[:, 1] == 0.0)
    assert nobody[:, 0] == pytest.approx(with_people[:, 0])   # the keypoints are the same
    with pytest.raises(ValueError, match='empty image shares'):
        ViewRoutes((0.3,), (0.7,), (2400.0,), (0.4,))


def test_served_plan_against_brute_force():
    # Three cameras on a 25 kHz band, the budget to the release 0.6 s.
    link = link_of((-95.0, -100.0, -105.0), 0.6, 'gaussian', bandwidth_hz=25e3)
    curve = rate_curve(11_000, 30, min_quality=50, codec='regionwise')
    routes = routes_of(0.6, 0.35, 3)
    d = np.full(3, curve.full_bits)
    step = 0.02
    grid = np.arange(link.min_share, 1.0, step)
    tau = np.array([(*head, 1.0 - sum(head)) for head in itertools.product(grid, repeat=2)
                    if 1.0 - sum(head) >= link.min_share - 1e-9])
    o = np.array(list(itertools.product(ratios(curve), repeat=3)))
    reference = float(served_success(o[None], tau[:, None], d, link, routes, TABLE).max())
    assert 0.3 < reference < 0.95
    for exhaustive in (None, 0):
        o_best, tau_best, value = solve_served(d, link, routes, ratios(curve),
                                               exhaustive=exhaustive, table=TABLE)
        assert value == pytest.approx(served_success(o_best, tau_best, d, link, routes, TABLE),
                                      abs=1e-12)
        assert value >= 0.99 * reference
    # The instant model on the same instance (two views, any kind) is above the served one.
    assert brute_force(curve, link, routes) > reference + 0.05


def test_the_served_plan_is_never_below_the_baselines_in_its_objective():
    link = link_of(t0_s=0.45)
    curves = [rate_curve(10_000, 30, codec='regionwise')] * 4
    routes = ViewRoutes((0.2, 0.15, 0.7, 0.25), (0.8, 0.85, 0.3, 0.75), (2400.0,) * 4,
                        (0.0, 0.05, 0.5, 0.0))
    plans = {m: plan_uplink(m, curves, link, routes=routes, release_t0_s=0.7)
             for m in ('cocrra', 'fracr', 'fcrra', 'cocrra_instant', 'cocrra_served')}
    served = {m: p.served for m, p in plans.items()}
    assert served['cocrra_served'] >= max(served.values()) - 1e-12
    assert plans['cocrra_served'].value == served['cocrra_served']
    assert all(p.release_t0_s == 0.7 for p in plans.values())
    with pytest.raises(ValueError, match='cocrra_served needs'):
        plan_uplink('cocrra_served', curves, link)


def test_the_measured_table_is_a_probability_per_view_count():
    assert VIEW_SUCCESS, 'the measured table is empty'
    for (k, i), p in VIEW_SUCCESS.items():
        assert k + i >= 2 and 0.0 <= p <= 1.0
