# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
A recorded real rig: calibrated multi-camera videos played back as frame-aligned views.

Camera offsets default to 0: the demos need none (see :mod:`.offsets`).
"""

from collections.abc import Iterator, Mapping
import itertools
import math
import os
from typing import NamedTuple

import numpy as np

from .demos import DEMOS, find_calibration, find_videos, resolve_demo
from .qualisys import read_qca
from .video import fit_camera_to_video, probe_video, VideoReader


class RigFrame(NamedTuple):
    """One frame-aligned set of views, ``images[i]`` from ``cameras[i]``."""

    # Shadows tuple.index, which mypy flags; the field name is the API the nodes and tests use.
    index: int  # type: ignore[assignment]
    stamp_s: float
    images: list[np.ndarray]


class RecordedRig:
    """
    Calibrated videos of several cameras, played back as frame-aligned views.

    :param demo: ``'Demo_SinglePerson'``, ``'Demo_MultiPerson'`` (Pose2Sim's demos) or a folder
        holding ``videos/<camera>.mp4`` and ``calibration/*.qca.txt`` (or the calibration in its
        parent folder, as in Pose2Sim batch sessions).
    :param rate_hz: playback rate; source frames are skipped to reach it (default: video rate).
    :param offsets: ``{camera: frames}``; frame ``n`` of the common timeline is source frame
        ``n + offsets[camera] - min(offsets)`` of that camera, so a positive offset means the
        camera started recording earlier. Missing cameras get 0 (the default for all: the demos
        need no offset, see :mod:`.offsets`).
    :param binning_factor: see :func:`read_qca`.
    """

    def __init__(self, demo: str | os.PathLike[str] = 'Demo_SinglePerson',
                 rate_hz: float | None = None, offsets: Mapping[str, int] | None = None,
                 binning_factor: int = 1) -> None:
        self.folder = resolve_demo(demo)
        self.name = str(demo) if str(demo) in DEMOS else self.folder.name
        self.calibration_path = find_calibration(self.folder)
        calibrated = read_qca(self.calibration_path, binning_factor)
        self.video_paths = find_videos(self.folder, [cam.name for cam in calibrated])
        self.videos = {cam.name: probe_video(self.video_paths[cam.name]) for cam in calibrated}
        self.cameras = tuple(fit_camera_to_video(cam, self.videos[cam.name].width,
                                                 self.videos[cam.name].height)
                             for cam in calibrated)
        self.camera_names = tuple(cam.name for cam in self.cameras)

        rates = {name: info.fps for name, info in self.videos.items()}
        self.source_fps = float(np.median(list(rates.values())))
        if any(abs(fps - self.source_fps) > 1e-3 * self.source_fps for fps in rates.values()):
            raise ValueError(f'{self.folder}: the videos have different frame rates {rates}; '
                             'frame-index alignment needs one rate')
        if rate_hz is None:
            rate_hz = self.source_fps
        if not 0 < rate_hz <= self.source_fps:
            raise ValueError(f'rate_hz must be in (0, {self.source_fps:g}], got {rate_hz}')
        self.rate_hz = float(rate_hz)
        self.step = self.source_fps / self.rate_hz

        offsets = {} if offsets is None else dict(offsets)
        unknown = sorted(set(offsets) - set(self.camera_names))
        if unknown:
            raise ValueError(f'offsets for unknown camera(s) {unknown}; cameras: '
                             f'{list(self.camera_names)}')
        self.offsets = {}
        for name in self.camera_names:
            value = offsets.get(name, 0)
            if int(value) != value:
                raise ValueError(f'offset of {name!r} must be a whole number of frames, '
                                 f'got {value}')
            self.offsets[name] = int(value)
        low = min(self.offsets.values())
        self.first_frame = {name: off - low for name, off in self.offsets.items()}
        self.num_source_frames = min(self.videos[name].frame_count - self.first_frame[name]
                                     for name in self.camera_names)
        if self.num_source_frames <= 0:
            raise ValueError(f'offsets {self.offsets} leave no frame common to all cameras '
                             f'(frame counts {self._counts()})')

    def _counts(self) -> dict[str, int]:
        return {name: info.frame_count for name, info in self.videos.items()}

    @property
    def projections(self) -> np.ndarray:
        """``(V, 3, 4)`` projection matrices (for undistorted pixels), camera order."""
        return np.stack([cam.P for cam in self.cameras])

    def __len__(self) -> int:
        return int(math.floor((self.num_source_frames - 1) / self.step + 1e-9)) + 1

    def timeline_index(self, index: int) -> int:
        """Common-timeline source frame of rig frame ``index``."""
        if not 0 <= index < len(self):
            raise IndexError(f'rig frame {index} is outside 0..{len(self) - 1}')
        return int(round(index * self.step))

    def source_indices(self, index: int) -> dict[str, int]:
        """``{camera: source frame}`` of rig frame ``index``."""
        n = self.timeline_index(index)
        return {name: n + self.first_frame[name] for name in self.camera_names}

    def stamp(self, index: int) -> float:
        """Seconds from the first common frame to rig frame ``index``."""
        return self.timeline_index(index) / self.source_fps

    def __iter__(self) -> Iterator[RigFrame]:
        return self.frames()

    def frames(self, start: int = 0, stop: int | None = None,
               loop: bool = False) -> Iterator[RigFrame]:
        """
        Yield :class:`RigFrame` ``(index, stamp_s, images)`` for rig frames ``start..stop-1``.

        With ``loop`` the frames ``start..stop-1`` repeat without end; indices keep counting up
        by one and stamps keep increasing (a lap lasts ``(stop - start) / rate_hz`` seconds), so
        consumers see contiguous sequence numbers and monotonic time.
        """
        count = len(self)
        stop = count if stop is None else min(stop, count)
        if not 0 <= start < stop:
            raise IndexError(f'frame range {start}..{stop} is empty or outside 0..{count - 1}')
        readers = [VideoReader(self.video_paths[name], self.videos[name].frame_count,
                               (cam.width, cam.height))
                   for name, cam in zip(self.camera_names, self.cameras)]
        span = stop - start
        try:
            for lap in itertools.count():
                for index in range(start, stop):
                    sources = self.source_indices(index)
                    images = [reader.read(sources[name])
                              for reader, name in zip(readers, self.camera_names)]
                    yield RigFrame(index + lap * span,
                                   self.stamp(index) + lap * span / self.rate_hz, images)
                if not loop:
                    return
        finally:
            for reader in readers:
                reader.close()
