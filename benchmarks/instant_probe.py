# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Per-instant recording of a graph run: what each camera sent, what reached the edge, the skeleton.

``benchmarks/compression_alloc.py --graph`` runs a :class:`InstantProbe` beside each plan's
graph. It extends the delay-model probe (``benchmarks/delay_model.py``: each camera's keypoint
message and offload as sent, the offload as the uplink delivered it, the edge's result) with
the keypoint message as delivered, the published skeleton and the ground truth, and
:func:`instant_records` turns its rows into one record per ground-truth instant (JSON-ready):
per camera the route, when its view left, reached the edge and got the edge's result (seconds
after capture), per instant the skeleton's delay, the views it used and its MPJPE.
:func:`mec_coop.alloc.instant_audit.decompose` then splits the instants by why they failed.
"""

from delay_model import DELIVERED, KEYPOINTS, Probe, RESULT, SENT
import numpy as np

from mec_coop.geometry import metrics
from mec_coop.msg import GroundTruth, PoseKeypoints2D, Skeleton3D
from mec_coop.ros.conversions import skeleton_joints, truth_joints
from mec_coop.ros.qos import QOS_RELIABLE

KEYPOINTS_IN, SKELETON, TRUTH = 'keypoints_in', 'skeleton', 'truth'
ROUTE_NAMES = {PoseKeypoints2D.ROUTE_KEYPOINTS: 'keypoints',
               PoseKeypoints2D.ROUTE_OFFLOAD: 'offload', PoseKeypoints2D.ROUTE_DROP: 'drop'}
# Stamps of one instant differ by less than this across cameras (the rig stamps them alike).
STAMP_TOLERANCE_S = 0.01


class InstantProbe(Probe):
    """The delay-model probe plus delivered keypoints, skeletons and ground truth."""

    def __init__(self, domain, cameras):
        super().__init__(domain, cameras)
        for cam in cameras:
            self.node.create_subscription(
                PoseKeypoints2D, f'/edge/{cam}/keypoints',
                lambda m, c=cam: self._seen(KEYPOINTS_IN, c, m), QOS_RELIABLE)
        self.node.create_subscription(Skeleton3D, '/skeleton',
                                      lambda m: self._seen(SKELETON, '', m), QOS_RELIABLE)
        self.node.create_subscription(GroundTruth, '/ground_truth',
                                      lambda m: self._seen(TRUTH, '', m), QOS_RELIABLE)


def _view(stages: dict) -> dict:
    """One camera's part of an instant record from its probe stages."""
    out = {}
    if KEYPOINTS in stages:
        seen, msg = stages[KEYPOINTS]
        out.update(route=ROUTE_NAMES.get(msg.route, 'drop'), sent=seen,
                   person=msg.route == PoseKeypoints2D.ROUTE_KEYPOINTS and len(msg.people) > 0)
        if KEYPOINTS_IN in stages:
            out['arrived'] = stages[KEYPOINTS_IN][0]
    elif SENT in stages or DELIVERED in stages:
        seen, msg = stages.get(SENT, stages.get(DELIVERED))
        out.update(route='audit' if msg.audit else 'offload', sent=stages[SENT][0]
                   if SENT in stages else None, bytes=len(msg.image.data),
                   person=0 <= msg.selected_person < len(msg.people))
        if DELIVERED in stages:
            out['arrived'] = stages[DELIVERED][0]
        if RESULT in stages:
            seen, msg = stages[RESULT]
            out.update(result=seen, accepted=msg.route == PoseKeypoints2D.ROUTE_KEYPOINTS)
    else:
        out['route'] = 'none'
    return out


def instant_records(rows, cameras) -> list[dict]:
    """
    Return one record per ground-truth instant (see the module docstring), in stamp order.

    ``rows``: the probe's ``(stage, camera, capture stamp, seen at, message)``. Times are
    seconds after capture; an instant's skeleton is the first published for its stamp, its
    delay the one the evaluator scores (``latency.end_to_end_s``).
    """
    stages: dict = {}
    truth, skeletons = {}, {}
    for stage, cam, stamp, seen, msg in rows:
        key = round(stamp / STAMP_TOLERANCE_S)
        if stage == TRUTH:
            joints = truth_joints(msg)
            if len(joints):
                truth[key] = (stamp, joints[0])
        elif stage == SKELETON:
            skeletons.setdefault(key, (seen - stamp, msg))
        else:
            stages.setdefault(key, {}).setdefault(cam, {}).setdefault(stage, (seen - stamp, msg))
    records = []
    for key in sorted(truth):
        stamp, joints = truth[key]
        record = {'stamp': stamp, 'cameras': {cam: _view(stages.get(key, {}).get(cam, {}))
                                              for cam in cameras}}
        if key in skeletons:
            _, msg = skeletons[key]
            error = metrics.mpjpe(skeleton_joints(msg), joints)
            record['skeleton'] = {'delay': float(msg.latency.end_to_end_s),
                                  'views': list(msg.camera_ids),
                                  'mpjpe_mm': float(1000.0 * error) if np.isfinite(error)
                                  else None}
        records.append(record)
    return records
