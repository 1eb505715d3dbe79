# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Conversions between the core's arrays and dataclasses and the graph's messages."""

from typing import Any, Optional, Sequence

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point
import numpy as np
from rclpy.serialization import serialize_message
from scipy.spatial.transform import Rotation
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from mec_coop.fusion.edge import FusedSkeleton
from mec_coop.geometry.skeleton import COCO_BONES, NUM_JOINTS
from mec_coop.msg import (GroundTruth, Joint3D, Keypoint2D, LatencyBreakdown, OffloadRequest,
                          Person2D, PoseKeypoints2D, Skeleton3D, Skeleton3DArray)
from mec_coop.pose.backend import PoseEstimate

_NAN_POINT = (float('nan'),) * 3


def _point(p) -> Point:
    return Point(x=float(p[0]), y=float(p[1]), z=float(p[2]))


def to_stamp(seconds: float) -> Time:
    """``builtin_interfaces/Time`` of ``seconds``."""
    sec = int(np.floor(seconds))
    return Time(sec=sec, nanosec=int(round((seconds - sec) * 1e9)) % 1_000_000_000)


def from_stamp(stamp: Time) -> float:
    """Seconds of a ``builtin_interfaces/Time``."""
    return stamp.sec + stamp.nanosec * 1e-9


def persons_to_msgs(estimate: PoseEstimate) -> list[Person2D]:
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


def edge_result_msg(request: OffloadRequest, estimate: PoseEstimate, image_size: tuple,
                    confidence: float, accepted: bool) -> PoseKeypoints2D:
    """Build the edge model's result of an offloaded frame (route keypoints if accepted)."""
    return PoseKeypoints2D(
        header=request.header, sequence=request.sequence, source=PoseKeypoints2D.SOURCE_EDGE,
        model_name=estimate.model_name, inference_time_s=float(estimate.inference_time_s),
        image_width=image_size[1], image_height=image_size[0],
        people=persons_to_msgs(estimate), selected_person=estimate.best(),
        route=PoseKeypoints2D.ROUTE_KEYPOINTS if accepted else PoseKeypoints2D.ROUTE_DROP,
        frame_confidence=float(confidence), uplink_airtime_s=request.uplink_airtime_s,
        uplink_queueing_s=request.uplink_queueing_s,
        audit=bool(getattr(request, 'audit', False)),    # SplitTensor: never an audit
        camera_confidence=request.camera_confidence,
        offload_bytes=len(serialize_message(request)))


def person_arrays(person: Person2D) -> tuple[np.ndarray, np.ndarray]:
    """``(pixels (17, 2), confidences (17,))`` of a ``Person2D`` message."""
    kp = np.array([(k.x, k.y, k.confidence) for k in person.keypoints], dtype=np.float64)
    return kp[:, :2], kp[:, 2]


def selected_person(msg: Any) -> Optional[Person2D]:
    """Return the person a report's ``selected_person`` points at; None when it points at none."""
    people, index = getattr(msg, 'people', ()), getattr(msg, 'selected_person', -1)
    return people[index] if 0 <= index < len(people) else None


def labels_only(msg: Any) -> bool:
    """
    Whether an offload is an audit that carries the camera's own keypoints.

    The camera's thresholds kept that frame: its keypoints are the instant's final report of
    the camera (nothing waits for the edge), and the edge's result of it only labels the frame
    for the allocator's score laws. An audit of a frame the thresholds dropped carries no
    keypoints and is used like an offload (see ``camera_node``).
    """
    return bool(getattr(msg, 'audit', False)) and selected_person(msg) is not None


def people_arrays(people: Sequence[Person2D]) -> tuple[np.ndarray, np.ndarray]:
    """``(pixels (N, 17, 2), confidences (N, 17))`` of every person of a report."""
    if not people:
        return np.zeros((0, NUM_JOINTS, 2)), np.zeros((0, NUM_JOINTS))
    pixels, weights = zip(*(person_arrays(p) for p in people))
    return np.array(pixels), np.array(weights)


def skeleton_to_msg(fused: FusedSkeleton, sequence: int, frame_id: str) -> Skeleton3D:
    """
    ``Skeleton3D`` of a fused instant (filtered by the track when it has one).

    Invalid joints carry NaN and ``valid: false``; joints the track filled carry
    ``predicted: true`` and ``num_views: 0``.
    """
    tri = fused.triangulation
    msg = Skeleton3D(sequence=sequence, track_id=fused.track_id,
                     person_indices=list(fused.person_indices) or [-1] * len(fused.camera_ids))
    msg.header.frame_id = frame_id
    msg.header.stamp = to_stamp(fused.stamp)
    errors = np.nan_to_num(tri.reprojection_error, nan=-1.0)
    covariances = np.nan_to_num(tri.covariance, nan=0.0).reshape(-1, 9)
    msg.joints = [
        Joint3D(position=_point(p if ok else _NAN_POINT), confidence=float(c),
                num_views=int(n) if not pred else 0, reprojection_error_px=float(e),
                valid=bool(ok), predicted=bool(pred),
                covariance=[float(v) for v in (cov if ok and not pred else np.zeros(9))])
        for p, ok, pred, c, n, e, cov in zip(fused.points, fused.valid, fused.predicted,
                                             tri.confidence, tri.num_views, errors,
                                             covariances)]
    msg.camera_ids = list(fused.camera_ids)
    msg.capture_stamps = [to_stamp(s) for s in fused.capture_stamps]
    lat = fused.latency
    msg.latency = LatencyBreakdown(
        device_inference_s=lat.device_inference_s, airtime_s=lat.airtime_s,
        queueing_s=lat.queueing_s, edge_inference_s=lat.edge_inference_s,
        triangulation_s=lat.triangulation_s, end_to_end_s=lat.end_to_end_s)
    return msg


def people_to_msg(people: Sequence[FusedSkeleton], sequence: int, frame_id: str,
                  stamp: float) -> Skeleton3DArray:
    """``Skeleton3DArray`` of one instant's people (``stamp``: the instant's capture time)."""
    msg = Skeleton3DArray(sequence=sequence,
                          skeletons=[skeleton_to_msg(p, sequence, frame_id) for p in people])
    msg.header.frame_id = frame_id
    msg.header.stamp = to_stamp(stamp)
    return msg


def skeleton_joints(msg: Skeleton3D) -> np.ndarray:
    """``(J, 3)`` joint positions of a ``Skeleton3D``; NaN where not valid."""
    return np.array([(j.position.x, j.position.y, j.position.z) if j.valid else _NAN_POINT
                     for j in msg.joints], dtype=np.float64).reshape(-1, 3)


def ground_truth_to_msg(frame: Any, camera_frames: Sequence[str], stamp_s: float,
                        sequence: int, frame_id: str) -> GroundTruth:
    """
    ``GroundTruth`` of a virtual-rig frame (:class:`mec_coop.rig.virtual.rig.RigFrame`-like).

    :param camera_frames: optical frame ids of the cameras, in the rig's camera order.
    """
    msg = GroundTruth(sequence=sequence, rig_time_s=float(frame.stamp),
                      actions=list(frame.actions), camera_ids=list(camera_frames),
                      positive=[bool(p) for p in frame.positive],
                      visibility=[bool(v) for v in frame.visibility.ravel()])
    msg.header.stamp = to_stamp(stamp_s)
    msg.header.frame_id = frame_id
    msg.joints = [_point(p) for p in frame.joints_world.reshape(-1, 3)]
    return msg


def truth_joints(msg: GroundTruth) -> np.ndarray:
    """``(people, 17, 3)`` ground-truth joints of a ``GroundTruth`` message."""
    return np.array([(p.x, p.y, p.z) for p in msg.joints], dtype=np.float64).reshape(-1, 17, 3)


def skeleton_markers(skeleton: Skeleton3D,
                     color: tuple[float, float, float] = (0.1, 0.8, 0.2),
                     ns: str = '') -> MarkerArray:
    """
    Build the RViz markers of a skeleton.

    Joints as a SPHERE_LIST, bones as a LINE_LIST, and each measured joint's uncertainty as a
    translucent ellipsoid of two standard deviations (from its covariance); ``ns`` prefixes the
    marker namespaces (one prefix per tracked person).
    """
    valid = [j.valid for j in skeleton.joints]
    rgba = ColorRGBA(r=color[0], g=color[1], b=color[2], a=1.0)
    joints = Marker(header=skeleton.header, ns=f'{ns}joints', id=0, type=Marker.SPHERE_LIST,
                    action=Marker.ADD, color=rgba)
    joints.scale.x = joints.scale.y = joints.scale.z = 0.06
    joints.pose.orientation.w = 1.0
    joints.points = [j.position for j, ok in zip(skeleton.joints, valid) if ok]
    bones = Marker(header=skeleton.header, ns=f'{ns}bones', id=1, type=Marker.LINE_LIST,
                   action=Marker.ADD, color=rgba)
    bones.scale.x = 0.025
    bones.pose.orientation.w = 1.0
    bones.points = [skeleton.joints[k].position for a, b in COCO_BONES
                    if a < NUM_JOINTS and b < NUM_JOINTS and valid[a] and valid[b]
                    for k in (a, b)]
    markers = [joints, bones] + _uncertainty_markers(skeleton, color, ns)
    for marker in markers:
        marker.lifetime.nanosec = 500_000_000
    return MarkerArray(markers=markers)


def _uncertainty_markers(skeleton: Skeleton3D, color: tuple[float, float, float],
                         ns: str) -> list:
    out = []
    for k, joint in enumerate(skeleton.joints):
        cov = np.asarray(joint.covariance, dtype=np.float64).reshape(3, 3)
        if not joint.valid or joint.predicted or not np.any(cov):
            continue
        variances, axes = np.linalg.eigh(0.5 * (cov + cov.T))
        if np.linalg.det(axes) < 0:  # a rotation, for the quaternion
            axes[:, 0] = -axes[:, 0]
        marker = Marker(header=skeleton.header, ns=f'{ns}uncertainty', id=2 + k,
                        type=Marker.SPHERE,
                        action=Marker.ADD,
                        color=ColorRGBA(r=color[0], g=color[1], b=color[2], a=0.25))
        marker.pose.position = joint.position
        qx, qy, qz, qw = Rotation.from_matrix(axes).as_quat()
        marker.pose.orientation.x, marker.pose.orientation.y = float(qx), float(qy)
        marker.pose.orientation.z, marker.pose.orientation.w = float(qz), float(qw)
        marker.scale.x, marker.scale.y, marker.scale.z = (
            float(4.0 * np.sqrt(max(v, 0.0))) for v in variances)
        out.append(marker)
    return out


# Distinct colours for track ids (id modulo the palette): RViz tells people apart by colour.
ID_COLORS = ((0.1, 0.8, 0.2), (0.9, 0.3, 0.1), (0.2, 0.4, 0.95), (0.95, 0.8, 0.1),
             (0.7, 0.2, 0.8), (0.1, 0.8, 0.8), (0.95, 0.45, 0.7), (0.55, 0.55, 0.55))


def people_markers(people: Skeleton3DArray) -> MarkerArray:
    """Build the RViz markers of every person, coloured by track id and labelled above the head."""
    out = MarkerArray()
    for skeleton in people.skeletons:
        color = ID_COLORS[skeleton.track_id % len(ID_COLORS)]
        ns = f'person{skeleton.track_id}/'
        out.markers.extend(skeleton_markers(skeleton, color, ns).markers)
        heads = [j.position for j in skeleton.joints if j.valid]
        if not heads:
            continue
        label = Marker(header=skeleton.header, ns=f'{ns}label', id=0,
                       type=Marker.TEXT_VIEW_FACING, action=Marker.ADD,
                       text=f'id {skeleton.track_id}',
                       color=ColorRGBA(r=color[0], g=color[1], b=color[2], a=1.0))
        label.pose.position = Point(x=float(np.mean([p.x for p in heads])),
                                    y=float(np.mean([p.y for p in heads])),
                                    z=float(max(p.z for p in heads)) + 0.3)
        label.pose.orientation.w = 1.0
        label.scale.z = 0.25
        label.lifetime.nanosec = 500_000_000
        out.markers.append(label)
    return out
