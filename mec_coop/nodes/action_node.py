# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Action node: action events from the edge's skeletons (``mec_coop.action``, glue only).

Subscribes ``skeleton`` (``mec_coop/Skeleton3D``, one person) or, with ``input: skeletons``,
the edge's ``skeletons`` (``mec_coop/Skeleton3DArray``, every tracked person, with
``edge.association``); ``track_id`` separates people. Publishes ``actions``
(``mec_coop/ActionEvent``, one per action occurrence, with its estimated onset and the frames
used), ``actions/markers`` (an RViz text over each person's head: the current action, red while
a reported event is on) and ``/diagnostics`` counts. Parameters: ``frames`` (the model's m; one
of the bundled models, or 0, the default: the m picked on validation streams for the bundled
skeleton rate nearest to the stream's), the detector's ``on_threshold``, ``off_threshold``,
``min_frames``, ``refractory_s`` and ``actions`` (which actions are reported); all validated
together. With ``detector: per_rate`` (the default) the four thresholds are instead those
picked per action on validation streams for the running m at that rate. The rate is
``skeleton_rate_hz``, or with 0 the rate measured from the skeletons' stamps;
``/diagnostics`` says which rate, m and thresholds run.
"""

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
from rclpy.node import Node
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from mec_coop.action.events import DetectorSettings, EVENT_ACTIONS
from mec_coop.action.online import ActionTracker
from mec_coop.action.rates import load_profiles, rate_settings, RateMeter
from mec_coop.action.study import bundled_frame_counts, load_bundled
from mec_coop.msg import ActionEvent, Skeleton3D, Skeleton3DArray
from mec_coop.ros.conversions import from_stamp, skeleton_joints, to_stamp
from mec_coop.ros.diagnostics import diagnostic, diagnostic_array, OK, WARN
from mec_coop.ros.params import float_param, int_param, proposed_values, text_param, verdict
from mec_coop.ros.qos import QOS_RELIABLE
from mec_coop.ros.runtime import spin_node

DETECTOR_PARAMS = ('on_threshold', 'off_threshold', 'min_frames', 'refractory_s', 'actions',
                   'detector', 'skeleton_rate_hz')
DETECTORS = ('per_rate', 'parameters')
# Text above the nose, in metres.
TEXT_LIFT_M = 0.35


def _settings(values):
    return DetectorSettings(float(values['on_threshold']), float(values['off_threshold']),
                            int(values['min_frames']), float(values['refractory_s']),
                            tuple(values['actions']))


class ActionNode(Node):
    """3D action events per tracked person."""

    def __init__(self, **node_kwargs):
        super().__init__('action', **node_kwargs)
        default = DetectorSettings()
        self.declare_parameter('frames', 0, int_param(
            "Skeletons per inference (the paper's m); one of the bundled models' "
            f'{list(bundled_frame_counts("3d"))}, or 0: the m picked on validation streams for '
            'the skeleton rate (models/detectors.json)', 0, 64))
        self.declare_parameter('on_threshold', default.on_threshold, float_param(
            'Probability at which an action event fires', 0.0, 1.0))
        self.declare_parameter('off_threshold', default.off_threshold, float_param(
            'Probability below which the action is over (hysteresis)', 0.0, 1.0))
        self.declare_parameter('min_frames', default.min_frames, int_param(
            'Consecutive skeletons at on_threshold before an event fires', 1, 50))
        self.declare_parameter('refractory_s', default.refractory_s, float_param(
            'Time below off_threshold before the same action can fire again', 0.0, 60.0))
        self.declare_parameter('actions', list(EVENT_ACTIONS), text_param(
            'Actions reported as events'))
        self.declare_parameter('input', 'skeleton', text_param(
            "'skeleton' (Skeleton3D, one person) or 'skeletons' (Skeleton3DArray, every "
            'tracked person)', read_only=True))
        self.declare_parameter('detector', 'per_rate', text_param(
            f"One of {DETECTORS}: 'per_rate' runs the thresholds (on/off, min_frames, "
            'refractory_s) picked per action on validation streams at the bundled skeleton rate '
            "nearest to the stream's; 'parameters' runs those parameters' values"))
        self.declare_parameter('skeleton_rate_hz', 0.0, float_param(
            "Skeleton rate (Hz) the 'per_rate' detector and frames 0 assume; 0: measured from "
            'the stamps',
            0.0, 60.0))
        source = self.get_parameter('input').value
        if source not in ('skeleton', 'skeletons'):
            raise ValueError(f"input must be 'skeleton' or 'skeletons', got {source!r}")
        self.profiles = load_profiles()
        self.profile = None
        # No rate measured yet: the fastest profile (the virtual rig's 5 Hz).
        settings, self.running, m = self._detector(self._values([]), None)
        model = load_bundled('3d', m)
        # Every bundled model has the same horizon: the meter outlives a change of m.
        self.meter = RateMeter(max_gap_s=model.horizon_s)
        self.tracker = ActionTracker(model, settings)
        self.add_on_set_parameters_callback(self._validate)
        self.add_post_set_parameters_callback(self._apply)
        self.published = 0
        self._active_until = {}
        self._pub_events = self.create_publisher(ActionEvent, 'actions', QOS_RELIABLE)
        self._pub_markers = self.create_publisher(MarkerArray, 'actions/markers', QOS_RELIABLE)
        self._pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        if source == 'skeleton':
            self.create_subscription(Skeleton3D, 'skeleton',
                                     lambda msg: self._on_people([msg]), QOS_RELIABLE)
        else:
            self.create_subscription(Skeleton3DArray, 'skeletons',
                                     lambda msg: self._on_people(msg.skeletons), QOS_RELIABLE)
        self.create_timer(1.0, self._publish_diagnostics)

    def _values(self, parameters):
        return proposed_values(self, parameters, ('frames',) + DETECTOR_PARAMS)

    def _validate(self, parameters):
        values = self._values(parameters)
        if values['frames'] and values['frames'] not in bundled_frame_counts('3d'):
            return verdict(f'frames must be 0 (picked per rate) or one of '
                           f'{list(bundled_frame_counts("3d"))} (the bundled models), got '
                           f'{values["frames"]}')
        if values['detector'] not in DETECTORS:
            return verdict(f'detector must be one of {DETECTORS}, got {values["detector"]!r}')
        if 0.0 < values['skeleton_rate_hz'] < 0.2:
            return verdict('skeleton_rate_hz must be 0 (measured) or >= 0.2 Hz, got '
                           f'{values["skeleton_rate_hz"]}')
        return verdict(_settings(values).problem(self.tracker.model.classes))

    def _follows_rate(self):
        """Whether the measured rate picks the detector or m (else parameters fix both)."""
        values = self._values([])
        follows = values['detector'] == 'per_rate' or not values['frames']
        return follows and not values['skeleton_rate_hz']

    def _detector(self, values, measured_hz):
        """Return the detector settings to run, a name for them (diagnostics) and the m."""
        rate = (values['skeleton_rate_hz'] or measured_hz
                or max(p.rate_hz for p in self.profiles))
        self.profile, settings = rate_settings(rate, self.profiles, tuple(values['actions']),
                                               self.profile, values['frames'] or None)
        m = self.profile.m
        if values['detector'] == 'parameters':
            return _settings(values), f'parameters, m {m}', m
        return settings, f'per_rate {self.profile.rate_hz:g} Hz, m {m}', m

    def _configure(self, settings, m):
        model = self.tracker.model
        self.tracker.configure(model if model.m == m else load_bundled('3d', m), settings)

    def _apply(self, parameters):
        settings, self.running, m = self._detector(self._values([]), self.meter.rate_hz)
        self._configure(settings, m)

    def _on_people(self, skeletons):
        markers = [m for m in map(self._on_skeleton, skeletons) if m is not None]
        if markers:
            self._pub_markers.publish(MarkerArray(markers=markers))

    def _on_skeleton(self, msg):
        stamp = from_stamp(msg.header.stamp)
        joints = skeleton_joints(msg)
        self.meter.add(int(msg.track_id), stamp)
        # Between parameter changes (_apply) only a measured rate can change the detector or m.
        if self._follows_rate():
            settings, running, m = self._detector(self._values([]), self.meter.rate_hz)
            if running != self.running:
                self.get_logger().info(f'skeletons at {self.meter.rate_hz or 0.0:.2f} Hz: '
                                       f'detector {running} ({settings})')
                self.running = running
                self._configure(settings, m)
        result = self.tracker.update(int(msg.track_id), stamp, joints)
        if result is None:
            return None
        for event in result.events:
            out = ActionEvent(track_id=msg.track_id, action=event.action,
                              confidence=float(event.confidence), onset=to_stamp(event.onset),
                              frames_used=self.tracker.model.m,
                              source=ActionEvent.SOURCE_EDGE_3D, camera_id='')
            out.header.stamp, out.header.frame_id = msg.header.stamp, msg.header.frame_id
            self._pub_events.publish(out)
            self.published += 1
            self._active_until[msg.track_id] = stamp + 2.0
            self.get_logger().info(f'track {msg.track_id}: {event.action} '
                                   f'({event.confidence:.2f}), onset {event.onset:.2f}')
        return self._text(msg, joints, result, stamp)

    def _text(self, msg, joints, result, stamp):
        marker = Marker(header=msg.header, ns='action', id=int(msg.track_id),
                        type=Marker.TEXT_VIEW_FACING, action=Marker.ADD)
        head = joints[0] if np.all(np.isfinite(joints[0])) else np.nanmean(joints, axis=0)
        marker.pose.position.x, marker.pose.position.y = float(head[0]), float(head[1])
        marker.pose.position.z = float(head[2]) + TEXT_LIFT_M
        marker.pose.orientation.w = 1.0
        marker.scale.z = 0.2
        alert = stamp <= self._active_until.get(msg.track_id, -1.0)
        marker.color = ColorRGBA(r=1.0, g=0.2 if alert else 1.0, b=0.2 if alert else 1.0, a=1.0)
        marker.text = f'{result.label} {float(np.max(result.probabilities)):.2f}'
        marker.lifetime.sec = 1
        return marker

    def _publish_diagnostics(self):
        counts = self.tracker.counts
        level = WARN if counts['out_of_order'] or counts['empty'] else OK
        self._pub_diag.publish(diagnostic_array(self, [diagnostic(
            'mec_coop/action', 'edge', level, f'{self.published} events',
            {**counts, 'published': self.published, 'frames': self.tracker.model.m,
             'detector': self.running, 'skeleton_rate_hz': self.meter.rate_hz or 0.0,
             **{f'thresholds {a}': v for a, v in self.tracker.settings.thresholds().items()}})]))


def main(args=None):
    spin_node(ActionNode, args)


if __name__ == '__main__':
    main()
