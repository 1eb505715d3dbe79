# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""2D pose model backends behind one interface (:class:`PoseBackend`)."""

from mec_coop.pose.backend import PoseBackend, PoseEstimate

__all__ = ['PoseBackend', 'PoseEstimate']
