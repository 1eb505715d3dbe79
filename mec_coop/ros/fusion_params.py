# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The edge's fusion and feedback in ROS terms: its parameters and ``CameraRoi`` messages."""

from typing import Sequence

import numpy as np
from rclpy.node import Node

from mec_coop.fusion.association import AssociationSettings
from mec_coop.fusion.edge import FusionSettings
from mec_coop.fusion.feedback import CameraPrior, FeedbackSettings
from mec_coop.fusion.smoothing import SMOOTHING_METHODS
from mec_coop.geometry.triangulation import METHODS as TRIANGULATION_METHODS
from mec_coop.msg import CameraRoi, Keypoint2D, PersonRoi
from mec_coop.pose.roi import Roi
from mec_coop.ros.conversions import to_stamp
from mec_coop.ros.params import float_param, int_param, text_param

_DEFAULTS = FeedbackSettings()
_PEOPLE = AssociationSettings()


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
# Several people: AssociationSettings field -> (lower, upper bound, description); the parameter
# is ``association_<field>``. A lower bound of 0 stands for "> 0" (ranges are closed): the
# settings' own check refuses 0 with the reason. min_views, triangulation, outlier_threshold_px
# and max_joint_std_m are the fusion's parameters above (one owner).
ASSOCIATION_PARAMS: dict[str, tuple[float, float, str]] = {
    'match_gate': (0.0, 10.0, 'Largest track-to-detection cost: confidence-weighted mean '
                   "keypoint distance / the track's projected size (> 0)"),
    'epipolar_gate': (0.0, 1.0, 'Largest symmetric epipolar distance of two detections that '
                      'start a person (normalised image units, ~rad; > 0)'),
    'min_confidence': (0.0, 1.0, 'Keypoints below this confidence take no part in association'),
    'min_joints': (1.0, 17.0, 'Confident joints a detection, and a pair of them, need'),
    'min_valid_joints': (1.0, 17.0, 'Valid triangulated joints a person needs to be measured'),
    'min_inlier_fraction': (0.0, 1.0, "Share of a detection's confident joints the "
                            "triangulation must use, else it was another person's"),
    'birth_instants': (1.0, 100.0, 'Consecutive measured instants before a new person gets an id'),
    'death_timeout_s': (0.0, 600.0, 'A person unmeasured this long (and death_instants '
                        'instants) loses the track; back later, they get a new id (s, > 0)'),
    'death_instants': (0.0, 100.0, 'A person also needs this many unmeasured instants in a row '
                       'to lose the track (low instant rates; 0: the timeout alone)'),
    'max_speed_mps': (0.0, 20.0, "How fast people walk: after a missed instant a track's match "
                      'gate widens by the distance since its last measurement; a track measured '
                      'once continues a new group that far beyond reattach_m (m/s, > 0)'),
    'reattach_m': (0.0, 10.0, 'Mean joint distance under which a new group continues a lost '
                   'track or duplicates a measured one (m, > 0)'),
    'ambiguity_ratio': (0.0, 1.0, 'A two-camera birth needs its pair cost below this fraction '
                        "of each detection's next candidate in the other camera"),
    'duplicate_fraction': (0.0, 1.0, 'Two detections of a camera whose joints lie within this '
                           "fraction of the person's extent are one person"),
    'resolve_m': (0.0, 5.0, "A joint whose views disagree is decided by the track's predicted "
                  'joint within this distance (m; 0: never)'),
    'firm_views': (0.0, 64.0, 'With contested_views: a track with at least this many firm views '
                   'leaves out a view a hidden person may own (0: never; 1 is refused)'),
    'noise_floor': (0.0, 0.99, 'Floor of the keypoint noise estimate as a fraction of the '
                    "person's size in pixels (0: the fixed 0.5 px)"),
    'young_instants': (0.0, 100.0, 'A track measured fewer times than this takes, in a view its '
                       'other views place on another detection, that one or none (0: never)'),
}
ASSOCIATION_NAMES = (*ASSOCIATION_PARAMS, 'human_checks', 'contested_views', 'resolve_bones',
                     'resolve_publish_only')
FEEDBACK_PARAMS = ('feedback', 'smoothing', 'roi_margin', 'roi_min_size', 'roi_max_horizon_s',
                   'roi_search_horizon_s', 'shape_check')
FUSION_SETTINGS = ('min_views', 'triangulation', 'association', *FUSION_PARAMS,
                   *FEEDBACK_PARAMS, *(f'association_{n}' for n in ASSOCIATION_NAMES))


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
    for name, (lo, hi, description) in ASSOCIATION_PARAMS.items():
        default = getattr(_PEOPLE, name)
        node.declare_parameter(f'association_{name}', default, int_param(
            description, int(lo), int(hi)) if isinstance(default, int) else float_param(
            description, lo, hi))
    node.declare_parameter('association_human_checks', _PEOPLE.human_checks, text_param(
        'Robust triangulation of people: drop left/right-swapped views, flag implausible bones'))
    node.declare_parameter('association_contested_views', _PEOPLE.contested_views, text_param(
        "Leave out a track's detection that another track may own as well (two people "
        'overlapping in the view); false: the Hungarian pairing alone decides'))
    node.declare_parameter('association_resolve_bones', _PEOPLE.resolve_bones, text_param(
        "With resolve_m: a joint whose views disagree must keep the person's measured bone "
        'lengths, and three views that do decide it alone; false: the prediction alone'))
    node.declare_parameter('association_resolve_publish_only', _PEOPLE.resolve_publish_only,
                           text_param('Joints decided with resolve_m are published but kept out '
                                      "of the person's track and bone lengths; false: they "
                                      'update the track'))
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
    node.declare_parameter('shape_check', _DEFAULTS.shape_check, text_param(
        "With feedback: flag joints the tracked person's own bone lengths refute (an instant "
        'of another shape, a collapsed shoulder or hip width); false: publish them'))


def fusion_settings(values: dict) -> FusionSettings:
    """Build the settings from parameter values (of :data:`FUSION_SETTINGS`); raises if bad."""
    if values['triangulation'] not in TRIANGULATION_METHODS:
        raise ValueError(f'triangulation must be one of {TRIANGULATION_METHODS}, got '
                         f'{values["triangulation"]!r}')
    feedback = FeedbackSettings(smoothing=values['smoothing'], margin=values['roi_margin'],
                                min_size=values['roi_min_size'],
                                max_horizon_s=values['roi_max_horizon_s'],
                                search_horizon_s=values['roi_search_horizon_s'],
                                shape_check=values['shape_check']) \
        if values['feedback'] else None
    # Built whether or not association is on: a bad value is refused when set, not later.
    people = AssociationSettings(
        min_views=values['min_views'], triangulation=values['triangulation'],
        outlier_threshold_px=values['outlier_threshold_px'],
        max_joint_std_m=values['max_joint_std_m'],
        **{n: values[f'association_{n}'] for n in ASSOCIATION_NAMES})
    return FusionSettings(min_views=values['min_views'], triangulation=values['triangulation'],
                          feedback=feedback, association=values['association'], people=people,
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
