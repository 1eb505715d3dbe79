# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Input checks without ROS: stamps against the receiver's clock, image limits, health levels."""

import cv2
import numpy as np
import pytest

from mec_coop.coop.codec import decode_compressed, encode_jpeg, ImageDecodeError
from mec_coop.coop.guard import compressed_size, Rejected, StampGate
from mec_coop.coop.health import ERROR, HealthWatch, OK, WARN


def _cause(gate, stamp, now):
    try:
        gate.check(stamp, now)
    except Rejected as exc:
        return exc.cause
    gate.accept(stamp, now)
    return None


def test_stamp_gate_refuses_the_future_and_recovers_from_a_clock_jump_back():
    gate = StampGate(future_tolerance_s=1.0, max_age_s=2.0, reorder_after_s=2.0)
    assert _cause(gate, 100.0, 100.1) is None
    # An hour ahead: refused, and the ordering state does not move into the future.
    assert _cause(gate, 3700.0, 100.2) == 'future'
    assert gate.last_stamp == 100.0
    assert _cause(gate, 100.5, 100.6) is None               # real frames go on
    assert _cause(gate, 101.3, 100.6) is None               # 0.7 s ahead: clock offset
    assert _cause(gate, 97.0, 100.7) == 'stale'
    # The camera's clock jumps back 1.5 s: out of order until reorder_after_s has passed since
    # the last accepted frame (100.6), then accepted: the ordering restarts from there.
    assert [_cause(gate, 99.5 + 0.5 * k, 101.0 + 0.5 * k) for k in range(4)] == \
        ['out_of_order'] * 4
    assert _cause(gate, 101.2, 103.0) is None and gate.restarts == 1
    assert _cause(gate, 101.1, 103.1) == 'out_of_order'
    assert _cause(gate, float('nan'), 103.0) == 'bad_stamp'


@pytest.mark.parametrize('shape', [(48, 64), (481, 641), (1, 3000)])
def test_header_size_of_jpeg_and_png_without_decoding(shape):
    image = np.random.default_rng(0).integers(0, 255, (*shape, 3), np.uint8)
    assert compressed_size(encode_jpeg(image, 80)) == (shape[1], shape[0])
    assert compressed_size(cv2.imencode('.png', image)[1].tobytes()) == (shape[1], shape[0])
    progressive = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes()
    assert compressed_size(progressive) == (shape[1], shape[0])
    assert compressed_size(b'\xff\xd8\xff\xda\x00\x02') is None


def test_decode_rejects_too_large_images_by_cause():
    data = encode_jpeg(np.zeros((480, 640, 3), np.uint8), 90)
    assert decode_compressed(data, 'jpeg', 10**6, 640 * 480).shape == (480, 640, 3)
    causes = {}
    for args in ((10**6, 640 * 480 - 1), (len(data) - 1, 10**6)):
        with pytest.raises(ImageDecodeError, match='exceeds') as exc:
            decode_compressed(data, 'jpeg', *args)
        causes[args] = exc.value.cause
    assert set(causes.values()) == {'too_large'}
    for bad, cause in ((data[:500], 'corrupt'), (b'', 'empty')):
        with pytest.raises(ImageDecodeError) as exc:
            decode_compressed(bad, 'jpeg', 10**6, 10**6)
        assert exc.value.cause == cause
    with pytest.raises(ImageDecodeError) as exc:
        decode_compressed(data, 'tiff')
    assert exc.value.cause == 'format'


def test_health_levels_follow_the_last_period_not_the_totals():
    watch = HealthWatch('frames', 'frames', stall_s=5.0, start=0.0)
    assert watch.assess({'frames': 2, 'future': 0}, 1.0)[0] == OK
    level, text = watch.assess({'frames': 4, 'future': 3}, 2.0)
    assert level == WARN and '3 future' in text
    assert watch.assess({'frames': 6, 'future': 3}, 3.0)[0] == OK     # rejections stopped
    level, text = watch.assess({'frames': 6, 'future': 9}, 8.5)
    assert level == ERROR and 'no frames for 6 s' in text and '6 future' in text
    assert watch.assess({'frames': 7, 'future': 9}, 9.0)[0] == OK
