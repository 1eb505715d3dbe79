# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The allocator's ROS side: parameters, link state, and a plan as the graph sees it.

A plan becomes an ``AllocationState``, the parameters pushed to the nodes, diagnostics and a log
line; the link state the uplink owns becomes the link budget and gains the plan uses.
"""

from dataclasses import replace
import math
from typing import Optional

from rclpy.node import Node
from rclpy.parameter import Parameter

from mec_coop.alloc.model import SystemParams, TX_MODELS, UPLINK_COMBINES
from mec_coop.alloc.plan import MODEL_PARAMS, Plan, PlanSettings, RELEASE_MARGIN_S, SOLVERS
from mec_coop.coop.uplink import LinkBudget
from mec_coop.msg import AllocationState, CameraAllocation, LinkState
from mec_coop.ros.params import float_param, int_param, text_param
from mec_coop.ros.score_samples import LABEL_SOURCES, SERVER_SAMPLES

SCORE_LABELS = ('prior', *LABEL_SOURCES)
_DEFAULTS = SystemParams()


def declare_allocator_params(node: Node) -> None:
    """Declare the allocator's parameters (all but ``cameras``) with descriptors and ranges."""
    node.declare_parameter('delay_requirement_s', _DEFAULTS.delay_req_s, float_param(
        'Required end-to-end delay D_req (owned here, published on allocation)', 0.01, 60.0))
    node.declare_parameter('solver', 'proposed', text_param(
        f'Solver of (P2): one of {sorted(SOLVERS)}'))
    node.declare_parameter('segments', 20, int_param('Threshold grid segments K', 2, 100))
    node.declare_parameter('resolve_period_s', 5.0, float_param(
        'Plan again this often with the latest samples (0: only on changes)', 0.0, 3600.0))
    node.declare_parameter('tx_model', 'per_frame', text_param(
        f'Uplink volume of eq. (15), one of {TX_MODELS} (per_frame: what the uplink charges)'))
    node.declare_parameter('uplink_combine', 'max', text_param(
        f'How camera airtimes add up, one of {UPLINK_COMBINES} (max: each camera owns its '
        'slots, as the uplink emulates)'))
    node.declare_parameter('min_tdma_share', 0.01, float_param(
        'Airtime every camera keeps (drop notices and keypoints still go up)', 1e-4, 0.5))
    for name, (field, lo, hi, description) in MODEL_PARAMS.items():
        node.declare_parameter(name, float(getattr(_DEFAULTS, field)),
                               float_param(description, lo, hi))
    node.declare_parameter('calibrate', True, text_param(
        'Plan with the timings and sizes measured on the graph (the constants above are '
        'the priors until enough samples came)'))
    node.declare_parameter('delay_quantile', 0.95, float_param(
        'Delay quantile the calibrated model holds to the requirement (0.5 or 0.95)',
        0.5, 0.95))
    node.declare_parameter('release_margin_s', RELEASE_MARGIN_S, float_param(
        "The edge's release deadline is D_req minus this (fusion and publishing); 0: the "
        "edge's own sync_timeout_s stays", 0.0, 10.0))
    node.declare_parameter('samples_file', '', text_param(
        "Score samples (.npz, schema of mec_coop.alloc.scores); '' uses the assumed Beta "
        'laws', read_only=True))
    node.declare_parameter('score_labels', 'label_free', text_param(
        f'Score laws the plan uses, one of {SCORE_LABELS}: the prior only, learned from '
        "labels the graph makes itself, or from a virtual rig's ground truth"))
    node.declare_parameter('warmup_samples', 0, int_param(
        'Learned score samples needed before thresholds and shares are pushed (until then the '
        'nodes keep their own, e.g. the mode preset): for a prior so far off that its plan '
        'would make no skeletons to learn from (0: plan with the prior from the start)', 0,
        1_000_000))
    node.declare_parameter('server_samples', 'audits', text_param(
        f"Edge scores learned from, one of {SERVER_SAMPLES} (audits: the cameras' random "
        'offloads, an unbiased sample)', read_only=True))
    node.declare_parameter('cdf_window', 1000, int_param(
        'Newest samples kept per score law (0: keep all)', 0, 10_000_000, read_only=True))
    for key, default in (('camera_node', '/{camera}/camera'), ('edge_node', '/edge'),
                         ('uplink_node', '/uplink')):
        node.declare_parameter(key, default, text_param(
            "Node to set values on ({camera} is replaced); '' skips it", read_only=True))


def _budget(link: LinkState) -> LinkBudget:
    return LinkBudget(link.bandwidth_hz, link.tx_power_dbm, link.noise_dbm_per_hz)


def link_rate_bps(link: Optional[LinkState], cam: str) -> float:
    """Uplink rate of ``cam`` (its share of the Shannon rate); inf without an emulated link."""
    if link is None or not link.enabled or cam not in link.camera_ids:
        return math.inf
    i = list(link.camera_ids).index(cam)
    return link.tdma_share[i] * _budget(link).spectral_rate_bps(link.channel_gain_db[i])


def with_link(settings: PlanSettings, link: Optional[LinkState],
              cameras: list) -> tuple[PlanSettings, list[float]]:
    """Return the settings with the uplink's link budget, and the gains (dB) per camera."""
    if link is None:
        return settings, [-100.0] * len(cameras)
    gains = dict(zip(link.camera_ids, link.channel_gain_db))
    return (replace(settings, params=replace(settings.params, link=_budget(link)),
                    link_enabled=link.enabled), [gains[cam] for cam in cameras])


def pushes(state: AllocationState, release_margin_s: float,
           decisions: bool = True) -> dict[str, list[Parameter]]:
    """
    Parameters to set per target node (the keys of the allocator's ParameterPusher).

    :param decisions: False while the score laws warm up: only the edge's deadline is set, the
        nodes keep their own thresholds and shares.
    """
    edge = [Parameter(f'theta_server.{c.camera_id}', value=c.theta_server) for c in state.cameras
            if decisions]
    if release_margin_s > 0.0:  # the edge releases an instant in time to meet the requirement
        edge.append(Parameter('sync_timeout_s', value=max(
            0.01, float(state.delay_requirement_s) - release_margin_s)))
    wanted = {'edge': edge}
    if not decisions:
        return wanted
    wanted['uplink'] = [Parameter(f'tdma_share.{c.camera_id}', value=c.tdma_share)
                        for c in state.cameras]
    for c in state.cameras:
        wanted[f'camera:{c.camera_id}'] = [Parameter('theta_low', value=c.theta_low),
                                           Parameter('theta_high', value=c.theta_high)]
    return wanted


class Solved:
    """One plan with the settings, gains and score-law state it was made with."""

    def __init__(self, settings: PlanSettings, result: Plan, gains: list[float],
                 scores: dict, step_s: float, extra: Optional[dict] = None) -> None:
        self.settings, self.plan, self.gains, self.scores = settings, result, gains, scores
        self.step_s, self.extra = step_s, dict(extra or {})

    def state(self) -> AllocationState:
        """Build the ``AllocationState`` of this plan (header left to the caller)."""
        p, a = self.plan, self.plan.allocation
        state = AllocationState(
            delay_requirement_s=p.delay_req_s, predicted_delay_s=p.delay_s,
            predicted_accuracy=a.accuracy, feasible=p.feasible, min_delay_s=a.min_delay_s,
            solver=a.solver, solve_time_s=a.solve_time_s, iterations=int(a.iterations),
            predicted_delay_p50_s=p.prediction.p50_s if p.prediction else p.delay_s,
            score_source=str(self.extra.get('score_labels', 'prior')))
        state.cameras = [
            CameraAllocation(camera_id=cam, tdma_share=float(share), theta_low=float(lo),
                             theta_high=float(hi), theta_server=float(srv),
                             channel_gain_db=float(gain), predicted_accuracy=float(acc),
                             predicted_load_bps=float(load))
            for cam, share, lo, hi, srv, gain, acc, load in zip(
                self.scores, p.shares, a.theta_low, a.theta_high, a.theta_server, self.gains,
                a.accuracy_per_camera, p.loads_bps)]
        return state

    def values(self) -> dict:
        """Diagnostic key/values of this plan."""
        p, a = self.plan, self.plan.allocation
        values = {'solver': a.solver, 'delay_requirement_s': p.delay_req_s,
                  'predicted_delay_s': f'{p.delay_s:.4f}', 'min_delay_s': f'{a.min_delay_s:.4f}',
                  'predicted_accuracy': f'{a.accuracy:.4f}', 'plan_solves': p.solves,
                  'solve_time_s': f'{a.solve_time_s:.4f}', 'solve_step_s': f'{self.step_s:.4f}'}
        if p.prediction is not None:
            values.update({'predicted_p50_s': f'{p.prediction.p50_s:.4f}',
                           'predicted_p95_s': f'{p.prediction.p95_s:.4f}',
                           'predicted_late_fraction': f'{p.prediction.late_fraction:.3f}',
                           'edge_utilisation': f'{p.prediction.edge_utilisation:.3f}'})
        values.update(self.extra)
        for cam, (pi, added) in self.scores.items():
            values[f'pi.{cam}'], values[f'samples.{cam}'] = f'{pi:.3f}', added
        return values

    def summary(self) -> str:
        """One log line: requirement, prediction and thresholds."""
        p, a = self.plan, self.plan.allocation
        text = 'feasible' if p.feasible else (
            f'cannot be met (smallest reachable {a.min_delay_s:.3f} s); fallback applied')
        if self.extra.get('warming_up'):
            text += ' (warming up: not applied yet)'
        gap = self.extra.get('label_free_accuracy_gap')
        return (f'{a.solver}: D_req {p.delay_req_s:.3f} s {text}: predicted delay '
                f'{p.delay_s:.3f} s, accuracy {a.accuracy:.3f}, theta_low '
                f'{[round(float(v), 3) for v in a.theta_low]}, theta_high '
                f'{[round(float(v), 3) for v in a.theta_high]}'
                + ('' if gap is None else f', label-free accuracy gap {gap:+.4f}'))


def link_key(msg: LinkState) -> tuple:
    """Return the parts of a link state a plan depends on (not the shares it sets)."""
    return (msg.bandwidth_hz, msg.tx_power_dbm, msg.noise_dbm_per_hz, tuple(msg.camera_ids),
            tuple(msg.channel_gain_db))
