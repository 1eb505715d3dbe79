# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Does the allocator's delay model predict the running graph? The replay fed with a run's own inputs.

Runs the node graph on the virtual rig (a routing preset, or the allocator as in
``benchmarks/pareto.py``) with a probe node that timestamps every camera message, every offload
as its camera sent it and as the uplink delivered it, and every edge result. After the run the
run's *measured* inputs (per camera: routes, offload sizes, uplink rate, the cameras' times, how
much later an offload leaves than keypoints; the edge's time per image and batch) go into
:func:`mec_coop.alloc.timing.simulate`, the replay the allocator judges plans with, and each
stage of an offloaded view (leaving the camera, reaching the edge, the edge's result) is set
beside the measured one, with the instants' delay. Where replay and measurement agree stage by
stage, a wrong prediction is in the allocator's *inputs*; where a stage differs, the replay
misses something there. Also reported per camera: how often an offload follows an offload
(the replay draws each frame's route independently).

Writes ``<out>/delay_model.json``; ``--trace PATH`` also saves the first run's timing samples
as the allocator's observer keeps them (the recorded trace ``test/test_alloc_timing.py``
checks the estimators on).

Run:  . scripts/env.sh && python benchmarks/delay_model.py --schemes allocator_proposed
      --cameras 8 --requirement 1.0 --duration 75 --out docs/figures
"""

import argparse
import dataclasses
import json
import os
import pathlib
import time

import numpy as np
from pareto import schemes
import rclpy
from rclpy.executors import SingleThreadedExecutor

from mec_coop.alloc.calibration import Calibration
from mec_coop.alloc.model import SystemParams
from mec_coop.alloc.timing import simulate
from mec_coop.graph import build_graph, camera_names, load_config
from mec_coop.msg import OffloadRequest, PoseKeypoints2D
from mec_coop.ros.camera_info import RigCalibration
from mec_coop.ros.conversions import from_stamp
from mec_coop.ros.qos import QOS_OFFLOAD, QOS_RELIABLE
from mec_coop.ros.score_samples import GraphObserver
from mec_coop.runner import GraphProcesses

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Stages of a message, by where the probe saw it.
KEYPOINTS, SENT, DELIVERED, RESULT = 'keypoints', 'sent', 'delivered', 'result'


class Probe:
    """A node that timestamps each camera's messages along their way, and the allocator's view."""

    def __init__(self, domain, cameras):
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.node = rclpy.create_node('delay_model_probe', context=self.context)
        rig = RigCalibration(self.node, cameras, 'world', lambda _k, _m: None)
        self.observer = GraphObserver(self.node, cameras, rig)
        self.rows = []   # (stage, camera, capture stamp, seen at, message)
        for cam in cameras:
            for stage, kind, topic, qos in (
                    (KEYPOINTS, PoseKeypoints2D, f'/{cam}/keypoints', QOS_RELIABLE),
                    (SENT, OffloadRequest, f'/{cam}/offload', QOS_OFFLOAD),
                    (DELIVERED, OffloadRequest, f'/edge/{cam}/offload', QOS_OFFLOAD),
                    (RESULT, PoseKeypoints2D, f'/{cam}/edge_result', QOS_RELIABLE)):
                self.node.create_subscription(
                    kind, topic, lambda m, s=stage, c=cam: self._seen(s, c, m), qos)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)

    def _seen(self, stage, cam, msg):
        now = self.node.get_clock().now().nanoseconds * 1e-9
        self.rows.append((stage, cam, from_stamp(msg.header.stamp), now, msg))

    def spin_for(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)

    def close(self):
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def measured(rows, cameras, warmup=0.1):
    """
    Return the run's per-instant views: ``{stamp: {camera: {stage: seconds after capture}}}``.

    Offloads carry their size, airtime, audit flag and the camera's score; edge results the
    edge's time per image. The first ``warmup`` of the instants is left out (start-up).
    """
    instants = {}
    for stage, cam, stamp, seen, msg in rows:
        view = instants.setdefault(round(stamp, 4), {}).setdefault(cam, {})
        view[stage] = seen - stamp
        if stage == DELIVERED:
            view.update(bytes=len(msg.image.data), airtime=float(msg.uplink_airtime_s),
                        audit=bool(msg.audit), empty=msg.camera_confidence == 0.0)
        elif stage == RESULT:
            view['edge_s'] = float(msg.inference_time_s)
    stamps = sorted(instants)
    return {s: instants[s] for s in stamps[int(warmup * len(stamps)):]}


def _median(values, default=float('nan')):
    values = [v for v in values if np.isfinite(v)]
    return float(np.median(values)) if values else default


def replay_inputs(instants, cameras, fps, deadline_s, edge_batch):
    """
    Return the replay's inputs measured on ``instants`` (see :func:`measured`).

    The timings go through the allocator's own :class:`Calibration`, holding the whole run
    (no horizon, no residual): what the allocator would plan with, had it measured every
    sample the probe saw.
    """
    views = [[instants[s].get(c, {}) for c in cameras] for s in instants]
    offloads = [[v for row in views for v in [row[i]] if DELIVERED in v]
                for i in range(len(cameras))]
    count = max(1, len(views))
    calibration = Calibration(cameras, window=count + 1)
    for stamp, row in zip(instants, views):
        for cam, view in zip(cameras, row):
            if KEYPOINTS in view:
                calibration.add_device(cam, stamp, view[KEYPOINTS])
            if DELIVERED in view:
                sizes = calibration.empty_image_bytes if view['empty'] else calibration.image_bytes
                sizes[cam].add(view['bytes'])
            if 'edge_s' in view:
                calibration.edge_service_s.add(view['edge_s'])
    calibration.offload_camera_s = {cam: _median([v[SENT] for v in off if SENT in v])
                                    for cam, off in zip(cameras, offloads)}
    calibration.edge_batch = edge_batch
    timing = dataclasses.replace(
        calibration.timing(SystemParams(frame_rate_hz=fps), deadline_s, residual=False),
        message_bytes=np.full(len(cameras), 600.0), overhead_s=0.005)
    shares = {
        'p_offload': np.array([len(off) / count for off in offloads]),
        'p_held': np.array([sum(not v['audit'] for v in off) / count for off in offloads]),
        'p_empty': np.array([sum(v['empty'] for v in off) / count for off in offloads])}
    rates = np.array([_median([8.0 * v['bytes'] / v['airtime'] for v in off
                               if v['airtime'] > 0], 1e12) for off in offloads])
    return timing, shares, rates


def compare(instants, cameras, fps, deadline_s, edge_batch, delay_s):
    """
    Set each stage of an offloaded view, replayed with the measured inputs, beside the run's.

    ``delay_s``: the run's measured skeleton delay quantiles (the evaluator's ``p50``, ``p95``).
    """
    timing, shares, rates = replay_inputs(instants, cameras, fps, deadline_s, edge_batch)

    def replay(timing_, rates_):
        return simulate(timing_, shares['p_offload'], 1.0 - shares['p_offload'], rates_,
                        instants=3000, p_held=shares['p_held'], p_empty=shares['p_empty'])

    full = replay(timing, rates)
    no_edge = dataclasses.replace(timing, edge_service_s=np.array([1e-9]), edge_batch=1)
    views = [v for s in instants for v in instants[s].values()]
    per_camera = {}
    for cam in cameras:
        offloaded = [1 if DELIVERED in instants[s].get(cam, {}) else 0 for s in instants]
        after = [b for a, b in zip(offloaded, offloaded[1:]) if a]
        per_camera[cam] = {
            'p_offload': round(float(np.mean(offloaded)), 3) if offloaded else None,
            'offload_after_offload': round(float(np.mean(after)), 3) if after else None,
            'arrival_p50_s': _median([instants[s][cam][DELIVERED] for s in instants
                                      if DELIVERED in instants[s].get(cam, {})])}
    return {
        'offload_leaves_camera_p50_s': {
            'measured': _median([v[SENT] for v in views if SENT in v and DELIVERED in v]),
            'replayed': replay(no_edge, np.full(len(cameras), 1e12)).offload_view_p50_s},
        'offload_reaches_edge_p50_s': {
            'measured': _median([v[DELIVERED] for v in views if DELIVERED in v]),
            'replayed': replay(no_edge, rates).offload_view_p50_s},
        'offload_view_p50_s': {'measured': _median([v[RESULT] for v in views if RESULT in v]),
                               'replayed': full.offload_view_p50_s},
        'delay_p50_s': {'measured': delay_s.get('p50'), 'replayed': full.p50_s},
        'delay_p95_s': {'measured': delay_s.get('p95'), 'replayed': full.p95_s},
        'per_camera': per_camera,
        'inputs': {k: v.round(3).tolist() for k, v in shares.items()} | {
            'uplink_rate_bps': rates.round(0).tolist(),
            'offload_extra_s': np.round(timing.offload_extra_s, 3).tolist(),
            'edge_s_median': _median(np.atleast_1d(timing.edge_service_s)),
            'edge_batch': edge_batch}}


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


def run(name, mode, overrides, cameras, requirement, duration, out, domain, trace_path=None):
    config = load_config('virtual_rig', [
        f'graph.cameras={cameras}', f'graph.mode={mode}', 'rig.fps=2.0',
        f'graph.delay_requirement_s={requirement}', f'evaluator.output_dir={out}',
        'evaluator.record=false', *overrides])
    names = camera_names(config)
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST')
    probe = Probe(domain, names)
    try:
        with GraphProcesses(build_graph(config), out / 'logs', env=env):
            probe.spin_for(duration)
    finally:
        probe.close()
    summary = json.loads((out / 'summary.json').read_text())
    if trace_path is not None:
        trace(probe, trace_path)
    instants = measured(probe.rows, names)
    row = compare(instants, names, 2.0, requirement - 0.05,
                  int(config['edge'].get('batch_size', 2)), summary.get('delay_s', {}))
    row.update(scheme=name, cameras=cameras, delay_requirement_s=requirement,
               duration_s=duration, instants=len(instants),
               load_average_1min=round(os.getloadavg()[0], 2),
               skeleton_rate=summary.get('skeleton_rate'), mpjpe_mm=summary.get('mpjpe_mm'))
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    known = {name: (mode, overrides) for name, mode, overrides in schemes()}
    parser.add_argument('--schemes', nargs='+', default=['allocator_proposed'],
                        choices=sorted(known))
    parser.add_argument('--cameras', type=int, default=4)
    parser.add_argument('--requirement', type=float, default=0.5)
    parser.add_argument('--duration', type=float, default=75.0)
    parser.add_argument('--trace', default=None, help="save the first run's timing samples")
    parser.add_argument('--out', default=str(ROOT / 'results' / 'benchmarks'))
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    path = out / f'delay_model_{args.cameras}.json'
    rows = []
    for i, name in enumerate(args.schemes):
        mode, overrides = known[name]
        row = run(name, mode, overrides, args.cameras, args.requirement, args.duration,
                  out / 'delay_model_runs' / f'{name}_{args.cameras}', 140 + os.getpid() % 20 + i,
                  pathlib.Path(args.trace) if args.trace and i == 0 else None)
        rows.append(row)
        stages = ('offload_leaves_camera_p50_s', 'offload_reaches_edge_p50_s',
                  'offload_view_p50_s', 'delay_p50_s', 'delay_p95_s')
        print(f'{name} ({args.cameras} cameras, D_req {args.requirement:g} s, '
              f'{row["instants"]} instants, load {row["load_average_1min"]}):')
        for stage in stages:
            print(f'  {stage:>30}: measured {row[stage]["measured"]:.3f} s, replayed with the '
                  f'measured inputs {row[stage]["replayed"]:.3f} s', flush=True)
        path.write_text(json.dumps(rows, indent=2))
    print(f'wrote {path}')


if __name__ == '__main__':
    main()
