# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Cameras, triangulation and pose metrics (pure numpy/scipy/OpenCV, no ROS)."""
