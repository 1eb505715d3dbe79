# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The allocator's ROS side: parameters, link state, and a plan as the graph sees it.

A plan becomes an ``AllocationState``, the parameters pushed to the nodes, diagnostics and a log
line; the link state the uplink owns becomes the link budget and gains the plan uses.
:class:`TaskPlanner` adds the uplink plan (paper D: shares and JPEG qualities,
:mod:`mec_coop.alloc.uplink_plan`) and the action plan (seed 001: the action node's frames,
:mod:`mec_coop.alloc.action_plan`) to the threshold plan.
"""

from dataclasses import replace
import math
from typing import Optional

import numpy as np
from rclpy.node import Node
from rclpy.parameter import Parameter

from mec_coop.action.study import bundled_frame_counts
from mec_coop.alloc.action_plan import ACTION_ALLOCATIONS, ActionPlan, plan_actions
from mec_coop.alloc.cocrra_tdma import TdmaLink
from mec_coop.alloc.instant import ViewRoutes
from mec_coop.alloc.model import (empty_probability, route_probabilities, spectral_rates,
                                  SystemParams, TX_MODELS, UPLINK_COMBINES)
from mec_coop.alloc.online import PRIOR_SAMPLES
from mec_coop.alloc.plan import MODEL_PARAMS, Plan, PlanSettings, RELEASE_MARGIN_S, SOLVERS
from mec_coop.alloc.scores import CameraModel
from mec_coop.alloc.split_plan import choose_cuts, CutCost, partition_points
from mec_coop.alloc.uplink_plan import (HOLD_MARGIN, hold_plan, MIN_QUALITY, plan_uplink,
                                        QUALITIES, rate_curve, relative_size, UPLINK_PLANS,
                                        UplinkPlan, upload_deadline)
from mec_coop.coop.uplink import db_to_linear, dbm_to_watt, LinkBudget
from mec_coop.msg import AllocationState, CameraAllocation, LinkState
from mec_coop.ros.param_push import ParameterPusher
from mec_coop.ros.param_read import ParameterReader
from mec_coop.ros.params import float_param, int_param, text_param
from mec_coop.ros.score_samples import GraphObserver, LABEL_SOURCES, SERVER_SAMPLES

SCORE_LABELS = ('prior', *LABEL_SOURCES)
_DEFAULTS = SystemParams()
# The default of ``calibration_horizon_s``, seconds of samples the plan uses: 60 instants at
# 2 fps; the start-up's (camera times of 2-3 s while the models warm up) leave the replay 30 s
# after the first skeleton.
CALIBRATION_HORIZON_S = 30.0
# The uplink and action plans' parameters (validated together by task_problem).
TASK_PARAMS = ('uplink_plan', 'min_jpeg_quality', 'fixed_jpeg_quality', 'camera_jpeg_quality',
               'upload_deadline_s', 'uplink_hold_margin', 'uplink_success_model',
               'action_allocation')
# link: the delivery model of the fading the uplink publishes; paper: paper D's literal one.
SUCCESS_MODELS = ('link', 'paper')
# The std of the log offload size until a camera's sizes are measured (its p90 / p50 then):
# an assumption, about the spread of the region-wise offloads' sizes over a run.
SIZE_SPREAD_PRIOR = 0.15
_Z90 = 1.2815515655446004   # the standard normal's 0.9 quantile


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
    node.declare_parameter('calibration_horizon_s', CALIBRATION_HORIZON_S, float_param(
        'Timings, frame scores and audit and search shares measured longer ago than this are '
        'forgotten (each keeps its newest 5), so the start-up and a load that has gone leave '
        'the plans (0: keep the whole windows)',
        0.0, 3600.0))
    node.declare_parameter('offload_residual', True, text_param(
        "Add the offload path's measured shortfall (an offloaded view's measured time less "
        'the replayed median, median over the horizon) to the replay; false: as modelled'))
    node.declare_parameter('delay_quantile', 0.95, float_param(
        'Delay quantile the calibrated model holds to the requirement (0.5 or 0.95)',
        0.5, 0.95))
    node.declare_parameter('accuracy_tolerance', 0.01, float_param(
        'Take the fastest plan within this much accuracy (eq. (9)) of the most accurate one '
        "(0: the paper's objective, the most accurate plan up to the requirement)", 0.0, 0.5))
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
    node.declare_parameter('prior_samples', PRIOR_SAMPLES, int_param(
        'Samples each assumed Beta law counts as against the samples learned on the graph '
        '(without samples_file)', 1, 100_000, read_only=True))
    node.declare_parameter('cdf_window', 1000, int_param(
        'Newest samples kept per score law (0: keep all)', 0, 10_000_000, read_only=True))
    node.declare_parameter('uplink_plan', 'tdma', text_param(
        f'Uplink plan, one of {UPLINK_PLANS}: tdma (the threshold plan sets the shares, the '
        "cameras keep their JPEG quality) or paper D's Co-CRRA and its baselines, which set "
        "each camera's share and jpeg_quality"))
    node.declare_parameter('min_jpeg_quality', MIN_QUALITY, int_param(
        'Lowest JPEG quality an uplink plan may set (below 30 the measured pose error jumps)',
        min(QUALITIES), 95))
    node.declare_parameter('fixed_jpeg_quality', 90, int_param(
        'JPEG quality of FCRRA and MSVRA (their fixed ratio), one of '
        f'{list(QUALITIES)}',
        min(QUALITIES), 95))
    node.declare_parameter('camera_jpeg_quality', 90, int_param(
        "The cameras' JPEG quality until this node sets one (image_bytes is the size at it)",
        min(QUALITIES), 100))
    node.declare_parameter('upload_deadline_s', 0.0, float_param(
        "Co-CRRA's upload deadline t0 (0: D_req less the other delay terms, as measured, "
        'at most one frame period)',
        0.0, 60.0))
    node.declare_parameter('uplink_hold_margin', HOLD_MARGIN, float_param(
        'The uplink plan in place is kept unless a new one raises its success probability '
        '(judged on the same inputs) by more than this (0: take every new plan)', 0.0, 1.0))
    node.declare_parameter('split_profile', '', text_param(
        "Per-cut costs of the edge's model (split_pipeline.json of benchmarks/split_pipeline.py): "
        "each camera's partition_point is then the route of least delay, a cut or the JPEG "
        "('': the cameras keep their own)", read_only=True))
    node.declare_parameter('uplink_success_model', 'link', text_param(
        f'Delivery model of the uplink plan, one of {SUCCESS_MODELS}: link (the fading the '
        "uplink publishes: gaussian is paper D's eq. (2), none a deterministic link whose "
        "upload is on time iff it fits t0) or paper (paper D's exp(-x^2/2) whatever the link)"))
    node.declare_parameter('action_allocation', 'none', text_param(
        f"Seed 001's allocation of the action task, one of {ACTION_ALLOCATIONS}: sets the "
        "action node's frames (none: the node keeps its own)"))
    for key, default in (('camera_node', '/{camera}/camera'), ('edge_node', '/edge'),
                         ('uplink_node', '/uplink'), ('action_node', '/action')):
        node.declare_parameter(key, default, text_param(
            "Node to set values on ({camera} is replaced); '' skips it", read_only=True))


def task_problem(values: dict) -> str:
    """Why the :data:`TASK_PARAMS` values cannot be used together; '' when they can."""
    if values['uplink_plan'] not in UPLINK_PLANS:
        return f'uplink_plan must be one of {UPLINK_PLANS}, got {values["uplink_plan"]!r}'
    if values['uplink_success_model'] not in SUCCESS_MODELS:
        return (f'uplink_success_model must be one of {SUCCESS_MODELS}, got '
                f'{values["uplink_success_model"]!r}')
    if values['action_allocation'] not in ACTION_ALLOCATIONS:
        return (f'action_allocation must be one of {ACTION_ALLOCATIONS}, got '
                f'{values["action_allocation"]!r}')
    qualities = sorted(q for q in QUALITIES if values['min_jpeg_quality'] <= q <= 95)
    if values['fixed_jpeg_quality'] not in qualities:
        return (f'fixed_jpeg_quality must be a measured quality at or above min_jpeg_quality, '
                f'one of {qualities}, got {values["fixed_jpeg_quality"]}')
    return ''


class TaskPlanner:
    """
    The uplink and action plans beside the threshold plan (worker thread only).

    The uplink plan needs each camera's offload size at the JPEG quality it runs: the measured
    median (``calibrate``) or ``image_bytes`` scaled from ``camera_jpeg_quality``, and the
    size-vs-quality curve of the codec the camera offloads with, its ``offload_codec`` (the
    camera owns it; ``codecs`` reads it on the camera). A quality is known to run once its
    camera accepted it, a codec once it is read; the sizes measured before are dropped then.
    The plan's delivery model is the fading the uplink publishes (``uplink_success_model``
    ``link``) or paper D's literal one (``paper``); on fixed gains it takes the spread of the
    measured offload sizes and an offload per frame queued ahead (a camera offloads at most
    that often: the conservative case). Until every camera's codec is read the uplink plan
    waits (``waiting`` says for whom): planning on another codec's curve would size the
    offloads wrongly. The cameras' thresholds are read beside their codec (the node's reader
    reads both): with the measured frame scores they give each camera's routes, which
    ``cocrra_instant`` waits for and every plan is judged with (``UplinkPlan.instant``). The
    codecs are read only
    while an uplink plan is made (``tdma``, the default, needs none of it).
    A new uplink plan replaces the one in place only when it is clearly better on the same inputs
    (``uplink_hold_margin``, :func:`~mec_coop.alloc.uplink_plan.hold_plan`): the measured sizes
    and ``t0`` move between re-plans, and shares that flap with them re-time the cameras' queues.
    A change of the plan's parameters or of a camera's codec takes the new plan at once.
    """

    def __init__(self, cameras: list, observer: GraphObserver, pusher: ParameterPusher,
                 codecs: ParameterReader, cuts: Optional[list[CutCost]] = None) -> None:
        self.cameras, self.observer, self.pusher = cameras, observer, pusher
        self.codecs = codecs
        self.quality: dict = dict.fromkeys(cameras)
        self.cuts = cuts
        self.codec: dict = dict.fromkeys(cameras)
        self.waiting: list = []
        self.planning = False   # an uplink plan is made: the cameras' codecs are followed
        self.held: Optional[UplinkPlan] = None   # the uplink plan in place
        self._chosen: tuple = ()                  # the settings it was made with

    def poll(self) -> None:
        """Read the cameras' codecs again where due, while an uplink plan needs them."""
        if self.planning:
            self.codecs.poll()

    def _read_codecs(self) -> list:
        """Follow each camera's offload codec; return the cameras not read yet."""
        for cam in self.cameras:
            codec = self.codecs.value(f'camera:{cam}', 'offload_codec')
            if codec and codec != self.codec[cam]:
                if self.codec[cam] is not None:  # sizes of the old codec say nothing now
                    self.observer.forget_offload_sizes(cam)
                self.codec[cam] = codec
        return [cam for cam in self.cameras if self.codec[cam] is None]

    def _sizes(self, values: dict, measured: bool) -> list[tuple[float, int]]:
        out = []
        for cam in self.cameras:
            applied = self.pusher.applied(f'camera:{cam}', 'jpeg_quality')
            if applied is not None and applied != self.quality[cam]:
                self.quality[cam] = applied
                self.observer.forget_offload_sizes(cam)
            quality, codec = self.quality[cam] or values['camera_jpeg_quality'], self.codec[cam]
            prior = values['image_bytes'] * relative_size(quality, codec) / relative_size(
                values['camera_jpeg_quality'], codec)
            stat = self.observer.calibration.image_bytes[cam]
            out.append((stat.quantile(0.5, prior) if measured else prior, quality))
        return out

    def _size_spread(self) -> float:
        """Return the widest camera's std of the log offload size (p90 / p50; a prior before)."""
        spreads = []
        for cam in self.cameras:
            stat = self.observer.calibration.image_bytes[cam]
            p50 = stat.quantile(0.5, math.nan)
            spreads.append(math.log(stat.quantile(0.9, p50) / p50) / _Z90 if p50 > 0
                           else SIZE_SPREAD_PRIOR)
        return max(spreads, default=SIZE_SPREAD_PRIOR)

    def _routes(self, params: SystemParams, gains_db: list) -> Optional[ViewRoutes]:
        """Each camera's routes at the thresholds it runs (None until every camera's are read)."""
        thresholds = [[self.codecs.value(f'camera:{cam}', k) for k in ('theta_low', 'theta_high')]
                      for cam in self.cameras]
        if any(v is None for pair in thresholds for v in pair):
            return None
        calibration = self.observer.calibration
        # The routes of the plan in place: the calibration holds the last horizon's frame
        # scores (Calibration.expire).
        models = calibration.routed([CameraModel.assumed(g) for g in gains_db])
        routes = [route_probabilities(model, lo, hi) for model, (lo, hi) in zip(
            models, thresholds)]
        # Images of nobody bring no view (alloc/served.py); never more than the images.
        empty = [min(float(empty_probability(model, lo, hi)), float(off)) for model, (lo, hi),
                 (off, _) in zip(models, thresholds, routes)]
        return ViewRoutes(tuple(float(off) for off, _ in routes),
                          tuple(float(kp) for _, kp in routes),
                          tuple(8.0 * calibration.message_bytes[cam].quantile(
                              0.5, params.message_bytes) for cam in self.cameras),
                          tuple(empty))

    def uplink(self, values: dict, settings: PlanSettings, gains_db: list
               ) -> tuple[PlanSettings, Optional[UplinkPlan]]:
        """
        Solve the uplink plan; the settings then carry its offload sizes.

        ``values``: the :data:`TASK_PARAMS`, ``image_bytes``, ``calibrate`` and
        ``release_margin_s`` (the served objective's budget ends at the edge's release).
        """
        self.planning = values['uplink_plan'] != 'tdma'
        self.waiting = self._read_codecs() if self.planning else []
        routes = self._routes(settings.params, gains_db) if self.planning else None
        if values['uplink_plan'] in ('cocrra_instant', 'cocrra_served') and routes is None:
            self.waiting = self.waiting or list(self.cameras)
        if not self.planning or self.waiting:
            self.held = None
            return settings, None
        params = settings.params
        curves = [rate_curve(size, quality, values['min_jpeg_quality'], codec=self.codec[cam])
                  for cam, (size, quality) in zip(
                      self.cameras, self._sizes(values, bool(values['calibrate'])))]
        # No time left for the upload: the plan is made for 1 ms and shows a success near 0.
        t0 = max(values['upload_deadline_s'] or upload_deadline(params), 1e-3)
        model = 'paper' if values['uplink_success_model'] == 'paper' else params.link.fading
        link = TdmaLink(params.link.bandwidth_hz, dbm_to_watt(params.link.tx_power_dbm),
                        dbm_to_watt(params.link.noise_dbm_per_hz),
                        tuple(db_to_linear(g) for g in gains_db), t0, settings.min_share,
                        model, self._size_spread(), 1.0 / params.frame_rate_hz)
        # The served objective's upload budget: up to the edge's release less the camera's own
        # time (alloc/served.py). Margin 0 leaves the edge its own deadline, unknown here: the
        # budget runs to D_req, after which no view makes a skeleton in time anyway.
        release_t0 = max(params.delay_req_s - values['release_margin_s']
                         - params.device_inference_s - params.device_processing_s, 1e-3)
        new = plan_uplink(values['uplink_plan'], curves, link, values['fixed_jpeg_quality'],
                          routes, release_t0)
        # What a user or a camera chose (not what is measured): a change takes the new plan.
        chosen = (*(values[k] for k in TASK_PARAMS if k != 'action_allocation'),
                  values['release_margin_s'], settings.min_share, tuple(self.codec.values()),
                  model)
        result = self.held = hold_plan(self.held if chosen == self._chosen else None, new,
                                       curves, link, values['uplink_hold_margin'], routes,
                                       release_t0)
        self._chosen = chosen
        sizes = result.sizes_bytes
        timing = settings.timing and replace(settings.timing, image_bytes=sizes)
        return replace(settings, params=replace(params, image_bytes=float(sizes.max())),
                       timing=timing), result

    @staticmethod
    def action(values: dict, settings: PlanSettings, gains_db: list) -> Optional[ActionPlan]:
        """Solve seed 001's allocation of the action task (None when it is off)."""
        if values['action_allocation'] == 'none':
            return None
        params = settings.params
        return plan_actions(values['action_allocation'],
                            [params.link.spectral_rate_bps(g) for g in gains_db],
                            8.0 * params.message_bytes, bundled_frame_counts('3d'))

    def split(self, settings: PlanSettings, result: Plan, models: list
              ) -> Optional[list[Optional[CutCost]]]:
        """Each camera's cut for its offloads at the plan's shares (None: no split plan)."""
        if self.cuts is None:
            return None
        params = settings.params
        rates = result.shares * spectral_rates(models, params) if settings.link_enabled \
            else np.full(len(models), np.inf)
        sizes = settings.timing.image_bytes if settings.timing is not None \
            else np.full(len(models), params.image_bytes)
        return choose_cuts(self.cuts, sizes, params.server_inference_s, rates)


def _budget(link: LinkState) -> LinkBudget:
    # '': a publisher from before the field, whose gains were fixed.
    return LinkBudget(link.bandwidth_hz, link.tx_power_dbm, link.noise_dbm_per_hz,
                      link.fading or 'none')


def with_link(settings: PlanSettings, link: Optional[LinkState],
              cameras: list) -> tuple[PlanSettings, list[float]]:
    """Return the settings with the uplink's link budget, and the gains (dB) per camera."""
    if link is None:
        return settings, [-100.0] * len(cameras)
    gains = dict(zip(link.camera_ids, link.channel_gain_db))
    return (replace(settings, params=replace(settings.params, link=_budget(link)),
                    link_enabled=link.enabled), [gains[cam] for cam in cameras])


def pushes(state: AllocationState, release_margin_s: float, decisions: bool = True,
           split_dtypes: Optional[dict[str, str]] = None) -> dict[str, list[Parameter]]:
    """
    Parameters to set per target node (the keys of the allocator's ParameterPusher).

    The uplink plan's shares and JPEG qualities (``jpeg_quality`` > 0) and the action plan's
    frames (``action_frames`` > 0; the node gets the largest) need no score laws: they are
    pushed while warming up too.

    :param decisions: False while the score laws warm up: only the edge's deadline is set, the
        nodes keep their own thresholds and shares.
    :param split_dtypes: with a split plan, camera -> dtype of its chosen cut: every camera's
        ``partition_point`` is set (-1: the JPEG), with ``split_dtype`` where a cut is chosen.
    """
    edge = [Parameter(f'theta_server.{c.camera_id}', value=c.theta_server) for c in state.cameras
            if decisions]
    if release_margin_s > 0.0:  # the edge releases an instant in time to meet the requirement
        edge.append(Parameter('sync_timeout_s', value=max(
            0.01, float(state.delay_requirement_s) - release_margin_s)))
    wanted = {'edge': edge}
    frames = max((int(c.action_frames) for c in state.cameras), default=0)
    if frames:
        wanted['action'] = [Parameter('frames', value=frames)]
    uplink_planned = any(c.jpeg_quality for c in state.cameras)
    if decisions or uplink_planned:
        wanted['uplink'] = [Parameter(f'tdma_share.{c.camera_id}', value=c.tdma_share)
                            for c in state.cameras]
    for c in state.cameras:
        camera = [Parameter('theta_low', value=c.theta_low),
                  Parameter('theta_high', value=c.theta_high)] if decisions else []
        if c.jpeg_quality:
            camera.append(Parameter('jpeg_quality', value=int(c.jpeg_quality)))
        if split_dtypes is not None:
            camera.append(Parameter('partition_point', value=int(c.partition_point)))
            if c.camera_id in split_dtypes:
                camera.append(Parameter('split_dtype', value=split_dtypes[c.camera_id]))
        if camera:
            wanted[f'camera:{c.camera_id}'] = camera
    return wanted


class Solved:
    """One plan with the settings, gains and score-law state it was made with."""

    def __init__(self, settings: PlanSettings, result: Plan, gains: list[float],
                 scores: dict, step_s: float, extra: Optional[dict] = None,
                 uplink: Optional[UplinkPlan] = None, action: Optional[ActionPlan] = None,
                 split: Optional[list[Optional[CutCost]]] = None) -> None:
        self.settings, self.plan, self.gains, self.scores = settings, result, gains, scores
        self.step_s, self.extra = step_s, dict(extra or {})
        self.uplink, self.action, self.split = uplink, action, split

    def split_dtypes(self) -> Optional[dict[str, str]]:
        """Camera -> tensor dtype of its chosen cut; None without a split plan."""
        if self.split is None:
            return None
        return {cam: cut.dtype for cam, cut in zip(self.scores, self.split) if cut is not None}

    def replayed_view_s(self) -> float:
        """Return the predicted offloaded-view median without the measured residual (NaN: none)."""
        if self.plan.prediction is None or self.settings.timing is None:
            return math.nan
        return self.plan.prediction.offload_view_p50_s - self.settings.timing.offload_residual_s

    def state(self) -> AllocationState:
        """Build the ``AllocationState`` of this plan (header left to the caller)."""
        p, a = self.plan, self.plan.allocation
        state = AllocationState(
            delay_requirement_s=p.delay_req_s, predicted_delay_s=p.delay_s,
            predicted_accuracy=a.accuracy, feasible=p.feasible, min_delay_s=a.min_delay_s,
            solver=a.solver, solve_time_s=a.solve_time_s, iterations=int(a.iterations),
            predicted_delay_p50_s=p.prediction.p50_s if p.prediction else p.delay_s,
            predicted_delay_quantiles_s=list(p.prediction.released_quantiles_s)
            if p.prediction else [],
            score_source=str(self.extra.get('score_labels', 'prior')))
        state.cameras = [
            CameraAllocation(camera_id=cam, tdma_share=float(share), theta_low=float(lo),
                             theta_high=float(hi), theta_server=float(srv),
                             channel_gain_db=float(gain), predicted_accuracy=float(acc),
                             predicted_load_bps=float(load))
            for cam, share, lo, hi, srv, gain, acc, load in zip(
                self.scores, p.shares, a.theta_low, a.theta_high, a.theta_server, self.gains,
                a.accuracy_per_camera, p.loads_bps)]
        points = partition_points(self.split) if self.split is not None else None
        for i, c in enumerate(state.cameras):   # 0 (a cut: -1): not planned
            c.jpeg_quality = int(self.uplink.qualities[i]) if self.uplink else 0
            c.action_frames = int(self.action.frames[i]) if self.action else 0
            c.partition_point = int(points[i]) if points is not None else -1
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
                           'predicted_offload_view_p50_s':
                               f'{p.prediction.offload_view_p50_s:.4f}',
                           'edge_utilisation': f'{p.prediction.edge_utilisation:.3f}'})
        if self.uplink is not None:
            u = self.uplink
            values.update({'uplink_plan': u.method, 'uplink_t0_s': f'{u.t0_s:.4f}',
                           'uplink_success': f'{u.mean_success:.4f}',
                           'uplink_success_model': u.model,
                           'uplink_success_paper_model': f'{u.mean_paper_success:.4f}',
                           'uplink_two_views': f'{u.views_success:.4f}',
                           'uplink_instant_success': 'n/a' if u.instant is None
                           else f'{u.instant:.4f}',
                           'uplink_served_success': 'n/a' if u.served is None
                           else f'{u.served:.4f}',
                           'uplink_plan_held': u.held,
                           'jpeg_quality': list(u.qualities)})
        if self.split is not None:
            values['partition_point'] = [int(v) for v in partition_points(self.split)]
        if self.action is not None:
            values.update({'action_allocation': self.action.plan.scheme,
                           'action_frames': self.action.node_frames,
                           'action_offloaded': int(self.action.plan.x.sum())})
        values.update(self.extra)
        for cam, (pi, added) in self.scores.items():
            values[f'pi.{cam}'], values[f'samples.{cam}'] = f'{pi:.3f}', added
        return values

    def summary(self) -> str:
        """One log line: requirement, prediction and thresholds."""
        p, a = self.plan, self.plan.allocation
        # Judged by the calibrated replay, the fastest plan tried is what is reachable; the
        # solver's min_delay_s is the paper model's (19).
        reachable = p.delay_s if p.prediction is not None else a.min_delay_s
        text = 'feasible' if p.feasible else (
            f'cannot be met (smallest reachable {reachable:.3f} s); fallback applied')
        if self.extra.get('warming_up'):
            text += ' (warming up: thresholds not applied yet)' if self.uplink else \
                ' (warming up: not applied yet)'
        gap = self.extra.get('label_free_accuracy_gap')
        u, act = self.uplink, self.action
        return (f'{a.solver}: D_req {p.delay_req_s:.3f} s {text}: predicted delay '
                f'{p.delay_s:.3f} s, accuracy {a.accuracy:.3f}, theta_low '
                f'{[round(float(v), 3) for v in a.theta_low]}, theta_high '
                f'{[round(float(v), 3) for v in a.theta_high]}'
                + ('' if gap is None else f', label-free accuracy gap {gap:+.4f}')
                + ('' if p.prediction is None else '; offloaded view p50 predicted '
                   f'{p.prediction.offload_view_p50_s:.3f} s, measured '
                   f"{self.extra.get('measured_offload_view_p50_s', math.nan):.3f} s "
                   f"(residual {self.extra.get('offload_view_residual_s', 0.0):+.3f} s)")
                + ('' if 'uplink_waits_for_codec' not in self.extra else '; the uplink plan '
                   'waits for the offload_codec (cocrra_instant: and thresholds) of '
                   f"{self.extra['uplink_waits_for_codec']}")
                + ('' if u is None else f'; uplink {u.method}: jpeg_quality {list(u.qualities)}, '
                   f'shares {[round(float(v), 3) for v in u.shares]}, t0 {u.t0_s:.3f} s, '
                   f'success {u.mean_success:.3f} ({u.model} model; paper D' + "'s model "
                   f'{u.mean_paper_success:.3f}), two views {u.views_success:.3f}'
                   + ('' if u.instant is None or u.routes is None else
                      f', instant {u.instant:.3f} (routes: offload '
                      f'{[round(v, 2) for v in u.routes.offload]}, keypoints '
                      f'{[round(v, 2) for v in u.routes.keypoints]})')
                   + ('' if u.served is None or u.release_t0_s is None else
                      f', served {u.served:.3f} (release t0 {u.release_t0_s:.3f} s, empty '
                      f'{[round(v, 2) for v in u.routes.empty] if u.routes else []})')
                   + (' (held: the new plan was not clearly better)' if u.held else ''))
                + ('' if act is None else f'; actions {act.plan.scheme}: frames '
                   f'{act.node_frames} (per camera {list(act.frames)})'))


def target_names(node: Node) -> dict[str, str]:
    """Return the allocator's push targets (key -> node name) from its parameters."""
    pattern = node.get_parameter('camera_node').value
    names = {f'camera:{cam}': pattern.replace('{camera}', cam) if pattern else ''
             for cam in node.get_parameter('cameras').value}
    names.update(edge=node.get_parameter('edge_node').value,
                 uplink=node.get_parameter('uplink_node').value,
                 action=node.get_parameter('action_node').value)
    return {key: name for key, name in names.items() if name}


def link_key(msg: LinkState) -> tuple:
    """Return the parts of a link state a plan depends on (not the shares it sets)."""
    return (msg.bandwidth_hz, msg.tx_power_dbm, msg.noise_dbm_per_hz, tuple(msg.camera_ids),
            tuple(msg.channel_gain_db), msg.fading)
