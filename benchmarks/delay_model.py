# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Does the allocator's delay model predict the running graph? Replay vs measurement per scheme.

Runs the node graph on the virtual rig with a fixed routing preset and, beside it, a probe
node with the allocator's own observer (:class:`mec_coop.ros.score_samples.GraphObserver`:
camera and edge times, offload sizes, fusion time, the skeletons' measured delays; no image
is subscribed). After the run the measured routing frequencies and timings go into
:func:`mec_coop.alloc.timing.simulate` (the graph replay the allocator judges plans with) and
the predicted p50/p95 delay is set beside the measured one. The paper's mean delay (19) with
the same measured constants is shown too.

Writes ``<out>/delay_model.json``; ``--trace PATH`` also saves the first run's timing samples
(the recorded trace ``test/test_alloc_timing.py`` checks the estimators on).

Run:  . scripts/env.sh && python benchmarks/delay_model.py --out docs/figures [--duration 90]
      [--modes cooperative server_centric device_centric] [--requirement 0.5]
"""

import argparse
import json
import os
import pathlib
import time

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor

from mec_coop.alloc.model import SystemParams
from mec_coop.alloc.timing import simulate
from mec_coop.graph import build_graph, camera_names, load_config
from mec_coop.msg import LinkState, PoseKeypoints2D
from mec_coop.ros.allocation import link_rate_bps
from mec_coop.ros.camera_info import RigCalibration
from mec_coop.ros.qos import QOS_LATCHED, QOS_RELIABLE
from mec_coop.ros.score_samples import GraphObserver
from mec_coop.runner import GraphProcesses

ROOT = pathlib.Path(__file__).resolve().parents[1]


class Probe:
    """A node that observes the graph like the allocator and counts each camera's routes."""

    def __init__(self, domain, cameras):
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.node = rclpy.create_node('delay_model_probe', context=self.context)
        self.link = None
        self.node.create_subscription(LinkState, 'uplink/link_state',
                                      lambda m: setattr(self, 'link', m), QOS_LATCHED)
        rig = RigCalibration(self.node, cameras, 'world', lambda _k, _m: None)
        self.observer = GraphObserver(self.node, cameras, rig,
                                      lambda cam: link_rate_bps(self.link, cam))
        self.routes = {cam: {'keypoints': 0, 'offload': 0, 'drop': 0} for cam in cameras}
        names = {PoseKeypoints2D.ROUTE_KEYPOINTS: 'keypoints', PoseKeypoints2D.ROUTE_DROP: 'drop'}
        for cam in cameras:
            self.node.create_subscription(
                PoseKeypoints2D, f'{cam}/keypoints',
                lambda m, c=cam: self._count(c, names.get(m.route)), QOS_RELIABLE)
            self.node.create_subscription(
                PoseKeypoints2D, f'{cam}/edge_result',
                lambda m, c=cam: self._count(c, 'offload'), QOS_RELIABLE)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)

    def _count(self, cam, route):
        if route is not None:
            self.routes[cam][route] += 1

    def spin_for(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)

    def close(self):
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def predict(probe, cameras, requirement, deadline):
    """Replay the graph with what the probe measured; return the prediction and its inputs."""
    calibration = probe.observer.calibration
    total = {cam: max(1, sum(r.values())) for cam, r in probe.routes.items()}
    p_u = np.array([probe.routes[c]['offload'] / total[c] for c in cameras])
    p_p = np.array([probe.routes[c]['keypoints'] / total[c] for c in cameras])
    prior = SystemParams(delay_req_s=requirement, tx_model='per_frame', uplink_combine='max')
    timing = calibration.timing(prior, deadline)
    rates = np.array([link_rate_bps(probe.link, c) for c in cameras])
    prediction = simulate(timing, p_u, p_p, rates)
    params = calibration.params(prior)
    airtime = 8.0 * (p_u * timing.image_bytes + (1 - p_u) * timing.message_bytes) / rates
    paper_mean = (params.fixed_delay_s + params.server_inference_s * p_u.sum()
                  + float(np.max(airtime)))
    return prediction, paper_mean, p_u, p_p


def trace(probe, path):
    """Save the probe's timing samples (the recorded trace of the estimator tests)."""
    c = probe.observer.calibration
    data = {'cameras': c.cameras,
            'device_rows': c.device_rows(float('nan')).round(5).tolist(),
            'image_bytes': {cam: c.image_bytes[cam].samples().round(0).tolist()
                            for cam in c.cameras},
            'edge_service_s': c.edge_service_s.samples().round(5).tolist(),
            'overhead_s': c.overhead_s.samples().round(5).tolist(),
            'delay_s': c.delay_s.samples().round(5).tolist()}
    path.write_text(json.dumps(data))


def run(mode, cameras, requirement, duration, out, domain, trace_path=None):
    config = load_config('virtual_rig', [
        f'graph.cameras={cameras}', f'graph.mode={mode}',
        f'graph.delay_requirement_s={requirement}', f'evaluator.output_dir={out}',
        'evaluator.record=false'])
    names = camera_names(config)
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST')
    probe = Probe(domain, names)
    try:
        with GraphProcesses(build_graph(config), out / 'logs', env=env):
            probe.spin_for(duration)
    finally:
        probe.close()
    summary = json.loads((out / 'summary.json').read_text())
    deadline = requirement - 0.05
    prediction, paper_mean, p_u, p_p = predict(probe, names, requirement, deadline)
    if trace_path is not None:
        trace(probe, trace_path)
    measured = summary.get('delay_s', {})
    calibration = probe.observer.calibration
    return {'mode': mode, 'cameras': cameras, 'delay_requirement_s': requirement,
            'duration_s': duration, 'measured_p50_s': measured.get('p50'),
            'measured_p95_s': measured.get('p95'), 'predicted_p50_s': prediction.p50_s,
            'predicted_p95_s': prediction.p95_s, 'paper_mean_s': paper_mean,
            'predicted_late_fraction': prediction.late_fraction,
            'edge_utilisation': prediction.edge_utilisation,
            'edge_wait_s': prediction.edge_wait_s,
            'p_offload': p_u.round(3).tolist(), 'p_keypoints': p_p.round(3).tolist(),
            'device_s_median': {c: calibration.device_s[c].quantile(0.5, float('nan'))
                                for c in names},
            'edge_service_s_median': calibration.edge_service_s.quantile(0.5, float('nan')),
            'image_bytes_median': {c: calibration.image_bytes[c].quantile(0.5, float('nan'))
                                   for c in names},
            'overhead_s_median': calibration.overhead_s.quantile(0.5, float('nan')),
            'skeleton_rate': summary.get('skeleton_rate'), 'mpjpe_mm': summary.get('mpjpe_mm')}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--modes', nargs='+',
                        default=['cooperative', 'server_centric', 'device_centric'])
    parser.add_argument('--cameras', type=int, default=4)
    parser.add_argument('--requirement', type=float, default=0.5)
    parser.add_argument('--duration', type=float, default=90.0)
    parser.add_argument('--trace', default=None, help="save the first run's timing samples")
    parser.add_argument('--out', default=str(ROOT / 'results' / 'benchmarks'))
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    rows = []
    for i, mode in enumerate(args.modes):
        row = run(mode, args.cameras, args.requirement, args.duration,
                  out / 'delay_model_runs' / mode, 140 + os.getpid() % 20 + i,
                  pathlib.Path(args.trace) if args.trace and i == 0 else None)
        rows.append(row)
        print(f'{mode:>15}: measured p50/p95 {row["measured_p50_s"]:.3f}/'
              f'{row["measured_p95_s"]:.3f} s, replay {row["predicted_p50_s"]:.3f}/'
              f'{row["predicted_p95_s"]:.3f} s, paper mean (19) {row["paper_mean_s"]:.3f} s, '
              f'edge utilisation {row["edge_utilisation"]:.2f}', flush=True)
        (out / 'delay_model.json').write_text(json.dumps(rows, indent=2))
    print(f'wrote {out / "delay_model.json"}')


if __name__ == '__main__':
    main()
