# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Drawing skeletons on camera images and tiling views into one picture (for PNG reports)."""

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import ArrayLike

from mec_coop.geometry.skeleton import COCO_BONES


def draw_skeleton(image: np.ndarray, pixels: ArrayLike, valid: ArrayLike | None = None,
                  color: tuple[int, int, int] = (0, 220, 0), thickness: int = 2) -> np.ndarray:
    """Draw COCO-17 bones and joints ``(17, 2)`` on ``image`` in place; skip invalid joints."""
    pixels = np.asarray(pixels, dtype=np.float64)
    ok = np.all(np.isfinite(pixels), axis=1)
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    pts = np.round(np.nan_to_num(pixels)).astype(int)
    for a, b in COCO_BONES:
        if ok[a] and ok[b]:
            cv2.line(image, tuple(pts[a]), tuple(pts[b]), color, thickness, cv2.LINE_AA)
    for j in np.flatnonzero(ok):
        cv2.circle(image, tuple(pts[j]), thickness + 2, color, -1, cv2.LINE_AA)
    return image


def label(image: np.ndarray, text: str, origin: tuple[int, int] = (12, 34),
          scale: float = 0.9) -> np.ndarray:
    """Write ``text`` with a dark outline so it reads on any background."""
    for color, width in (((0, 0, 0), 5), ((255, 255, 255), 2)):
        cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, color, width,
                    cv2.LINE_AA)
    return image


def tile(images: Sequence[np.ndarray], columns: int, width: int = 480) -> np.ndarray:
    """Resize images to ``width`` and tile them row by row (missing cells stay black)."""
    scaled = [cv2.resize(im, (width, int(round(im.shape[0] * width / im.shape[1]))))
              for im in images]
    height = max(im.shape[0] for im in scaled)
    rows = -(-len(scaled) // columns)
    canvas = np.zeros((rows * height, columns * width, 3), np.uint8)
    for i, im in enumerate(scaled):
        r, c = divmod(i, columns)
        canvas[r * height:r * height + im.shape[0], c * width:(c + 1) * width] = im
    return canvas
