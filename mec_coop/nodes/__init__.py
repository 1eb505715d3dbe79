# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""rclpy nodes: thin glue between ROS topics/parameters and the core (one node per file)."""
