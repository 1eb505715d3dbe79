# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The recorded Pose2Sim rig with and without the edge's feedback (crops for the cameras).

The recorded rig has no 3D ground truth, so the figures are what the skeletons say about
themselves: the median reprojection error of their joints (pixels in the 1080x1920 portrait
videos), the share of joints valid, and skeletons per second. Writes
``docs/figures/recorded_feedback.json``::

    python benchmarks/recorded_feedback.py --duration 60
"""

import argparse
import json
import os
import pathlib
import time

import numpy as np
import rclpy

from mec_coop.graph import build_graph, load_config
from mec_coop.msg import Skeleton3D
from mec_coop.ros.qos import QOS_RELIABLE
from mec_coop.runner import GraphProcesses

ROOT = pathlib.Path(__file__).resolve().parents[1]
# 'on': the defaults; 'on_greedy': feedback with the former triangulation (tells the crops'
# effect from the consensus triangulation's); 'off': the pipeline before the feedback.
SETTINGS = {'on': [], 'on_greedy': ['edge.triangulation=greedy'],
            'off': ['edge.feedback=false', 'camera.roi_feedback=false',
                    'camera.frame_score=paper', 'edge.triangulation=greedy']}


def record(config, msg_type, topic, duration, out, domain):
    """Run a config's graph; return the ``topic`` messages published after the first one."""
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST')
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    node = rclpy.create_node('recorded_probe', context=context)
    messages = []
    node.create_subscription(msg_type, topic, messages.append, QOS_RELIABLE)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        with GraphProcesses(build_graph(config), out / 'logs', env=env):
            deadline = time.monotonic() + 120.0
            while not messages and time.monotonic() < deadline:
                executor.spin_once(timeout_sec=0.1)
            first = time.monotonic()
            while time.monotonic() - first < duration:
                executor.spin_once(timeout_sec=0.1)
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)
    return messages


def run(feedback, duration, out, domain):
    """Run the recorded rig graph; summarise the skeletons published after the first one."""
    skeletons = record(load_config('recorded_rig', SETTINGS[feedback]), Skeleton3D,
                       '/skeleton', duration, out, domain)
    errors = [j.reprojection_error_px for s in skeletons for j in s.joints
              if j.valid and not j.predicted and j.reprojection_error_px >= 0]
    valid = [j.valid for s in skeletons for j in s.joints]
    return {'feedback': feedback, 'skeletons': len(skeletons),
            'skeletons_per_s': len(skeletons) / duration,
            'median_reprojection_error_px': float(np.median(errors)) if errors else None,
            'valid_joint_share': float(np.mean(valid)) if valid else 0.0}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--duration', type=float, default=60.0,
                        help='seconds counted from the first skeleton')
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'figures'))
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    rows = []
    for k, feedback in enumerate(SETTINGS):
        row = run(feedback, args.duration, ROOT / 'results' / 'recorded_feedback' / feedback,
                  120 + (os.getpid() + k) % 60)
        rows.append(row)
        print(row, flush=True)
    (out / 'recorded_feedback.json').write_text(json.dumps(rows, indent=2))
    print(f'wrote {out / "recorded_feedback.json"}')


if __name__ == '__main__':
    main()
