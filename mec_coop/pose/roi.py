# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Regions of interest: square crops around where a person is expected in a camera image.

At imgsz 320 a 1280x720 frame is shrunk 4x and a person 100-200 px tall becomes 25-50 px, too
small for a nano pose model. The edge knows each person's 3D track; projected into a camera it
says where to look. Running the model on a square crop around that place, resized to the model
input, gives the person about two thirds of the input (200-230 px of 320) instead (issue 10).

Conventions (all chosen so that the crop <-> full-image mapping is exact):

* Pixel coordinates are continuous with pixel ``(i, j)``'s centre at ``x = i, y = j``, the
  convention of :meth:`~mec_coop.geometry.camera.PinholeCamera.project` (``cx = (W - 1) / 2``)
  and of ``cv2.resize``.
* A :class:`Roi` is an integer square ``[x0, x0 + size) x [y0, y0 + size)`` of full-image pixels,
  so cropping is slicing and crop pixel ``u`` is full-image pixel ``x0 + u``.
* A crop resized to ``n x n`` (the model input) maps by ``cv2.resize``'s half-pixel rule,
  ``x = x0 + (u + 0.5) * size / n - 0.5``; :meth:`Roi.to_crop` is its exact inverse. No
  letterbox: the crop is square, so resizing it to a square input needs no padding.
* Borders: a square that fits in the image is shifted inside it (every model input pixel is a
  real pixel); one larger than the image's short side stays centred on the person and its part
  outside the image is padded with :data:`PAD_VALUE`, the grey Ultralytics pads letterboxes with.
"""

from dataclasses import dataclass
import math
from typing import List, Optional

import cv2
import numpy as np

# Ultralytics' letterbox grey: what the model saw around images during training.
PAD_VALUE = 114
# Crop side / extent of the predicted keypoints; the issue-10 experiment used 1.4 with ~15 px of
# prediction error and found the person in 99% of positive views.
DEFAULT_MARGIN = 1.4
# Smallest crop side in pixels, half the camera model's 320 input: a small person is upscaled at
# most 2x (upscaling further adds blur, not detail), and the crop leaves room for the prediction
# error around them. On the virtual rig (benchmarks/camera_roi.py, 300
# views) 64 / 128 / 160 / 224 / 320 found the person in 98.1 / 98.5 / 99.3 / 99.3 / 97.8% of
# positive views, with a median 2D error of 3.1 / 3.1 / 3.0 / 3.3 / 4.1 px.
DEFAULT_MIN_SIZE = 160
# Largest input crops of people run at (see crop_input_size).
MAX_CROP_INPUT = 640


@dataclass(frozen=True)
class Roi:
    """
    A square crop ``[x0, x0 + size) x [y0, y0 + size)`` of a ``image_width x image_height`` image.

    ``x0`` and ``y0`` may be negative and the square may extend past the image (padded); it must
    overlap the image.
    """

    x0: int
    y0: int
    size: int
    image_width: int
    image_height: int

    def __post_init__(self):
        values = (self.x0, self.y0, self.size, self.image_width, self.image_height)
        for name, value in zip(('x0', 'y0', 'size', 'image_width', 'image_height'), values):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f'Roi.{name} must be an integer, got {value!r}')
            object.__setattr__(self, name, int(value))
        if self.size <= 0:
            raise ValueError(f'Roi.size must be positive, got {self.size}')
        if self.image_width <= 0 or self.image_height <= 0:
            raise ValueError(f'Roi image size must be positive, got '
                             f'{self.image_width}x{self.image_height}')
        if (self.x0 >= self.image_width or self.y0 >= self.image_height
                or self.x0 + self.size <= 0 or self.y0 + self.size <= 0):
            raise ValueError(f'Roi {self.box} does not overlap the '
                             f'{self.image_width}x{self.image_height} image')

    @property
    def box(self) -> tuple:
        """``(x_min, y_min, x_max, y_max)``, the max exclusive, in full-image pixels."""
        return self.x0, self.y0, self.x0 + self.size, self.y0 + self.size

    @property
    def padded(self) -> bool:
        """Whether part of the square lies outside the image."""
        return (self.x0 < 0 or self.y0 < 0 or self.x0 + self.size > self.image_width
                or self.y0 + self.size > self.image_height)

    def _scale(self, input_size):
        if input_size is None:
            return 1.0, 0.0
        if input_size <= 0:
            raise ValueError(f'input_size must be positive, got {input_size}')
        s = self.size / float(input_size)
        return s, 0.5 * s - 0.5

    def to_full(self, points, input_size: Optional[int] = None) -> np.ndarray:
        """
        Full-image pixels ``(..., 2)`` of crop pixels ``(..., 2)``; NaN stays NaN.

        :param input_size: side the crop was resized to before the model, ``None`` if not resized.
        """
        s, offset = self._scale(input_size)
        points = np.asarray(points, dtype=np.float64)
        return points * s + offset + np.array([self.x0, self.y0], dtype=np.float64)

    def to_crop(self, points, input_size: Optional[int] = None) -> np.ndarray:
        """Crop pixels ``(..., 2)`` (of the crop resized to ``input_size``) of full pixels."""
        s, offset = self._scale(input_size)
        points = np.asarray(points, dtype=np.float64)
        return (points - np.array([self.x0, self.y0], dtype=np.float64) - offset) / s

    def contains(self, points) -> np.ndarray:
        """Boolean mask ``(...)`` of full-image pixels whose nearest pixel is in the square."""
        points = np.asarray(points, dtype=np.float64)
        with np.errstate(invalid='ignore'):
            lo = np.array([self.x0, self.y0]) - 0.5
            return np.all((points >= lo) & (points < lo + self.size), axis=-1)

    def widened(self, factor: float) -> 'Roi':
        """Return the square ``factor`` times as large with the same centre, placed like a crop."""
        half = 0.5 * self.size * factor
        cx, cy = self.x0 + 0.5 * (self.size - 1), self.y0 + 0.5 * (self.size - 1)
        widened = roi_from_keypoints([[cx - half, cy - half], [cx + half, cy + half]],
                                     self.image_width, self.image_height, 1.0, 1)
        assert widened is not None  # the square keeps this one's centre, inside the image
        return widened

    def crop(self, image, input_size: Optional[int] = None) -> np.ndarray:
        """
        Cut the square out of ``image`` (``H x W x C``), padded outside it, optionally resized.

        Resizing is bilinear, as Ultralytics' letterbox resizes full frames, so the model sees
        crops as it sees frames, and the content of the resized crop sits exactly where
        :meth:`to_full` says (area averaging would shift it by up to 0.08 px).
        """
        height, width = image.shape[:2]
        if (width, height) != (self.image_width, self.image_height):
            raise ValueError(f'Roi is for {self.image_width}x{self.image_height} images, got '
                             f'{width}x{height}')
        x0, y0, x1, y1 = self.box
        cx0, cy0 = max(x0, 0), max(y0, 0)
        cx1, cy1 = min(x1, width), min(y1, height)
        if self.padded:
            out = np.full((self.size, self.size) + image.shape[2:], PAD_VALUE, image.dtype)
            out[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0] = image[cy0:cy1, cx0:cx1]
        else:
            out = image[y0:y1, x0:x1]
        if input_size is None or input_size == self.size:
            return np.ascontiguousarray(out)
        return cv2.resize(out, (int(input_size), int(input_size)), interpolation=cv2.INTER_LINEAR)


def roi_from_keypoints(keypoints, image_width: int, image_height: int,
                       margin: float = DEFAULT_MARGIN,
                       min_size: int = DEFAULT_MIN_SIZE) -> Optional[Roi]:
    """
    Place the crop of one person's predicted keypoints; ``None`` when it would miss the image.

    The square around the finite keypoints has side ``margin`` times their longest extent (at
    least ``min_size``) and is cut to the image; the result is the smallest square covering that
    cut (to within half a pixel of rounding), at least ``min_size``, centred on it and shifted
    inside the image when it fits. So a person partly outside the image gets a crop around the
    part inside it.

    :param keypoints: ``(J, 2)`` predicted pixels (distorted, as the camera sees them); NaN
        joints are ignored, joints outside the image are allowed.
    :param margin: crop side / keypoint extent, ``>= 1``.
    :param min_size: smallest crop side in pixels, ``>= 1``.
    """
    if not (math.isfinite(margin) and margin >= 1.0):
        raise ValueError(f'margin must be finite and >= 1, got {margin}')
    if not min_size >= 1:
        raise ValueError(f'min_size must be >= 1, got {min_size}')
    if image_width <= 0 or image_height <= 0:
        raise ValueError(f'image size must be positive, got {image_width}x{image_height}')
    points = np.asarray(keypoints, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f'keypoints must have shape (J, 2), got {points.shape}')
    points = points[np.all(np.isfinite(points), axis=1)]
    if not len(points):
        return None
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = 0.5 * (lo + hi)
    half = 0.5 * max(margin * float(np.max(hi - lo)), float(min_size))
    # Cut to the image's pixel area [-0.5, W - 0.5) x [-0.5, H - 0.5).
    cut_lo = np.maximum(centre - half, -0.5)
    cut_hi = np.minimum(centre + half, np.array([image_width, image_height]) - 0.5)
    if np.any(cut_hi <= cut_lo):
        return None
    size = int(math.ceil(max(float(np.max(cut_hi - cut_lo)), float(min_size))))
    # Pixel x0's area starts at x0 - 0.5: round so the square's centre is nearest the cut's.
    x0, y0 = (int(math.floor(c - 0.5 * size + 1.0)) for c in 0.5 * (cut_lo + cut_hi))
    if size <= image_width:
        x0 = min(max(x0, 0), image_width - size)
    if size <= image_height:
        y0 = min(max(y0, 0), image_height - size)
    return Roi(x0, y0, size, image_width, image_height)


def rois_from_people(people_keypoints, image_width: int, image_height: int,
                     margin: float = DEFAULT_MARGIN,
                     min_size: int = DEFAULT_MIN_SIZE) -> List[Roi]:
    """Place the crops of predicted people ``(P, J, 2)``, skipping those outside the image."""
    rois = (roi_from_keypoints(kp, image_width, image_height, margin, min_size)
            for kp in np.asarray(people_keypoints, dtype=np.float64))
    return [roi for roi in rois if roi is not None]


def crops_for_model(people_keypoints, image_width: int, image_height: int,
                    input_size: Optional[int]) -> List[Roi]:
    """
    Crops around people already found, for a model with square input ``input_size``.

    The smallest crop is half the input, as the camera's :data:`DEFAULT_MIN_SIZE` is of its 320:
    a crop upscaled more blurs the person. The edge's model at imgsz 960 on the camera's
    160 px crops of offloaded frames gave an MPJPE of 120 mm, on 480 px crops 61 mm (virtual
    rig, seed 7, ``benchmarks/closed_loop.py``). ``None`` input size: :data:`DEFAULT_MIN_SIZE`.
    """
    min_size = DEFAULT_MIN_SIZE if input_size is None else max(1, int(input_size) // 2)
    return rois_from_people(people_keypoints, image_width, image_height, DEFAULT_MARGIN,
                            min_size)


def crop_input_size(model_input_size: Optional[int]) -> Optional[int]:
    """
    Input size for crops of a model that takes ``model_input_size`` on whole frames.

    A whole 1280x720 frame letterboxes to 960x544 at imgsz 960; a square crop at 960 costs
    1.75x that (143 vs 82 ms here), so crops run at most at :data:`MAX_CROP_INPUT`.
    """
    if model_input_size is None:
        return None
    return min(int(model_input_size), MAX_CROP_INPUT)
