# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Edge fusion: view synchronisation, tracking, robust fusion (pure, no ROS)."""
