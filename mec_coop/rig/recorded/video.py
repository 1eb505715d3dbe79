# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Reading the videos of a recorded rig: probing, frame-exact decoding, fitting the calibration.

Some demo videos are 1080 pixels wide, not the calibrated 1088 (a codec crop). The camera keeps
K and takes the video's size, i.e. the crop is assumed on the right. Shifting cx by -4 or -8 px
(a centred or left crop) raised the median reprojection error from 19.06 px to 19.35 or
19.60 px, +4 px gave 19.03 px: the data favour no shift, weakly.
"""

from collections.abc import Iterator
from dataclasses import dataclass
import os
from pathlib import Path

import cv2
import numpy as np

from mec_coop.geometry.camera import PinholeCamera

# H.264/HEVC code frames in 16-pixel macroblocks; an encoder that crops 1088 to 1080 keeps the
# top-left origin, so a video up to this much smaller than the calibrated field of view keeps K.
_MAX_CODEC_CROP = 15


class VideoReadError(RuntimeError):
    """A video could not be opened, or a frame inside its reported length could not be decoded."""


@dataclass(frozen=True)
class VideoInfo:
    """What OpenCV reports about one video file."""

    path: Path
    width: int
    height: int
    fps: float
    frame_count: int


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """:class:`VideoInfo` of a video; raises :class:`VideoReadError` if it cannot be opened."""
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise VideoReadError(f'{path}: OpenCV cannot open this video')
        info = VideoInfo(Path(path), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                         int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), float(cap.get(cv2.CAP_PROP_FPS)),
                         int(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
    finally:
        cap.release()
    if info.width <= 0 or info.height <= 0 or info.frame_count <= 0 or not info.fps > 0:
        raise VideoReadError(f'{path}: unusable video ({info.width}x{info.height}, '
                             f'{info.fps} fps, {info.frame_count} frames)')
    return info


def fit_camera_to_video(camera: PinholeCamera, width: int, height: int) -> PinholeCamera:
    """``camera`` with the size of its video; only a codec crop (right/bottom) is accepted."""
    if (width, height) == (camera.width, camera.height):
        return camera
    dw, dh = camera.width - width, camera.height - height
    if not (0 <= dw <= _MAX_CODEC_CROP and 0 <= dh <= _MAX_CODEC_CROP):
        raise ValueError(f'camera {camera.name!r}: video is {width}x{height} but the calibration '
                         f'is for {camera.width}x{camera.height}')
    return PinholeCamera(camera.name, width, height, camera.K, camera.R, camera.t, camera.dist,
                         camera.distortion_model)


def iter_video(path: str | os.PathLike[str],
               frame_count: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """
    Yield ``(source index, BGR image)`` of every frame; a frame that fails raises.

    ``frame_count`` (default: the count the container reports) is how many frames must decode;
    a failure before it raises :class:`VideoReadError`, so a truncated file is never mistaken for
    the end of the recording.
    """
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise VideoReadError(f'{path}: OpenCV cannot open this video')
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if frame_count is None else frame_count
        for index in range(count):
            ok, image = cap.read()
            if not ok or image is None:
                raise VideoReadError(f'{path}: frame {index} could not be decoded '
                                     f'(the video reports {count} frames)')
            yield index, image
    finally:
        cap.release()


class VideoReader:
    """Sequential reader of one video that can skip ahead (grab) and restart (reopen)."""

    def __init__(self, path: str | os.PathLike[str], frame_count: int,
                 size: tuple[int, int]) -> None:
        self.path, self.frame_count, self.size = path, frame_count, size
        self.cap: cv2.VideoCapture | None = None
        self.position = 0

    def read(self, index: int) -> np.ndarray:
        """BGR image of source frame ``index``; raises :class:`VideoReadError` if it fails."""
        if not 0 <= index < self.frame_count:
            raise VideoReadError(f'{self.path}: frame {index} is outside '
                                 f'0..{self.frame_count - 1}')
        if self.cap is None or index < self.position:
            self.close()
            self.cap = cv2.VideoCapture(str(self.path))
            if not self.cap.isOpened():
                raise VideoReadError(f'{self.path}: OpenCV cannot open this video')
            self.position = 0
        # Decoding is sequential: seeking by CAP_PROP_POS_FRAMES lands on key frames for some
        # codecs, which would silently break the alignment between cameras.
        while self.position < index:
            if not self.cap.grab():
                raise VideoReadError(f'{self.path}: frame {self.position} could not be read '
                                     f'(the video reports {self.frame_count} frames)')
            self.position += 1
        ok, image = self.cap.read()
        if not ok or image is None:
            raise VideoReadError(f'{self.path}: frame {index} could not be decoded '
                                 f'(the video reports {self.frame_count} frames)')
        self.position += 1
        if image.shape[1::-1] != self.size:
            raise VideoReadError(f'{self.path}: frame {index} is {image.shape[1]}x'
                                 f'{image.shape[0]}, expected {self.size[0]}x{self.size[1]}')
        return image

    def close(self) -> None:
        """Release the decoder; the next :meth:`read` reopens the file."""
        if self.cap is not None:
            self.cap.release()
            self.cap = None
