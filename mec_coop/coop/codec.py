# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""JPEG encoding for offloading, and decoding of received images with a reason on failure."""

from typing import Optional

import cv2
import numpy as np

from mec_coop.coop.guard import check_image_size, compressed_size, Rejected


class ImageDecodeError(Rejected):
    """An image on the wire could not be turned into a BGR frame; the message says why."""

    def __init__(self, message: str, cause: str = 'corrupt') -> None:
        super().__init__(cause, message)


def encode_jpeg(image_bgr, quality):
    """Encode a BGR ``uint8`` image as JPEG at ``quality`` (1-100); return the bytes."""
    if not 1 <= int(quality) <= 100:
        raise ValueError(f'JPEG quality must be in 1..100, got {quality}')
    ok, buf = cv2.imencode('.jpg', image_bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f'JPEG encoding failed for an image of shape {image_bgr.shape}')
    return buf.tobytes()


def decode_compressed(data, fmt='jpeg', max_bytes: Optional[int] = None,
                      max_pixels: Optional[int] = None):
    """
    Decode ``sensor_msgs/CompressedImage`` data into a BGR ``uint8`` image.

    :param data: the compressed bytes.
    :param fmt: the message's ``format`` field (``jpeg``, ``png``, ``bgr8; jpeg compressed bgr8``
        as image_transport writes it, ...).
    :param max_bytes, max_pixels: limits checked before decoding (the pixel count is read from
        the header), so an oversized image costs no decoder memory.
    :raises ImageDecodeError: for unsupported formats, empty, corrupt or too large data; its
        ``cause`` is ``format``, ``empty``, ``corrupt`` or ``too_large``.
    """
    kind = fmt.lower()
    if not any(name in kind for name in ('jpeg', 'jpg', 'png')):
        raise ImageDecodeError(f'unsupported compressed format {fmt!r} (expected jpeg or png)',
                               'format')
    raw = bytes(data)
    buf = np.frombuffer(raw, dtype=np.uint8)
    if buf.size == 0:
        raise ImageDecodeError('empty compressed image', 'empty')
    if max_bytes is not None or max_pixels is not None:
        size = compressed_size(raw)
        if size is None:
            raise ImageDecodeError(f'corrupt {fmt} data ({buf.size} bytes, no image header)')
        try:
            check_image_size(buf.size, *size, max_bytes or buf.size,
                             max_pixels or size[0] * size[1])
        except Rejected as exc:
            raise ImageDecodeError(str(exc), exc.cause) from None
    # A JPEG must start with SOI and end with EOI; OpenCV decodes truncated files silently.
    if 'png' not in kind and (buf[:2].tobytes() != b'\xff\xd8' or
                              buf[-2:].tobytes() != b'\xff\xd9'):
        raise ImageDecodeError(f'corrupt JPEG ({buf.size} bytes, missing start/end marker)')
    image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if image is None:
        raise ImageDecodeError(f'corrupt {fmt} data ({buf.size} bytes could not be decoded)')
    return image
