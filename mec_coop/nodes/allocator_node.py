# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Allocator node: plans thresholds and TDMA shares and pushes them to the running nodes.

The plan is :func:`mec_coop.alloc.plan.plan`, problem (P2) of "Cooperative Inference for
Real-Time 3D Human Pose Estimation in Multi-Device Edge Networks".

Inputs: its parameters, the link state the uplink owns (``uplink/link_state``; without it the
paper's defaults, said in diagnostics), the score laws (assumed Beta laws or a samples file as
the prior, then run-time samples labelled without ground truth, ``score_labels``) and the
graph's measured timings (:class:`~mec_coop.ros.score_samples.GraphObserver`; ``calibrate``).
Outputs: ``allocation`` (latched; carries the delay requirement, which this node owns),
``/diagnostics``, and ``theta_low``/``theta_high`` on each ``/<cam>/camera``,
``theta_server.<cam>`` and the release deadline ``sync_timeout_s`` on ``/edge``,
``tdma_share.<cam>`` on ``/uplink``, each node in one atomic call; the next plan overwrites a
hand-set value. With an ``uplink_plan`` other than ``tdma`` the shares and each camera's
``jpeg_quality`` come from paper D's plan, sized with the curve of the ``offload_codec`` each
camera reports (read from the camera, which owns it); with an ``action_allocation`` the action
node's ``frames`` from seed 001's, with a ``split_profile`` each camera's ``partition_point``
(the offload route of least delay, :mod:`mec_coop.alloc.split_plan`) (all three:
:class:`~mec_coop.ros.allocation.TaskPlanner`). Planning runs in a worker thread on start,
parameter and link changes and every ``resolve_period_s``.
"""

from dataclasses import replace
import math
import time
from typing import Optional

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node

from mec_coop.alloc.model import SystemParams
from mec_coop.alloc.online import CameraScores, ScoreLaws
from mec_coop.alloc.plan import accuracy_under, MODEL_PARAMS, plan, PlanSettings, with_shares
from mec_coop.alloc.scores import load_samples
from mec_coop.alloc.split_plan import load_cut_costs
from mec_coop.msg import AllocationState, LinkState
from mec_coop.ros.allocation import (declare_allocator_params, link_key, pushes,
                                     SCORE_LABELS, Solved, target_names, TASK_PARAMS,
                                     task_problem, TaskPlanner, with_link)
from mec_coop.ros.camera_info import RigCalibration
from mec_coop.ros.diagnostics import diagnostic, diagnostic_array, LogOnce, OK, WARN
from mec_coop.ros.param_push import ParameterPusher
from mec_coop.ros.param_read import ParameterReader
from mec_coop.ros.params import declare_cameras, proposed_values, verdict
from mec_coop.ros.qos import QOS_LATCHED
from mec_coop.ros.runtime import JobQueue, spin_node
from mec_coop.ros.score_samples import GraphObserver, LABEL_SOURCES

_DEFAULTS = SystemParams()
SETTINGS = ('delay_requirement_s', 'solver', 'segments', 'tx_model', 'uplink_combine',
            'min_tdma_share', 'delay_quantile', 'accuracy_tolerance', *MODEL_PARAMS)


class AllocatorNode(Node):
    """Thresholds and TDMA shares, planned in a worker thread and set on the nodes."""

    def __init__(self, **node_kwargs) -> None:
        super().__init__('allocator', **node_kwargs)
        self.cameras = declare_cameras(self)
        declare_allocator_params(self)
        self._settings = self._read_settings([])
        self.add_on_set_parameters_callback(self._validate)
        self.add_post_set_parameters_callback(lambda _p: self._request(self._read_settings([])))

        window = self.get_parameter('cdf_window').value or None
        path = self.get_parameter('samples_file').value
        samples = load_samples(path, self.cameras) if path else None
        prior = self.get_parameter('prior_samples').value
        self.laws = ScoreLaws(self.cameras, lambda cam: CameraScores.from_samples(
            samples[cam], window) if samples else CameraScores.assumed(window, prior),
            SCORE_LABELS)
        self._problems = LogOnce(self.get_logger())
        self._link: Optional[LinkState] = None
        self.pusher = ParameterPusher(self, target_names(self), self._problems)
        self._pub_state = self.create_publisher(AllocationState, 'allocation', QOS_LATCHED)
        self._pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_subscription(LinkState, 'uplink/link_state', self._on_link, QOS_LATCHED)
        self.observer = GraphObserver(
            self, self.cameras, RigCalibration(self, self.cameras, 'world', self._problems),
            self.get_parameter('server_samples').value)
        profile = self.get_parameter('split_profile').value
        self.tasks = TaskPlanner(self.cameras, self.observer, self.pusher, ParameterReader(
            self, {k: v for k, v in target_names(self).items() if k.startswith('camera:')},
            ('offload_codec', 'theta_low', 'theta_high'), self._problems, self._request),
            load_cut_costs(profile) if profile else None)

        self.last: Optional[Solved] = None
        self._last_summary = ''
        self.solves = 0
        self._result: Optional[Solved] = None
        self._guard = self.create_guard_condition(self._on_solved)
        self._worker = JobQueue(self._plan, self._on_failure, self.context, 'allocator-plan')
        self._planned_at = -math.inf
        self._request()
        self.create_timer(0.5, self._periodic)
        self.create_timer(1.0, lambda: (self.pusher.retry(), self.tasks.poll()))
        self.create_timer(1.0, self._publish_diagnostics)
        self.get_logger().info(f'allocator: {self.cameras}, score laws {path or "assumed Beta"}')

    # -- inputs -------------------------------------------------------------------------------
    def _read_settings(self, parameters) -> PlanSettings:
        values = proposed_values(self, parameters, (*SETTINGS, 'score_labels', *TASK_PARAMS))
        if task_problem(values):
            raise ValueError(task_problem(values))
        if values['score_labels'] not in SCORE_LABELS:
            raise ValueError(f'score_labels must be one of {SCORE_LABELS}, '
                             f'got {values["score_labels"]!r}')
        settings = PlanSettings.from_values(values, _DEFAULTS)
        settings.check_cameras(len(self.cameras))
        return settings

    def _validate(self, parameters):
        try:
            self._read_settings(parameters)
        except ValueError as exc:
            return verdict(str(exc))
        return verdict('')

    def _request(self, settings: Optional[PlanSettings] = None) -> None:
        self._settings = settings or self._settings
        self._worker.submit(self._settings, limit=1)

    def _periodic(self) -> None:
        period = self.get_parameter('resolve_period_s').value
        if period and time.monotonic() - self._planned_at >= period:
            self._request()

    def _on_link(self, msg: LinkState) -> None:
        missing = set(self.cameras) - set(msg.camera_ids)
        if missing:
            self._problems('link', f'link state lacks cameras {sorted(missing)}; ignored')
            return
        changed = self._link is None or link_key(self._link) != link_key(msg)
        self._link = msg
        if changed:  # the shares in it are this node's own output: no re-plan for those
            self._request()

    # -- planning (worker thread) -------------------------------------------------------------
    def _plan(self, settings: PlanSettings) -> None:
        self._planned_at = started = time.monotonic()
        settings, gains = with_link(settings, self._link, self.cameras)
        # Only this thread touches the score laws, so the solver reads consistent CDFs.
        for source in LABEL_SOURCES:
            self.laws.add(source, self.observer.take(source))
        # Read once: the replay and the uplink plan take the same release margin.
        values = proposed_values(self, [], (*TASK_PARAMS, 'image_bytes', 'calibrate',
                                            'calibration_horizon_s', 'release_margin_s'))
        # Also without calibrate: the uplink plan routes with the measured frame scores.
        self.observer.expire(values['calibration_horizon_s'])
        calibration = self.observer.calibration if values['calibrate'] else None
        if calibration is not None:
            margin = values['release_margin_s']
            params, timing = self.observer.calibrated(
                settings.params, settings.params.delay_req_s - margin if margin else None,
                self.get_parameter('offload_residual').value)
            settings = replace(settings, params=params, timing=timing)
        settings, uplink = self.tasks.uplink(values, settings, gains)
        used = self.get_parameter('score_labels').value

        def models(source: str) -> list:
            laws = self.laws.models(source, gains)
            return calibration.routed(laws) if calibration is not None else laws

        models_used = models(used)
        result = plan(models_used, settings)
        if uplink is not None:  # the thresholds judged on the uplink plan's shares and sizes
            result = with_shares(models_used, settings, result, uplink.shares)
        learned = self.laws.added(used) if used != 'prior' else 0
        extra = {'score_labels': used, 'learned_samples': learned,
                 **({'uplink_waits_for_codec': self.tasks.waiting} if self.tasks.waiting else {}),
                 'warming_up': used != 'prior' and learned < self.get_parameter(
                     'warmup_samples').value, **self.observer.counts,
                 **{f'calibration.{k}': v for k, v in self.observer.calibration.counts().items()},
                 **self.observer.calibration.measured_p50()}
        if used == 'label_free' and self.laws.added('ground_truth'):
            # On a virtual rig: how much accuracy the label-free laws cost, judged by the truth.
            truth = models('ground_truth')
            ideal = plan(truth, settings).allocation
            extra['label_free_accuracy_gap'] = round(
                accuracy_under(truth, ideal) - accuracy_under(truth, result.allocation), 5)
        scores = {cam: (s.pi, dict(s.added)) for cam, s in self.laws.by_source[used].items()}
        self._result = Solved(settings, result, gains, scores, time.monotonic() - started, extra,
                              uplink, self.tasks.action(values, settings, gains),
                              self.tasks.split(settings, result, models_used))
        self._guard.trigger()

    def _on_failure(self, settings: PlanSettings, exc: Exception) -> None:
        # The same failure comes back with every periodic re-plan: logged once per cause.
        self._problems(f'solve:{exc}', f'{settings.solver} failed: {exc!r}; the previous '
                       'allocation stays in place')

    # -- results (executor) -------------------------------------------------------------------
    def _on_solved(self) -> None:
        solved, self._result = self._result, None
        if solved is None:
            return
        self.solves += 1
        self.last = solved
        state = solved.state()
        state.header.stamp = self.get_clock().now().to_msg()
        self._pub_state.publish(state)
        summary = solved.summary()
        if summary != self._last_summary:  # log what changed, not every periodic re-plan
            self._last_summary = summary
            # rclpy binds a severity to each call site: one line per severity.
            if solved.plan.feasible:
                self.get_logger().info(summary)
            else:
                self.get_logger().warning(summary)
        self.pusher.push(pushes(state, self.get_parameter('release_margin_s').value,
                                decisions=not solved.extra['warming_up'],
                                split_dtypes=solved.split_dtypes()))
        if not solved.extra['warming_up']:   # the plan the cameras route by from now on
            self.observer.expect_offload_view(solved.replayed_view_s())

    def _publish_diagnostics(self) -> None:
        link = 'uplink/link_state' if self._link else 'paper defaults (no uplink/link_state)'
        if self.last is None:
            statuses = [diagnostic('mec_coop/allocator', 'allocator', WARN, 'no allocation yet',
                                   {'link': link})]
        else:
            p = self.last.plan
            statuses = [diagnostic(
                'mec_coop/allocator', 'allocator', OK if p.feasible else WARN,
                'feasible' if p.feasible else
                f'infeasible: min delay {p.allocation.min_delay_s:.3f} s',
                {'solves': self.solves, 'link': link, **self.last.values()})]
        statuses += [diagnostic(f'mec_coop/allocator/push{name}', name, OK if ok else WARN, text,
                                counts) for name, ok, text, counts in self.pusher.status()]
        self._pub_diag.publish(diagnostic_array(self, statuses))

    def close(self) -> None:
        """Stop the worker thread (called before the node is destroyed)."""
        self._worker.stop(timeout=10.0)


def main(args=None) -> None:
    spin_node(AllocatorNode, args)


if __name__ == '__main__':
    main()
