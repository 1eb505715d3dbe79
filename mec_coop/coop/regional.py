# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Region-wise JPEG that any decoder reads: per-block quantisation before one standard JPEG.

A baseline JPEG carries one quantisation table per component, so SpaT-IMCO's per-block
multiplier ``mu_b`` (Xiao et al., IEEE TCCN 2024, Sec. V-B: ``K = mu K_base``) cannot be written
into the file. Instead the encoder quantises each block itself in the DCT domain where JPEG
would (JPEG's YCbCr, 4:2:0 chroma, 8x8 orthonormal DCT-II, blocks on the JPEG grid):
``F' = round(F / (mu_b K)) * mu_b K``, returns to pixels and writes one standard baseline JPEG
with the finest table ``mu_min K`` (Pillow/libjpeg with explicit tables and optimised Huffman
codes). The final quantisation keeps what the coarse blocks kept (their coefficients are
multiples of a coarser step, most of them zero), so those blocks cost few bits and look as if
coded at ``mu_b``; ``cv2.imdecode`` and every other decoder read the file as usual. The
writer gets the pixels in YCbCr (chroma as 2x2 means, which its 4:2:0 downsampling keeps), so
nothing is converted twice, and blocks at ``mu_min`` are left to it untouched: the encode is on
the camera, on an offloaded view's critical path (``benchmarks/encode_speed.py``).

:func:`encode_unified` is Unified-IMCO (one ``mu`` per image, same tables and Huffman
optimisation) and :func:`encode_regionwise` SpaT-IMCO on a per-block ``mu`` map (from
:mod:`mec_coop.coop.importance`). Decoding is :func:`mec_coop.coop.codec.decode_compressed`,
which rejects empty, truncated and corrupt payloads with a reason; :func:`decode_checked` also
checks the size the sender announced.
"""

import io

import cv2
import numpy as np

from mec_coop.coop.codec import decode_compressed, encode_jpeg, ImageDecodeError
from mec_coop.coop.importance import (BLOCK, block_grid, LEVEL_THRESHOLDS, pose_block_mu,
                                      pose_importance)

# ITU-T T.81 Annex K tables (quality 50), the K_base of K = mu K_base; row-major (not zigzag).
K_LUMA = np.array([
    [16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55],
    [14, 13, 16, 24, 40, 57, 69, 56], [14, 17, 22, 29, 51, 87, 80, 62],
    [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]], float)
K_CHROMA = np.array([
    [17, 18, 24, 47, 99, 99, 99, 99], [18, 21, 26, 66, 99, 99, 99, 99],
    [24, 26, 56, 99, 99, 99, 99, 99], [47, 66, 99, 99, 99, 99, 99, 99]] + [[99] * 8] * 4, float)
MU_RANGE = (0.05, 32.0)
OFFLOAD_CODECS = ('jpeg', 'regionwise')
# Background multiplier of region-wise offloads: about DC only (benchmarks/compression.py).
BACKGROUND_MU = 16.0


def tables(mu: float) -> tuple[np.ndarray, np.ndarray]:
    """Luma and chroma tables ``round(mu K_base)`` clipped to baseline JPEG's 1..255."""
    if not MU_RANGE[0] <= float(mu) <= MU_RANGE[1]:
        raise ValueError(f'quantisation multiplier mu must be in {MU_RANGE}, got {mu}')
    return (np.clip(np.round(mu * K_LUMA), 1, 255), np.clip(np.round(mu * K_CHROMA), 1, 255))


def _write(image_bgr, mu):
    """Baseline JPEG of a BGR image with tables ``mu K_base`` (libjpeg converts the colours)."""
    return _save(np.ascontiguousarray(image_bgr[..., ::-1]), 'RGB', mu)


def _save(pixels, mode, mu):
    from PIL import Image  # Pillow: the one common JPEG writer that takes explicit tables

    luma, chroma = tables(mu)
    # Pillow takes the tables in natural (row-major) order and writes them zigzagged.
    qtables = [[int(v) for v in t.ravel()] for t in (luma, chroma)]
    out = io.BytesIO()
    Image.fromarray(pixels, mode).save(out, format='JPEG', qtables=qtables, subsampling=2,
                                       optimize=True)
    return out.getvalue()


def _checked(image_bgr):
    image = np.asarray(image_bgr)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or not image.size:
        raise ValueError(f'expected a BGR uint8 image (H, W, 3), got {image.dtype} {image.shape}')
    return image


def encode_unified(image_bgr: np.ndarray, mu: float) -> bytes:
    """Unified-IMCO: baseline JPEG with tables ``mu K_base`` for the whole image."""
    return _write(_checked(image_bgr), mu)


def _dct_matrix():
    """``kron(C, C)`` of the orthonormal 8x8 DCT-II ``C``: one row-major block in, its DCT out."""
    k = np.arange(BLOCK)
    c = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * BLOCK)) * np.sqrt(2.0 / BLOCK)
    c[0] /= np.sqrt(2.0)
    return np.kron(c, c).astype(np.float32)


# Blocks as rows: the 2-D DCT of every coarse block is one matrix product (BLAS), far cheaper
# than a separable FFT-based DCT over the whole plane.
DCT64 = _dct_matrix()


def _prequantise(plane, block_mu, table, mu_min):
    """
    Quantise, in place, the blocks of the uint8 ``plane`` coarser than ``mu_min`` (``mu_b K``).

    Blocks at ``mu_min`` are left as they are: the encoder quantises them with that very
    table. Returns the number of blocks quantised.
    """
    rows, cols = block_mu.shape
    coarse = block_mu > mu_min
    levels, which = np.unique(block_mu[coarse], return_inverse=True)
    # Blocks of one level next to each other: each level is quantised on a slice, in place
    # (temporaries of a whole plane cost more than the arithmetic on this CPU).
    order = np.argsort(which, kind='stable')
    r, c = (i[order] for i in np.nonzero(coarse))
    if not len(r):
        return 0
    view = plane.reshape(rows, BLOCK, cols, BLOCK)
    x = view[r, :, c, :].reshape(len(r), BLOCK * BLOCK).astype(np.float32)
    x -= np.float32(128)
    coef = x @ DCT64.T
    ends = np.cumsum(np.bincount(which, minlength=len(levels)))
    for level, start, end in zip(levels, ends - np.bincount(which), ends):
        step = np.clip(np.round(level * table.ravel()), 1, None).astype(np.float32)
        part = coef[start:end]
        part /= step
        np.round(part, out=part)
        part *= step
    pix = coef @ DCT64
    pix += np.float32(128)
    np.clip(np.round(pix, out=pix), 0, 255, out=pix)
    view[r, :, c, :] = pix.astype(np.uint8).reshape(len(r), BLOCK, BLOCK)
    return len(r)


def encode_regionwise(image_bgr: np.ndarray, block_mu: np.ndarray,
                      stats: dict | None = None) -> bytes:
    """
    SpaT-IMCO: each 8x8 luma block quantised at its own ``mu``; one standard JPEG out.

    Chroma is 4:2:0, so a chroma block covers 2x2 luma blocks and takes their finest ``mu``.
    The pixels go to the JPEG writer in YCbCr (JPEG's own colour space), chroma as 2x2 means
    drawn at full size, which libjpeg's 4:2:0 downsampling returns unchanged: no colour
    round trip, and only the blocks coarser than the finest ``mu`` are transformed.

    :param block_mu: ``(ceil(H/8), ceil(W/8))`` multipliers in :data:`MU_RANGE`.
    :param stats: if given, receives the number of luma and chroma blocks quantised here.
    :raises ValueError: wrong map shape or a multiplier out of range (nothing is encoded).
    """
    image = _checked(image_bgr)
    h, w = image.shape[:2]
    mu = np.asarray(block_mu, dtype=np.float64)
    if mu.shape != block_grid(h, w):
        raise ValueError(f'block multiplier map has shape {mu.shape}, expected '
                         f'{block_grid(h, w)} for a {w}x{h} image')
    if not (np.isfinite(mu).all() and (mu >= MU_RANGE[0]).all() and (mu <= MU_RANGE[1]).all()):
        raise ValueError(f'block multipliers must be finite and in {MU_RANGE}')
    base = float(mu.min())
    if np.all(mu == base):
        return _write(image, base)
    # Planes of whole chroma blocks (16x16 pixels at 4:2:0), edges replicated.
    rows, cols = block_grid(h, w, 2 * BLOCK)
    ycrcb = cv2.cvtColor(image, cv2.COLOR_BGR2YCrCb)
    if ycrcb.shape[:2] != (2 * BLOCK * rows, 2 * BLOCK * cols):
        ycrcb = cv2.copyMakeBorder(ycrcb, 0, 2 * BLOCK * rows - h, 0, 2 * BLOCK * cols - w,
                                   cv2.BORDER_REPLICATE)
    # 4:2:0 chroma as libjpeg builds it: rounded 2x2 means.
    y, cr, cb = cv2.split(ycrcb)
    cr, cb = (cv2.resize(p, (BLOCK * cols, BLOCK * rows), interpolation=cv2.INTER_AREA)
              for p in (cr, cb))
    mu_y = np.pad(mu, ((0, 2 * rows - mu.shape[0]), (0, 2 * cols - mu.shape[1])), mode='edge')
    luma = _prequantise(y, mu_y, K_LUMA, base)
    # The finest mu of each 2x2 luma block group (edge blocks padded as the image is).
    mu_c = mu_y.reshape(rows, 2, cols, 2).min(axis=(1, 3))
    chroma = _prequantise(cb, mu_c, K_CHROMA, base) + _prequantise(cr, mu_c, K_CHROMA, base)
    if stats is not None:
        stats.update(luma_blocks=luma, chroma_blocks=chroma, luma_total=mu.size,
                     chroma_total=2 * mu_c.size)
    # Chroma drawn back at full size (each value on its 2x2 pixels): libjpeg's 4:2:0
    # downsampling returns it unchanged.
    size = (y.shape[1], y.shape[0])
    canvas = cv2.merge([y] + [cv2.resize(p, size, interpolation=cv2.INTER_NEAREST)
                              for p in (cb, cr)])
    return _save(np.ascontiguousarray(canvas[:h, :w]), 'YCbCr', base)


def mu_for_quality(quality: int) -> float:
    """Return the multiplier IJG libjpeg (and OpenCV) puts on the Annex-K tables at ``quality``."""
    q = int(quality)
    if not 1 <= q <= 100:
        raise ValueError(f'JPEG quality must be in 1..100, got {quality}')
    return max((5000.0 / q if q < 50 else 200.0 - 2.0 * q) / 100.0, MU_RANGE[0])


def encode_offload(image_bgr: np.ndarray, quality: int, codec: str = 'jpeg',
                   keypoints: np.ndarray | None = None, confidences: np.ndarray | None = None,
                   boxes: np.ndarray | None = None) -> bytes:
    """
    Encode the camera's offload: plain JPEG at ``quality``, or region-wise.

    Region-wise: the people at ``quality``'s multiplier, the background at
    :data:`BACKGROUND_MU`.

    The people are what the camera's model found (and/or the edge's predicted skeleton);
    without any, a region-wise offload is a plain JPEG, so nothing is lost by guessing.
    """
    if codec not in OFFLOAD_CODECS:
        raise ValueError(f'offload codec must be one of {OFFLOAD_CODECS}, got {codec!r}')
    if codec == 'jpeg' or keypoints is None or not len(keypoints):
        return encode_jpeg(image_bgr, quality)
    h, w = image_bgr.shape[:2]
    mu = mu_for_quality(quality)
    # Only the levels' thresholds matter here, so the map is drawn near the people only.
    q = pose_importance(h, w, keypoints, confidences, boxes, floor=LEVEL_THRESHOLDS[0])
    return encode_regionwise(image_bgr, pose_block_mu(q, mu, max(BACKGROUND_MU, mu)))


def decode_checked(data: bytes, expected_shape: tuple[int, int] | None = None) -> np.ndarray:
    """
    Decode a (region-wise or plain) JPEG payload with ``cv2.imdecode``; reasons on failure.

    :raises ImageDecodeError: empty, truncated or corrupt data, or a size other than the
        ``(height, width)`` the sender announced.
    """
    image = decode_compressed(data, 'jpeg')
    if expected_shape is not None and image.shape[:2] != tuple(expected_shape):
        raise ImageDecodeError(f'decoded image is {image.shape[1]}x{image.shape[0]}, expected '
                               f'{expected_shape[1]}x{expected_shape[0]}')
    return image


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Peak signal-to-noise ratio (dB) of two uint8 images, optionally over a pixel mask."""
    d = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    mse = float(d[mask].mean() if mask is not None else d.mean())
    return float('inf') if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)
