# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Scoring a pipeline run against ground truth."""

import numpy as np
import pytest

from mec_coop.eval.evaluation import PipelineScore
from mec_coop.eval.streaming import DelayQuantiles
from mec_coop.geometry import metrics


def test_summary_matches_by_stamp_and_ignores_instants_still_in_flight():
    score = PipelineScore(stamp_tolerance_s=0.01)
    gt = np.zeros((17, 3))
    for k in range(10):
        score.add_truth(k * 0.5, gt)
    for k in (0, 1, 2, 9):
        score.add_skeleton(k * 0.5 + 0.004, gt + (0.03, 0.04, 0.0), end_to_end_s=0.1 * (k + 1))
    score.add_skeleton(20.0, gt, end_to_end_s=0.1)   # no ground truth: not matched
    for route in ('keypoints', 'keypoints', 'offload', 'drop'):
        score.add_route(route)
    s = score.summary(delay_requirement_s=0.25, last_truth_stamp=4.0)
    assert s['ground_truth_frames'] == 9 and s['matched'] == 3
    assert s['skeleton_rate'] == pytest.approx(3 / 9)
    assert s['mpjpe_mm'] == pytest.approx(50.0)
    assert s['offload_ratio'] == pytest.approx(0.25)
    assert s['delay_within_requirement'] == pytest.approx(3 / 5)   # 0.1, 0.2 and 0.1 s
    # Instants 0 and 1 came within 0.25 s at 50 mm; 2 took 0.3 s; 3..8 were missed.
    assert s['success_rate'] == pytest.approx(2 / 9)
    strict = PipelineScore(success_mpjpe_mm=40.0)
    for k in range(10):
        strict.add_truth(k * 0.5, gt)
    strict.add_skeleton(0.004, gt + (0.03, 0.04, 0.0), end_to_end_s=0.1)
    assert strict.summary(0.25, 4.0)['success_rate'] == 0.0        # 50 mm > 40 mm
    # Instants 0..2 are matched (50 mm); 3..8 hold the skeleton of instant 2 (50 mm too).
    assert s['mpjpe_all_instants_mm'] == pytest.approx(50.0)
    assert s['jitter_m_s2'] < 1e-3      # nearly still: one 50 mm step over 10 s
    with pytest.raises(ValueError, match='unknown route'):
        score.add_route('teleport')


def test_matched_instants_keep_their_views_settled_or_not():
    score = PipelineScore(settle_s=1.0)
    gt = np.zeros((17, 3))
    skeletons = {0: {'views': 4}, 2: {}, 5: {'views': 2, 'edge': True}}   # {}: unknown
    for k in range(6):
        score.add_truth(k * 0.5, gt, rig_time=k * 0.5)
        if k in skeletons:
            score.add_skeleton(k * 0.5, gt, end_to_end_s=0.1, **skeletons[k])
    rows = {stamp: (views, edge) for stamp, _, _, _, views, edge in score.matched()}
    assert rows == {0.0: (4, False), 1.0: (0, False), 2.5: (2, True)}


def test_missed_instants_hold_the_last_skeleton():
    score = PipelineScore()
    for k in range(4):
        score.add_truth(float(k), np.full((17, 3), 0.1 * k))
    score.add_skeleton(0.0, np.zeros((17, 3)), end_to_end_s=0.1)   # then nothing: a frozen view
    s = score.summary()
    assert s['mpjpe_mm'] == pytest.approx(0.0)
    # errors 0, |0.1|, |0.2|, |0.3| * sqrt(3) per joint: a missing output never looks better.
    assert s['mpjpe_all_instants_mm'] == pytest.approx(1000 * np.sqrt(3) * 0.15)
    assert np.isnan(s['jitter_m_s2'])


def _run(n, rate_hz=10.0, seed=0, warmup=30, present=0.8, lag_instants=15):
    """
    Yield a synthetic run's messages in arrival order.

    ``n`` instants; skeletons from instant ``warmup`` on, ``present`` of them,
    stamped up to 4 ms off, with missing joints, each arriving ``lag_instants`` later (in flight).
    Yields ('truth', stamp, joints, rig_time) and ('skeleton', stamp, joints, delay) in arrival
    order.
    """
    rng = np.random.default_rng(seed)
    pending = []
    for k in range(n):
        stamp = round(k / rate_hz, 3)
        truth = rng.normal(0.0, 0.3, (17, 3)) + [0.0, 0.0, 1.0]
        yield 'truth', stamp, truth, 100.0 + stamp
        if k >= warmup and rng.random() < present:
            est = truth + rng.normal(0.0, 0.05, truth.shape)
            est[rng.random(17) < 0.1] = np.nan
            pending.append((k + lag_instants, round(stamp + rng.uniform(-0.004, 0.004), 3), est,
                            float(rng.lognormal(-1.5, 0.6))))
        while pending and pending[0][0] <= k:
            _, s, est, delay = pending.pop(0)
            yield 'skeleton', s, est, delay


def _feed(score, events):
    for kind, stamp, joints, extra in events:
        if kind == 'truth':
            score.add_truth(stamp, joints, rig_time=extra)
        else:
            score.add_skeleton(stamp, joints, end_to_end_s=extra)


def test_settled_summary_equals_the_whole_run_computation():
    events = list(_run(1500))
    settled, whole = PipelineScore(settle_s=3.0), PipelineScore(settle_s=1e6)
    _feed(settled, events)
    _feed(whole, events)
    assert len(settled._window.truth) <= 3.0 * 10 + 2       # most instants were scored
    last = max(s for kind, s, _, _ in events if kind == 'truth') - 1.0
    got, want = settled.summary(0.25, last), whole.summary(0.25, last)
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == (pytest.approx(value, rel=1e-9, nan_ok=True)
                            if isinstance(value, float) else value), key
    # And against the metrics over the stacked matched instants (an independent computation).
    skeletons = {s: (est, d) for kind, s, est, d in events if kind == 'skeleton'}
    truths = {s: gt for kind, s, gt, _ in events if kind == 'truth'}
    pairs = [(truths[round(round(s * 10) / 10, 3)], est) for s, (est, _) in skeletons.items()
             if round(s * 10) / 10 <= last]
    gt, est = (np.array(a) for a in zip(*pairs))
    assert got['matched'] == len(pairs)
    assert got['mpjpe_mm'] == pytest.approx(1000 * metrics.mpjpe(est, gt), rel=1e-9)
    assert got['pa_mpjpe_mm'] == pytest.approx(1000 * metrics.pa_mpjpe(est, gt), rel=1e-9)
    assert got['pck_150mm'] == pytest.approx(metrics.pck(est, gt, 0.15), rel=1e-9)
    assert got['joint_coverage'] == pytest.approx(metrics.coverage(est), rel=1e-9)
    stamps = sorted(skeletons)
    assert got['jitter_m_s2'] == pytest.approx(metrics.mean_acceleration(
        np.array(stamps), np.array([skeletons[s][0] for s in stamps])), rel=1e-9)
    delays = [d for _, d in skeletons.values()]
    assert got['delay_s']['p95'] == pytest.approx(np.percentile(delays, 95), rel=1e-12)
    assert got['delay_percentiles'] == 'exact'
    # The newest matched instants, with their rig times, for matched.npz.
    window = PipelineScore(settle_s=3.0, matched_window=50)
    _feed(window, events)
    matched = window.matched()
    assert len(matched) == 50 and matched[-1][0] == max(round(round(s * 10) / 10, 3)
                                                        for s in skeletons)
    assert all(rig == pytest.approx(100.0 + stamp) for stamp, _, _, rig, _, _ in matched)


def test_memory_stays_bounded_over_100k_instants():
    score = PipelineScore(settle_s=3.0, matched_window=100)
    sizes = []
    for i, event in enumerate(_run(100_000, lag_instants=5)):
        _feed(score, [event])
        if i % 20_000 == 19_999:
            sizes.append((len(score._window.truth), len(score._window.estimates),
                          len(score._totals.pairs), len(score.matched()), score.delays.nbytes()))
    assert all(t <= 32 and e <= 32 and p <= 32 and m == 100 for t, e, p, m, _ in sizes)
    assert len({nbytes for *_, nbytes in sizes[1:]}) == 1      # the histogram, fixed size
    s = score.summary(0.25)
    assert s['ground_truth_frames'] > 99_000 and 0.75 < s['skeleton_rate'] < 0.85
    assert s['delay_percentiles'].startswith('histogram')


def test_delay_percentiles_beyond_the_exact_limit_are_within_the_stated_error():
    rng = np.random.default_rng(1)
    delays = np.concatenate([rng.lognormal(-1.5, 0.6, 100_000), [-0.003, 0.0, 2e-5]])
    sketch = DelayQuantiles(exact_limit=1000)
    for d in delays:
        sketch.add(d)
    assert not sketch.exact and sketch.nbytes() < 64_000
    for q in (1, 50, 95, 99, 99.9):
        exact = np.percentile(delays, q)
        assert abs(sketch.percentile(q) - exact) <= sketch.relative_error * abs(exact) + 1e-4
    assert sketch.mean == pytest.approx(delays.mean(), rel=1e-9)
    for bound in (0.1, 0.25, 0.5):
        near = np.mean(np.abs(delays - bound) <= 0.01 * bound)
        assert abs(sketch.share_within(bound) - np.mean(delays <= bound)) <= near
    with pytest.raises(ValueError, match='finite'):
        sketch.add(float('nan'))


def test_a_skeleton_later_than_the_settling_time_is_counted_not_matched():
    score = PipelineScore(settle_s=2.0)
    for k in range(60):
        score.add_truth(0.1 * k, np.zeros((17, 3)))
    score.add_skeleton(0.1, np.zeros((17, 3)), end_to_end_s=5.9)   # its instant is scored
    score.add_skeleton(99.0, np.zeros((17, 3)), end_to_end_s=0.1)  # no ground truth near
    s = score.summary()
    assert s['late'] == {'truth': 0, 'estimates': 1, 'estimates_without_truth': 1}
    assert s['skeletons'] == 2 and s['matched'] == 0
    with pytest.raises(ValueError, match='already scored'):
        score.summary(last_truth_stamp=1.0)
