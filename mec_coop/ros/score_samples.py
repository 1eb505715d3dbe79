# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
What the allocator learns from the running graph: labelled score samples and timing samples.

:class:`GraphObserver` subscribes only to small messages: each camera's ``confidence`` (the
score of every frame, whatever its route) and ``keypoints`` (its score, people and model time),
the edge's ``<cam>/edge_result`` (the edge score, the camera score of the offloaded frame, the
audit flag, the edge's time per image and the measured airtime), the edge's ``skeleton``,
``/diagnostics`` (the edge's per-camera ``offload_camera_s``, each camera's ``theta_low``) and,
on a virtual rig, ``ground_truth``. Never an image. The camera's time is
measured from the capture stamp to the arrival of its message (the cameras' clocks are assumed
synchronised with this node's, as the edge's synchroniser assumes too).

Frames are labelled two ways, side by side: ``label_free`` (:mod:`mec_coop.alloc.labels`, from
the skeleton of the other views and the edge's look; frames that stay open get a label drawn at
the share measured on audits, :class:`~mec_coop.alloc.labels.AmbiguousShare`) and
``ground_truth`` (the rig's labels, when a rig publishes them). Edge scores become samples only
from audits when ``server_samples`` is ``'audits'``: offloads chosen by the thresholds are a
biased sample. The camera's score counts as "found nobody" at exactly 0 (every frame score is
0 without a person).
"""

from collections import OrderedDict
import math
import threading
from typing import Optional

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
from rclpy.node import Node
from rclpy.serialization import serialize_message
from std_msgs.msg import Float32

from mec_coop.alloc.calibration import Calibration
from mec_coop.alloc.labels import AmbiguousShare, label_frame, LabelRule
from mec_coop.alloc.model import SystemParams
from mec_coop.alloc.online import StampJoin
from mec_coop.alloc.timing import GraphTiming, RunningStat
from mec_coop.msg import GroundTruth, PoseKeypoints2D, Skeleton3D
from mec_coop.ros.camera_info import RigCalibration
from mec_coop.ros.conversions import from_stamp, person_arrays
from mec_coop.ros.diagnostics import (BATCH_KEY, CAMERA_STATUS, EDGE_NAME, EDGE_STATUS,
                                      OFFLOAD_CAMERA_KEY)
from mec_coop.ros.qos import QOS_RELIABLE

LABEL_SOURCES = ('label_free', 'ground_truth')
SERVER_SAMPLES = ('audits', 'all')
# Capture instants remembered for labelling (about 30 s at 2 fps).
PENDING = 64
# A camera message older than this on arrival means unsynchronised clocks, not a slow camera.
MAX_AGE_S = 10.0


def _people(msg: PoseKeypoints2D) -> list:
    return [person_arrays(p) for p in msg.people]


class GraphObserver:
    """
    Collect score and timing samples of the running graph (see the module docstring).

    :param node: the allocator node.
    :param cameras: camera names.
    :param rig: calibration (CameraInfo + TF) of the cameras, for the label-free labels.
    :param server_samples: one of :data:`SERVER_SAMPLES`.
    """

    def __init__(self, node: Node, cameras: list, rig: RigCalibration,
                 server_samples: str = 'audits',
                 rule: LabelRule = LabelRule()) -> None:
        self.now = lambda: node.get_clock().now().nanoseconds * 1e-9
        if server_samples not in SERVER_SAMPLES:
            raise ValueError(f'server_samples must be one of {SERVER_SAMPLES}, '
                             f'got {server_samples!r}')
        self.cameras, self.rig, self.rule = list(cameras), rig, rule
        self.server_samples = server_samples
        self.calibration = Calibration(self.cameras)
        self.joins = {source: StampJoin(PENDING) for source in LABEL_SOURCES}
        self.counts = {'audits': 0, 'searches': 0, 'drawn': 0, 'ground_truth': 0,
                       'label_free': 0}
        # Each camera's theta_low as its diagnostics say (the camera owns the value).
        self._theta_low: dict = {}
        self.ambiguous = AmbiguousShare()
        self._frames: OrderedDict = OrderedDict()   # stamp -> cam -> what was seen
        self._skeletons: OrderedDict = OrderedDict()  # stamp -> (joints, num_views, cameras)
        self._labelled: dict = {source: [] for source in LABEL_SOURCES}
        self._lock = threading.Lock()
        for cam in self.cameras:
            node.create_subscription(PoseKeypoints2D, f'{cam}/keypoints',
                                     lambda m, c=cam: self._on_camera(c, m), QOS_RELIABLE)
            node.create_subscription(Float32, f'{cam}/confidence',
                                     lambda m, c=cam: self._on_score(c, m), QOS_RELIABLE)
            node.create_subscription(PoseKeypoints2D, f'{cam}/edge_result',
                                     lambda m, c=cam: self._on_edge(c, m), QOS_RELIABLE)
        node.create_subscription(Skeleton3D, 'skeleton', self._on_skeleton, QOS_RELIABLE)
        node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)
        node.create_subscription(GroundTruth, 'ground_truth', self._on_truth, QOS_RELIABLE)

    def take(self, source: str) -> list:
        """Hand over ``(camera, 'device'|'server', score, positive)`` labelled by ``source``."""
        with self._lock:
            taken, self._labelled[source] = self._labelled[source], []
        self.counts[source] += len(taken)
        return taken

    def expire(self, horizon_s: float) -> None:
        """Forget the samples older than ``horizon_s`` (0: keep the whole windows)."""
        if horizon_s > 0.0:
            with self._lock:
                self.calibration.expire(self.now(), horizon_s)

    def calibrated(self, prior: SystemParams, deadline_s: Optional[float],
                   residual: bool = True) -> tuple[SystemParams, GraphTiming]:
        """
        Return the measured constants and the replay's timing (priors where samples miss).

        Read under the lock, so the callbacks never change a window mid-read. ``residual``: add
        the offload path's measured shortfall (:meth:`Calibration.offload_residual`).
        """
        with self._lock:
            return self.calibration.params(prior), self.calibration.timing(prior, deadline_s,
                                                                           residual)

    def expect_offload_view(self, seconds: float) -> None:
        """Set the replayed offloaded-view median of the plan just applied (see Calibration)."""
        with self._lock:
            self.calibration.expect_offload_view(seconds)

    def forget_offload_sizes(self, cam: str) -> None:
        """Drop ``cam``'s offload sizes (its JPEG quality changed: they describe the old one)."""
        with self._lock:
            self.calibration.image_bytes[cam] = RunningStat(self.calibration.window)
            self.calibration.empty_image_bytes[cam] = RunningStat(self.calibration.window)

    # -- callbacks -----------------------------------------------------------------------------
    def _on_score(self, cam: str, msg: Float32) -> None:
        with self._lock:
            self.calibration.frame_scores[cam].add(msg.data, self.now())

    def _on_camera(self, cam: str, msg: PoseKeypoints2D) -> None:
        # The camera's whole time from capture to its message (transport, decoding, the model,
        # waiting for the model) is what delays the skeleton, not the model time alone; the
        # model time stands in when the clocks disagree.
        now = self.now()
        stamp, age = from_stamp(msg.header.stamp), self._age(msg, now)
        with self._lock:
            self.calibration.add_device(cam, stamp, msg.inference_time_s if age is None else age)
            self.calibration.message_bytes[cam].add(len(serialize_message(msg)), now)
            self.calibration.audits[cam].add(0.0, now)   # kept by its thresholds
            if msg.route == PoseKeypoints2D.ROUTE_DROP:
                self.calibration.searches[cam].add(0.0, now)
            self._frame(msg, cam).update(device=msg.frame_confidence, device_people=_people(msg))
            self._label_pending(stamp)

    def _on_edge(self, cam: str, msg: PoseKeypoints2D) -> None:
        now = self.now()
        age = self._age(msg, now)
        with self._lock:
            self.calibration.edge_service_s.add(msg.inference_time_s, now)
            if age is not None:
                self.calibration.add_offload_view(age, now)
            if msg.offload_bytes:
                # A frame the camera found nobody in (score 0) went up whole: sized apart.
                sizes = self.calibration.empty_image_bytes if msg.camera_confidence == 0.0 \
                    else self.calibration.image_bytes
                sizes[cam].add(msg.offload_bytes, now)
            # A frame its camera scored below theta_low and still sent is a search for people
            # (coop/feedback.py RoiPolicy.search: a full frame), one of its dropped frames; the
            # audit draw passed it by.
            search = not msg.audit and msg.camera_confidence < self._theta_low.get(cam, -math.inf)
            self.counts['audits'] += int(msg.audit)
            self.counts['searches'] += int(search)
            if msg.audit or search:
                self.calibration.audits[cam].add(float(msg.audit), now)
            if search:
                self.calibration.searches[cam].add(1.0, now)
            frame = self._frame(msg, cam)
            frame.update(device=msg.camera_confidence, edge=msg.frame_confidence,
                         edge_people=_people(msg), audit=msg.audit)
            self._label_pending(from_stamp(msg.header.stamp))

    def _on_skeleton(self, msg: Skeleton3D) -> None:
        joints = np.array([(j.position.x, j.position.y, j.position.z) if j.valid and
                           not j.predicted else (np.nan,) * 3 for j in msg.joints])
        now = self.now()
        with self._lock:
            self.calibration.overhead_s.add(msg.latency.triangulation_s, now)
            self.calibration.delay_s.add(msg.latency.end_to_end_s, now)
            stamp = from_stamp(msg.header.stamp)
            self._skeletons[stamp] = (joints, np.array([j.num_views for j in msg.joints]),
                                      set(msg.camera_ids))
            while len(self._skeletons) > PENDING:
                self._skeletons.popitem(last=False)
            self._label_pending(stamp)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        # The edge's per-camera statuses carry the offloads' time on the camera (EdgeHealth),
        # the cameras' their thresholds, the edge's own its batch size.
        for status in msg.status:
            batch = [kv.value for kv in status.values if kv.key == BATCH_KEY] \
                if status.name == EDGE_NAME else []
            if batch and batch[0].isdigit() and int(batch[0]) >= 1:
                with self._lock:
                    self.calibration.edge_batch = int(batch[0])
            for prefix, key, into in ((EDGE_STATUS, OFFLOAD_CAMERA_KEY,
                                       self.calibration.offload_camera_s),
                                      (CAMERA_STATUS, 'theta_low', self._theta_low)):
                cam = status.name.removeprefix(prefix)
                if status.name.startswith(prefix) and cam in self.cameras:
                    self._store(into, cam, [kv.value for kv in status.values if kv.key == key])

    def _store(self, into: dict, cam: str, texts: list) -> None:
        try:
            value = float(texts[0])
        except (IndexError, ValueError):
            return
        if math.isfinite(value) and value >= 0.0:
            with self._lock:
                into[cam] = value

    def _on_truth(self, msg: GroundTruth) -> None:
        frames = dict(zip(msg.camera_ids, msg.positive))
        names = {cam: self.rig.frame_id(cam) or f'{cam}_optical_frame' for cam in self.cameras}
        labels = {cam: frames[name] for cam, name in names.items() if name in frames}
        with self._lock:
            self._labelled['ground_truth'] += self.joins['ground_truth'].add_labels(
                from_stamp(msg.header.stamp), labels)

    def _age(self, msg: PoseKeypoints2D, now: float) -> Optional[float]:
        """Seconds from ``msg``'s capture to ``now``; None when the clocks disagree."""
        age = now - from_stamp(msg.header.stamp)
        return age if 0.0 <= age <= MAX_AGE_S else None

    # -- labelling (under the lock) ------------------------------------------------------------
    def _frame(self, msg: PoseKeypoints2D, cam: str) -> dict:
        stamp = from_stamp(msg.header.stamp)
        frames = self._frames.setdefault(stamp, {})
        while len(self._frames) > PENDING:
            self._frames.popitem(last=False)
        return frames.setdefault(cam, {'done': set()})

    def _label_pending(self, stamp: float) -> None:
        """Emit the samples of ``stamp`` that are labelled now and were not emitted before."""
        for cam, frame in self._frames.get(stamp, {}).items():
            scores = {'device': frame.get('device'), 'server': frame.get('edge')}
            if scores['server'] is not None and self.server_samples == 'audits' \
                    and not frame.get('audit'):
                scores['server'] = None   # chosen by the thresholds: a biased sample
            scores = {k: float(v) for k, v in scores.items() if v is not None and math.isfinite(v)}
            for source in scores.keys() - frame['done']:
                frame['done'].add(source)
                self._labelled['ground_truth'] += self.joins['ground_truth'].add_sample(
                    stamp, cam, source, scores[source])
            label = self._label(stamp, cam, frame)
            if label is None:
                continue
            for source in scores.keys() - frame.setdefault('free', set()):
                frame['free'].add(source)
                self._labelled['label_free'].append((cam, source, scores[source], label))

    def _label(self, stamp: float, cam: str, frame: dict) -> Optional[bool]:
        """Label ``frame`` once (see :mod:`mec_coop.alloc.labels`); None while it cannot be."""
        if 'label' in frame:
            return frame['label']
        skeleton, camera = self._skeletons.get(stamp), self.rig.camera(cam)
        if skeleton is None or camera is None:
            return None
        joints, num_views, contributors = skeleton
        contributed = cam in contributors or self.rig.frame_id(cam) in contributors
        label = label_frame(camera, joints, num_views, contributed,
                            frame.get('device_people', []), frame.get('edge_people'), self.rule)
        if 'edge_people' in frame:
            # An audit where the camera found nobody: the edge tells what such frames are.
            if frame.get('audit') and frame.get('device') == 0.0 and label_frame(
                    camera, joints, num_views, contributed, [], None, self.rule) is None:
                self.ambiguous.observe(bool(label))
        elif label is None:  # no edge look will come: label at the audited rate
            label = self.ambiguous.draw()
            self.counts['drawn'] += 1
        frame['label'] = label
        return label
