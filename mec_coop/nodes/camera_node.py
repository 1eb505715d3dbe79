# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Camera node (managed): the small pose model and the dual-threshold routing.

The routing is that of "Cooperative Inference for Real-Time 3D Human Pose Estimation in
Multi-Device Edge Networks"
(dual confidence thresholds, Sec. II).

Subscribes ``image/compressed`` (``sensor_msgs/CompressedImage``) or ``image``
(``sensor_msgs/Image``, via cv_bridge). For each frame it publishes exactly one of
``keypoints`` (route keypoints, or an empty drop notice) and ``offload`` (the JPEG for the
edge; with ``split_route`` and ``partition_point >= 0`` instead ``split``, the tensors of the
edge model's head at that cut), plus the frame's mean joint confidence on ``confidence`` and
health on ``/diagnostics``.

Lifecycle: the model is loaded in ``on_configure``; the image subscription and the worker live
between ``on_activate`` and ``on_deactivate``. The model runs in a worker thread behind a
one-frame slot (newest frame wins), so the executor keeps serving parameter updates and
diagnostics while a frame is being inferred.
"""

from typing import Optional

from cv_bridge import CvBridge
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.lifecycle import LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Float32

from mec_coop.coop.codec import decode_compressed, ImageDecodeError
from mec_coop.coop.feedback import Choice, infer, RoiPolicy
from mec_coop.coop.guard import Rejected, STAMP_CAUSES, StampGate
from mec_coop.coop.health import HealthWatch
from mec_coop.coop.regional import encode_offload, OFFLOAD_CODECS
from mec_coop.coop.routing import AuditSampler, Route, threshold_problem, Thresholds
from mec_coop.msg import CameraRoi, OffloadRequest, PoseKeypoints2D, SplitTensor
from mec_coop.pose.backend import PoseBackend
from mec_coop.pose.frame_score import frame_score, FRAME_SCORES, select_person
from mec_coop.ros.conversions import from_stamp, persons_to_msgs
from mec_coop.ros.diagnostics import CAMERA_STATUS, diagnostic, diagnostic_array, LogOnce
from mec_coop.ros.fusion_params import msg_to_rois
from mec_coop.ros.inputs import (check_frame_id, check_raw_size, declare_image_limits,
                                 declare_stamp_checks, image_limits, reject, update_gate)
from mec_coop.ros.params import (declare_pose_model, float_param, int_param, load_pose_model,
                                 proposed_values, text_param, verdict)
from mec_coop.ros.qos import QOS_IMAGES, QOS_OFFLOAD, QOS_RELIABLE
from mec_coop.ros.runtime import declare_autostart, JobQueue, ManagedModelNode, spin_node
from mec_coop.ros.split_route import head_message, split_problem

ROUTE_CODES = {Route.KEYPOINTS: PoseKeypoints2D.ROUTE_KEYPOINTS,
               Route.OFFLOAD: PoseKeypoints2D.ROUTE_OFFLOAD,
               Route.DROP: PoseKeypoints2D.ROUTE_DROP}
# input_transport -> (message type, topic)
INPUTS = {'compressed': (CompressedImage, 'image/compressed'), 'raw': (Image, 'image')}


class CameraNode(ManagedModelNode):
    """One camera: small model, dual thresholds, keypoints / offload / drop."""

    def __init__(self, pose_backend: Optional[PoseBackend] = None, split_model=None,
                 **node_kwargs) -> None:
        super().__init__('camera', pose_backend, **node_kwargs)
        self._head = split_model
        self.declare_parameter('camera_id', '', text_param(
            'Camera name used in diagnostics; default: the node namespace', read_only=True))
        self.declare_parameter('theta_low', 0.3, float_param(
            'Below this mean joint confidence the frame is dropped', 0.0, 1.0))
        self.declare_parameter('theta_high', 0.7, float_param(
            'At or above this the keypoints are sent; between the thresholds the image is '
            'offloaded (1.01 = offload everything above theta_low)', 0.0, 1.01))
        self.declare_parameter('jpeg_quality', 90, int_param('JPEG quality of offloads', 1, 100))
        self.declare_parameter('offload_codec', 'jpeg', text_param(
            'jpeg, or regionwise: people at jpeg_quality, background coarse (SpaT-IMCO)'))
        declare_pose_model(self, 320, 'Camera')
        self.declare_parameter('input_transport', 'compressed', text_param(
            "'compressed' (image/compressed) or 'raw' (image, via cv_bridge)", read_only=True))
        self.declare_parameter('max_age_s', 2.0, float_param(
            'Frames older than this (capture stamp vs now) are dropped as stale', 0.01, 60.0))
        declare_stamp_checks(self)
        declare_image_limits(self)
        self.declare_parameter('frame_id', '', text_param(
            "Image frame_id this camera accepts; default: '<camera_id>_optical_frame'",
            read_only=True))
        self.declare_parameter('frame_score', 'joints_box', text_param(
            f'Score the thresholds compare, one of {sorted(FRAME_SCORES)} (paper: the mean '
            'joint confidence of the best person)'))
        self.declare_parameter('roi_feedback', True, text_param(
            "Run the model on the edge's predicted crop (<cam>/roi) when it is fresh"))
        self.declare_parameter('roi_max_age_s', 0.75, float_param(
            'A crop predicted for a capture time further than this from the frame is stale',
            0.0, 10.0))
        self.declare_parameter('keypoints_with_offload', True, text_param(
            "Send the camera model's keypoints with an offloaded image; the edge uses them if "
            "its large model's result is late, and as final for an audit of a kept frame "
            "(false: the paper's scheme, the image only)"))
        self.declare_parameter('full_frame_every', 10, int_param(
            'Every N-th frame also runs the full frame to find new people (0: never)', 0, 10000))
        self.declare_parameter('full_frame_follow_up', 2, int_param(
            'After a full frame found people no crop holds, the next N frames run it too, so '
            'the edge sees them on the consecutive instants a new track needs (0: never)',
            0, 10000))
        self.declare_parameter('search_every', 3, int_param(
            'Every N-th frame that ran without a crop and is dropped is offloaded instead, so the '
            "edge's model looks for people the small one misses (0: never; with roi_feedback)",
            0, 10000))
        self.declare_parameter('audit_fraction', 0.0, float_param(
            'Share of the frames offloaded at random whatever the thresholds say (audits: the '
            "allocator learns the edge model's score laws from them without selection bias)",
            0.0, 1.0))
        self.declare_parameter('split_route', False, text_param(
            "Load the edge's model (weights, split_imgsz) as a head: offloads can send tensors",
            read_only=True))
        self.declare_parameter('split_imgsz', 960, int_param(
            "Input size of the edge's model (the head's)", 64, 2048, 32, read_only=True))
        self.declare_parameter('partition_point', -1, int_param(
            "Cut of the edge's model whose head runs here for offloaded frames (index in its "
            'enumerated cut list; -1: send the JPEG)', -1, 1023))
        self.declare_parameter('split_dtype', 'float16', text_param(
            'Split tensors on the wire: float16, int8 (per-tensor affine) or float32'))
        self.declare_parameter('split_codec', 'zlib', text_param(
            'Lossless coder of the split payload: zlib or none'))
        declare_autostart(self)
        self.add_on_set_parameters_callback(self._validate)
        self.add_post_set_parameters_callback(self._apply)
        self._policy: RoiPolicy = RoiPolicy()
        self._gate = StampGate()
        self._apply([])

        self.camera_id = self.get_parameter('camera_id').value or \
            self.get_namespace().strip('/').replace('/', '_') or self.get_name()
        self.frame_id = self.get_parameter('frame_id').value or f'{self.camera_id}_optical_frame'
        self._bridge = CvBridge()
        self._problems = LogOnce(self.get_logger())
        self.counts = {'frames': 0, 'keypoints': 0, 'offload': 0, 'drop': 0, 'replaced': 0,
                       'stale': 0, 'out_of_order': 0, 'bad_input': 0, 'bad_roi': 0,
                       'roi_retry': 0, 'roi_miss': 0, 'audit': 0, 'search': 0, 'split': 0,
                       **{c.value: 0 for c in Choice}}
        self._audits = AuditSampler(self.camera_id)
        self._last_inference_s = 0.0
        transport = self.get_parameter('input_transport').value
        if transport not in INPUTS:
            raise ValueError(f'input_transport must be one of {sorted(INPUTS)}, got '
                             f'{transport!r}')
        self._frames: Optional[JobQueue] = None

    # -- lifecycle ----------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self._model is None:
            self._model = load_pose_model(self)
        if self._head is None and self.get_parameter('split_route').value:
            self._head = load_pose_model(self, split=True,
                                         imgsz=self.get_parameter('split_imgsz').value)
        point, dtype, codec = self._split_settings
        problem = split_problem(point, len(getattr(self._head, 'cuts', ())), dtype, codec)
        if problem:
            self.get_logger().error(f'{self.camera_id}: {problem}')
            return TransitionCallbackReturn.FAILURE
        self._pub_split = self.create_lifecycle_publisher(SplitTensor, 'split', QOS_OFFLOAD)
        self._pub_kp = self.create_lifecycle_publisher(PoseKeypoints2D, 'keypoints',
                                                       QOS_RELIABLE)
        self._pub_off = self.create_lifecycle_publisher(OffloadRequest, 'offload', QOS_OFFLOAD)
        self._pub_conf = self.create_lifecycle_publisher(Float32, 'confidence', QOS_RELIABLE)
        self._pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._health = HealthWatch('frames', 'frames accepted', 5.0, self._now())
        self._configured = [self._pub_kp, self._pub_off, self._pub_split, self._pub_conf,
                            self._pub_diag, self.create_timer(1.0, self._publish_diagnostics)]
        self.get_logger().info(f'{self.camera_id}: model {self._model.name}, thresholds '
                               f'[{self.theta_low}, {self.theta_high}]')
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._frames = JobQueue(self._process, self._on_failure, self.context, 'camera-inference')
        msg_type, topic = INPUTS[self.get_parameter('input_transport').value]
        self._active = [self.create_subscription(msg_type, topic, self._on_image, QOS_IMAGES),
                        self.create_subscription(CameraRoi, 'roi', self._on_roi, QOS_RELIABLE)]
        return super().on_activate(state)

    # -- parameters ---------------------------------------------------------------------------
    def _validate(self, parameters):
        values = proposed_values(self, parameters, ('theta_low', 'theta_high', 'frame_score',
                                                    'offload_codec', 'partition_point',
                                                    'split_dtype', 'split_codec'))
        if values['offload_codec'] not in OFFLOAD_CODECS:
            return verdict(f'offload_codec must be one of {list(OFFLOAD_CODECS)}, got '
                           f'{values["offload_codec"]!r}')
        problem = split_problem(values['partition_point'], len(getattr(self._head, 'cuts', ())),
                                values['split_dtype'], values['split_codec'])
        if problem:
            return verdict(problem)
        if values['frame_score'] not in FRAME_SCORES:
            return verdict(f'frame_score must be one of {sorted(FRAME_SCORES)}, got '
                           f'{values["frame_score"]!r}')
        return verdict(threshold_problem(values['theta_low'], values['theta_high']))

    def _apply(self, _parameters):
        # Read as one snapshot, so the worker never sees a half-applied update.
        self._settings = (Thresholds(self.get_parameter('theta_low').value,
                                     self.get_parameter('theta_high').value),
                          self.get_parameter('jpeg_quality').value,
                          self.get_parameter('max_age_s').value,
                          self.get_parameter('frame_score').value,
                          self.get_parameter('roi_feedback').value)
        self._split_settings = tuple(self.get_parameter(name).value for name in (
            'partition_point', 'split_dtype', 'split_codec'))
        self._policy.max_age_s = self.get_parameter('roi_max_age_s').value
        self._policy.full_frame_every = self.get_parameter('full_frame_every').value
        self._policy.follow_up = self.get_parameter('full_frame_follow_up').value
        self._policy.search_every = self.get_parameter('search_every').value
        update_gate(self, self._gate)

    def _on_roi(self, msg: CameraRoi) -> None:
        try:
            stamp = from_stamp(msg.header.stamp)
            # Crops are predicted a frame or two ahead; far-future ones would outlive all others.
            if stamp - self._now() > self._gate.future_tolerance_s + 2 * self._policy.max_age_s:
                raise ValueError(f'crop stamped {stamp - self._now():.1f} s in the future')
            self._policy.offer(stamp, msg_to_rois(msg))
        except ValueError as exc:
            self.counts['bad_roi'] += 1
            self._problems('roi', f'{self.camera_id}: edge crop rejected: {exc}')

    @property
    def theta_low(self):
        return self._settings[0].theta_low

    @property
    def theta_high(self):
        return self._settings[0].theta_high

    # -- frames -------------------------------------------------------------------------------
    def _on_image(self, msg):
        # The newest frame wins: a frame still waiting for the model is replaced.
        if self._frames.submit(msg, limit=1):
            self.counts['replaced'] += 1

    def _on_failure(self, _msg, exc):
        self._problems('process', f'{self.camera_id}: frame failed: {exc!r}')
        self.counts['bad_input'] += 1

    def _decode(self, msg):
        check_frame_id(msg.header.frame_id, self.frame_id)
        if isinstance(msg, CompressedImage):
            return decode_compressed(msg.data, msg.format, *image_limits(self))
        if msg.encoding not in ('bgr8', 'rgb8', 'mono8', 'bgra8', 'rgba8'):
            raise ImageDecodeError(f'unsupported Image encoding {msg.encoding!r} '
                                   '(use bgr8, rgb8, mono8, bgra8 or rgba8)', 'encoding')
        check_raw_size(msg, *image_limits(self))
        try:
            return self._bridge.imgmsg_to_cv2(msg, desired_encoding='bgr8')
        except Exception as exc:  # noqa: B902 - cv_bridge raises its own and numpy errors
            raise ImageDecodeError(f'Image could not be converted: {exc}', 'malformed') from exc

    def _infer(self, image, stamp, use_roi):
        """Run the model on the edge's crop when the policy allows: estimate, prior, choice."""
        if use_roi:
            estimate, predicted, choice = self._policy.infer(self._model, image, stamp,
                                                             self.counts)
        else:
            choice = Choice.NO_PRIOR
            estimate, predicted = infer(self._model, image, choice, None, self.counts)
        self.counts[choice.value] += 1
        return estimate, predicted, choice

    def _process(self, msg):
        thresholds, quality, _, score_name, use_roi = self._settings
        stamp, now = from_stamp(msg.header.stamp), self._now()
        try:
            self._gate.check(stamp, now)
            image = self._decode(msg)
        except Rejected as exc:
            self.counts['bad_input'] += exc.cause not in STAMP_CAUSES
            reject(self.counts, self._problems, self.camera_id, exc)
            return
        if self._gate.accept(stamp, now):
            self.get_logger().warning(f'{self.camera_id}: stamps went back in time by '
                                      'more than reorder_after_s allows; ordering restarted')
        self.counts['frames'] += 1
        estimate, predicted, choice = self._infer(image, stamp, use_roi)
        self._last_inference_s = estimate.inference_time_s
        confidence = frame_score(estimate, score_name, predicted, floor=thresholds.theta_low)
        route = thresholds.route(confidence)
        audit = route is not Route.OFFLOAD and self._audits.draw(
            self.get_parameter('audit_fraction').value)
        search = not audit and use_roi and self._policy.search(choice, route is Route.DROP)
        self.counts['audit' if audit else 'search' if search else route.value] += 1
        self._pub_conf.publish(Float32(data=float(confidence)))
        if route is Route.OFFLOAD and self._split_settings[0] >= 0 and self._head is not None:
            self._pub_split.publish(self._split(msg, image, confidence, estimate))
            return
        if route is Route.OFFLOAD or audit or search:
            # A search, and an audit of a dropped frame, send no keypoints: the thresholds
            # judged them not good enough to use. An audit of a kept frame sends them as the
            # camera's final report (ros/conversions.py labels_only).
            out = self._offload(msg, image, confidence, estimate, quality,
                                -1 if search or route is Route.DROP
                                else select_person(estimate, predicted))
            out.audit = audit
            self._pub_off.publish(out)
            return
        out = PoseKeypoints2D(header=msg.header, sequence=self.counts['frames'],
                              source=PoseKeypoints2D.SOURCE_CAMERA, model_name=self._model.name,
                              inference_time_s=float(estimate.inference_time_s),
                              image_width=image.shape[1], image_height=image.shape[0],
                              route=ROUTE_CODES[route], frame_confidence=float(confidence),
                              selected_person=-1, camera_confidence=float('nan'))
        if route is Route.KEYPOINTS:
            out.people = persons_to_msgs(estimate)
            out.selected_person = select_person(estimate, predicted)
        self._pub_kp.publish(out)

    def _offload(self, msg, image, confidence, estimate, quality, selected):
        people = estimate if estimate.num_people else None
        data = encode_offload(image, quality, self.get_parameter('offload_codec').value,
                              *((people.keypoints, people.confidences, people.boxes)
                                if people else ()))
        out = OffloadRequest(header=msg.header, sequence=self.counts['frames'],
                             camera_confidence=float(confidence),
                             device_inference_time_s=float(estimate.inference_time_s),
                             jpeg_quality=int(quality), width=image.shape[1],
                             height=image.shape[0],
                             compression_ratio=len(data) / float(image.size))
        out.image.header = msg.header
        out.image.format = 'jpeg'
        out.image.data = data
        out.selected_person = -1
        if self.get_parameter('keypoints_with_offload').value and selected >= 0:
            out.people, out.selected_person = persons_to_msgs(estimate), selected
        return out

    def _split(self, msg, image, confidence, estimate) -> SplitTensor:
        point, dtype, codec = self._split_settings
        out = head_message(self._head, image, point, dtype, codec)
        out.header, out.sequence = msg.header, self.counts['frames']
        out.camera_confidence = float(confidence)
        out.device_inference_time_s += float(estimate.inference_time_s)
        self.counts['split'] += 1
        return out

    def _publish_diagnostics(self):
        level, text = self._health.assess(self.counts, self._now())
        status = diagnostic(
            f'{CAMERA_STATUS}{self.camera_id}', self.camera_id, level, text,
            {**self.counts, 'theta_low': self.theta_low, 'theta_high': self.theta_high,
             'inference_time_s': f'{self._last_inference_s:.4f}', 'model': self._model.name})
        self._pub_diag.publish(diagnostic_array(self, [status]))

    def close(self) -> None:
        """Stop the worker thread and log the counts (called before the node is destroyed)."""
        if self._frames is not None:
            self.get_logger().info(f'{self.camera_id} totals: {self.counts}')
            self._frames.stop()
            self._frames = None


def main(args=None):
    spin_node(CameraNode, args)


if __name__ == '__main__':
    main()
