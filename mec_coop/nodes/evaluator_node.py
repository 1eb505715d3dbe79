# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Evaluator node: scores the running pipeline against the virtual rig's ground truth.

Subscribes ``ground_truth``, ``skeleton`` and each camera's ``<cam>/keypoints`` and
``<cam>/offload`` (for the route counts), and ``allocation``: the delay requirement is the one the
allocator publishes (its owner); ``delay_requirement_s`` here applies only while no allocator
publishes one (graphs without it). With several people, ``skeletons`` (every tracked person per
instant) is scored by :class:`~mec_coop.eval.multi_person.MultiPersonScore` (``people`` in the
summary), and each skeleton's contributing detections are labelled with their ground-truth person
(:mod:`mec_coop.eval.labels`, from the 2D reports on ``<cam>/keypoints`` and ``<cam>/edge_result``
and the cameras' calibration). It subscribes to no image topic: route counts come from the
cameras' ``/diagnostics``, so no offloaded image crosses a link twice to be counted. It prints a
status line every ``status_period_s``, and on shutdown writes ``<output_dir>/summary.json`` (also
rewritten with every status line, so a killed run leaves it too) and, with ``record``, an MCAP
recording of the skeleton, its markers and the ground truth (``<output_dir>/skeleton_000.mcap``,
... one finished file per ``record_segment_s``; ``skeleton.mcap`` with 0), and the newest
``matched_window`` matched instants with their rig times (``<output_dir>/matched.npz``, for
pictures of the run). Memory stays bounded however long it runs: instants are scored and
forgotten ``settle_s`` after capture (:mod:`mec_coop.eval.streaming`; a skeleton later than that
is counted in ``late``, not matched), so the summary equals the whole-run computation, with delay
percentiles exact for the first 10,000 skeletons and within 0.5% after.
"""

import collections
import json
import math
import os
import pathlib
import time

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from rclpy.serialization import serialize_message
from visualization_msgs.msg import MarkerArray

from mec_coop.alloc.timing import pooled_median
from mec_coop.coop.routing import ROUTES
from mec_coop.eval.evaluation import PipelineScore
from mec_coop.eval.labels import DetectionLabels
from mec_coop.eval.multi_person import MultiPersonScore
from mec_coop.eval.recording import McapRecorder
from mec_coop.msg import AllocationState, GroundTruth, PoseKeypoints2D, Skeleton3D, Skeleton3DArray
from mec_coop.ros.camera_info import RigCalibration
from mec_coop.ros.conversions import (from_stamp, people_arrays, skeleton_joints, truth_joints)
from mec_coop.ros.diagnostics import LogOnce
from mec_coop.ros.params import declare_cameras, float_param, int_param, text_param
from mec_coop.ros.qos import QOS_LATCHED, QOS_RELIABLE
from mec_coop.ros.runtime import spin_node

CAMERA_STATUS = 'mec_coop/camera/'


class EvaluatorNode(Node):
    """MPJPE, PCK, delay and routes of the pipeline, printed live and written on shutdown."""

    def __init__(self, **node_kwargs):
        super().__init__('evaluator', **node_kwargs)
        cameras = declare_cameras(self)
        self.cameras = set(cameras)
        self.declare_parameter('output_dir', '', text_param(
            'Where summary.json and the MCAP recording are written; empty: a new folder per '
            'run, $ROS_HOME/mec_coop/runs/<UTC date-time> ($ROS_HOME: ~/.ros)', read_only=True))
        self.declare_parameter('record', True, ParameterDescriptor(
            description='Record skeleton, markers and ground truth to MCAP', read_only=True))
        self.declare_parameter('record_segment_s', 60.0, float_param(
            'Split the recording into finished files of this length (0: one file, finished on '
            'shutdown)', 0.0, 86400.0, read_only=True))
        self.declare_parameter('delay_requirement_s', 0.5, float_param(
            'Delay bound used while no allocator publishes one on allocation', 0.01, 60.0))
        self.declare_parameter('status_period_s', 5.0, float_param('Status line period',
                                                                   0.1, 3600.0))
        self.declare_parameter('settle_s', 30.0, float_param(
            'Score an instant and forget it this long after capture (a skeleton arriving later '
            'is counted as late, not matched)', 2.0, 3600.0, read_only=True))
        self.declare_parameter('matched_window', 1000, int_param(
            'Matched instants kept for matched.npz (the newest ones)', 1, 1000000,
            read_only=True))
        settle_s = self.get_parameter('settle_s').value
        self.score = PipelineScore(settle_s=settle_s,
                                   matched_window=self.get_parameter('matched_window').value)
        self.people = MultiPersonScore(settle_s=settle_s)
        self.labels = DetectionLabels()
        self.label_counts = {'ambiguous_views': 0, 'unlabelled_views': 0}
        self._truth_people = {}
        self._calibration = RigCalibration(self, cameras, 'world', LogOnce(self.get_logger()))
        self.out_dir = pathlib.Path(self.get_parameter('output_dir').value or run_folder())
        self.get_logger().info(f'writing results to {self.out_dir.resolve()}')
        self.recorder = McapRecorder(self.out_dir / 'skeleton.mcap',
                                     self.get_parameter('record_segment_s').value) \
            if self.get_parameter('record').value else None
        self._last_truth = None
        self._allocated_requirement = None
        self._allocation = None
        # The allocator's predicted median delay in effect at each skeleton: plans change
        # during a run, so the run's measured median is set beside the median of these.
        self._predicted_p50 = collections.deque(maxlen=10_000)
        self._predicted = collections.deque(maxlen=10_000)   # the quantiles in effect
        self.create_subscription(AllocationState, 'allocation', self._on_allocation, QOS_LATCHED)
        self.create_subscription(GroundTruth, 'ground_truth', self._on_truth, QOS_RELIABLE)
        self.create_subscription(Skeleton3D, 'skeleton', self._on_skeleton, QOS_RELIABLE)
        self.create_subscription(MarkerArray, 'skeleton/markers',
                                 lambda m: self._record('/skeleton/markers', m), QOS_RELIABLE)
        self.create_subscription(Skeleton3DArray, 'skeletons', self._on_people, QOS_RELIABLE)
        for cam in cameras:
            # Labels come from the small reports only (an offload's own keypoints would need
            # the image topic): the edge's result stands for an offloaded frame.
            self.create_subscription(PoseKeypoints2D, f'{cam}/keypoints',
                                     lambda m, c=cam: self._add_report(c, m), QOS_RELIABLE)
            self.create_subscription(PoseKeypoints2D, f'{cam}/edge_result',
                                     lambda m, c=cam: self._add_report(c, m), QOS_RELIABLE)
        # camera status name -> (routes of earlier runs of the camera, routes of this run)
        self._routes: dict = {}
        self.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)
        self.create_timer(self.get_parameter('status_period_s').value, self._status)

    def _record(self, topic, msg):
        if self.recorder is not None:
            stamp = self.get_clock().now().nanoseconds
            self.recorder.write(topic, _type_name(msg), serialize_message(msg), stamp)

    def _on_allocation(self, msg):
        self._allocated_requirement = float(msg.delay_requirement_s)
        # What the allocator predicted, to set beside what was measured.
        self._allocation = {'solver': msg.solver, 'feasible': msg.feasible,
                            'score_source': msg.score_source,
                            'predicted_delay_s': msg.predicted_delay_s,
                            'predicted_delay_p50_s': msg.predicted_delay_p50_s,
                            'predicted_delay_quantiles_s': list(msg.predicted_delay_quantiles_s),
                            'predicted_accuracy': msg.predicted_accuracy,
                            'tdma_share': [c.tdma_share for c in msg.cameras],
                            'jpeg_quality': [c.jpeg_quality for c in msg.cameras]}

    @property
    def delay_requirement(self):
        """``(seconds, owner)``: the allocator's requirement, else this node's parameter."""
        if self._allocated_requirement is not None:
            return self._allocated_requirement, 'allocator'
        return self.get_parameter('delay_requirement_s').value, 'evaluator parameter'

    def _on_truth(self, msg):
        joints = truth_joints(msg)
        if len(joints):
            stamp = from_stamp(msg.header.stamp)
            self.score.add_truth(stamp, joints[0], msg.rig_time_s)
            self.people.add_truth(stamp, joints)
            # Kept as long as the labels keep the reports they are compared with.
            self._truth_people[round(stamp, 3)] = joints
            for old in [s for s in self._truth_people if s < stamp - self.labels.keep_s]:
                del self._truth_people[old]
            self._last_truth = stamp
        self._record('/ground_truth', msg)

    def _on_skeleton(self, msg):
        self.score.add_skeleton(from_stamp(msg.header.stamp), skeleton_joints(msg),
                                msg.latency.end_to_end_s, views=len(msg.camera_ids),
                                edge=msg.latency.edge_inference_s > 0.0)
        if self._allocation is not None:
            self._predicted_p50.append(self._allocation['predicted_delay_p50_s'])
            self._predicted.append(self._allocation['predicted_delay_quantiles_s'])
        self._record('/skeleton', msg)

    def _on_diagnostics(self, msg):
        for status in msg.status:
            if status.name.removeprefix(CAMERA_STATUS) not in self.cameras:
                continue
            values = {kv.key: kv.value for kv in status.values}
            now = {r: int(values.get(r, 0)) for r in ROUTES}
            before, last = self._routes.get(status.name, (dict.fromkeys(ROUTES, 0), now))
            if any(now[r] < last[r] for r in ROUTES):  # the camera restarted: counts from 0
                before = {r: before[r] + last[r] for r in ROUTES}
            self._routes[status.name] = (before, now)
        for r in ROUTES:
            self.score.routes[r] = sum(b[r] + n[r] for b, n in self._routes.values())

    def _add_report(self, cam, msg):
        if msg.people:
            self.labels.add_report(cam, from_stamp(msg.header.stamp), people_arrays(msg.people)[0])

    def _on_people(self, msg):
        mixed = []
        for skeleton in msg.skeletons:
            views = list(zip(skeleton.camera_ids, map(from_stamp, skeleton.capture_stamps),
                             skeleton.person_indices))
            flag, ambiguous, unlabelled = self.labels.check(
                views, self._calibration.camera, lambda s: self._truth_people.get(round(s, 3)))
            mixed.append(flag)
            self.label_counts['ambiguous_views'] += ambiguous
            self.label_counts['unlabelled_views'] += unlabelled
        self.people.add_estimates(from_stamp(msg.header.stamp),
                                  [s.track_id for s in msg.skeletons],
                                  np.array([skeleton_joints(s) for s in msg.skeletons]).reshape(
                                      -1, 17, 3), mixed)
        self._record('/skeletons', msg)

    def summary(self):
        # The newest second of ground truth may still be in flight through the pipeline.
        last = None if self._last_truth is None else self._last_truth - 1.0
        requirement, owner = self.delay_requirement
        out = {**self.score.summary(requirement, last), 'delay_requirement_from': owner}
        if self._allocation:
            pooled = pooled_median([q for q in self._predicted if q])
            out['allocation'] = {**self._allocation, 'predicted_delay_p50_s_over_skeletons': (
                float(np.median(self._predicted_p50)) if self._predicted_p50 else None),
                'predicted_delay_p50_s_pooled': None if math.isnan(pooled) else pooled}
        if self.people.estimated:
            out['people'] = {**self.people.summary(last), **self.label_counts}
        return out

    def _write_summary(self, summary):
        # Replaced in one step: a reader (or a kill) never sees half a file.
        self.out_dir.mkdir(parents=True, exist_ok=True)
        part = self.out_dir / 'summary.json.part'
        part.write_text(json.dumps(summary, indent=2))
        os.replace(part, self.out_dir / 'summary.json')

    def _status(self):
        s = self.summary()
        self._write_summary(s)
        delay = s.get('delay_s', {})
        self.get_logger().info(
            f"{s['matched']}/{s['ground_truth_frames']} instants, MPJPE {s['mpjpe_mm']:.1f} mm, "
            f"PCK@150 {s['pck_150mm']:.2f}, delay p50 {delay.get('p50', float('nan')):.3f} s, "
            f"routes {s['routes']}")

    def close(self):
        """Write the summary and finish the recording."""
        self._write_summary(self.summary())
        matched = self.score.matched()
        if matched:
            _, truth, estimates, rig_time, views, edge = zip(*matched)
            np.savez(self.out_dir / 'matched.npz', truth=np.array(truth),
                     estimate=np.array(estimates), rig_time=np.array(rig_time),
                     views=np.array(views), edge=np.array(edge))
        if self.recorder is not None:
            self.recorder.close()


def run_folder() -> pathlib.Path:
    """Name a new folder per run under ``$ROS_HOME/mec_coop/runs`` (like ``ros2 bag`` does)."""
    home = pathlib.Path(os.environ.get('ROS_HOME') or pathlib.Path.home() / '.ros')
    return home / 'mec_coop' / 'runs' / time.strftime('%Y-%m-%d_%H-%M-%S', time.gmtime())


def _type_name(msg):
    module = type(msg).__module__.split('.')
    return f'{module[0]}/msg/{type(msg).__name__}'


def main(args=None):
    spin_node(EvaluatorNode, args)


if __name__ == '__main__':
    main()
