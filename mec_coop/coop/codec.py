# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""JPEG encoding for offloading, and decoding of received images with a reason on failure."""

import cv2
import numpy as np


class ImageDecodeError(ValueError):
    """An image on the wire could not be turned into a BGR frame; the message says why."""


def encode_jpeg(image_bgr, quality):
    """Encode a BGR ``uint8`` image as JPEG at ``quality`` (1-100); return the bytes."""
    if not 1 <= int(quality) <= 100:
        raise ValueError(f'JPEG quality must be in 1..100, got {quality}')
    ok, buf = cv2.imencode('.jpg', image_bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f'JPEG encoding failed for an image of shape {image_bgr.shape}')
    return buf.tobytes()


def decode_compressed(data, fmt='jpeg'):
    """
    Decode ``sensor_msgs/CompressedImage`` data into a BGR ``uint8`` image.

    :param data: the compressed bytes.
    :param fmt: the message's ``format`` field (``jpeg``, ``png``, ``bgr8; jpeg compressed bgr8``
        as image_transport writes it, ...).
    :raises ImageDecodeError: for unsupported formats, empty or corrupt data.
    """
    kind = fmt.lower()
    if not any(name in kind for name in ('jpeg', 'jpg', 'png')):
        raise ImageDecodeError(f'unsupported compressed format {fmt!r} (expected jpeg or png)')
    buf = np.frombuffer(bytes(data), dtype=np.uint8)
    if buf.size == 0:
        raise ImageDecodeError('empty compressed image')
    # A JPEG must start with SOI and end with EOI; OpenCV decodes truncated files silently.
    if 'png' not in kind and (buf[:2].tobytes() != b'\xff\xd8' or
                              buf[-2:].tobytes() != b'\xff\xd9'):
        raise ImageDecodeError(f'corrupt JPEG ({buf.size} bytes, missing start/end marker)')
    image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if image is None:
        raise ImageDecodeError(f'corrupt {fmt} data ({buf.size} bytes could not be decoded)')
    return image
