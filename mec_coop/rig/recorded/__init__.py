# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
A recorded real rig: calibrated multi-camera videos played back as frame-aligned views.

:mod:`.demos` finds the data (Pose2Sim's demos or a folder of your own), :mod:`.qualisys` reads
the calibration, :mod:`.video` the videos, :mod:`.playback` plays them back in step
(:class:`RecordedRig`) and :mod:`.offsets` estimates the cameras' temporal offsets
(``python -m mec_coop.rig.recorded``).
"""

from .demos import DEMOS, find_calibration, find_videos, INSTALL_HINT, pose2sim_root, resolve_demo
from .offsets import (detect_videos, estimate_offsets, load_detections, match_people,
                      OffsetEstimate, save_detections)
from .playback import RecordedRig, RigFrame
from .qualisys import read_qca
from .video import (fit_camera_to_video, iter_video, probe_video, VideoInfo, VideoReader,
                    VideoReadError)

__all__ = [
    'DEMOS', 'detect_videos', 'estimate_offsets', 'find_calibration', 'find_videos',
    'fit_camera_to_video', 'INSTALL_HINT', 'iter_video', 'load_detections', 'match_people',
    'OffsetEstimate', 'pose2sim_root', 'probe_video', 'read_qca', 'RecordedRig', 'resolve_demo',
    'RigFrame', 'save_detections', 'VideoInfo', 'VideoReader', 'VideoReadError',
]
