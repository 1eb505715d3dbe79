# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The ROS boundary: every message conversion, QoS profile, parameter descriptor and launch glue.

Only this package and :mod:`mec_coop.nodes` import rclpy or ``*_msgs`` (``test/test_layout.py``
checks it); everything else is the pure core. It is left out of the pip wheel of the core.
"""
