# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Split tensors on the wire: float16 / int8 + zlib, the message fields, bad tensors refused."""

import dataclasses

import numpy as np
import pytest

from mec_coop.split.codec import decode_tensors, encode_tensors, TensorDecodeError


def _tensors():
    rng = np.random.default_rng(0)
    a = rng.normal(0.3, 2.0, (1, 16, 12, 20)).astype(np.float32)
    b = np.maximum(rng.normal(0, 1, (1, 8, 6, 10)), -0.28).astype(np.float32)   # SiLU-like
    return [a, b]


@pytest.mark.parametrize('dtype,codec,rel', [
    ('float32', 'none', 0.0), ('float16', 'zlib', 1e-3), ('int8', 'zlib', 0.5 / 255),
    ('uint8', 'none', 0.5 / 255)])
def test_round_trip_error_is_the_dtypes(dtype, codec, rel):
    tensors = _tensors()
    enc = encode_tensors(tensors, [4, 7], dtype, codec)
    out = decode_tensors(enc, [4, 7], [t.shape for t in tensors])
    for t, o in zip(tensors, out):
        assert o.shape == t.shape and o.dtype == np.float32
        span = float(max(t.max(), 0) - min(t.min(), 0))
        assert float(np.abs(o - t).max()) <= rel * span + 1e-7
    itemsize = np.dtype(dtype).itemsize
    raw = sum(t.size for t in tensors) * itemsize
    assert (enc.nbytes == raw) if codec == 'none' else (enc.nbytes < raw)
    if dtype in ('int8', 'uint8'):
        assert len(enc.scales) == 2 and len(enc.zero_points) == 2


def test_constant_and_zero_tensors_survive_int8():
    enc = encode_tensors([np.zeros((1, 2, 3)), np.full((4,), 2.5)], [1, 2], 'int8')
    out = decode_tensors(enc)
    assert np.all(out[0] == 0) and np.allclose(out[1], 2.5, atol=2.5 / 255)


def test_bad_tensors_are_refused_with_a_reason():
    tensors = _tensors()
    enc = encode_tensors(tensors, [4, 7], 'int8', 'zlib')
    short = encode_tensors(tensors[:1], [4], 'int8', 'zlib').payload
    cases = {
        'truncated': dataclasses.replace(enc, payload=enc.payload[:-9]),
        'the shapes need': dataclasses.replace(enc, payload=short),
        'layer ids': enc,
        'shapes': enc,
        'unsupported dtype': dataclasses.replace(enc, dtype='float64'),
        'unsupported codec': dataclasses.replace(enc, codec='lz4'),
        'scales and zero points': dataclasses.replace(enc, scales=[1.0]),
        'finite and > 0': dataclasses.replace(enc, scales=[0.0, 1.0]),
        'non-positive': dataclasses.replace(enc, shapes=[(1, 0), (2,)]),
    }
    expected = {'layer ids': ([4, 8], None), 'shapes': ([4, 7], [(1, 16, 12, 20), (1, 8, 6, 9)])}
    for reason, bad in cases.items():
        ids, shapes = expected.get(reason, (None, None))
        with pytest.raises(TensorDecodeError, match=reason):
            decode_tensors(bad, ids, shapes)
    f16 = encode_tensors(tensors, [4, 7], 'float16', 'none')
    with pytest.raises(TensorDecodeError, match='the shapes need'):
        decode_tensors(dataclasses.replace(f16, payload=f16.payload[:-2]))
    with pytest.raises(TensorDecodeError, match='NaN'):
        nan = np.full(4, np.nan, np.float16).tobytes()
        decode_tensors(dataclasses.replace(f16, shapes=[(4,)], layer_ids=[1], payload=nan))
    with pytest.raises(ValueError, match='NaN'):
        encode_tensors([np.array([np.inf])], [1])


def test_message_fields_round_trip():
    from mec_coop.msg import SplitTensor
    from mec_coop.ros.split_tensor import encoded_to_msg, msg_to_encoded
    tensors = _tensors()
    enc = encode_tensors(tensors, [4, 7], 'int8', 'zlib')
    msg = encoded_to_msg(enc, SplitTensor(partition_point=3))
    assert list(msg.shape_offsets) == [0, 4] and list(msg.shape) == [1, 16, 12, 20, 1, 8, 6, 10]
    back = msg_to_encoded(msg)
    assert back.shapes == enc.shapes and back.payload == enc.payload
    np.testing.assert_allclose(decode_tensors(back)[1], decode_tensors(enc)[1])
    msg.shape_offsets = [0, 9]
    with pytest.raises(TensorDecodeError, match='offsets'):
        msg_to_encoded(msg)
