# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Edge node (managed): the large model for offloaded frames, then :class:`EdgeFusion`.

Inputs per camera ``<cam>``: ``<input_namespace>/<cam>/keypoints`` (camera results and drop
notices), ``<input_namespace>/<cam>/offload`` (JPEGs for the large model), ``.../<cam>/split``
(tensors of the model's head: ``split_route`` runs the tail), ``<cam>/camera_info`` and
``/tf_static`` (world -> optical frame). Outputs: ``skeleton`` (``mec_coop/Skeleton3D``; with
``association``: the longest-lived track's), ``skeletons`` (``mec_coop/Skeleton3DArray``, with
``association``: every tracked person of an instant), ``skeleton[s]/markers`` (RViz, coloured by
track id), ``<cam>/roi`` (crops for the cameras), ``<cam>/edge_result`` (the large model's result
of each offloaded frame: the allocator's server-side samples) and ``/diagnostics``. Lifecycle:
the model loads in ``on_configure``; subscriptions, timers and the worker live between
``on_activate`` and ``on_deactivate``. The model runs in a worker thread behind a bounded queue
(oldest dropped); fusion runs in a 100 Hz timer on the executor.
"""

from typing import Optional

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.lifecycle import LifecycleState, TransitionCallbackReturn
from visualization_msgs.msg import MarkerArray

from mec_coop.alloc.timing import RELEASE_POLL_S
from mec_coop.coop.routing import edge_accepts, threshold_problem
from mec_coop.fusion.edge import EdgeFusion, FusionSettings, Report
from mec_coop.msg import (CameraRoi, OffloadRequest, PoseKeypoints2D, Skeleton3D,
                          Skeleton3DArray, SplitTensor)
from mec_coop.pose.backend import PoseBackend
from mec_coop.ros.camera_info import RigCalibration
from mec_coop.ros.conversions import (edge_result_msg, from_stamp, labels_only, people_arrays,
                                      people_markers, people_to_msg, person_arrays,
                                      selected_person, skeleton_markers, skeleton_to_msg)
from mec_coop.ros.diagnostics import BATCH_KEY, diagnostic_array, EdgeHealth, LogOnce
from mec_coop.ros.fusion_params import (declare_fusion, FUSION_SETTINGS, fusion_settings,
                                        priors_to_msgs)
from mec_coop.ros.inputs import declare_image_limits, image_limits, ReportGate
from mec_coop.ros.params import (declare_cameras, declare_pose_model, float_param, int_param,
                                 load_pose_model, proposed_values, text_param, verdict)
from mec_coop.ros.qos import QOS_OFFLOAD, QOS_RELIABLE
from mec_coop.ros.runtime import declare_autostart, JobQueue, ManagedModelNode, spin_node
from mec_coop.ros.split_route import (declare_offload_inputs, edge_estimates, offload_crops,
                                      rejection_counter)


class EdgeNode(ManagedModelNode):
    """Large model, view sync and 3D skeleton for a rig of cameras."""

    def __init__(self, pose_backend: Optional[PoseBackend] = None, **node_kwargs) -> None:
        super().__init__('edge', pose_backend, **node_kwargs)
        self.cameras = declare_cameras(self)
        self.declare_parameter('world_frame', 'world', text_param('Fixed frame of the skeleton',
                                                                  read_only=True))
        self.declare_parameter('input_namespace', 'edge', text_param(
            "Namespace of the camera results: 'edge' behind the uplink emulator, '' on a real "
            'network', read_only=True))
        declare_pose_model(self, 960, 'Edge')
        self.declare_parameter('flip_tta', False, text_param(
            'Flip test-time augmentation on the edge', read_only=True))
        self.declare_parameter('split_route', False, text_param(
            'Load the model as head/tail graph and run the tails of <cam>/split tensors',
            read_only=True))
        declare_fusion(self)
        declare_offload_inputs(self)
        self.declare_parameter('queue_size', 8, int_param(
            'Offloaded frames waiting for the large model (oldest dropped)', 1, 1000))
        self.declare_parameter('batch_size', 2, int_param(
            'Offloads waiting together run as one batch of at most this many', 1, 64))
        for cam in self.cameras:
            self.declare_parameter(f'theta_server.{cam}', 0.3, float_param(
                f'Edge-model confidence needed to use an offloaded frame of {cam}', 0.0, 1.0))
        declare_image_limits(self)
        declare_autostart(self)
        self.add_on_set_parameters_callback(self._validate)
        self.add_post_set_parameters_callback(lambda _p: self.fusion.configure(self._settings()))
        self._problems = LogOnce(self.get_logger())
        self._calibration: Optional[RigCalibration] = None
        self.fusion = EdgeFusion(self.cameras, self._settings(),
                                 lambda cam: self._calibration.camera(cam)
                                 if self._calibration else None)
        self._reports = ReportGate(self.fusion, self._problems, lambda cam: self._calibration
                                   .frame_id(cam) if self._calibration else '')
        self._sequence = self.service_time_s = 0
        self._offloads: Optional[JobQueue] = None

    def _settings(self, parameters=()) -> FusionSettings:
        return fusion_settings(proposed_values(self, parameters, FUSION_SETTINGS))

    def _validate(self, parameters):
        try:
            self._settings(parameters)
        except ValueError as exc:
            return verdict(str(exc))
        for p in parameters:
            problem = p.name.startswith('theta_server.') and threshold_problem(0.0, 0.0, p.value)
            if problem:
                return verdict(f'{p.name}: {problem}')
        return verdict('')

    # -- lifecycle ----------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self._model is None:
            self._model = load_pose_model(self, flip_tta=self.get_parameter('flip_tta').value,
                                          split=self.get_parameter('split_route').value)
        self._pub_result = {cam: self.create_lifecycle_publisher(
            PoseKeypoints2D, f'{cam}/edge_result', QOS_RELIABLE) for cam in self.cameras}
        self._pub_skeleton = self.create_lifecycle_publisher(Skeleton3D, 'skeleton',
                                                             QOS_RELIABLE)
        self._pub_markers = self.create_lifecycle_publisher(MarkerArray, 'skeleton/markers',
                                                            QOS_RELIABLE)
        self._pub_people = [self.create_lifecycle_publisher(t, f'skeletons{s}', QOS_RELIABLE)
                            for t, s in ((Skeleton3DArray, ''), (MarkerArray, '/markers'))]
        self._pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._health = EdgeHealth(self.cameras, self.get_parameter('camera_timeout_s').value,
                                  self._now())
        self._pub_roi = {cam: self.create_lifecycle_publisher(
            CameraRoi, f'{cam}/roi', QOS_RELIABLE) for cam in self.cameras}
        self._configured = [*self._pub_result.values(), *self._pub_roi.values(),
                            self._pub_skeleton, self._pub_markers, *self._pub_people,
                            self._pub_diag, self.create_timer(1.0, self._publish_diagnostics)]
        # Calibration is latched: listen from configure on, so activation finds it ready.
        self._calibration = RigCalibration(self, self.cameras,
                                           self.get_parameter('world_frame').value, self._problems)
        self._configured += self._calibration.subscriptions
        self.get_logger().info(f'edge: cameras {self.cameras}, model {self._model.name}')
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._offloads = JobQueue(self._infer, self._on_failure, self.context, 'edge-inference',
                                  lambda: self.get_parameter('batch_size').value)
        prefix = self.get_parameter('input_namespace').value.strip('/')
        prefix = f'{prefix}/' if prefix else ''
        for cam in self.cameras:
            self._active.append(self.create_subscription(
                PoseKeypoints2D, f'{prefix}{cam}/keypoints',
                lambda m, c=cam: self._on_keypoints(c, m), QOS_RELIABLE))
            for cls, kind in ((OffloadRequest, 'offload'), (SplitTensor, 'split')):
                self._active.append(self.create_subscription(
                    cls, f'{prefix}{cam}/{kind}', lambda m, c=cam: self._on_offload(c, m),
                    QOS_OFFLOAD))
        self._active.append(self.create_timer(RELEASE_POLL_S, self._release))
        return super().on_activate(state)

    # -- reports ------------------------------------------------------------------------------
    def _on_keypoints(self, cam: str, msg: PoseKeypoints2D) -> None:
        self.fusion.counts[cam][f'route_{msg.route}'] += 1
        if not self._reports.admit(cam, msg):
            return
        pixels = weights = None
        if msg.route == PoseKeypoints2D.ROUTE_KEYPOINTS:
            if (person := selected_person(msg)) is None:
                self._problems(f'empty:{cam}', f'{cam}: keypoint message without a person')
                self.fusion.counts[cam]['bad_input'] += 1
                return
            pixels, weights = person_arrays(person)
        self._add(cam, msg, Report(pixels, weights, 'camera' if pixels is not None else 'dropped',
                                   msg.inference_time_s, msg.uplink_airtime_s,
                                   msg.uplink_queueing_s, 0.0, False,
                                   *people_arrays(msg.people)))

    def _on_offload(self, cam: str, msg) -> None:
        if not self._reports.admit(cam, msg):
            return
        now = self._now()
        self._health.offload_arrived(cam, now - from_stamp(msg.header.stamp), msg, now)
        if (person := selected_person(msg)) is not None:
            pixels, weights = person_arrays(person)
            self._add(cam, msg, Report(pixels, weights, 'camera', msg.device_inference_time_s,
                                       msg.uplink_airtime_s, msg.uplink_queueing_s, 0.0,
                                       not labels_only(msg), *people_arrays(msg.people)))
        if self._offloads.submit((cam, msg), self.get_parameter('queue_size').value):
            self.fusion.counts[cam]['edge_queue_overflow'] += 1

    def _on_failure(self, jobs, exc: Exception) -> None:
        for cam, _ in jobs:
            self._problems(f'infer:{cam}', f'{cam}: offloaded frame failed: {exc!r}')
            self.fusion.counts[cam]['bad_input'] += 1

    def _infer(self, jobs: list) -> None:
        """Run the offloads (one batch, ``batch_size``) and split tails waiting now."""
        reject = rejection_counter(self._problems, self.fusion.counts)
        for cam, msg, image_hw, estimate in edge_estimates(
                self._model, jobs, reject, image_limits(self), offload_crops(self)):
            self.service_time_s += 0.2 * (estimate.inference_time_s - self.service_time_s)
            confidence = estimate.frame_confidence()
            accepted = edge_accepts(confidence, self.get_parameter(f'theta_server.{cam}').value)
            self.fusion.counts[cam]['edge_accepted' if accepted else 'edge_rejected'] += 1
            self._pub_result[cam].publish(edge_result_msg(msg, estimate, image_hw, confidence,
                                                          accepted))
            if labels_only(msg):
                continue
            best = estimate.best()
            pixels, weights, people = (estimate.keypoints[best], estimate.confidences[best], (
                estimate.keypoints, estimate.confidences)) if accepted else (None, None, ())
            self._add(cam, msg, Report(pixels, weights, 'edge' if accepted else 'dropped',
                                       msg.device_inference_time_s, msg.uplink_airtime_s,
                                       msg.uplink_queueing_s, estimate.inference_time_s, False,
                                       *people))

    def _add(self, cam: str, msg, report: Report) -> None:
        self._reports.add(cam, from_stamp(msg.header.stamp), report, self._now())

    def _release(self) -> None:
        out = self.fusion.poll(self._now())
        timeout = self.get_parameter('camera_timeout_s').value
        for cam in out.went_silent:
            self.get_logger().warning(f'{cam} stopped publishing ({timeout} s); '
                                      'triangulating without it')
        for cam in out.came_back:
            self.get_logger().info(f'{cam} is publishing again')
        frame = self.get_parameter('world_frame').value
        for fused in out.skeletons:
            self._sequence += 1
            self._pub_skeleton.publish(msg := skeleton_to_msg(fused, self._sequence, frame))
            self._pub_markers.publish(skeleton_markers(msg))
        for stamp, people in out.people:  # one array per instant, also when nobody was found
            self._sequence += 1
            self._pub_people[0].publish(msg := people_to_msg(people, self._sequence, frame, stamp))
            self._pub_people[1].publish(people_markers(msg))
        for cam, priors in out.priors.items():
            for roi in priors_to_msgs(priors, self._calibration.frame_id(cam)):
                self._pub_roi[cam].publish(roi)

    def _publish_diagnostics(self) -> None:
        calibrated = self._calibration.calibrated if self._calibration else (lambda _c: False)
        self._pub_diag.publish(diagnostic_array(self, self._health.statuses(
            self.fusion, calibrated, self._now(),
            {'queued_offloads': len(self._offloads or ()), BATCH_KEY: self.get_parameter(
                'batch_size').value,
             'service_time_s': f'{self.service_time_s:.4f}',
             'model': self._model.name if self._model else 'not loaded'})))

    def close(self) -> None:
        """Stop the worker thread and log the totals (called before the node is destroyed)."""
        if self._offloads is not None:
            self.get_logger().info(
                f'totals: {dict(self.fusion.totals)}; per camera: '
                f'{ {cam: dict(c) for cam, c in self.fusion.counts.items()} }')
            self._offloads.stop()
            self._offloads = None


def main(args=None) -> None:
    spin_node(EdgeNode, args)


if __name__ == '__main__':
    main()
