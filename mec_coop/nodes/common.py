# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""QoS profiles, parameter descriptors, message conversions and diagnostics shared by the nodes."""

import collections
import sys
import threading

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
import numpy as np
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.qos import (DurabilityPolicy, HistoryPolicy, qos_profile_sensor_data, QoSProfile,
                       ReliabilityPolicy)

from mec_coop.msg import Keypoint2D, Person2D

# Images: newest only, loss is fine (sensor-data QoS, depth 1).
QOS_IMAGES = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                        reliability=qos_profile_sensor_data.reliability,
                        durability=DurabilityPolicy.VOLATILE)
# Keypoints, offload requests, skeletons: every message matters.
QOS_RELIABLE = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=20,
                          reliability=ReliabilityPolicy.RELIABLE)
# Calibration and static TF: late joiners must still get the last message.
QOS_LATCHED = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                         reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
QOS_TF_STATIC = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100,
                           reliability=ReliabilityPolicy.RELIABLE,
                           durability=DurabilityPolicy.TRANSIENT_LOCAL)


def float_param(description, lo, hi, step=0.0, read_only=False):
    """Descriptor of a double parameter limited to ``[lo, hi]``."""
    return ParameterDescriptor(
        description=description, read_only=read_only,
        floating_point_range=[FloatingPointRange(from_value=float(lo), to_value=float(hi),
                                                 step=float(step))])


def int_param(description, lo, hi, step=1, read_only=False):
    """Descriptor of an integer parameter limited to ``[lo, hi]``."""
    return ParameterDescriptor(
        description=description, read_only=read_only,
        integer_range=[IntegerRange(from_value=int(lo), to_value=int(hi), step=int(step))])


def text_param(description, read_only=False):
    return ParameterDescriptor(description=description, read_only=read_only)


def declare_pose_model(node, imgsz, role):
    """Declare the read-only parameters of a node's pose model (``role``: camera or edge)."""
    node.declare_parameter('weights', '', text_param(
        f'{role} model weights path or name; empty: bundled yolo11n-pose', read_only=True))
    node.declare_parameter('imgsz', imgsz, int_param(f'{role} model input size', 64, 2048, 32,
                                                     read_only=True))
    node.declare_parameter('detection_threshold', 0.05, float_param(
        'Minimum person box score the model reports; low, so that uncertain people reach '
        'the confidence thresholds instead of vanishing', 0.001, 1.0, read_only=True))
    node.declare_parameter('device', 'cpu', text_param('torch device', read_only=True))
    node.declare_parameter('threads', 0, int_param('torch CPU threads (0: default)', 0, 64,
                                                   read_only=True))


def load_pose_model(node, **options):
    """Load the Ultralytics backend that :func:`declare_pose_model`'s parameters describe."""
    from mec_coop.pose.ultralytics_backend import UltralyticsPose  # torch: only when needed
    return UltralyticsPose(weights=node.get_parameter('weights').value or None,
                           imgsz=node.get_parameter('imgsz').value,
                           conf=node.get_parameter('detection_threshold').value,
                           device=node.get_parameter('device').value,
                           threads=node.get_parameter('threads').value or None, **options)


def proposed_values(node, parameters, names):
    """Values of ``names`` after applying ``parameters`` (the set being changed together)."""
    values = {name: node.get_parameter(name).value for name in names}
    values.update({p.name: p.value for p in parameters if p.name in values})
    return values


def verdict(reason):
    """:class:`SetParametersResult` rejecting with ``reason``, or accepting when it is empty."""
    return SetParametersResult(successful=not reason, reason=reason)


def to_stamp(seconds):
    sec = int(np.floor(seconds))
    return Time(sec=sec, nanosec=int(round((seconds - sec) * 1e9)) % 1_000_000_000)


def from_stamp(stamp):
    return stamp.sec + stamp.nanosec * 1e-9


def persons_to_msgs(estimate):
    """``Person2D`` messages of a :class:`~mec_coop.pose.backend.PoseEstimate`."""
    people = []
    for i in range(estimate.num_people):
        person = Person2D(box=[float(v) for v in estimate.boxes[i]],
                          box_score=float(estimate.box_scores[i]),
                          mean_confidence=float(estimate.mean_confidence[i]))
        person.keypoints = [Keypoint2D(x=float(x), y=float(y), confidence=float(c))
                            for (x, y), c in zip(estimate.keypoints[i], estimate.confidences[i])]
        people.append(person)
    return people


def person_arrays(person):
    """``(pixels (17, 2), confidences (17,))`` of a ``Person2D`` message."""
    kp = np.array([(k.x, k.y, k.confidence) for k in person.keypoints], dtype=np.float64)
    return kp[:, :2], kp[:, 2]


def diagnostic(name, hardware_id, level, message, values):
    """One ``DiagnosticStatus`` with ``values`` (a dict) as key/value pairs."""
    return DiagnosticStatus(level=level, name=name, hardware_id=hardware_id, message=message,
                            values=[KeyValue(key=str(k), value=str(v)) for k, v in values.items()])


def diagnostic_array(node, statuses):
    msg = DiagnosticArray(status=list(statuses))
    msg.header.stamp = node.get_clock().now().to_msg()
    return msg


class LogOnce:
    """Log each distinct problem once (then only count it), so bad input cannot flood the log."""

    def __init__(self, logger):
        self._logger = logger
        self._seen = set()
        self.counts = {}

    def __call__(self, key, message):
        self.counts[key] = self.counts.get(key, 0) + 1
        if key not in self._seen:
            self._seen.add(key)
            self._logger.warning(f'{message} (logged once; counted in diagnostics)')


class JobQueue:
    """
    Run ``handler(job)`` in a worker thread for jobs that callbacks submit.

    Heavy work (model inference) thus never blocks the executor. At most ``limit`` jobs wait;
    submitting to a full queue drops the oldest (newest-frame-wins with ``limit=1``). A job that
    raises is passed to ``on_error(job, exc)`` and the worker goes on, unless the node's context
    is shutting down (the result would have nowhere to go).
    """

    def __init__(self, handler, on_error, context, name):
        self._handler = handler
        self._on_error = on_error
        self._context = context
        self._jobs = collections.deque()
        self._wake = threading.Condition()
        self._running = True
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, job, limit):
        """Queue ``job``; return True when the oldest waiting job was dropped for it."""
        with self._wake:
            dropped = len(self._jobs) >= limit
            if dropped:
                self._jobs.popleft()
            self._jobs.append(job)
            self._wake.notify()
        return dropped

    def __len__(self):
        return len(self._jobs)

    def _loop(self):
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._jobs or not self._running)
                if not self._running:
                    return
                job = self._jobs.popleft()
            try:
                self._handler(job)
            except Exception as exc:  # noqa: B902 - one bad job must not stop the worker
                if not self._context.ok():
                    return
                self._on_error(job, exc)

    def stop(self, timeout=5.0):
        with self._wake:
            self._running = False
            self._wake.notify()
        self._thread.join(timeout=timeout)


def spin_node(node_class, args=None, executor_class=None):
    """Run one node until Ctrl-C or an external shutdown, then clean up in the safe order."""
    rclpy.init(args=args if args is not None else sys.argv)
    node = None
    executor = (executor_class or rclpy.executors.SingleThreadedExecutor)()
    try:
        node = node_class()
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        executor.shutdown()
        if node is not None:
            close = getattr(node, 'close', None)
            if close:
                close()
            node.destroy_node()
        rclpy.try_shutdown()
