# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The virtual rig: a rendered room with calibrated cameras, moving people and ground truth.

:mod:`.layout` places the room, furniture and cameras, :mod:`.humanoid` moves the people and
:mod:`.body` builds their figures, :mod:`.room` and :mod:`.render` draw the views, and
:mod:`.rig` ties them together into labelled frames (:class:`VirtualRig`).
"""

from .humanoid import ACTIONS, Appearance, BodyPose, Humanoid
from .layout import Box, camera_positions, default_furniture, make_cameras, MAX_CAMERAS, Room
from .render import ViewRenderer
from .rig import RigFrame, VirtualRig

__all__ = [
    'ACTIONS', 'Appearance', 'BodyPose', 'Box', 'camera_positions', 'default_furniture',
    'Humanoid', 'make_cameras', 'MAX_CAMERAS', 'RigFrame', 'Room', 'ViewRenderer', 'VirtualRig',
]
