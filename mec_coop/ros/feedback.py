# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The edge's feedback to the cameras in ROS terms: parameters and ``CameraRoi`` messages."""

from typing import Optional

import numpy as np
from rclpy.node import Node

from mec_coop.fusion.feedback import CameraPrior, FeedbackSettings
from mec_coop.fusion.smoothing import SMOOTHING_METHODS
from mec_coop.msg import CameraRoi, Keypoint2D, PersonRoi
from mec_coop.pose.roi import Roi
from mec_coop.ros.conversions import to_stamp
from mec_coop.ros.params import float_param, int_param, text_param

_DEFAULTS = FeedbackSettings()


def declare_feedback(node: Node) -> None:
    """Declare the edge's track and crop parameters (read when the node configures)."""
    node.declare_parameter('feedback', True, text_param(
        'Track the person, filter the skeleton and publish <cam>/roi crops for the cameras'))
    node.declare_parameter('smoothing', _DEFAULTS.smoothing, text_param(
        f'Published skeleton: one of {SMOOTHING_METHODS} (none = the triangulation)'))
    node.declare_parameter('roi_margin', _DEFAULTS.margin, float_param(
        'Crop side / extent of the predicted keypoints', 1.0, 4.0))
    node.declare_parameter('roi_min_size', _DEFAULTS.min_size, int_param(
        'Smallest crop side (pixels)', 16, 4096))
    node.declare_parameter('roi_max_horizon_s', _DEFAULTS.max_horizon_s, float_param(
        'No crop is predicted further than this past the last measurement', 0.05, 10.0))


def feedback_settings(values: dict) -> Optional[FeedbackSettings]:
    """Build the settings from parameter values; None when feedback is off (raises if bad)."""
    if not values['feedback']:
        return None
    return FeedbackSettings(smoothing=values['smoothing'], margin=values['roi_margin'],
                            min_size=values['roi_min_size'],
                            max_horizon_s=values['roi_max_horizon_s'])


FEEDBACK_PARAMS = ('feedback', 'smoothing', 'roi_margin', 'roi_min_size', 'roi_max_horizon_s')


def prior_to_msg(prior: CameraPrior, frame_id: str) -> CameraRoi:
    """``CameraRoi`` of one camera's prior (one tracked person, id 0)."""
    msg = CameraRoi(image_width=prior.roi.image_width, image_height=prior.roi.image_height)
    msg.header.stamp = to_stamp(prior.stamp)
    msg.header.frame_id = frame_id
    person = PersonRoi(track_id=0, x0=prior.roi.x0, y0=prior.roi.y0, size=prior.roi.size)
    person.keypoints = [Keypoint2D(x=float(x), y=float(y), confidence=1.0)
                        if np.isfinite(x) and np.isfinite(y)
                        else Keypoint2D(x=0.0, y=0.0, confidence=0.0)
                        for x, y in prior.keypoints]
    msg.people = [person]
    return msg


def msg_to_rois(msg: CameraRoi) -> tuple[list[Roi], np.ndarray]:
    """Crops and predicted keypoints ``(P, 17, 2)`` (NaN where unknown) of a ``CameraRoi``."""
    rois = [Roi(p.x0, p.y0, p.size, msg.image_width, msg.image_height) for p in msg.people]
    keypoints = np.array([[(k.x, k.y) if k.confidence > 0 else (np.nan, np.nan)
                           for k in p.keypoints] for p in msg.people],
                         dtype=np.float64).reshape(-1, 17, 2)
    return rois, keypoints
