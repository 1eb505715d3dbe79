# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Intermediate tensors on the wire: float16 or per-tensor affine int8, then a lossless coder.

int8 follows the usual affine scheme (``real = scale * (q - zero_point)``, ``q`` in -128..127,
the tensor's min and max mapped to the ends of the range). The payload is the tensors' bytes
concatenated in cut order, little-endian, then ``zlib`` (or ``none``). Decoding checks every
field against the others and against what the receiver expects (layer ids and shapes of its
cut) and raises :class:`TensorDecodeError` with the reason, so a bad tensor never reaches the
tail silently.
"""

from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple
import zlib

import numpy as np

DTYPES = ('float32', 'float16', 'int8', 'uint8')
QUANTISED = ('int8', 'uint8')
CODECS = ('none', 'zlib')


class TensorDecodeError(ValueError):
    """A received split tensor is inconsistent or unusable; the message says why."""


@dataclass
class EncodedTensors:
    """The wire form of the tensors one cut sends (the fields of ``SplitTensor``)."""

    layer_ids: List[int]
    shapes: List[Tuple[int, ...]]
    dtype: str
    codec: str
    payload: bytes
    scales: List[float] = field(default_factory=list)
    zero_points: List[int] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        return len(self.payload)


def _quantise(x: np.ndarray, dtype: str) -> Tuple[np.ndarray, float, int]:
    lo_q, hi_q = (-128, 127) if dtype == 'int8' else (0, 255)
    lo, hi = float(min(x.min(), 0.0)), float(max(x.max(), 0.0))   # keep 0 exact
    scale = (hi - lo) / (hi_q - lo_q) if hi > lo else 1.0
    zero = int(round(lo_q - lo / scale))
    q = np.clip(np.rint(x / scale) + zero, lo_q, hi_q).astype(dtype)
    return q, scale, zero


def encode_tensors(tensors: Sequence[np.ndarray], layer_ids: Sequence[int],
                   dtype: str = 'float16', codec: str = 'zlib', level: int = 1) -> EncodedTensors:
    """Encode ``tensors`` (float arrays, one per cut member) for the wire."""
    if dtype not in DTYPES:
        raise ValueError(f'dtype must be one of {DTYPES}, got {dtype!r}')
    if codec not in CODECS:
        raise ValueError(f'codec must be one of {CODECS}, got {codec!r}')
    if len(tensors) != len(layer_ids):
        raise ValueError(f'{len(tensors)} tensors for {len(layer_ids)} layer ids')
    parts, scales, zeros = [], [], []
    for t in tensors:
        x = np.asarray(t, dtype=np.float32)
        if not np.all(np.isfinite(x)):
            raise ValueError('a tensor to send holds NaN or infinite values')
        if dtype in QUANTISED:
            x, scale, zero = _quantise(x, dtype)
            scales.append(scale)
            zeros.append(zero)
        parts.append(np.ascontiguousarray(x, dtype=np.dtype(dtype).newbyteorder('<')).tobytes())
    raw = b''.join(parts)
    payload = zlib.compress(raw, level) if codec == 'zlib' else raw
    return EncodedTensors([int(i) for i in layer_ids], [tuple(int(d) for d in t.shape)
                                                        for t in tensors],
                          dtype, codec, payload, scales, zeros)


def _check_fields(enc: EncodedTensors, expected_layer_ids: Optional[Sequence[int]],
                  expected_shapes: Optional[Sequence[Tuple[int, ...]]]) -> None:
    if enc.dtype not in DTYPES:
        raise TensorDecodeError(f'unsupported dtype {enc.dtype!r} (expected one of {DTYPES})')
    if enc.codec not in CODECS:
        raise TensorDecodeError(f'unsupported codec {enc.codec!r} (expected one of {CODECS})')
    if not enc.layer_ids or len(enc.shapes) != len(enc.layer_ids):
        raise TensorDecodeError(f'{len(enc.shapes)} shapes for {len(enc.layer_ids)} layer ids')
    if any(not s or min(s) <= 0 for s in enc.shapes):
        raise TensorDecodeError(f'empty or non-positive shape in {enc.shapes}')
    n_q = len(enc.layer_ids) if enc.dtype in QUANTISED else 0
    if len(enc.scales) != n_q or len(enc.zero_points) != n_q:
        raise TensorDecodeError(f'{enc.dtype} needs {n_q} scales and zero points, got '
                                f'{len(enc.scales)} and {len(enc.zero_points)}')
    if n_q and not all(np.isfinite(s) and s > 0 for s in enc.scales):
        raise TensorDecodeError(f'quantisation scales must be finite and > 0: {enc.scales}')
    if expected_layer_ids is not None and list(enc.layer_ids) != list(expected_layer_ids):
        raise TensorDecodeError(f'layer ids {list(enc.layer_ids)} do not match the cut '
                                f'{list(expected_layer_ids)}')
    if expected_shapes is not None and [tuple(s) for s in enc.shapes] != \
            [tuple(s) for s in expected_shapes]:
        raise TensorDecodeError(f'shapes {enc.shapes} do not match the expected '
                                f'{list(expected_shapes)}')


def decode_tensors(enc: EncodedTensors, expected_layer_ids: Optional[Sequence[int]] = None,
                   expected_shapes: Optional[Sequence[Tuple[int, ...]]] = None
                   ) -> List[np.ndarray]:
    """float32 tensors of ``enc``; :class:`TensorDecodeError` if anything does not add up."""
    _check_fields(enc, expected_layer_ids, expected_shapes)
    if enc.codec == 'zlib':
        try:
            raw = zlib.decompress(bytes(enc.payload))
        except zlib.error as exc:
            raise TensorDecodeError(f'payload of {len(enc.payload)} bytes is truncated or '
                                    f'corrupt ({exc})') from None
    else:
        raw = bytes(enc.payload)
    wire = np.dtype(enc.dtype).newbyteorder('<')
    sizes = [int(np.prod(s)) * wire.itemsize for s in enc.shapes]
    if len(raw) != sum(sizes):
        raise TensorDecodeError(f'payload holds {len(raw)} bytes, the shapes need {sum(sizes)} '
                                f'({enc.dtype})')
    out, start = [], 0
    for i, (shape, size) in enumerate(zip(enc.shapes, sizes)):
        x = np.frombuffer(raw, wire, size // wire.itemsize, start).reshape(shape)
        start += size
        if enc.dtype in QUANTISED:
            x = (x.astype(np.float32) - enc.zero_points[i]) * np.float32(enc.scales[i])
        x = x.astype(np.float32)
        if not np.all(np.isfinite(x)):
            raise TensorDecodeError(f'tensor {enc.layer_ids[i]} holds NaN or infinite values')
        out.append(x)
    return out
