# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Evaluator memory over hours of stream time, in seconds: its callbacks driven in-process.

A soak of the whole graph runs in real time (``benchmarks/soak.py``); this drives one
:class:`~mec_coop.nodes.evaluator_node.EvaluatorNode` with ``--instants`` synthetic ground-truth
instants at 2 fps, each with a matched skeleton (``skeleton`` and ``skeletons``), writing the
status line and ``summary.json`` every 10 instants and the MCAP recording, as in a run, and
samples the process's RSS. Writes ``<out>/evaluator_memory.json``.

Run:  . scripts/env.sh && python benchmarks/evaluator_memory.py --instants 20000 --out docs/figures
"""

import argparse
import json
import pathlib
import tempfile
import time

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point
import numpy as np
import rclpy
from rclpy.parameter import Parameter

from mec_coop.msg import GroundTruth, Skeleton3D, Skeleton3DArray
from mec_coop.nodes.evaluator_node import EvaluatorNode

ROOT = pathlib.Path(__file__).resolve().parents[1]
FPS = 2.0


def _stamp(t):
    return Time(sec=int(t), nanosec=int(round((t % 1.0) * 1e9)))


def _rss_mib():
    status = pathlib.Path('/proc/self/status').read_text()
    return int(status.split('VmRSS:')[1].split()[0]) / 1024.0


def _messages(k, rng):
    t = 1000.0 + k / FPS
    joints = rng.normal(0.0, 0.3, (17, 3)) + [0.0, 0.0, 1.0]
    truth = GroundTruth(rig_time_s=k / FPS)
    truth.header.stamp = _stamp(t)
    truth.joints = [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in joints]
    skeleton = Skeleton3D(camera_ids=['cam0', 'cam1'], capture_stamps=[_stamp(t)] * 2,
                          person_indices=[0, 0])
    skeleton.header.stamp = _stamp(t)
    skeleton.latency.end_to_end_s = float(rng.lognormal(-1.5, 0.6))
    for joint, (x, y, z) in zip(skeleton.joints, joints + rng.normal(0.0, 0.05, joints.shape)):
        joint.valid = True
        joint.position.x, joint.position.y, joint.position.z = float(x), float(y), float(z)
    people = Skeleton3DArray(skeletons=[skeleton])
    people.header.stamp = _stamp(t)
    return truth, skeleton, people


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--instants', type=int, default=20000)
    parser.add_argument('--every', type=int, default=1000, help='RSS sample period (instants)')
    parser.add_argument('--out', default=str(ROOT / 'results' / 'benchmarks'))
    args = parser.parse_args()

    rclpy.init()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as run_dir:
        node = EvaluatorNode(parameter_overrides=[Parameter('output_dir', value=run_dir),
                                                  Parameter('cameras', value=['cam0', 'cam1'])])
        samples, status_s = [], []
        for k in range(args.instants + 1):
            truth, skeleton, people = _messages(k, rng)
            node._on_truth(truth)
            node._on_skeleton(skeleton)
            node._on_people(people)
            if k % 10 == 0:
                start = time.perf_counter()
                node._status()
                status_s.append(time.perf_counter() - start)
            if k % args.every == 0:
                samples.append({'instants': k, 'stream_h': round(k / FPS / 3600.0, 3),
                                'rss_mib': round(_rss_mib(), 1),
                                'status_ms': round(1000 * float(np.median(status_s)), 2)})
                status_s = []
                print(samples[-1], flush=True)
        node.close()
        summary = json.loads((pathlib.Path(run_dir) / 'summary.json').read_text())
        node.destroy_node()
    rclpy.shutdown()
    half = next(s for s in samples if s['instants'] >= args.instants // 2)
    result = {'instants': args.instants, 'fps': FPS, 'samples': samples,
              'rss_growth_second_half_mib': samples[-1]['rss_mib'] - half['rss_mib'],
              'summary': {k: summary.get(k) for k in (
                  'matched', 'ground_truth_frames', 'mpjpe_mm', 'delay_s', 'delay_percentiles')}}
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / 'evaluator_memory.json').write_text(json.dumps(result, indent=2))
    print(f"RSS {samples[1]['rss_mib']} MiB after {samples[1]['instants']} instants, "
          f"{half['rss_mib']} after {half['instants']}, {samples[-1]['rss_mib']} after "
          f"{samples[-1]['instants']} ({samples[-1]['stream_h']} h of 2 fps stream); "
          f"wrote {out / 'evaluator_memory.json'}")


if __name__ == '__main__':
    main()
