# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Uplink emulator node: the wireless camera -> base-station hop.

Eq. (16) of "Cooperative Inference for Real-Time 3D Human Pose Estimation in Multi-Device Edge
Networks".

For every camera in ``cameras`` it forwards ``<cam>/keypoints``, ``<cam>/offload`` and
``<cam>/split`` to ``edge/<cam>/...`` after the message's airtime over the
camera's TDMA share (plus queueing behind the camera's earlier messages), and writes both times
into the message when it leaves. A change of share re-times the airtime still queued (a TDMA
scheduler serves bits at the current share), and no more messages of a topic wait on the link
than its QoS depth (a newer offload replaces the oldest waiting one, counted as ``replaced``),
as the camera's KEEP_LAST writer history would on a real link. Message sizes are the real
serialized (CDR) sizes. ``enabled: false`` forwards at once, for real networks. Shares and
channel gains are parameters (``tdma_share.<cam>``, ``channel_gain_db.<cam>``) that the
allocator, or a user with ``ros2 param set``, changes live. ``fading`` picks the channel model
of the gains (:data:`~mec_coop.coop.uplink.FADINGS`: fixed, or paper D's Gaussian block fading
drawn per message from ``fading_seed``).
This node owns the link: it publishes its state on ``uplink/link_state`` (``mec_coop/LinkState``,
latched) at start and on every change, and the allocator plans with that.
"""

import time

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from rclpy.serialization import serialize_message

from mec_coop.coop.uplink import FADINGS, LinkBudget, TdmaUplink
from mec_coop.msg import LinkState, OffloadRequest, PoseKeypoints2D, SplitTensor
from mec_coop.ros.diagnostics import diagnostic, diagnostic_array, OK, WARN
from mec_coop.ros.params import (declare_cameras, float_param, int_param, proposed_values,
                                 text_param, verdict)
from mec_coop.ros.qos import QOS_LATCHED, QOS_OFFLOAD, QOS_RELIABLE
from mec_coop.ros.runtime import spin_node

LINK_PARAMS = ('bandwidth_hz', 'tx_power_dbm', 'noise_dbm_per_hz')
# Shortest wait the delivery timer is armed for (a zero period would spin the executor).
MIN_WAIT_S = 0.0005


class UplinkNode(Node):
    """TDMA uplink emulator between camera nodes and the edge node."""

    def __init__(self, **node_kwargs):
        super().__init__('uplink', **node_kwargs)
        self.cameras = declare_cameras(self)
        self.declare_parameter('enabled', True, text_param(
            'Emulate airtime and queueing; false forwards immediately'))
        self.declare_parameter('bandwidth_hz', 1e6, float_param('Uplink bandwidth B', 1e3, 1e10))
        self.declare_parameter('tx_power_dbm', 30.0, float_param('Transmit power P', -30, 60))
        self.declare_parameter('noise_dbm_per_hz', -165.0, float_param('Noise density N0',
                                                                       -220, -100))
        fading = text_param(
            f'Channel model of the gains, one of {list(FADINGS)}: none (fixed) or gaussian '
            '(per message the power gain is |h|, h ~ N(0, g^2), paper D eq. (2))')
        fading.additional_constraints = f'one of {list(FADINGS)}'
        self.declare_parameter('fading', 'none', fading)
        self.declare_parameter('fading_seed', 0, int_param(
            'Seed of the fading draws', 0, 2**31 - 1, read_only=True))
        for cam in self.cameras:
            self.declare_parameter(f'tdma_share.{cam}', 1.0 / len(self.cameras), float_param(
                f'Airtime share tau of {cam} (shares sum to at most 1)', 0.0, 1.0))
            self.declare_parameter(f'channel_gain_db.{cam}', -100.0, float_param(
                f'Channel power gain g of {cam}', -200.0, 0.0))
        self.link = TdmaUplink(seed=self.get_parameter('fading_seed').value)
        self.stats = {cam: {'messages': 0, 'bytes': 0, 'airtime_s': 0.0, 'max_queueing_s': 0.0,
                            'replaced': 0} for cam in self.cameras}
        # Armed for the earliest delivery only: a fixed 2 ms poll cost a fifth of a core.
        self._timer = self.create_timer(1.0, self._deliver)
        self._timer.cancel()
        self._pub_link = self.create_publisher(LinkState, 'uplink/link_state', QOS_LATCHED)
        self.add_on_set_parameters_callback(self._validate)
        self.add_post_set_parameters_callback(self._apply)
        self._apply([])

        for cam in self.cameras:
            for kind, cls in (('keypoints', PoseKeypoints2D), ('offload', OffloadRequest),
                              ('split', SplitTensor)):
                # Images and tensors: a bounded backlog on a slow link.
                qos = QOS_RELIABLE if kind == 'keypoints' else QOS_OFFLOAD
                pub = self.create_publisher(cls, f'edge/{cam}/{kind}', qos)
                self.create_subscription(
                    cls, f'{cam}/{kind}',
                    lambda msg, cam=cam, pub=pub, kind=kind, depth=qos.depth:
                    self._on_message(cam, pub, msg, kind, depth), qos)
        self._pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_timer(1.0, self._publish_diagnostics)

    def _share_names(self):
        return [f'tdma_share.{cam}' for cam in self.cameras]

    def _validate(self, parameters):
        fading = proposed_values(self, parameters, ('fading',))['fading']
        if fading not in FADINGS:
            return verdict(f'fading must be one of {list(FADINGS)}, got {fading!r}')
        values = proposed_values(self, parameters, self._share_names())
        return verdict(TdmaUplink.share_problem(
            {name.split('.', 1)[1]: value for name, value in values.items()}))

    def _apply(self, _parameters):
        # Airtime still queued is served at the new shares from now on (the link re-times it).
        self.link.configure(
            shares={cam: self.get_parameter(f'tdma_share.{cam}').value for cam in self.cameras},
            gains_db={cam: self.get_parameter(f'channel_gain_db.{cam}').value
                      for cam in self.cameras},
            budget=LinkBudget(*(self.get_parameter(p).value for p in LINK_PARAMS),
                              fading=self.get_parameter('fading').value),
            now=time.monotonic())
        self._arm(time.monotonic())
        self.enabled = self.get_parameter('enabled').value
        state = LinkState(enabled=self.enabled, camera_ids=self.cameras, **{
            name: float(self.get_parameter(name).value) for name in LINK_PARAMS})
        state.fading = self.get_parameter('fading').value
        state.channel_gain_db = [float(self.get_parameter(f'channel_gain_db.{cam}').value)
                                 for cam in self.cameras]
        state.tdma_share = [float(self.get_parameter(f'tdma_share.{cam}').value)
                            for cam in self.cameras]
        state.header.stamp = self.get_clock().now().to_msg()
        self._pub_link.publish(state)

    def _on_message(self, cam, pub, msg, kind, depth):
        now = time.monotonic()
        size = len(serialize_message(msg))
        stats = self.stats[cam]
        stats['messages'] += 1
        stats['bytes'] += size
        if not self.enabled:
            pub.publish(msg)
            return
        # At most the topic's depth may wait on the link, as in the camera's writer history.
        delivery = self.link.send(cam, size, now, (cam, pub, msg), kind, depth)
        stats['airtime_s'] += delivery.airtime_s
        for replaced, _, _ in self.link.take_replaced():
            self.stats[replaced]['replaced'] += 1
        if self.link.next_due() == delivery.done_at:
            self._arm(now)

    def _deliver(self):
        now = time.monotonic()
        # The times are written when the message leaves: a re-plan may have re-timed it.
        for (cam, pub, msg), delivery in self.link.due(now):
            msg.uplink_airtime_s = float(delivery.airtime_s)
            msg.uplink_queueing_s = float(delivery.queueing_s)
            stats = self.stats[cam]
            stats['max_queueing_s'] = max(stats['max_queueing_s'], delivery.queueing_s)
            pub.publish(msg)
        self._arm(now)

    def _arm(self, now):
        due = self.link.next_due()
        if due is None:
            self._timer.cancel()
            return
        self._timer.timer_period_ns = int(max(due - now, MIN_WAIT_S) * 1e9)
        self._timer.reset()

    def _publish_diagnostics(self):
        statuses = []
        now = time.monotonic()
        for cam in self.cameras:
            backlog = self.link.backlog_s(cam, now)
            level = OK if backlog < 1.0 else WARN
            statuses.append(diagnostic(
                f'mec_coop/uplink/{cam}', cam, level, f'backlog {backlog:.3f} s',
                {**self.stats[cam], 'tdma_share': self.get_parameter(f'tdma_share.{cam}').value,
                 'rate_bps': f'{self.link.rate_bps(cam):.0f}', 'enabled': self.enabled,
                 'fading': self.link.budget.fading}))
        self._pub_diag.publish(diagnostic_array(self, statuses))


def main(args=None):
    spin_node(UplinkNode, args)


if __name__ == '__main__':
    main()
