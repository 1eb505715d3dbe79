# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Checks on what arrives from outside a node: capture stamps, image sizes and 2D keypoints.

Every check names a *cause* (``future``, ``stale``, ``out_of_order``, ``too_large``,
``confidence``, ...) so that nodes count and log rejections per cause. A stamp is judged against
the receiver's clock: far in the future it is refused (one wrong clock must not set the ordering
state of a stream into the future, where every real frame would then look old), and a stream
whose clock jumped back is re-accepted after a bounded time instead of never.
"""

from dataclasses import dataclass
import math
import struct
from typing import Optional

import numpy as np


# Causes that say a stamp (the sender's clock), not the content, is wrong.
STAMP_CAUSES = ('future', 'stale', 'out_of_order', 'bad_stamp')


class Rejected(ValueError):
    """Input refused for ``cause`` (a short counter key); the message says why."""

    def __init__(self, cause: str, message: str) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass
class StampGate:
    """
    Capture-stamp checks of one stream against the receiver's clock (seconds).

    ``future_tolerance_s`` allows for clock offset between hosts; ``max_age_s`` drops frames
    that waited too long; a stamp not newer than the last accepted one is out of order, unless
    nothing was accepted for ``reorder_after_s``: the sender's clock then jumped back and the
    ordering restarts from its new stamps (counted in ``restarts``).
    """

    future_tolerance_s: float = 1.0
    max_age_s: float = 2.0
    reorder_after_s: float = 2.0
    last_stamp: float = -math.inf
    accepted_at: float = -math.inf
    restarts: int = 0

    def check(self, stamp: float, now: float) -> None:
        """Raise :class:`Rejected` when ``stamp`` must not be used now; state is unchanged."""
        if not math.isfinite(stamp):
            raise Rejected('bad_stamp', f'capture stamp {stamp} is not finite')
        ahead = stamp - now
        if ahead > self.future_tolerance_s:
            raise Rejected('future', f'frame stamped {ahead:.2f} s in the future '
                           f'(future_tolerance_s {self.future_tolerance_s}); is the sender '
                           'clock synchronised?')
        if -ahead > self.max_age_s:
            raise Rejected('stale', f'frame {-ahead:.2f} s old (max_age_s {self.max_age_s})')
        if stamp <= self.last_stamp and now - self.accepted_at < self.reorder_after_s:
            raise Rejected('out_of_order', f'frame stamped {stamp:.3f} is not newer than the '
                           f'previous one ({self.last_stamp:.3f})')

    def accept(self, stamp: float, now: float) -> bool:
        """Record ``stamp`` as used; return True when it restarted the ordering (clock jump)."""
        restarted = stamp <= self.last_stamp
        self.restarts += restarted
        self.last_stamp, self.accepted_at = stamp, now
        return restarted


# JPEG start-of-frame markers (baseline, extended, progressive, lossless, arithmetic variants).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Markers without a length field.
_STANDALONE = {0x01, 0xD8, *range(0xD0, 0xD8)}


def compressed_size(data: bytes) -> Optional[tuple[int, int]]:
    """
    ``(width, height)`` read from a JPEG's frame header or a PNG's IHDR, without decoding.

    Returns None when the header cannot be found (the decoder then reports the corrupt data).
    """
    if data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) >= 24 and data[12:16] == b'IHDR':
        width, height = struct.unpack('>II', data[16:24])
        return int(width), int(height)
    if data[:2] != b'\xff\xd8':
        return None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:          # fill byte
            i += 1
            continue
        if marker in _STANDALONE:
            i += 2
            continue
        if marker == 0xDA:          # scan data before any frame header
            return None
        if marker in _SOF and i + 9 <= len(data):
            height, width = struct.unpack('>HH', data[i + 5:i + 9])
            return int(width), int(height)
        i += 2 + struct.unpack('>H', data[i + 2:i + 4])[0]
    return None


def check_image_size(size_bytes: int, width: int, height: int, max_bytes: int,
                     max_pixels: int) -> None:
    """Raise :class:`Rejected` (``too_large``) for images over the byte or pixel limits."""
    if size_bytes > max_bytes:
        raise Rejected('too_large', f'image of {size_bytes} bytes exceeds max_image_bytes '
                       f'{max_bytes}')
    if width * height > max_pixels:
        raise Rejected('too_large', f'image of {width}x{height} pixels exceeds max_pixels '
                       f'{max_pixels}')


def check_keypoints(pixels: np.ndarray, weights: np.ndarray,
                    size: Optional[tuple[int, int]]) -> tuple[np.ndarray, int]:
    """
    Validate one person's keypoints; return the weights to use and how many were outside.

    Confidences must be finite and in ``[0, 1]`` and coordinates finite (else the whole report
    is rejected: a sender that gets these wrong cannot be trusted for the rest). Keypoints
    outside the ``(width, height)`` image get weight 0, so they take no part in triangulation.
    """
    pixels = np.asarray(pixels, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if pixels.ndim != 2 or pixels.shape[1] != 2 or weights.shape != pixels[:, 0].shape:
        raise Rejected('malformed', f'keypoints of shape {pixels.shape} with weights of shape '
                       f'{weights.shape}')
    if not np.all(np.isfinite(weights)) or np.any((weights < 0) | (weights > 1)):
        raise Rejected('confidence', 'keypoint confidences must be finite and in [0, 1], got '
                       f'{weights.min():.3g}..{weights.max():.3g}')
    if not np.all(np.isfinite(pixels)):
        raise Rejected('coordinates', 'keypoint coordinates must be finite')
    if size is None:
        return weights, 0
    width, height = size
    outside = (pixels[:, 0] < 0) | (pixels[:, 0] > width) | (pixels[:, 1] < 0) | \
        (pixels[:, 1] > height)
    outside &= weights > 0
    return np.where(outside, 0.0, weights), int(outside.sum())
