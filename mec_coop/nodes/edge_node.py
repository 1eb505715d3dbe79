# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Edge node: the large model for offloaded frames, view synchronisation and triangulation.

Inputs per camera ``<cam>``: ``<input_namespace>/<cam>/keypoints`` (camera results and drop
notices), ``<input_namespace>/<cam>/offload`` (JPEGs for the large model), ``<cam>/camera_info``
and ``/tf_static`` (world -> optical frame). Outputs: ``skeleton`` (``mec_coop/Skeleton3D``),
``skeleton/markers`` (``visualization_msgs/MarkerArray`` for RViz), ``<cam>/edge_result``
(``PoseKeypoints2D`` of the large model on each offloaded frame, source EDGE, with its confidence:
the allocator's server-side samples) and health on ``/diagnostics``.

The large model runs in a worker thread fed by a bounded queue (oldest dropped when full);
triangulation runs in a 100 Hz timer on the executor, so slow inference never blocks the
subscriptions or parameter services, and skeletons are published from one thread only.
"""

import collections
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import Point
import numpy as np
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import ColorRGBA
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import Marker, MarkerArray

from mec_coop.coop.codec import decode_compressed, ImageDecodeError
from mec_coop.coop.routing import threshold_problem
from mec_coop.coop.sync import ViewSynchronizer
from mec_coop.geometry.camera_info import camera_from_info
from mec_coop.geometry.skeleton import COCO_BONES, NUM_JOINTS
from mec_coop.geometry.transforms import TransformTree
from mec_coop.geometry.triangulation import triangulate_cameras
from mec_coop.msg import (Joint3D, LatencyBreakdown, OffloadRequest, PoseKeypoints2D,
                          Skeleton3D)
from mec_coop.nodes.common import (declare_pose_model, diagnostic, diagnostic_array,
                                   float_param, from_stamp, int_param, JobQueue, load_pose_model,
                                   LogOnce, person_arrays, persons_to_msgs, QOS_IMAGES,
                                   QOS_RELIABLE, QOS_TF_STATIC, spin_node, text_param, to_stamp,
                                   verdict)

# One camera's contribution to a capture instant.
Report = collections.namedtuple(
    'Report', 'pixels weights device_s airtime_s queueing_s edge_s source')


class EdgeNode(Node):
    """Large model, view sync and 3D skeleton for a rig of cameras."""

    def __init__(self, pose_backend=None, **node_kwargs):
        super().__init__('edge', **node_kwargs)
        self.declare_parameter('cameras', ['cam0', 'cam1', 'cam2', 'cam3'], ParameterDescriptor(
            description='Camera names (topic namespaces)', read_only=True))
        self.declare_parameter('world_frame', 'world', text_param('Fixed frame of the skeleton',
                                                                  read_only=True))
        self.declare_parameter('input_namespace', 'edge', text_param(
            "Namespace of the camera results: 'edge' behind the uplink emulator, '' on a real "
            'network', read_only=True))
        declare_pose_model(self, 960, 'Edge')
        self.declare_parameter('flip_tta', False, ParameterDescriptor(
            description='Flip test-time augmentation on the edge', read_only=True))
        self.declare_parameter('max_gap_s', 0.05, float_param(
            'Capture stamps of one instant differ by at most this (< half the frame period)',
            0.001, 1.0))
        self.declare_parameter('sync_timeout_s', 1.5, float_param(
            'An instant is triangulated this long after its first report at the latest',
            0.01, 30.0))
        self.declare_parameter('camera_timeout_s', 3.0, float_param(
            'A camera silent this long is no longer waited for', 0.1, 600.0))
        self.declare_parameter('min_views', 2, int_param('Views a joint needs', 2, 64))
        self.declare_parameter('outlier_threshold_px', 30.0, float_param(
            'Leave-one-view-out rejection threshold (pixels)', 1.0, 1000.0))
        self.declare_parameter('queue_size', 8, int_param(
            'Offloaded frames waiting for the large model (oldest dropped)', 1, 1000))
        self.cameras = list(self.get_parameter('cameras').value)
        for cam in self.cameras:
            self.declare_parameter(f'theta_server.{cam}', 0.3, float_param(
                f'Edge-model confidence needed to use an offloaded frame of {cam}', 0.0, 1.0))
        self.add_on_set_parameters_callback(self._validate)

        self._model = pose_backend or load_pose_model(
            self, flip_tta=self.get_parameter('flip_tta').value)
        self._problems = LogOnce(self.get_logger())
        self._lock = threading.Lock()
        self._sync = ViewSynchronizer(self.cameras, self.get_parameter('max_gap_s').value,
                                      self.get_parameter('sync_timeout_s').value)
        self._tree = TransformTree()
        self._infos = {}
        self._calib = {}
        self._last_report = {}
        self._silent = set()
        self._ready = []
        self.counts = {cam: collections.Counter() for cam in self.cameras}
        self.totals = collections.Counter()
        self._sequence = 0

        prefix = self.get_parameter('input_namespace').value.strip('/')
        prefix = f'{prefix}/' if prefix else ''
        for cam in self.cameras:
            self.create_subscription(PoseKeypoints2D, f'{prefix}{cam}/keypoints',
                                     lambda m, c=cam: self._on_keypoints(c, m), QOS_RELIABLE)
            self.create_subscription(OffloadRequest, f'{prefix}{cam}/offload',
                                     lambda m, c=cam: self._on_offload(c, m), QOS_RELIABLE)
            self.create_subscription(CameraInfo, f'{cam}/camera_info',
                                     lambda m, c=cam: self._on_camera_info(c, m), QOS_IMAGES)
        self.create_subscription(TFMessage, '/tf_static', self._on_tf, QOS_TF_STATIC)
        self._pub_result = {cam: self.create_publisher(PoseKeypoints2D, f'{cam}/edge_result',
                                                       QOS_RELIABLE) for cam in self.cameras}
        self._pub_skeleton = self.create_publisher(Skeleton3D, 'skeleton', QOS_RELIABLE)
        self._pub_markers = self.create_publisher(MarkerArray, 'skeleton/markers', QOS_RELIABLE)
        self._pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_timer(0.01, self._release)
        self.create_timer(1.0, self._publish_diagnostics)

        self._offloads = JobQueue(lambda job: self._infer(*job), self._on_failure, self.context,
                                  'edge-inference')
        self.get_logger().info(f'edge: cameras {self.cameras}, model {self._model.name}')

    # -- parameters ---------------------------------------------------------------------------
    def _validate(self, parameters):
        for p in parameters:
            if p.name.startswith('theta_server.'):
                problem = threshold_problem(0.0, 0.0, p.value)
                if problem:
                    return verdict(f'{p.name}: {problem}')
        return verdict('')

    # -- calibration --------------------------------------------------------------------------
    def _on_tf(self, msg):
        for tf in msg.transforms:
            t, q = tf.transform.translation, tf.transform.rotation
            try:
                self._tree.add(tf.header.frame_id, tf.child_frame_id, (t.x, t.y, t.z),
                               (q.x, q.y, q.z, q.w))
            except ValueError as exc:
                self._problems(f'tf:{tf.child_frame_id}', f'ignored /tf_static entry: {exc}')
        self._calib.clear()  # extrinsics may have changed: rebuild lazily

    def _on_camera_info(self, cam, msg):
        old = self._infos.get(cam)
        if old is None or list(old.k) != list(msg.k) or list(old.d) != list(msg.d) or \
                old.header.frame_id != msg.header.frame_id:
            self._infos[cam] = msg
            self._calib.pop(cam, None)

    def _camera(self, cam):
        """Calibrated camera model, or None (with the reason logged once and counted)."""
        if cam in self._calib:
            return self._calib[cam]
        info = self._infos.get(cam)
        if info is None:
            self._problems(f'no_info:{cam}', f'{cam}: no CameraInfo on {cam}/camera_info yet; '
                           'its views are not triangulated')
            self.counts[cam]['no_calibration'] += 1
            return None
        world = self.get_parameter('world_frame').value
        try:
            R, t = self._tree.lookup(world, info.header.frame_id)
            camera = camera_from_info(info, R, t)
        except (LookupError, ValueError) as exc:
            self._problems(f'no_tf:{cam}', f'{cam}: no usable calibration: {exc}')
            self.counts[cam]['no_calibration'] += 1
            return None
        self._calib[cam] = camera
        return camera

    # -- reports ------------------------------------------------------------------------------
    def _on_keypoints(self, cam, msg):
        self.counts[cam][f'route_{msg.route}'] += 1
        if msg.route == PoseKeypoints2D.ROUTE_KEYPOINTS:
            index = msg.selected_person if 0 <= msg.selected_person < len(msg.people) else -1
            if index < 0:
                self._problems(f'empty:{cam}', f'{cam}: keypoint message without a person')
                self.counts[cam]['bad_input'] += 1
                return
            pixels, weights = person_arrays(msg.people[index])
            report = Report(pixels, weights, msg.inference_time_s, msg.uplink_airtime_s,
                            msg.uplink_queueing_s, 0.0, 'camera')
        else:
            report = Report(None, None, msg.inference_time_s, msg.uplink_airtime_s,
                            msg.uplink_queueing_s, 0.0, 'dropped')
        self._add(cam, from_stamp(msg.header.stamp), report)

    def _on_offload(self, cam, msg):
        if self._offloads.submit((cam, msg), self.get_parameter('queue_size').value):
            self.counts[cam]['edge_queue_overflow'] += 1

    def _on_failure(self, job, exc):
        cam = job[0]
        self._problems(f'infer:{cam}', f'{cam}: offloaded frame failed: {exc!r}')
        self.counts[cam]['bad_input'] += 1

    def _infer(self, cam, msg):
        try:
            image = decode_compressed(msg.image.data, msg.image.format)
        except ImageDecodeError as exc:
            self._problems(f'decode:{cam}', f'{cam}: offloaded image rejected: {exc}')
            self.counts[cam]['bad_input'] += 1
            return
        estimate = self._model.predict(image)
        confidence = estimate.frame_confidence()
        accepted = confidence >= self.get_parameter(f'theta_server.{cam}').value
        self.counts[cam]['edge_accepted' if accepted else 'edge_rejected'] += 1
        best = estimate.best()
        self._pub_result[cam].publish(PoseKeypoints2D(
            header=msg.header, sequence=msg.sequence, source=PoseKeypoints2D.SOURCE_EDGE,
            model_name=self._model.name, inference_time_s=float(estimate.inference_time_s),
            image_width=image.shape[1], image_height=image.shape[0],
            people=persons_to_msgs(estimate), selected_person=best,
            route=PoseKeypoints2D.ROUTE_KEYPOINTS if accepted else PoseKeypoints2D.ROUTE_DROP,
            frame_confidence=float(confidence)))
        pixels, weights = (estimate.keypoints[best], estimate.confidences[best]) \
            if accepted else (None, None)
        self._add(cam, from_stamp(msg.header.stamp),
                  Report(pixels, weights, msg.device_inference_time_s, msg.uplink_airtime_s,
                         msg.uplink_queueing_s, estimate.inference_time_s, 'edge'))

    def _add(self, cam, stamp, report):
        now = time.monotonic()
        with self._lock:
            self._last_report[cam] = now
            if cam in self._silent:
                self._silent.discard(cam)
                self._sync.set_cameras(set(self.cameras) - self._silent)
                self.get_logger().info(f'{cam} is publishing again')
            before = (self._sync.stats.late, self._sync.stats.out_of_order)
            accepted, released = self._sync.add(cam, stamp, report, now)
            self._ready.extend(released)
            if not accepted:
                late = self._sync.stats.late > before[0]
                kind = 'late' if late else ('out_of_order' if self._sync.stats.out_of_order >
                                            before[1] else 'duplicate')
                self.counts[cam][kind] += 1
                self._problems(f'{kind}:{cam}', f'{cam}: {kind} report stamped {stamp:.3f} '
                               'dropped')

    def _release(self):
        now = time.monotonic()
        timeout = self.get_parameter('camera_timeout_s').value
        with self._lock:
            gone = {cam for cam in self.cameras
                    if now - self._last_report.get(cam, now) > timeout} - self._silent
            for cam in gone:
                self.get_logger().warning(f'{cam} stopped publishing ({timeout} s); '
                                          'triangulating without it')
            if gone:
                self._silent |= gone
                self._sync.set_cameras(set(self.cameras) - self._silent)
            released = self._ready + self._sync.poll(now)
            self._ready = []
        for group in released:
            self._triangulate(group)

    # -- 3D -----------------------------------------------------------------------------------
    def _triangulate(self, group):
        start = time.perf_counter()
        cams, pixels, weights, stamps, used = [], [], [], [], []
        for cam, (stamp, report) in sorted(group.reports.items()):
            if report.pixels is None:
                continue
            camera = self._camera(cam)
            if camera is None:
                continue
            cams.append(camera)
            pixels.append(report.pixels)
            weights.append(report.weights)
            stamps.append(stamp)
            used.append((cam, report))
        self.totals['instants'] += 1
        if len(cams) < self.get_parameter('min_views').value:
            self.totals['too_few_views'] += 1
            return
        result = triangulate_cameras(
            cams, np.array(pixels), np.array(weights),
            min_views=self.get_parameter('min_views').value,
            outlier_threshold_px=self.get_parameter('outlier_threshold_px').value)
        if not result.valid.any():
            self.totals['no_valid_joint'] += 1
            return
        tri_s = time.perf_counter() - start
        self._sequence += 1
        msg = Skeleton3D(sequence=self._sequence)
        msg.header.frame_id = self.get_parameter('world_frame').value
        msg.header.stamp = to_stamp(min(stamps))
        msg.joints = [
            Joint3D(position=Point(x=float(p[0]), y=float(p[1]), z=float(p[2])) if ok
                    else Point(x=float('nan'), y=float('nan'), z=float('nan')),
                    confidence=float(c), num_views=int(n), reprojection_error_px=float(e),
                    valid=bool(ok))
            for p, ok, c, n, e in zip(result.points, result.valid, result.confidence,
                                      result.num_views, np.nan_to_num(result.reprojection_error,
                                                                      nan=-1.0))]
        msg.camera_ids = [cam for cam, _ in used]
        msg.capture_stamps = [to_stamp(s) for s in stamps]
        reports = [r for _, r in used]
        now = self.get_clock().now().nanoseconds * 1e-9
        msg.latency = LatencyBreakdown(
            device_inference_s=max(r.device_s for r in reports),
            airtime_s=max(r.airtime_s for r in reports),
            queueing_s=max(r.queueing_s for r in reports),
            edge_inference_s=max(r.edge_s for r in reports),
            triangulation_s=tri_s, end_to_end_s=now - min(stamps))
        self.totals['skeletons'] += 1
        self._pub_skeleton.publish(msg)
        self._pub_markers.publish(skeleton_markers(msg))

    def _publish_diagnostics(self):
        statuses = []
        for cam in self.cameras:
            counts = self.counts[cam]
            bad = sum(counts[k] for k in ('bad_input', 'late', 'out_of_order', 'no_calibration'))
            if cam in self._silent:
                level, text = DiagnosticStatus.ERROR, 'not publishing'
            else:
                level = DiagnosticStatus.WARN if bad else DiagnosticStatus.OK
                text = f'{bad} problems' if bad else 'ok'
            statuses.append(diagnostic(f'mec_coop/edge/{cam}', cam, level, text,
                                       {**counts, 'calibrated': cam in self._calib}))
        stats = self._sync.stats
        statuses.append(diagnostic(
            'mec_coop/edge', 'edge', DiagnosticStatus.OK, f'{self.totals["skeletons"]} skeletons',
            {**self.totals, 'groups': stats.groups, 'complete': stats.complete,
             'timed_out': stats.timed_out, 'late': stats.late,
             'out_of_order': stats.out_of_order, 'queued_offloads': len(self._offloads),
             'model': self._model.name}))
        self._pub_diag.publish(diagnostic_array(self, statuses))

    def close(self):
        """Stop the worker thread and log the totals (called before the node is destroyed)."""
        self.get_logger().info(f'totals: {dict(self.totals)}; per camera: '
                               f'{ {cam: dict(c) for cam, c in self.counts.items()} }')
        self._offloads.stop()


def skeleton_markers(skeleton, color=(0.1, 0.8, 0.2)):
    """Build the RViz markers of a skeleton: joints as a SPHERE_LIST, bones as a LINE_LIST."""
    valid = [j.valid for j in skeleton.joints]
    rgba = ColorRGBA(r=color[0], g=color[1], b=color[2], a=1.0)
    joints = Marker(header=skeleton.header, ns='joints', id=0, type=Marker.SPHERE_LIST,
                    action=Marker.ADD, color=rgba)
    joints.scale.x = joints.scale.y = joints.scale.z = 0.06
    joints.pose.orientation.w = 1.0
    joints.points = [j.position for j, ok in zip(skeleton.joints, valid) if ok]
    bones = Marker(header=skeleton.header, ns='bones', id=1, type=Marker.LINE_LIST,
                   action=Marker.ADD, color=rgba)
    bones.scale.x = 0.025
    bones.pose.orientation.w = 1.0
    bones.points = [skeleton.joints[k].position for a, b in COCO_BONES
                    if a < NUM_JOINTS and b < NUM_JOINTS and valid[a] and valid[b]
                    for k in (a, b)]
    for marker in (joints, bones):
        marker.lifetime.nanosec = 500_000_000
    return MarkerArray(markers=[joints, bones])


def main(args=None):
    spin_node(EdgeNode, args)


if __name__ == '__main__':
    main()
