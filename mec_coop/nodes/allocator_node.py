# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Allocator node: plans thresholds and TDMA shares and pushes them to the running nodes.

The plan is :func:`mec_coop.alloc.plan.plan`, problem (P2) of "Cooperative Inference for
Real-Time 3D Human Pose Estimation in Multi-Device Edge Networks".

Inputs: its parameters, the link state the uplink owns (``uplink/link_state``; without it the
paper's defaults, said in diagnostics) and the score laws (assumed Beta laws, a samples file,
optionally run-time samples labelled by ground truth). Outputs: ``allocation`` (latched; carries
the delay requirement, which this node owns), ``/diagnostics``, and ``theta_low``/``theta_high``
on each ``/<cam>/camera``, ``theta_server.<cam>`` on ``/edge``, ``tdma_share.<cam>`` on
``/uplink``, each node in one atomic call; the next plan overwrites a hand-set value. Planning
runs in a worker thread on start, parameter and link changes and every ``resolve_period_s``.
"""

from dataclasses import replace
import threading
import time
from typing import Optional

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from rclpy.parameter import Parameter

from mec_coop.alloc.model import SystemParams, TX_MODELS
from mec_coop.alloc.online import CameraScores
from mec_coop.alloc.plan import MODEL_PARAMS, plan, PlanSettings, SOLVERS
from mec_coop.alloc.scores import load_samples
from mec_coop.coop.uplink import LinkBudget
from mec_coop.msg import AllocationState, LinkState
from mec_coop.ros.allocation import link_key, Solved
from mec_coop.ros.diagnostics import diagnostic, diagnostic_array, LogOnce, OK, WARN
from mec_coop.ros.param_push import ParameterPusher
from mec_coop.ros.params import (declare_cameras, float_param, int_param, proposed_values,
                                 text_param, verdict)
from mec_coop.ros.qos import QOS_LATCHED
from mec_coop.ros.runtime import spin_node
from mec_coop.ros.score_samples import GroundTruthLabeller

_DEFAULTS = SystemParams()
SETTINGS = ('delay_requirement_s', 'solver', 'segments', 'tx_model', 'min_tdma_share',
            *MODEL_PARAMS)


class AllocatorNode(Node):
    """Thresholds and TDMA shares, planned in a worker thread and set on the nodes."""

    def __init__(self, **node_kwargs) -> None:
        super().__init__('allocator', **node_kwargs)
        self.cameras = declare_cameras(self)
        self.declare_parameter('delay_requirement_s', _DEFAULTS.delay_req_s, float_param(
            'Required end-to-end delay D_req (owned here, published on allocation)', 0.01, 60.0))
        self.declare_parameter('solver', 'proposed', text_param(
            f'Solver of (P2): one of {sorted(SOLVERS)}'))
        self.declare_parameter('segments', 20, int_param('Threshold grid segments K', 2, 100))
        self.declare_parameter('resolve_period_s', 5.0, float_param(
            'Plan again this often with the latest samples (0: only on changes)', 0.0, 3600.0))
        self.declare_parameter('tx_model', _DEFAULTS.tx_model, text_param(
            f'Uplink volume of eq. (15), one of {TX_MODELS}'))
        self.declare_parameter('min_tdma_share', 0.01, float_param(
            'Airtime every camera keeps (drop notices and keypoints still go up)', 1e-4, 0.5))
        for name, (field, lo, hi, description) in MODEL_PARAMS.items():
            self.declare_parameter(name, float(getattr(_DEFAULTS, field)),
                                   float_param(description, lo, hi))
        self.declare_parameter('samples_file', '', text_param(
            "Score samples (.npz, schema of mec_coop.alloc.scores); '' uses the assumed Beta "
            'laws', read_only=True))
        self.declare_parameter('online_update', False, text_param(
            'Learn the score laws from run-time confidences labelled by ground_truth', True))
        self.declare_parameter('cdf_window', 1000, int_param(
            'Newest samples kept per score law (0: keep all)', 0, 10_000_000, read_only=True))
        for key, default in (('camera_node', '/{camera}/camera'), ('edge_node', '/edge'),
                             ('uplink_node', '/uplink')):
            self.declare_parameter(key, default, text_param(
                "Node to set values on ({camera} is replaced); '' skips it", read_only=True))
        self._settings = self._read_settings([])
        self.add_on_set_parameters_callback(self._validate)
        self.add_post_set_parameters_callback(lambda _p: self._request(self._read_settings([])))

        window = self.get_parameter('cdf_window').value or None
        path = self.get_parameter('samples_file').value
        samples = load_samples(path, self.cameras) if path else None
        self._scores = {cam: CameraScores.from_samples(samples[cam], window) if samples
                        else CameraScores.assumed(window) for cam in self.cameras}
        self._problems = LogOnce(self.get_logger())
        self._link: Optional[LinkState] = None
        self.pusher = ParameterPusher(self, self._target_names(), self._problems)
        self._pub_state = self.create_publisher(AllocationState, 'allocation', QOS_LATCHED)
        self._pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_subscription(LinkState, 'uplink/link_state', self._on_link, QOS_LATCHED)
        self.labeller = GroundTruthLabeller(self, self.cameras) \
            if self.get_parameter('online_update').value else None

        self.last: Optional[Solved] = None
        self._last_summary = ''
        self.solves = 0
        self._result: Optional[Solved] = None
        self._guard = self.create_guard_condition(self._on_solved)
        self._wake = threading.Condition()
        self._requested = self._running = True
        self._worker = threading.Thread(target=self._work, name='allocator-plan', daemon=True)
        self._worker.start()
        self.create_timer(1.0, self.pusher.retry)
        self.create_timer(1.0, self._publish_diagnostics)
        self.get_logger().info(f'allocator: {self.cameras}, score laws {path or "assumed Beta"}')

    # -- inputs -------------------------------------------------------------------------------
    def _read_settings(self, parameters) -> PlanSettings:
        values = proposed_values(self, parameters, SETTINGS)
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
        with self._wake:
            self._settings = settings or self._settings
            self._requested = True
            self._wake.notify()

    def _on_link(self, msg: LinkState) -> None:
        missing = set(self.cameras) - set(msg.camera_ids)
        if missing:
            self._problems('link', f'link state lacks cameras {sorted(missing)}; ignored')
            return
        with self._wake:
            changed = self._link is None or link_key(self._link) != link_key(msg)
            self._link = msg
        if changed:  # the shares in it are this node's own output: no re-plan for those
            self._request()

    def _link_params(self, settings: PlanSettings) -> tuple[SystemParams, list[float]]:
        """Return the settings' model with the uplink's link budget, and the gains (dB)."""
        link = self._link
        if link is None:
            return settings.params, [-100.0] * len(self.cameras)
        gains = dict(zip(link.camera_ids, link.channel_gain_db))
        budget = LinkBudget(link.bandwidth_hz, link.tx_power_dbm, link.noise_dbm_per_hz)
        return (replace(settings.params, link=budget),
                [gains[cam] for cam in self.cameras])

    # -- planning (worker thread) -------------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._wake:
                period = self.get_parameter('resolve_period_s').value
                self._wake.wait_for(lambda: self._requested or not self._running,
                                    timeout=period or None)
                if not self._running:
                    return
                self._requested = False
                settings, (params, gains) = self._settings, self._link_params(self._settings)
            started = time.perf_counter()
            # Only this thread touches the score laws, so the solver reads consistent CDFs.
            for cam, source, score, positive in (self.labeller.take() if self.labeller else ()):
                self._scores[cam].add(source, positive, score)
            cameras = [self._scores[cam].camera_model(g) for cam, g in zip(self.cameras, gains)]
            settings = replace(settings, params=params)
            try:
                result = plan(cameras, settings)
            except ValueError as exc:
                # The same failure comes back with every periodic re-plan: logged once.
                self._problems(f'solve:{exc}', f'{settings.solver} failed: {exc}; the previous '
                               'allocation stays in place')
                continue
            scores = {cam: (s.pi, dict(s.added)) for cam, s in self._scores.items()}
            with self._wake:
                self._result = Solved(settings, result, gains, scores,
                                      time.perf_counter() - started)
            self._guard.trigger()

    # -- results (executor) -------------------------------------------------------------------
    def _on_solved(self) -> None:
        with self._wake:
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
        wanted = {'edge': [Parameter(f'theta_server.{c.camera_id}', value=c.theta_server)
                           for c in state.cameras],
                  'uplink': [Parameter(f'tdma_share.{c.camera_id}', value=c.tdma_share)
                             for c in state.cameras]}
        for c in state.cameras:
            wanted[f'camera:{c.camera_id}'] = [Parameter('theta_low', value=c.theta_low),
                                               Parameter('theta_high', value=c.theta_high)]
        self.pusher.push(wanted)

    def _target_names(self) -> dict[str, str]:
        pattern = self.get_parameter('camera_node').value
        names = {f'camera:{cam}': pattern.replace('{camera}', cam) if pattern else ''
                 for cam in self.cameras}
        names.update(edge=self.get_parameter('edge_node').value,
                     uplink=self.get_parameter('uplink_node').value)
        return {key: name for key, name in names.items() if name}

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
                {'solves': self.solves, 'link': link, **self.last.values(),
                 **(self.labeller.counts if self.labeller else {}),
                 'unlabelled': self.labeller.join.unlabelled if self.labeller else 0})]
        statuses += [diagnostic(f'mec_coop/allocator/push{name}', name, OK if ok else WARN, text,
                                counts) for name, ok, text, counts in self.pusher.status()]
        self._pub_diag.publish(diagnostic_array(self, statuses))

    def close(self) -> None:
        """Stop the worker thread (called before the node is destroyed)."""
        with self._wake:
            self._running = False
            self._wake.notify()
        self._worker.join(timeout=10.0)


def main(args=None) -> None:
    spin_node(AllocatorNode, args)


if __name__ == '__main__':
    main()
