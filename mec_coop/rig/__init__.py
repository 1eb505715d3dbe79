# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Camera rigs that feed the pipeline: recorded real videos and virtual renders (no ROS)."""
