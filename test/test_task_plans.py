# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The allocator's uplink plan (paper D) and action plan (seed 001), and what they push.

Pure: the plans on small instances against a brute-force grid, and the parameter values that
``mec_coop.ros.allocation.pushes`` makes of an ``AllocationState`` (no DDS here).
"""

from dataclasses import replace
import itertools
import json
import pathlib
from typing import Any

import numpy as np
import pytest

from mec_coop.alloc.action_plan import plan_actions, snap
from mec_coop.alloc.cocrra import eta
from mec_coop.alloc.cocrra_tdma import delivery, TdmaLink
from mec_coop.alloc.instant import ViewRoutes
from mec_coop.alloc.model import SystemParams
from mec_coop.alloc.plan import RELEASE_MARGIN_S
from mec_coop.alloc.uplink_plan import (HOLD_MARGIN, MIN_QUALITY, plan_uplink, rate_curve,
                                        RELATIVE_SIZE, relative_size, upload_deadline)
from mec_coop.coop.uplink import db_to_linear, dbm_to_watt, LinkBudget
from mec_coop.msg import AllocationState, CameraAllocation
from mec_coop.ros.allocation import CALIBRATION_HORIZON_S, pushes, task_problem

BUNDLED = (1, 2, 3, 4, 6, 8, 12, 16)
ROOT = pathlib.Path(__file__).resolve().parents[1]


def tight_link(gains_db, bandwidth_hz=1e5, t0_s=0.45):
    """Return the graph's uplink (30 dBm, -165 dBm/Hz) with the bandwidth lowered."""
    return TdmaLink(bandwidth_hz, dbm_to_watt(30.0), dbm_to_watt(-165.0),
                    tuple(db_to_linear(g) for g in gains_db), t0_s, 0.01)


def test_rate_curve_scales_the_measured_shape():
    # Offloads measured 50 KB at quality 70: the curve passes through it with the rig's shape.
    curve = rate_curve(50_000, 70)
    assert curve.qualities == (30, 50, 70, 90, 95)
    assert curve.sizes[2] == pytest.approx(50_000)
    assert curve.sizes[3] == pytest.approx(50_000 / 0.4375, rel=1e-4)   # 114.3 KB at 90
    assert curve.full_bits == pytest.approx(8 * 50_000 * 1.3749 / 0.4375, rel=1e-4)
    # Between measured qualities log-linear; above 95 the last slope continues.
    assert relative_size(80) == pytest.approx(np.sqrt(0.4375), rel=1e-3)
    assert relative_size(100) > relative_size(95)
    with pytest.raises(ValueError, match='quality'):
        relative_size(2)
    with pytest.raises(ValueError, match='positive'):
        rate_curve(0.0, 90)


def test_each_codec_has_its_measured_curve():
    # The constants are what `python benchmarks/offload_sizes.py` measured (its JSON).
    measured = json.loads((ROOT / 'docs' / 'figures' / 'offload_sizes.json').read_text())
    for codec, shape in RELATIVE_SIZE.items():
        got = dict(zip(measured[codec]['qualities'], measured[codec]['relative_size']))
        assert shape == pytest.approx(got, abs=1e-4), codec
    # Region-wise: the background keeps its level, so quality 30 still costs 62% of quality
    # 90 (plain JPEG: 25%). A plan on the JPEG curve would expect offloads 2.4x too small.
    jpeg, regional = (rate_curve(16_500, 90, codec=c) for c in ('jpeg', 'regionwise'))
    assert regional.sizes[0] == pytest.approx(0.6205 * 16_500, rel=1e-4)
    assert regional.sizes[0] / jpeg.sizes[0] == pytest.approx(0.6205 / 0.2489, rel=1e-3)
    with pytest.raises(ValueError, match="no measured size curve for offload codec 'webp'"):
        rate_curve(16_500, 90, codec='webp')


def test_upload_deadline_is_what_the_other_terms_leave():
    params = SystemParams(delay_req_s=0.6)   # Table I: 0.1 + 0.01 + 0.02 + 0.005 + 0.0005 + 0.02
    assert upload_deadline(params) == pytest.approx(0.6 - 0.1555)
    # At most one frame period (2 fps): longer uploads would queue behind each other.
    assert upload_deadline(SystemParams(delay_req_s=1.0)) == pytest.approx(0.5)


def brute_force(curves, link, step=0.005):
    """Best mean success over every quality pair and share split of two cameras."""
    d = np.array([c.full_bits for c in curves])
    best = -np.inf
    for qualities in itertools.product(*(c.qualities for c in curves)):
        o = np.array([1 - 8 * c.sizes[c.qualities.index(q)] / c.full_bits
                      for c, q in zip(curves, qualities)])
        for t in np.arange(link.min_share, 1 - link.min_share + 1e-12, step):
            tau = np.array([t, 1 - t])
            best = max(best, float(np.mean(eta(o) * delivery(o, tau, d, link))))
    return best


def test_cocrra_plan_against_brute_force_and_baselines():
    link = tight_link([-95.0, -110.0])
    curves = [rate_curve(135_000, 90), rate_curve(135_000, 90)]
    plans = {m: plan_uplink(m, curves, link) for m in ('cocrra', 'fcrra', 'fracr', 'msvra')}
    co = plans['cocrra']
    assert co.mean_success >= 0.99 * brute_force(curves, link)
    # Measured here: 0.714, both at quality 30 with 41% / 59% of the airtime.
    assert co.mean_success == pytest.approx(0.714, abs=0.005)
    assert co.qualities == (30, 30)
    assert co.shares.sum() == pytest.approx(1.0, abs=1e-6)
    assert co.shares[1] > co.shares[0]   # the weaker channel gets more airtime
    # Uniform JPEG at 90 (FCRRA, MSVRA) cannot upload both in time: one camera is given up.
    for name in ('fcrra', 'msvra'):
        assert plans[name].qualities == (90, 90)
        assert plans[name].success.min() < 0.01
    assert plans['msvra'].shares.tolist() == pytest.approx([0.99, 0.01])
    assert plans['fracr'].shares.tolist() == [0.5, 0.5]
    for name in ('fcrra', 'fracr', 'msvra'):
        assert co.mean_success >= plans[name].mean_success - 1e-9
    assert plans['fracr'].mean_success == pytest.approx(0.545, abs=0.005)   # half to each
    # The planned size is the curve's at the chosen quality: what the camera will send.
    assert co.sizes_bytes.tolist() == pytest.approx([135_000 * 0.2489] * 2, rel=1e-6)


def test_no_time_for_the_upload_sends_the_smallest_offloads():
    link = tight_link([-95.0, -110.0], t0_s=0.001)
    curves = [rate_curve(135_000, 90)] * 2
    for name in ('cocrra', 'fracr'):
        plan = plan_uplink(name, curves, link)
        assert plan.success.max() < 1e-6 and plan.qualities == (30, 30)


def test_uplink_plan_rejects_bad_input():
    link = tight_link([-100.0, -100.0])
    curves = [rate_curve(135_000, 90)] * 2
    with pytest.raises(ValueError, match='uplink plan must be one of'):
        plan_uplink('tdma', curves, link)
    with pytest.raises(ValueError, match='2 cameras'):
        plan_uplink('cocrra', curves[:1], link)
    with pytest.raises(ValueError, match='fixed quality 15'):
        plan_uplink('fcrra', curves, link, fixed_quality=15)


def test_action_plan_frames():
    rates = [LinkBudget().spectral_rate_bps(g) for g in (-95.0, -100.0, -105.0, -110.0)]
    # Every camera on the edge: costlier frames buy fewer of them.
    edge = [plan_actions('edge_only', rates, bits, BUNDLED) for bits in (544, 16_000, 1.6e6)]
    assert [p.plan.m.tolist() for p in edge] == [[15, 15, 15, 14], [6, 6, 6, 6], [2, 2, 2, 2]]
    assert [p.node_frames for p in edge] == [16, 6, 2]
    assert edge[0].frames == (16, 16, 16, 16)          # 14 and 15: no model, 16 is nearest
    local = plan_actions('local_only', rates, 16_000, BUNDLED)
    assert not local.plan.x.any() and local.node_frames == 16
    admm = plan_actions('admm', rates, 16_000, BUNDLED)
    gp = plan_actions('gp_heuristic', rates, 16_000, BUNDLED)
    assert min(admm.plan.cost, gp.plan.cost) <= min(edge[1].plan.cost, local.plan.cost) + 1e-9
    assert snap(5, BUNDLED) == 6 and snap(7, BUNDLED) == 8 and snap(10, BUNDLED) == 12
    with pytest.raises(ValueError, match='positive rate'):
        plan_actions('admm', [0.0, 1e6], 544, BUNDLED)
    with pytest.raises(ValueError, match='action allocation must be one of'):
        plan_actions('none', rates, 544, BUNDLED)


def _state(qualities, frames):
    state = AllocationState(delay_requirement_s=1.0)
    state.cameras = [CameraAllocation(camera_id=f'cam{i}', tdma_share=s, theta_low=0.2,
                                      theta_high=0.6, theta_server=0.3, jpeg_quality=q,
                                      action_frames=m)
                     for i, (s, q, m) in enumerate(zip((0.4, 0.6), qualities, frames))]
    return state


def _values(wanted):
    return {key: {p.name: p.value for p in params} for key, params in wanted.items()}


def test_pushes_of_the_task_plans():
    planned = _values(pushes(_state((30, 50), (6, 12)), 0.05))
    assert planned['camera:cam0'] == {'theta_low': pytest.approx(0.2),
                                      'theta_high': pytest.approx(0.6), 'jpeg_quality': 30}
    assert planned['camera:cam1']['jpeg_quality'] == 50
    assert planned['uplink'] == {'tdma_share.cam0': pytest.approx(0.4),
                                 'tdma_share.cam1': pytest.approx(0.6)}
    assert planned['action'] == {'frames': 12}
    assert planned['edge']['sync_timeout_s'] == pytest.approx(0.95)
    # Warming up: the thresholds wait for the score laws, the task plans do not.
    warming = _values(pushes(_state((30, 50), (6, 12)), 0.05, decisions=False))
    assert warming['camera:cam0'] == {'jpeg_quality': 30}
    assert set(warming['uplink']) == {'tdma_share.cam0', 'tdma_share.cam1'}
    assert warming['action'] == {'frames': 12}
    # The plans off (0 in the state): today's behaviour, nothing new is pushed.
    off = _values(pushes(_state((0, 0), (0, 0)), 0.05, decisions=False))
    assert set(off) == {'edge'}
    assert 'jpeg_quality' not in _values(pushes(_state((0, 0), (0, 0)), 0.05))['camera:cam0']


def test_task_parameters_are_checked_together():
    good = {'uplink_plan': 'cocrra', 'action_allocation': 'admm', 'min_jpeg_quality': 30,
            'fixed_jpeg_quality': 90, 'uplink_success_model': 'link'}
    assert task_problem(good) == ''
    assert 'uplink_plan must be one of' in task_problem({**good, 'uplink_plan': 'fdma'})
    assert 'uplink_success_model must be one of' in task_problem(
        {**good, 'uplink_success_model': 'fading'})
    assert 'action_allocation must be one of' in task_problem(
        {**good, 'action_allocation': 'off'})
    assert 'one of [50, 70, 90, 95]' in task_problem({**good, 'min_jpeg_quality': 40,
                                                      'fixed_jpeg_quality': 30})


class _Observer:
    """What :class:`TaskPlanner` reads of the graph: offload sizes measured per camera."""

    def __init__(self, cameras, sizes):
        from mec_coop.alloc.timing import RunningStat
        self.calibration = type('Calibration', (), {})()
        self.calibration.image_bytes = {cam: RunningStat(100) for cam in cameras}
        for cam, size in zip(cameras, sizes):
            for _ in range(20):
                self.calibration.image_bytes[cam].add(size)
        self.forgotten = []

    def forget_offload_sizes(self, cam):
        self.forgotten.append(cam)


class _Reader:
    """Each camera's ``offload_codec`` and thresholds as the allocator read them (None: not)."""

    def __init__(self, codecs, thresholds=None):
        self.codecs, self.thresholds = codecs, thresholds or {}
        # What the allocator node reads on each camera.
        self.names = ('offload_codec', 'theta_low', 'theta_high')

    def value(self, key, name):
        assert name in self.names
        cam = key.split(':', 1)[1]
        if name == 'offload_codec':
            return self.codecs[cam]
        return self.thresholds.get(cam, {}).get(name)


# The allocator's parameters a TaskPlanner reads, at their defaults (a test sets the rest).
_TASK_VALUES = {'min_jpeg_quality': MIN_QUALITY, 'fixed_jpeg_quality': 90,
                'image_bytes': 16_384.0, 'calibrate': True, 'uplink_hold_margin': HOLD_MARGIN,
                'release_margin_s': RELEASE_MARGIN_S}


def _planner(cams: list, observer: Any, reader: _Reader) -> Any:
    """Return a TaskPlanner whose pushes go nowhere."""
    from mec_coop.ros.allocation import TaskPlanner
    pusher = type('Pusher', (), {'applied': staticmethod(lambda key, name: None)})()
    return TaskPlanner(cams, observer, pusher, reader)


def test_the_uplink_plan_sizes_offloads_with_each_cameras_codec():
    from mec_coop.alloc.plan import PlanSettings

    cams = ['cam0', 'cam1']
    # Region-wise offloads of 16.5 KB at quality 90 (measured), 0.03 MHz, cam1 15 dB weaker.
    reader = _Reader({'cam0': 'regionwise', 'cam1': None})
    observer = _Observer(cams, [16_500.0, 16_500.0])
    planner = _planner(cams, observer, reader)
    values = {**_TASK_VALUES, 'uplink_plan': 'cocrra', 'camera_jpeg_quality': 90,
              'upload_deadline_s': 0.45, 'uplink_success_model': 'paper'}
    params = SystemParams(link=LinkBudget(3e4, 30.0, -165.0))
    settings = PlanSettings(params=params)
    gains = [-95.0, -110.0]
    # A camera whose codec is not read yet: no plan rather than one on a guessed curve.
    assert planner.uplink(values, settings, gains) == (settings, None)
    assert planner.waiting == ['cam1']
    reader.codecs['cam1'] = 'regionwise'
    planned, plan = planner.uplink(values, settings, gains)
    link = TdmaLink(3e4, dbm_to_watt(30.0), dbm_to_watt(-165.0),
                    tuple(db_to_linear(g) for g in gains), 0.45, 0.01)
    expected = plan_uplink('cocrra', [rate_curve(16_500.0, 90, codec='regionwise')] * 2, link)
    assert plan.qualities == expected.qualities and planner.waiting == []
    assert plan.sizes_bytes.tolist() == pytest.approx(expected.sizes_bytes.tolist())
    assert plan.shares.tolist() == pytest.approx(expected.shares.tolist())
    assert plan.qualities == (50, 30) and plan.mean_success == pytest.approx(0.847, abs=0.005)
    # The next periodic re-plan on the same inputs keeps the plan in place (held).
    again = planner.uplink(values, settings, gains)[1]
    assert again.held and again.shares.tolist() == plan.shares.tolist()
    # The plain-JPEG curve (the bug) expects 5.3 KB from cam1 at quality 50 and gives it a
    # third of the airtime; the region-wise codec sends 11.4 KB there, which never makes t0.
    wrong = plan_uplink('cocrra', [rate_curve(16_500.0, 90)] * 2, link)
    true = rate_curve(16_500.0, 90, codec='regionwise')
    o = 1.0 - np.array([true.sizes[true.qualities.index(q)] for q in wrong.qualities]) * 8 / \
        true.full_bits
    assert wrong.qualities == (90, 50)
    assert delivery(o, wrong.shares, [true.full_bits] * 2, link)[1] < 1e-3
    assert planned.params.image_bytes == pytest.approx(plan.sizes_bytes.max())
    # The camera changes codec: its sizes measured with the old one are dropped.
    reader.codecs['cam0'] = 'jpeg'
    planner.uplink(values, settings, gains)
    assert observer.forgotten == ['cam0'] and planner.codec == {'cam0': 'jpeg',
                                                                'cam1': 'regionwise'}


def test_at_least_against_enumeration():
    from mec_coop.alloc.cocrra_tdma import at_least
    p = np.array([0.9, 0.2, 0.6, 0.35])
    for k in range(5):
        exact = sum(np.prod([p[i] if bits[i] else 1 - p[i] for i in range(4)])
                    for bits in itertools.product((0, 1), repeat=4) if sum(bits) >= k)
        assert at_least(p, k) == pytest.approx(exact, abs=1e-12)


@pytest.mark.parametrize('t0_s', [0.3, 0.5])
def test_four_camera_plans_against_brute_force(t0_s):
    # Four region-wise cameras on a band too narrow for all of them (45 kHz).
    link = tight_link([-95.0, -100.0, -105.0, -110.0], bandwidth_hz=45e3, t0_s=t0_s)
    curves = [rate_curve(16_500, 90, codec='regionwise')] * 4
    # Cameras that offload every frame: the instant objective is "at least two offloads on
    # time", the objective of the cocrra_views plan it replaced.
    routes = ViewRoutes((1.0,) * 4, (0.0,) * 4, (2400.0,) * 4)
    paper, views = (plan_uplink(m, curves, link, routes=routes)
                    for m in ('cocrra', 'cocrra_instant'))
    # Brute force: every share split on a 0.02 grid. The mean and "at least two views" both
    # grow with each camera's success, so each camera takes its best quality for its share.
    steps = np.arange(0.02, 0.95, 0.02)
    tau = np.array([(a, b, c, 1 - a - b - c) for a in steps for b in steps for c in steps
                    if 1 - a - b - c >= 0.01 - 1e-9])
    d = np.full(4, curves[0].full_bits)
    phi = np.max([eta(o) * delivery(np.full(4, o), tau, d, link)
                  for o in 1 - 8 * np.array(curves[0].sizes) / d[0]], axis=0)
    dist = np.zeros((len(tau), 5))
    dist[:, 0] = 1.0
    for i in range(4):   # Poisson binomial, one camera at a time
        dist[:, 1:] = dist[:, 1:] * (1 - phi[:, i:i + 1]) + dist[:, :-1] * phi[:, i:i + 1]
        dist[:, 0] *= 1 - phi[:, i]
    assert paper.mean_success >= 0.99 * phi.mean(axis=1).max()
    assert views.views_success >= 0.99 * dist[:, 2:].sum(axis=1).max()
    assert views.instant == pytest.approx(views.views_success, abs=1e-9)
    # Each is best at its own objective.
    assert paper.mean_success >= views.mean_success - 1e-9
    assert views.views_success >= paper.views_success - 1e-9
    if t0_s == 0.3:
        # Starting from single-camera corners only, Co-CRRA gave cam0 0.97 of the airtime
        # (mean 0.25); the best pair shares it (0.43).
        assert paper.mean_success == pytest.approx(0.429, abs=0.005)
        assert sorted(paper.shares)[-2] > 0.4
    else:
        # The mean serves all four at quality 30, the weakest with the most airtime (0.660);
        # two views alone make 0.984.
        assert paper.mean_success == pytest.approx(0.660, abs=0.005)
        assert paper.qualities == (30,) * 4 and np.all(np.diff(paper.shares) > 0)
        assert views.views_success == pytest.approx(0.984, abs=0.005)


def test_a_plan_in_place_is_kept_unless_a_new_one_is_clearly_better():
    from mec_coop.alloc.uplink_plan import hold_plan, HOLD_MARGIN, judged

    def four(t0_s, size, bandwidth_hz=45e3):
        link = tight_link([-95.0, -100.0, -105.0, -110.0], bandwidth_hz, t0_s)
        return [rate_curve(size, 90, codec='regionwise')] * 4, link

    curves, link = four(0.45, 16_000)
    first = plan_uplink('cocrra', curves, link)
    # Unchanged inputs: the same plan, so the same shares, whatever the margin.
    again = hold_plan(first, plan_uplink('cocrra', curves, link), curves, link)
    assert again.held and again.shares.tolist() == first.shares.tolist()
    assert again.qualities == first.qualities == (70, 70, 30, 30)
    # The measured offload grows 3%: the solver moves a camera to quality 50 and every share by
    # up to 0.016 for +0.002 of predicted success (measured here). The plan in place stays.
    curves, link = four(0.45, 16_500)
    new = plan_uplink('cocrra', curves, link)
    assert new.qualities == (70, 50, 30, 30) and np.abs(new.shares - first.shares).max() > 0.01
    kept = hold_plan(first, new, curves, link)
    assert kept.held and kept.shares.tolist() == first.shares.tolist()
    assert kept.qualities == first.qualities
    old = judged(first, curves, link)   # judged on the new sizes, not the ones it was made on
    assert 0.0 < new.value - old.value < HOLD_MARGIN
    assert kept.success.tolist() == old.success.tolist()
    assert kept.sizes_bytes.tolist() == pytest.approx([16_500 * r for r in (0.7442,) * 2
                                                       + (0.6205,) * 2], rel=1e-4)
    assert hold_plan(first, new, curves, link, margin=0.0) is new
    # t0 falls to 0.2 s: the plan in place makes nothing (success 0), the new one 0.23.
    curves, link = four(0.2, 16_500)
    new = plan_uplink('cocrra', curves, link)
    assert judged(first, curves, link).value < 1e-3 and new.value > 0.2
    assert hold_plan(first, new, curves, link) is new
    # Another method, or shares the link no longer allows: the new plan.
    fracr = plan_uplink('fracr', curves, link)
    assert hold_plan(first, fracr, curves, link) is fracr
    strict = replace(link, min_share=0.02)
    assert judged(first, curves, strict) is None


def test_the_uplinks_fading_changes_the_plan_through_the_link_reader():
    from mec_coop.alloc.plan import PlanSettings
    from mec_coop.msg import LinkState
    from mec_coop.ros.allocation import link_key, with_link

    cams = ['cam0', 'cam1', 'cam2', 'cam3']
    planner = _planner(cams, _Observer(cams, [16_500.0] * 4),
                       _Reader(dict.fromkeys(cams, 'regionwise')))
    values = {**_TASK_VALUES, 'uplink_plan': 'cocrra', 'camera_jpeg_quality': 90,
              'upload_deadline_s': 0.5, 'uplink_success_model': 'link'}
    plans = {}
    for fading in ('none', 'gaussian'):
        # The link state as the uplink publishes it (the scenario of compression_results.md).
        state = LinkState(enabled=True, bandwidth_hz=45e3, tx_power_dbm=30.0,
                          noise_dbm_per_hz=-165.0, camera_ids=cams, fading=fading,
                          channel_gain_db=[-95.0, -100.0, -105.0, -110.0], tdma_share=[0.25] * 4)
        settings, gains = with_link(PlanSettings(params=SystemParams()), state, cams)
        assert settings.params.link.fading == fading
        plans[fading] = (planner.uplink(values, settings, gains)[1], link_key(state))
    none, gaussian = plans['none'][0], plans['gaussian'][0]
    assert plans['none'][1] != plans['gaussian'][1]   # a change of fading is a re-plan
    assert (none.model, gaussian.model) == ('none', 'gaussian') and not gaussian.held
    # Fixed gains: every camera fits its upload in t0 with its region-wise offload's spread;
    # the fading link cannot promise that, so the plan differs.
    assert none.qualities != gaussian.qualities or not np.allclose(none.shares, gaussian.shares)
    assert none.mean_success > 0.75 and gaussian.mean_success < none.mean_success
    # A publisher without the field had fixed gains; an unknown fading is refused.
    state.fading = ''
    assert with_link(PlanSettings(params=SystemParams()), state, cams)[0].params.link.fading \
        == 'none'
    state.fading = 'rayleigh'
    with pytest.raises(ValueError, match='fading must be one of'):
        with_link(PlanSettings(params=SystemParams()), state, cams)


def _start_up_then_spread(cams: list, horizon_s: float = CALIBRATION_HORIZON_S) -> Any:
    """
    Return an observer of 200 frames a camera at 2 fps: 140 start-up ones, then 60 spread.

    The start-up's frames score 0.05, the last 30 s's evenly over [0, 1); at 100 s the samples
    older than ``horizon_s`` are forgotten (0: none), as the allocator does before it plans.
    """
    from mec_coop.alloc.calibration import Calibration

    observer = type('Observer', (), {'calibration': Calibration(cams)})()
    for k in range(200):   # 11 KB offloads
        for cam in cams:
            observer.calibration.frame_scores[cam].add(0.05 if k < 140 else (k - 139.5) / 60,
                                                       0.5 * k)
            observer.calibration.image_bytes[cam].add(11_000.0, 0.5 * k)
    if horizon_s:
        observer.calibration.expire(100.0, horizon_s)
    return observer


def test_the_instant_plan_takes_each_cameras_routes_from_its_thresholds_and_scores():
    from mec_coop.alloc.plan import PlanSettings

    cams = ['cam0', 'cam1', 'cam2', 'cam3']
    observer = _start_up_then_spread(cams)   # the routes are those of the last 30 s
    reader = _Reader(dict.fromkeys(cams, 'regionwise'))
    planner = _planner(cams, observer, reader)
    values = {**_TASK_VALUES, 'uplink_plan': 'cocrra_instant', 'camera_jpeg_quality': 30,
              'upload_deadline_s': 0.3, 'uplink_success_model': 'link'}
    params = SystemParams(link=LinkBudget(45e3, 30.0, -165.0, 'gaussian'), delay_req_s=1.0)
    gains = [-95.0, -100.0, -105.0, -110.0]
    # The thresholds are not read yet: the instant plan waits; Co-CRRA plans without routes.
    assert planner.uplink(values, PlanSettings(params=params), gains)[1] is None
    assert planner.waiting == cams
    assert planner.uplink({**values, 'uplink_plan': 'cocrra'}, PlanSettings(params=params),
                          gains)[1].instant is None
    # Cascade on cam0-cam2 (offload below 0.7, keypoints above), most frames kept on cam3.
    reader.thresholds = {cam: {'theta_low': 0.0, 'theta_high': 0.7} for cam in cams[:3]}
    reader.thresholds['cam3'] = {'theta_low': 0.0, 'theta_high': 0.15}
    plan = planner.uplink(values, PlanSettings(params=params), gains)[1]
    assert planner.waiting == [] and plan.method == 'cocrra_instant'
    assert plan.routes.offload == pytest.approx((0.7, 0.7, 0.7, 0.15))
    assert plan.routes.keypoints == pytest.approx((0.3, 0.3, 0.3, 0.85))
    # The keypoint message's size before any is measured: the model's prior (68 bytes).
    assert plan.routes.message_bits == (8 * SystemParams().message_bytes,) * 4
    # Judged with the same routes, no baseline is above it in its objective.
    for method in ('cocrra', 'fracr', 'fcrra'):
        other = planner.uplink({**values, 'uplink_plan': method}, PlanSettings(params=params),
                               gains)[1]
        assert other.instant <= plan.instant + 1e-12


def test_the_routes_come_from_the_frame_scores_of_the_calibration_horizon():
    from mec_coop.alloc.plan import PlanSettings

    cams = ['cam0', 'cam1']
    values = {**_TASK_VALUES, 'uplink_plan': 'cocrra_instant', 'camera_jpeg_quality': 30,
              'upload_deadline_s': 0.3, 'uplink_success_model': 'link'}
    settings = PlanSettings(params=SystemParams(link=LinkBudget(45e3, 30.0, -165.0)))
    # Offloads below theta_high 0.7: the last 30 s are the 60 spread frames (42 of them), 60 s
    # add 60 start-up frames, 0 (the whole window) all 140, and under the newest MIN_SAMPLES
    # (5) frames the horizon keeps those, 0.93-0.99: no offload.
    for horizon, offload in ((30.0, 42 / 60), (60.0, 102 / 120), (0.0, 182 / 200), (1.0, 0.0)):
        planner = _planner(cams, _start_up_then_spread(cams, horizon), _Reader(
            dict.fromkeys(cams, 'regionwise'), dict.fromkeys(cams, {'theta_low': 0.0,
                                                                    'theta_high': 0.7})))
        plan = planner.uplink(values, settings, [-95.0, -100.0])[1]
        assert plan.routes.offload == pytest.approx((offload,) * 2, abs=1e-9)


def test_the_served_plan_counts_images_of_nobody_and_budgets_to_the_edges_release():
    from mec_coop.alloc.plan import PlanSettings
    from mec_coop.alloc.calibration import Calibration

    cams = ['cam0', 'cam1', 'cam2', 'cam3']
    observer = type('Observer', (), {'calibration': Calibration(cams)})()
    for k in range(60):   # the last 30 s: one frame in ten of nobody (score 0), the rest spread
        for cam in cams:
            observer.calibration.frame_scores[cam].add(0.0 if k % 10 == 0 else k / 60, 0.0)
            observer.calibration.image_bytes[cam].add(10_000.0, 0.0)
    reader = _Reader(dict.fromkeys(cams, 'regionwise'),
                     dict.fromkeys(cams, {'theta_low': 0.0, 'theta_high': 0.7}))
    planner = _planner(cams, observer, reader)
    values = {**_TASK_VALUES, 'uplink_plan': 'cocrra_served', 'camera_jpeg_quality': 30,
              'upload_deadline_s': 0.0, 'uplink_success_model': 'link'}
    params = SystemParams(link=LinkBudget(45e3, 30.0, -165.0, 'gaussian'), delay_req_s=1.0)
    plan = planner.uplink(values, PlanSettings(params=params), [-95.0, -100.0, -105.0, -110.0])[1]
    assert plan.method == 'cocrra_served' and plan.value == plan.served
    # Scores below 0.7 are images (43 of 60), those of exactly 0 images of nobody (6 of 60).
    assert plan.routes.offload == pytest.approx((43 / 60,) * 4)
    assert plan.routes.empty == pytest.approx((0.1,) * 4)
    # The budget: the edge's release less the camera's time (the priors here: 0.1 + 0.01 s);
    # t0 of the other objectives stays at most one frame period.
    assert plan.release_t0_s == pytest.approx(1.0 - RELEASE_MARGIN_S - 0.11)
    assert plan.t0_s <= 0.5
    for method in ('cocrra', 'fracr', 'fcrra', 'cocrra_instant'):
        other = planner.uplink({**values, 'uplink_plan': method}, PlanSettings(params=params),
                               [-95.0, -100.0, -105.0, -110.0])[1]
        assert other.served <= plan.served + 1e-12
    # The user's release_margin_s moves the release, so the budget (0: up to D_req itself).
    plans = {margin: planner.uplink({**values, 'release_margin_s': margin},
                                    PlanSettings(params=params),
                                    [-95.0, -100.0, -105.0, -110.0])[1] for margin in (0.3, 0.0)}
    assert plans[0.3].release_t0_s == pytest.approx(1.0 - 0.3 - 0.11)
    assert plans[0.0].release_t0_s == pytest.approx(1.0 - 0.11)
    # A changed margin takes the new plan at once; less time for the uploads, less success
    # (0.735 at 0.59 s against 0.817 at the default 0.84 s).
    assert not plans[0.3].held and not plans[0.0].held
    assert plans[0.3].served == pytest.approx(0.735, abs=0.01)
    assert plans[0.0].served >= plan.served - 1e-9
