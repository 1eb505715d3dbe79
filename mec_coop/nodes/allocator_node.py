# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Allocator node: solves paper A's problem (P2) and pushes thresholds and TDMA shares live.

From its parameters (delay requirement, solver, grid, channel gains, the delay-model constants
of Table I) and the score laws (the [ASSUMPTION] Beta laws of PAPERS_MATH.md A.3, a samples file,
and optionally run-time samples labelled by the virtual rig's ground truth) it solves for every
camera's ``theta_low``/``theta_high``, the edge's ``theta_server`` and the TDMA shares with a
solver of :data:`mec_coop.alloc.solvers.SOLVERS`, publishes ``allocation``
(``mec_coop/AllocationState``, latched) and health on ``/diagnostics``, and sets the results on
the running nodes through their ``set_parameters_atomically`` services: ``theta_low`` and
``theta_high`` on each ``/<cam>/camera``, all ``theta_server.<cam>`` on ``/edge`` in one call,
all ``tdma_share.<cam>`` on ``/uplink`` in one call (the uplink validates them as a set).

The solve runs in a worker thread, at start-up, on every accepted parameter change and every
``resolve_period_s``; the executor only publishes the result and sends the requests, whose
replies arrive as future callbacks, so no callback ever waits. Results are pushed again on
every solve (a restarted node gets its values back) and retried every second while a node is
missing or a request failed. Setting the values by hand on those nodes works, but the next
solve overwrites them: the allocator owns them while it runs.

An infeasible requirement is published with ``feasible=false`` and the smallest reachable delay
``min_delay_s``; the solver's fallback (no offloading: the device-centric thresholds, paper A
Fig. 12) is applied.
"""

from dataclasses import dataclass
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
import numpy as np
from rcl_interfaces.msg import ParameterDescriptor
from rcl_interfaces.srv import SetParametersAtomically
from rclpy.node import Node
from rclpy.parameter import Parameter

from mec_coop.alloc.model import (end_to_end_delay, route_probabilities, SystemParams,
                                  TX_MODELS)
from mec_coop.alloc.online import CameraScores, load_samples, StampJoin
from mec_coop.alloc.solvers import SOLVERS
from mec_coop.coop.uplink import LinkBudget
from mec_coop.msg import (AllocationState, CameraAllocation, GroundTruth, OffloadRequest,
                          PoseKeypoints2D)
from mec_coop.nodes.common import (diagnostic, diagnostic_array, float_param, int_param,
                                   LogOnce, proposed_values, QOS_LATCHED, QOS_RELIABLE,
                                   spin_node, text_param, verdict)
from mec_coop.nodes.uplink_node import LINK_PARAMS

_DEFAULTS = SystemParams()
# Delay-model constants: parameter -> (SystemParams field, lower, upper bound, description).
# Defaults are those of SystemParams, i.e. paper A's Table I.
MODEL_PARAMS = {
    'fps': ('frame_rate_hz', 0.01, 1000.0, 'Frames per second per camera (lambda)'),
    'image_bytes': ('image_bytes', 1.0, 1e9, 'Size S_I of one offloaded JPEG (bytes)'),
    'message_bytes': ('message_bytes', 1.0, 1e9, 'Size S_M of one keypoint message (bytes)'),
    'device_inference_s': ('device_inference_s', 0.0, 60.0, 'Camera model time T_d^I'),
    'server_inference_s': ('server_inference_s', 0.0, 60.0, 'Edge model time t_s per image'),
    'device_processing_s': ('device_processing_s', 0.0, 60.0,
                            'Camera time besides inference T_d^p'),
    'server_processing_s': ('server_processing_s', 0.0, 60.0,
                            'Edge triangulation and messaging T_s^p'),
    'bs_to_server_s': ('bs_to_server_s', 0.0, 60.0, 'Base station to edge T^{B->S}'),
    'server_to_client_s': ('server_to_client_s', 0.0, 60.0, 'Edge to client T^{S->C}'),
}
LINK_RANGES = {'bandwidth_hz': (1e3, 1e10, 'Uplink bandwidth B (Hz)'),
               'tx_power_dbm': (-30.0, 60.0, 'Transmit power P (dBm)'),
               'noise_dbm_per_hz': (-220.0, -100.0, 'Noise density N0 (dBm/Hz)')}
# Replies to a parameter request are expected within this time; then it is sent again.
PUSH_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class _Solved:
    """One solve: its settings, the solver's result and what the node derives from it."""

    settings: dict
    allocation: object
    shares: np.ndarray
    delay_s: float
    loads_bps: list
    scores: dict
    step_s: float


class _Target:
    """The latest values wanted on one remote node and the state of their delivery."""

    def __init__(self, client, node_name):
        self.client = client
        self.node_name = node_name
        self.wanted = None
        self.delivered = True
        self.in_flight = None
        self.sent_at = 0.0
        self.counts = {'applied': 0, 'rejected': 0, 'failed': 0, 'unavailable': 0,
                       'timed_out': 0}
        self.last_problem = ''


class AllocatorNode(Node):
    """Thresholds and TDMA shares of paper A, solved in a worker thread and set on the nodes."""

    def __init__(self, **node_kwargs):
        super().__init__('allocator', **node_kwargs)
        self.declare_parameter('cameras', ['cam0', 'cam1', 'cam2', 'cam3'], ParameterDescriptor(
            description='Camera names (topic namespaces)', read_only=True))
        self.declare_parameter('delay_requirement_s', _DEFAULTS.delay_req_s, float_param(
            'Required mean end-to-end delay D_req', 0.01, 60.0))
        self.declare_parameter('solver', 'proposed', text_param(
            f'Solver of (P2): one of {sorted(SOLVERS)}'))
        self.declare_parameter('segments', 20, int_param(
            'Threshold grid segments K (step 1/K)', 1, 100))
        self.declare_parameter('resolve_period_s', 5.0, float_param(
            'Solve again this often, with the latest samples (0: only on parameter changes)',
            0.0, 3600.0))
        self.declare_parameter('tx_model', _DEFAULTS.tx_model, text_param(
            f'Uplink volume of eq. (15), one of {TX_MODELS} (PAPERS_MATH note A-2)'))
        self.declare_parameter('min_tdma_share', 0.01, float_param(
            'Airtime every camera keeps (drop notices and keypoints still go up); the rest '
            'is shared in proportion to the optimal shares', 1e-4, 0.5))
        for name, (field, lo, hi, description) in MODEL_PARAMS.items():
            self.declare_parameter(name, float(getattr(_DEFAULTS, field)),
                                   float_param(description, lo, hi))
        for name, (lo, hi, description) in LINK_RANGES.items():
            self.declare_parameter(name, float(getattr(_DEFAULTS.link, name)),
                                   float_param(description, lo, hi))
        self.cameras = list(self.get_parameter('cameras').value)
        for cam in self.cameras:
            self.declare_parameter(f'channel_gain_db.{cam}', -100.0, float_param(
                f'Channel power gain g of {cam} assumed by the model (dB)', -200.0, 0.0))
        self.declare_parameter('samples_file', '', text_param(
            'Score samples (.npz, keys <cam>/<law> or pooled <law>: x_pos, x_neg, y_pos, y_neg, '
            "optional pi); '' uses the assumed Beta laws of PAPERS_MATH.md A.3", read_only=True))
        self.declare_parameter('online_update', False, ParameterDescriptor(
            description='Learn the score laws from run-time confidences labelled by '
                        'ground_truth (virtual rig)', read_only=True))
        self.declare_parameter('cdf_window', 1000, int_param(
            'Newest samples kept per score law (0: keep all)', 0, 10_000_000, read_only=True))
        self.declare_parameter('camera_node', '/{camera}/camera', text_param(
            "Name of each camera node, {camera} is replaced; '' skips the cameras",
            read_only=True))
        self.declare_parameter('edge_node', '/edge', text_param(
            "Node taking theta_server.<cam>; '' skips it", read_only=True))
        self.declare_parameter('uplink_node', '/uplink', text_param(
            "Node taking tdma_share.<cam>; '' skips it (real network)", read_only=True))
        self._settings = self._read_settings([])
        self.add_on_set_parameters_callback(self._validate)
        self.add_post_set_parameters_callback(self._on_changed)

        window = self.get_parameter('cdf_window').value or None
        path = self.get_parameter('samples_file').value
        if path:
            samples = load_samples(path, self.cameras)
            self._scores = {cam: CameraScores.from_samples(samples[cam], window)
                            for cam in self.cameras}
        else:
            self._scores = {cam: CameraScores.assumed(window) for cam in self.cameras}
        self._problems = LogOnce(self.get_logger())
        # Reentrant: a reply that is already in when its done callback is added runs at once.
        self._lock = threading.RLock()
        self._targets = self._make_targets()
        self._pub_state = self.create_publisher(AllocationState, 'allocation', QOS_LATCHED)
        self._pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)

        self._join = StampJoin()
        self._labelled = []
        self.sample_counts = {'labelled': 0, 'invalid': 0}
        if self.get_parameter('online_update').value:
            self._subscribe_samples()

        self.last = None
        self._last_outcome = None
        self.solves = 0
        self._result = None
        self._guard = self.create_guard_condition(self._on_solved)
        self._wake = threading.Condition()
        self._requested = True
        self._running = True
        self._worker = threading.Thread(target=self._work, name='allocator-solve', daemon=True)
        self._worker.start()
        self.create_timer(1.0, self._retry)
        self.create_timer(1.0, self._publish_diagnostics)
        self.get_logger().info(f'allocator: cameras {self.cameras}, solver '
                               f'{self._settings["solver"]}, score laws '
                               f'{path or "assumed Beta (A.3)"}, online update '
                               f'{self.get_parameter("online_update").value}')

    # -- parameters ---------------------------------------------------------------------------
    def _setting_names(self):
        return (['delay_requirement_s', 'solver', 'segments', 'resolve_period_s', 'tx_model',
                 'min_tdma_share'] + list(MODEL_PARAMS) + list(LINK_PARAMS)
                + [f'channel_gain_db.{cam}' for cam in self.cameras])

    def _read_settings(self, parameters):
        """Build the solve settings from the parameters after ``parameters`` are applied."""
        values = proposed_values(self, parameters, self._setting_names())
        solver = values['solver']
        if solver not in SOLVERS:
            raise ValueError(f'solver must be one of {sorted(SOLVERS)}, got {solver!r}')
        share = values['min_tdma_share']
        if share * len(self.cameras) >= 1.0:
            raise ValueError(f'min_tdma_share {share} leaves no airtime to share among '
                             f'{len(self.cameras)} cameras')
        params = SystemParams(
            delay_req_s=values['delay_requirement_s'], tx_model=values['tx_model'],
            link=LinkBudget(*(values[name] for name in LINK_PARAMS)),
            **{field: values[name] for name, (field, *_rest) in MODEL_PARAMS.items()})
        return {'params': params, 'solver': solver, 'segments': values['segments'],
                'period_s': values['resolve_period_s'], 'min_share': share,
                'gains_db': [values[f'channel_gain_db.{cam}'] for cam in self.cameras]}

    def _validate(self, parameters):
        try:
            self._read_settings(parameters)
        except ValueError as exc:
            return verdict(str(exc))
        return verdict('')

    def _on_changed(self, _parameters):
        with self._wake:
            self._settings = self._read_settings([])
            self._requested = True
            self._wake.notify()

    # -- run-time samples ---------------------------------------------------------------------
    def _subscribe_samples(self):
        for cam in self.cameras:
            self.create_subscription(
                PoseKeypoints2D, f'{cam}/keypoints',
                lambda m, c=cam: self._on_sample(m.header, c, 'device', m.frame_confidence),
                QOS_RELIABLE)
            self.create_subscription(
                OffloadRequest, f'{cam}/offload',
                lambda m, c=cam: self._on_sample(m.header, c, 'device', m.camera_confidence),
                QOS_RELIABLE)
            self.create_subscription(
                PoseKeypoints2D, f'{cam}/edge_result',
                lambda m, c=cam: self._on_sample(m.header, c, 'server', m.frame_confidence),
                QOS_RELIABLE)
        self.create_subscription(GroundTruth, 'ground_truth', self._on_truth, QOS_RELIABLE)

    def _on_sample(self, header, cam, source, score):
        if not np.isfinite(score):
            self.sample_counts['invalid'] += 1
            return
        stamp = (header.stamp.sec, header.stamp.nanosec)
        with self._wake:
            self._labelled += self._join.add_sample(stamp, cam, source, float(score))

    def _on_truth(self, msg):
        frames = dict(zip(msg.camera_ids, msg.positive))
        labels = {cam: frames[f'{cam}_optical_frame'] for cam in self.cameras
                  if f'{cam}_optical_frame' in frames}
        stamp = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        with self._wake:
            self._labelled += self._join.add_labels(stamp, labels)

    # -- solving (worker thread) --------------------------------------------------------------
    def _work(self):
        while True:
            with self._wake:
                period = self._settings['period_s']
                self._wake.wait_for(lambda: self._requested or not self._running,
                                    timeout=period or None)
                if not self._running:
                    return
                self._requested = False
                settings = self._settings
                labelled, self._labelled = self._labelled, []
            started = time.perf_counter()
            # Only this thread touches the score laws, so the solver reads consistent CDFs.
            for cam, source, score, positive in labelled:
                self._scores[cam].add(source, positive, score)
            self.sample_counts['labelled'] += len(labelled)
            cameras = [self._scores[cam].camera_model(gain)
                       for cam, gain in zip(self.cameras, settings['gains_db'])]
            try:
                allocation = SOLVERS[settings['solver']](cameras, settings['params'],
                                                         segments=settings['segments'])
            except ValueError as exc:
                self.get_logger().error(f'{settings["solver"]} failed: {exc}; the previous '
                                        'allocation stays in place')
                continue
            shares = settings['min_share'] + (1.0 - len(cameras) * settings['min_share']) * \
                allocation.tau
            delay = float(end_to_end_delay(cameras, settings['params'], allocation.theta_low,
                                           allocation.theta_high, shares))
            params = settings['params']
            loads = [8.0 * params.frame_rate_hz * (pu * params.image_bytes
                                                   + pp * params.message_bytes)
                     for pu, pp in (route_probabilities(c, lo, hi) for c, lo, hi in
                                    zip(cameras, allocation.theta_low, allocation.theta_high))]
            scores = {cam: (s.pi, dict(s.added)) for cam, s in self._scores.items()}
            with self._wake:
                self._result = _Solved(settings, allocation, shares, delay, loads, scores,
                                       time.perf_counter() - started)
            self._guard.trigger()

    # -- results (executor) -------------------------------------------------------------------
    def _on_solved(self):
        with self._wake:
            result, self._result = self._result, None
        if result is None:
            return
        settings, allocation = result.settings, result.allocation
        self.solves += 1
        self.last = result
        state = AllocationState(
            delay_requirement_s=settings['params'].delay_req_s, predicted_delay_s=result.delay_s,
            predicted_accuracy=allocation.accuracy, feasible=allocation.feasible,
            min_delay_s=allocation.min_delay_s, solver=allocation.solver,
            solve_time_s=allocation.solve_time_s, iterations=int(allocation.iterations))
        state.header.stamp = self.get_clock().now().to_msg()
        state.cameras = [
            CameraAllocation(camera_id=cam, tdma_share=float(share), theta_low=float(lo),
                             theta_high=float(hi), theta_server=float(srv),
                             channel_gain_db=float(gain), predicted_accuracy=float(acc),
                             predicted_load_bps=float(load))
            for cam, share, lo, hi, srv, gain, acc, load in zip(
                self.cameras, result.shares, allocation.theta_low, allocation.theta_high,
                allocation.theta_server, settings['gains_db'], allocation.accuracy_per_camera,
                result.loads_bps)]
        self._pub_state.publish(state)
        self._report(settings, allocation, result.delay_s)
        self._push_state(state)

    def _report(self, settings, allocation, delay):
        outcome = (allocation.solver, settings['params'].delay_req_s, allocation.feasible,
                   tuple(allocation.theta_low), tuple(allocation.theta_high))
        if outcome == self._last_outcome:
            return
        self._last_outcome = outcome
        req = settings['params'].delay_req_s
        if allocation.feasible:
            self.get_logger().info(
                f'{allocation.solver}: D_req {req:.3f} s -> predicted delay {delay:.3f} s, '
                f'accuracy {allocation.accuracy:.3f}, theta_low '
                f'{np.round(allocation.theta_low, 3).tolist()}, theta_high '
                f'{np.round(allocation.theta_high, 3).tolist()} '
                f'(solved in {allocation.solve_time_s * 1e3:.1f} ms)')
        else:
            self.get_logger().warning(
                f'{allocation.solver}: delay requirement {req:.3f} s cannot be met, the '
                f'smallest reachable delay is {allocation.min_delay_s:.3f} s; applying the '
                f'solver fallback (predicted delay {delay:.3f} s, accuracy '
                f'{allocation.accuracy:.3f})')

    def _make_targets(self):
        targets = {}
        pattern = self.get_parameter('camera_node').value
        names = {f'camera:{cam}': pattern.replace('{camera}', cam) if pattern else ''
                 for cam in self.cameras}
        names['edge'] = self.get_parameter('edge_node').value
        names['uplink'] = self.get_parameter('uplink_node').value
        for key, name in names.items():
            if name:
                # One SetParametersAtomically client per node: rclpy's AsyncParameterClient
                # wraps the same call but opens six service clients per node.
                client = self.create_client(SetParametersAtomically,
                                            f'{name.rstrip("/")}/set_parameters_atomically')
                targets[key] = _Target(client, name)
        return targets

    def _push_state(self, state):
        wanted = {
            'edge': [Parameter(f'theta_server.{c.camera_id}', value=float(c.theta_server))
                     for c in state.cameras],
            'uplink': [Parameter(f'tdma_share.{c.camera_id}', value=float(c.tdma_share))
                       for c in state.cameras]}
        for c in state.cameras:
            wanted[f'camera:{c.camera_id}'] = [Parameter('theta_low', value=float(c.theta_low)),
                                               Parameter('theta_high',
                                                         value=float(c.theta_high))]
        with self._lock:
            for key, target in self._targets.items():
                target.wanted = wanted[key]
                target.delivered = False
                self._send(target)

    def _send(self, target):
        """Send ``target.wanted`` unless it is delivered or a request is in flight (lock held)."""
        if target.delivered or target.in_flight is not None:
            return
        if not target.client.service_is_ready():
            target.counts['unavailable'] += 1
            target.last_problem = 'not available'
            self._problems(f'unavailable:{target.node_name}',
                           f'{target.node_name} is not available; retrying every second')
            return
        sent = target.wanted
        request = SetParametersAtomically.Request(
            parameters=[p.to_parameter_msg() for p in sent])
        target.in_flight = target.client.call_async(request)
        target.sent_at = time.monotonic()
        target.in_flight.add_done_callback(lambda f: self._on_reply(target, sent, f))

    def _on_reply(self, target, sent, future):
        with self._lock:
            if future is not target.in_flight:
                return  # a request given up after PUSH_TIMEOUT_S
            target.in_flight = None
            try:
                result = future.result().result
            except Exception as exc:  # noqa: B902 - any transport error: retry later
                target.counts['failed'] += 1
                target.last_problem = repr(exc)
                self._problems(f'failed:{target.node_name}',
                               f'setting parameters on {target.node_name} failed: {exc!r}')
                return
            if not result.successful:
                target.counts['rejected'] += 1
                target.last_problem = result.reason
                self._problems(f'rejected:{target.node_name}:{result.reason}',
                               f'{target.node_name} rejected {[p.name for p in sent]}: '
                               f'{result.reason}')
                return
            if target.wanted is sent:
                target.delivered = True
                target.counts['applied'] += 1
                target.last_problem = ''
            else:
                self._send(target)  # newer values came while this request was in flight

    def _retry(self):
        now = time.monotonic()
        with self._lock:
            for target in self._targets.values():
                if target.in_flight is not None and now - target.sent_at > PUSH_TIMEOUT_S:
                    target.client.remove_pending_request(target.in_flight)
                    target.in_flight = None
                    target.counts['timed_out'] += 1
                    target.last_problem = f'no reply in {PUSH_TIMEOUT_S} s'
                self._send(target)

    # -- health -------------------------------------------------------------------------------
    def _publish_diagnostics(self):
        statuses = []
        if self.last is None:
            statuses.append(diagnostic('mec_coop/allocator', 'allocator', DiagnosticStatus.WARN,
                                       'no allocation yet', {}))
        else:
            allocation = self.last.allocation
            level = DiagnosticStatus.OK if allocation.feasible else DiagnosticStatus.WARN
            text = 'feasible' if allocation.feasible else \
                f'infeasible: min delay {allocation.min_delay_s:.3f} s'
            values = {'solver': allocation.solver, 'solves': self.solves,
                      'delay_requirement_s': self.last.settings['params'].delay_req_s,
                      'predicted_delay_s': f'{self.last.delay_s:.4f}',
                      'min_delay_s': f'{allocation.min_delay_s:.4f}',
                      'predicted_accuracy': f'{allocation.accuracy:.4f}',
                      'solve_time_s': f'{allocation.solve_time_s:.4f}',
                      'solve_step_s': f'{self.last.step_s:.4f}',
                      **self.sample_counts, 'unlabelled': self._join.unlabelled}
            for cam, (pi, added) in self.last.scores.items():
                values[f'pi.{cam}'] = f'{pi:.3f}'
                values[f'samples.{cam}'] = added
            statuses.append(diagnostic('mec_coop/allocator', 'allocator', level, text, values))
        with self._lock:
            for target in self._targets.values():
                ok = target.delivered or not target.last_problem
                statuses.append(diagnostic(
                    f'mec_coop/allocator/push{target.node_name}', target.node_name,
                    DiagnosticStatus.OK if ok else DiagnosticStatus.WARN,
                    'applied' if target.delivered else (target.last_problem or 'pending'),
                    target.counts))
        self._pub_diag.publish(diagnostic_array(self, statuses))

    def close(self):
        """Stop the worker thread (called before the node is destroyed)."""
        with self._wake:
            self._running = False
            self._wake.notify()
        self._worker.join(timeout=10.0)


def main(args=None):
    spin_node(AllocatorNode, args)


if __name__ == '__main__':
    main()
