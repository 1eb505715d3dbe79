# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""``mec_coop/SplitTensor`` to and from :class:`mec_coop.split.codec.EncodedTensors`."""

from typing import List, Tuple

from mec_coop.msg import SplitTensor
from mec_coop.split.codec import EncodedTensors, TensorDecodeError


def encoded_to_msg(enc: EncodedTensors, msg: SplitTensor) -> SplitTensor:
    """Fill the tensor fields of ``msg`` (header and frame fields are the caller's)."""
    msg.layer_ids = [int(i) for i in enc.layer_ids]
    offsets, dims = [], []
    for shape in enc.shapes:
        offsets.append(len(dims))
        dims.extend(int(d) for d in shape)
    msg.shape, msg.shape_offsets = dims, offsets
    msg.dtype, msg.codec = enc.dtype, enc.codec
    msg.scales = [float(s) for s in enc.scales]
    msg.zero_points = [int(z) for z in enc.zero_points]
    msg.payload = enc.payload
    return msg


def _shapes(msg: SplitTensor) -> List[Tuple[int, ...]]:
    offsets = [int(o) for o in msg.shape_offsets]
    dims = [int(d) for d in msg.shape]
    if len(offsets) != len(msg.layer_ids):
        raise TensorDecodeError(f'{len(offsets)} shape offsets for {len(msg.layer_ids)} '
                                'layer ids')
    ends = offsets[1:] + [len(dims)]
    if any(not 0 <= a < b <= len(dims) for a, b in zip(offsets, ends)):
        raise TensorDecodeError(f'shape offsets {offsets} do not split {len(dims)} dims')
    return [tuple(dims[a:b]) for a, b in zip(offsets, ends)]


def msg_to_encoded(msg: SplitTensor) -> EncodedTensors:
    """Return the wire form in ``msg``; :class:`TensorDecodeError` for broken shape fields."""
    return EncodedTensors([int(i) for i in msg.layer_ids], _shapes(msg), msg.dtype, msg.codec,
                          bytes(msg.payload), [float(s) for s in msg.scales],
                          [int(z) for z in msg.zero_points])
