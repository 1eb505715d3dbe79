# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""QoS profiles of the graph's topics (README, "Topics")."""

from rclpy.qos import (DurabilityPolicy, HistoryPolicy, qos_profile_sensor_data, QoSProfile,
                       ReliabilityPolicy)

# Images: newest only, loss is fine (sensor-data QoS, depth 1).
QOS_IMAGES = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                        reliability=qos_profile_sensor_data.reliability,
                        durability=DurabilityPolicy.VOLATILE)
# Keypoints, offload requests, skeletons: every message matters.
QOS_RELIABLE = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=20,
                          reliability=ReliabilityPolicy.RELIABLE)
# Offloaded images: every one matters, but only the newest two may wait. With the depth of
# QOS_RELIABLE, 20 fragmented JPEGs could queue for retransmission on a slow link (seconds of
# backlog at 2 Mbit/s); a frame that old is useless to the edge anyway (sync timeout).
QOS_OFFLOAD = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=2,
                         reliability=ReliabilityPolicy.RELIABLE)
# Calibration, link state, allocation: late joiners must still get the last message.
QOS_LATCHED = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                         reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
QOS_TF_STATIC = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100,
                           reliability=ReliabilityPolicy.RELIABLE,
                           durability=DurabilityPolicy.TRANSIENT_LOCAL)
