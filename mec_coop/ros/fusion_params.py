# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The edge's fusion and feedback in ROS terms: its parameters and ``CameraRoi`` messages."""

from typing import Sequence

import numpy as np
from rclpy.node import Node

from mec_coop.fusion.edge import FusionSettings
from mec_coop.fusion.feedback import CameraPrior, FeedbackSettings
from mec_coop.fusion.smoothing import SMOOTHING_METHODS
from mec_coop.geometry.triangulation import METHODS as TRIANGULATION_METHODS
from mec_coop.msg import CameraRoi, Keypoint2D, PersonRoi
from mec_coop.pose.roi import Roi
from mec_coop.ros.conversions import to_stamp
from mec_coop.ros.params import float_param, int_param, text_param

_DEFAULTS = FeedbackSettings()


# Numeric fusion parameters: name -> (default, lower, upper bound, description).
FUSION_PARAMS = {
    'max_gap_s': (0.05, 0.001, 1.0, 'Capture stamps of one instant differ by at most this '
                  '(< half the frame period)'),
    'sync_timeout_s': (0.45, 0.01, 30.0, 'While tracking, an instant is fused this long after '
                       'capture at the latest (delay budget); later views count as late'),
    'acquire_timeout_s': (1.5, 0.01, 30.0, 'The same while no one is tracked (offloads start '
                          'the track)'),
    'camera_timeout_s': (3.0, 0.1, 600.0, 'A camera silent this long is no longer waited for'),
    'future_tolerance_s': (1.0, 0.0, 60.0, "Reports stamped further ahead of the edge's clock "
                           'are refused (allowance for clock offset between hosts)'),
    'reorder_after_s': (2.0, 0.1, 600.0, 'A camera with nothing accepted this long may go back '
                        'in time (its clock jumped back) instead of being out of order'),
    'outlier_threshold_px': (30.0, 1.0, 1000.0, 'Outlier-view rejection threshold (pixels)'),
    'max_joint_std_m': (0.12, 0.005, 10.0, 'A joint more uncertain than this (std) is invalid'),
}
FEEDBACK_PARAMS = ('feedback', 'smoothing', 'roi_margin', 'roi_min_size', 'roi_max_horizon_s',
                   'roi_search_horizon_s')
FUSION_SETTINGS = ('min_views', 'triangulation', 'association', *FUSION_PARAMS,
                   *FEEDBACK_PARAMS)


def declare_fusion(node: Node) -> None:
    """Declare the edge's fusion, track and crop parameters."""
    for name, (default, lo, hi, description) in FUSION_PARAMS.items():
        node.declare_parameter(name, default, float_param(description, lo, hi))
    node.declare_parameter('min_views', 2, int_param('Views a joint needs', 2, 64))
    node.declare_parameter('triangulation', 'robust', text_param(
        f"Triangulation method, one of {TRIANGULATION_METHODS} (dlt: the paper's literal one)"))
    node.declare_parameter('association', False, text_param(
        'Several people: associate every person of every view, publish skeletons (one per '
        "track, with its id); off: each view's selected person, one skeleton"))
    node.declare_parameter('feedback', True, text_param(
        'Track the person, filter the skeleton and publish <cam>/roi crops for the cameras'))
    node.declare_parameter('smoothing', _DEFAULTS.smoothing, text_param(
        f'Published skeleton: one of {SMOOTHING_METHODS} (none = the triangulation)'))
    node.declare_parameter('roi_margin', _DEFAULTS.margin, float_param(
        'Crop side / extent of the predicted keypoints', 1.0, 4.0))
    node.declare_parameter('roi_min_size', _DEFAULTS.min_size, int_param(
        'Smallest crop side (pixels)', 16, 4096))
    node.declare_parameter('roi_max_horizon_s', _DEFAULTS.max_horizon_s, float_param(
        'Crops follow the track this long past its last measurement', 0.05, 10.0))
    node.declare_parameter('roi_search_horizon_s', _DEFAULTS.search_horizon_s, float_param(
        'Then they search where the person was, widening at 1 m/s, until this long after it '
        '(>= roi_max_horizon_s)', 0.05, 60.0))


def fusion_settings(values: dict) -> FusionSettings:
    """Build the settings from parameter values (of :data:`FUSION_SETTINGS`); raises if bad."""
    if values['triangulation'] not in TRIANGULATION_METHODS:
        raise ValueError(f'triangulation must be one of {TRIANGULATION_METHODS}, got '
                         f'{values["triangulation"]!r}')
    feedback = FeedbackSettings(smoothing=values['smoothing'], margin=values['roi_margin'],
                                min_size=values['roi_min_size'],
                                max_horizon_s=values['roi_max_horizon_s'],
                                search_horizon_s=values['roi_search_horizon_s']) \
        if values['feedback'] else None
    return FusionSettings(min_views=values['min_views'], triangulation=values['triangulation'],
                          feedback=feedback, association=values['association'],
                          **{n: values[n] for n in FUSION_PARAMS})


def priors_to_msgs(priors: Sequence[CameraPrior], frame_id: str) -> list[CameraRoi]:
    """``CameraRoi`` per capture time of one camera's priors (a crop per tracked person)."""
    out = []
    for stamp in sorted({p.stamp for p in priors}):
        same = [p for p in priors if p.stamp == stamp]
        roi = same[0].roi
        msg = CameraRoi(image_width=roi.image_width, image_height=roi.image_height)
        msg.header.stamp = to_stamp(stamp)
        msg.header.frame_id = frame_id
        msg.people = [_person_roi(p) for p in same]
        out.append(msg)
    return out


def _person_roi(prior: CameraPrior) -> PersonRoi:
    person = PersonRoi(track_id=prior.track_id, x0=prior.roi.x0, y0=prior.roi.y0,
                       size=prior.roi.size)
    person.keypoints = [Keypoint2D(x=float(x), y=float(y), confidence=1.0)
                        if np.isfinite(x) and np.isfinite(y)
                        else Keypoint2D(x=0.0, y=0.0, confidence=0.0)
                        for x, y in prior.keypoints]
    return person


def msg_to_rois(msg: CameraRoi) -> tuple[list[Roi], np.ndarray]:
    """Crops and predicted keypoints ``(P, 17, 2)`` (NaN where unknown) of a ``CameraRoi``."""
    rois = [Roi(p.x0, p.y0, p.size, msg.image_width, msg.image_height) for p in msg.people]
    keypoints = np.array([[(k.x, k.y) if k.confidence > 0 else (np.nan, np.nan)
                           for k in p.keypoints] for p in msg.people],
                         dtype=np.float64).reshape(-1, 17, 2)
    return rois, keypoints
