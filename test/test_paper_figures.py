# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The paper-figure benchmark's own logic: paired solver gaps and the MPJPE memo."""

import importlib.util
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location('paper_figures_benchmark',
                                               ROOT / 'benchmarks' / 'paper_figures.py')
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def _point(accuracy, feasible):
    return {'accuracy_draws': accuracy, 'feasible_draws': feasible, 'solve_time_s': 0.001}


def test_exhaustive_gaps_pair_draws_and_count_misses():
    # Two requirements x three draws; the first draw of the first requirement is infeasible
    # for everyone, the second requirement's last draw only for paper_literal.
    f8 = {'exhaustive': [_point([0.5, 0.8, 1.0], [False, True, True]),
                         _point([0.9, 0.9, 0.8], [True, True, True])],
          'proposed': [_point([0.4, 0.8, 1.0], [False, True, True]),
                       _point([0.9, 0.9, 0.8], [True, True, True])],
          'paper_literal': [_point([0.4, 0.6, 0.9], [False, True, True]),
                            _point([0.9, 0.9, 0.7], [True, True, False])]}
    gaps = bench.exhaustive_gaps(f8)
    assert gaps['proposed'] == pytest.approx({'worst': 0.0, 'mean': 0.0, 'optimal_share': 1.0,
                                              'instances': 5, 'solve_time_s': 0.001})
    literal = gaps['paper_literal']
    assert literal['instances'] == 5
    # 0.2/0.8 and 0.1/1.0 paired per draw; the infeasible answer counts as a 100 % gap.
    assert literal['worst'] == pytest.approx(1.0)
    assert literal['mean'] == pytest.approx((0.25 + 0.1 + 1.0) / 5)
    assert literal['optimal_share'] == pytest.approx(2 / 5)


def test_surrogate_memo_returns_the_computed_mpjpe():
    surrogate = bench.Surrogate(3, frames=12, seed=4)
    low, high, server = np.full(3, 0.3), np.array([0.6, 0.7, 0.8]), np.full(3, 0.5)
    first = surrogate.mpjpe_mm(low, high, server)
    assert surrogate.mpjpe_mm(low.copy(), high.copy(), server.copy()) == first
    assert surrogate._mpjpe_mm(low, high, server, False) == first
    # Scalars and per-camera arrays of the same thresholds share one entry; robust is its own.
    assert surrogate.mpjpe_mm(0.3, high, 0.5) == first
    robust = surrogate.mpjpe_mm(low, high, server, robust=True)
    assert robust == surrogate._mpjpe_mm(low, high, server, True)
    assert len(surrogate.memo) == 2
