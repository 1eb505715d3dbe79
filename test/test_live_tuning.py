# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Live tuning of a running graph.

A new delay requirement on the allocator reaches the cameras and the uplink, and the measured
end-to-end delay follows it. The whole virtual-rig graph (rig, 4 cameras, uplink, edge,
evaluator, allocator) runs as separate processes; this test is one more DDS participant that
reads ``skeleton`` and ``allocation`` and calls parameter services, as ``ros2 param set`` would.
"""

import os
import time

import numpy as np
import pytest
import rclpy
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient

from mec_coop.graph import build_graph, load_config
from mec_coop.msg import AllocationState, OffloadRequest, Skeleton3D
from mec_coop.ros.qos import QOS_LATCHED, QOS_RELIABLE
from mec_coop.runner import GraphProcesses

pytestmark = [pytest.mark.dds, pytest.mark.model]


class Probe:
    def __init__(self, domain):
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.node = rclpy.create_node('live_tuning_probe', context=self.context)
        self.skeletons = []
        self.states = []
        self.node.create_subscription(
            Skeleton3D, '/skeleton',
            lambda m: self.skeletons.append((time.monotonic(), m.latency.end_to_end_s)),
            QOS_RELIABLE)
        self.node.create_subscription(AllocationState, '/allocation', self.states.append,
                                      QOS_LATCHED)
        self.offloads = []
        for cam in range(4):
            self.node.create_subscription(
                OffloadRequest, f'/cam{cam}/offload',
                lambda _m: self.offloads.append(time.monotonic()), QOS_RELIABLE)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)

    def spin_for(self, seconds, until=None):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)
            if until is not None and until():
                return True
        return until is None

    def call(self, future, timeout=10.0):
        assert self.spin_for(timeout, until=future.done), 'no reply from a parameter service'
        return future.result()

    def close(self):
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def _delays_since(probe, start):
    return np.array([d for t, d in probe.skeletons if t >= start])


def test_delay_requirement_change_reaches_cameras_and_moves_the_delay(tmp_path):
    domain = (int(os.environ['ROS_DOMAIN_ID']) + 120) % 200 + 1
    config = load_config('virtual_rig', [
        'graph.allocator=true', 'graph.delay_requirement_s=0.25',
        # Solve only on parameter changes, so the checked state is the one in force.
        'allocator.resolve_period_s=0.0', 'allocator.score_labels=prior', 'edge.imgsz=640',
        # Plan with the priors, not the measured timings: under a loaded test suite the edge's
        # measured service time made every offload miss even 1.0 s, so both requirements gave
        # the same plan (the calibration has its own tests).
        'allocator.calibrate=false',
        # The paper's objective (the most accurate plan up to D_req): with the default
        # accuracy_tolerance the looser plan may offload no more than the tight one.
        'allocator.accuracy_tolerance=0.0',
        # Plain 128 KB JPEG offloads: with the 16 KB region-wise ones the most accurate plan
        # already meets 0.25 s on the priors, and no requirement would bind.
        'camera.offload_codec=jpeg', 'allocator.image_bytes=131072.0',
        f'evaluator.output_dir={tmp_path}',
        'evaluator.record=false'])
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain))
    probe = Probe(domain)
    try:
        with GraphProcesses(build_graph(config), tmp_path / 'logs', env=env) as graph:
            assert probe.spin_for(60, until=lambda: probe.states and len(probe.skeletons) > 3), \
                {k: graph.log_tail(k) for k in graph.failed()}
            tight = probe.states[-1]
            start = time.monotonic()
            probe.spin_for(25)
            tight_delays = _delays_since(probe, start)
            tight_offloads = sum(1 for t in probe.offloads if t >= start) / 25.0

            allocator = AsyncParameterClient(probe.node, '/allocator')
            assert allocator.wait_for_services(timeout_sec=10.0)
            result = probe.call(allocator.set_parameters(
                [Parameter('delay_requirement_s', value=1.0)]))
            assert result.results[0].successful
            assert probe.spin_for(15, until=lambda: probe.states[-1].delay_requirement_s > 0.9)
            loose = probe.states[-1]
            start = time.monotonic() + 3.0   # frames already in flight keep the old setting
            probe.spin_for(28)
            loose_delays = _delays_since(probe, start)
            loose_offloads = sum(1 for t in probe.offloads if t >= start) / 25.0

            camera = AsyncParameterClient(probe.node, '/cam0/camera')
            assert camera.wait_for_services(timeout_sec=10.0)
            values = probe.call(camera.get_parameters(['theta_low', 'theta_high'])).values
            uplink = AsyncParameterClient(probe.node, '/uplink')
            share = probe.call(uplink.get_parameters(['tdma_share.cam0'])).values[0]
            assert not graph.failed(), {k: graph.log_tail(k) for k in graph.failed()}
    finally:
        probe.close()

    # Measured (planning with the priors): D_req 0.25 -> predicted 0.249 s, measured p50
    # 0.125 s; D_req 1.0 -> predicted 0.499 s, measured p50 0.845 s; offloads 0.44 -> 4.84 per
    # second. The priors' delay model is not this CPU's: the calibrated one is issue 11's.
    print(f'D_req 0.25: predicted {tight.predicted_delay_s:.3f} s, measured p50 '
          f'{np.median(tight_delays):.3f} s over {len(tight_delays)}; D_req 1.0: predicted '
          f'{loose.predicted_delay_s:.3f} s, measured p50 {np.median(loose_delays):.3f} s '
          f'over {len(loose_delays)}')
    cam0 = next(c for c in loose.cameras if c.camera_id == 'cam0')
    # The running camera and uplink hold the allocator's newest decision.
    assert values[0].double_value == pytest.approx(cam0.theta_low, abs=1e-6)
    assert values[1].double_value == pytest.approx(cam0.theta_high, abs=1e-6)
    assert share.double_value == pytest.approx(cam0.tdma_share, abs=1e-6)
    assert [(c.theta_low, c.theta_high) for c in tight.cameras] != \
        [(c.theta_low, c.theta_high) for c in loose.cameras]
    # The looser requirement lets the allocator offload more, and the cameras do; the offload
    # rate is asserted, not the delay, whose median depends on how loaded the machine is.
    assert len(tight_delays) >= 5 and len(loose_delays) >= 5
    print(f'offloads per second: D_req 0.25: {tight_offloads:.2f}, D_req 1.0: '
          f'{loose_offloads:.2f}')
    assert loose_offloads > tight_offloads
