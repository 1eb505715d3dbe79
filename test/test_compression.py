# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Pose importance, P3, and the region-wise JPEG that plain decoders read (SpaT-IMCO)."""

import itertools

import cv2
import numpy as np
import pytest

from mec_coop.coop.codec import ImageDecodeError
from mec_coop.coop.importance import (assign_levels, block_grid, block_means, importance_bins,
                                      paper_block_mu, pose_block_mu, pose_importance,
                                      rank_agreement, solve_p3)
from mec_coop.coop.regional import (decode_checked, encode_regionwise, encode_unified, psnr,
                                    tables)


def brute_p3(levels, target, R, prefer):
    best, best_key = None, None
    for z in itertools.product(range(R + 1), repeat=len(levels) - 1):
        if sum(z) > R:
            continue
        z = (*z, R - sum(z))
        value = (target - np.dot(levels, z) / R) ** 2
        key = (round(value, 12), np.abs(np.subtract(z, prefer)).sum())
        if best_key is None or key < best_key:
            best, best_key = z, key
    return np.array(best), best_key[0]


@pytest.mark.parametrize('seed', range(12))
def test_p3_matches_enumeration_with_tie_break(seed):
    rng = np.random.default_rng(seed)
    L = 3 if seed < 8 else 4
    R = int(rng.integers(5, 40 if L == 3 else 16))
    if seed % 2:  # the paper's mapping: symmetric integer levels, many exact ties
        mu = float(rng.integers(2, 9))
        d = np.ceil(mu / 2)
        levels = np.array([mu + d, mu, max(1.0, mu - d)] + ([0.5] if L == 4 else []))
        target = mu
    else:
        levels = np.sort(rng.uniform(1, 10, L))[::-1]
        target = float(rng.uniform(levels[-1] - 1, levels[0] + 1))
    prefer = rng.multinomial(R, np.ones(L) / L)
    z = solve_p3(levels, target, R, prefer=prefer)
    ref, value = brute_p3(levels, target, R, prefer)
    assert z.sum() == R and (z >= 0).all()
    assert (target - levels @ z / R) ** 2 == pytest.approx(value, abs=1e-12)
    np.testing.assert_array_equal(z, ref)


def test_p3_is_fast_for_a_full_frame():
    # 1280x720 has 14400 blocks: O(R) for L = 3, not the O(R^2) of plain enumeration.
    z = solve_p3([6.0, 3.0, 1.0], 2.2, 14400, prefer=[10000, 3000, 1400])
    assert z.sum() == 14400 and abs(np.dot([6.0, 3.0, 1.0], z) / 14400 - 2.2) < 1e-3


def test_levels_go_to_blocks_by_importance():
    q = np.array([[0.1, 0.9, 0.5], [0.0, 0.7, 0.3]])
    levels = assign_levels(q, [2, 3, 1])
    np.testing.assert_array_equal(levels, [[0, 2, 1], [0, 1, 1]])
    np.testing.assert_array_equal(importance_bins(q, 3), [2, 2, 2])
    with pytest.raises(ValueError, match='sum to 6'):
        assign_levels(q, [1, 1, 1])


def standing_person(cx=300.0, top=120.0, height=200.0):
    """COCO-17 pixels of an upright person (enough for importance geometry)."""
    rel = np.array([[0, 0], [-.03, -.02], [.03, -.02], [-.06, 0], [.06, 0], [-.12, .18],
                    [.12, .18], [-.16, .38], [.16, .38], [-.18, .55], [.18, .55], [-.08, .55],
                    [.08, .55], [-.08, .77], [.08, .77], [-.08, 1.0], [.08, 1.0]])
    return np.array([cx, top]) + rel * height


def test_pose_importance_marks_joints_and_limbs_not_background():
    kp = standing_person()
    q = pose_importance(480, 640, kp[None])
    assert q.shape == block_grid(480, 640) == (60, 80)
    rows, cols = (kp[:, 1] // 8).astype(int), (kp[:, 0] // 8).astype(int)
    assert q[rows, cols].min() > 0.9                      # every joint's block
    upper_arm = (120 + 0.28 * 200) // 8, (300 - 0.14 * 200) // 8
    assert q[int(upper_arm[0]), int(upper_arm[1])] > 0.5
    assert q[:, 60:].max() < 1e-4 and q[50:, :].max() < 1e-4  # far away
    assert 0.02 < (q > 0.1).mean() < 0.15
    # Low-confidence joints are ignored: only the head stays.
    conf = np.zeros((1, 17))
    conf[0, :5] = 1.0
    q_head = pose_importance(480, 640, kp[None], conf)
    assert q_head[int(kp[16, 1] // 8), int(kp[16, 0] // 8)] < 0.5


def test_rank_agreement_and_block_means():
    a = np.arange(16.0).reshape(4, 4)
    assert rank_agreement(a, a)['spearman'] == pytest.approx(1.0)
    assert rank_agreement(a, -a)['spearman'] == pytest.approx(-1.0)
    np.testing.assert_allclose(block_means(np.ones((10, 17))), np.ones((2, 3)))


@pytest.fixture(scope='module')
def scene():
    """Return a textured 480x640 image (smoothed noise like room surfaces) and its importance."""
    rng = np.random.default_rng(3)
    noise = cv2.GaussianBlur(rng.uniform(0, 255, (480, 640, 3)).astype(np.float32), (0, 0), 3)
    image = np.clip((noise - noise.mean()) * 1.5 + 128, 0, 255).astype(np.uint8)
    kp = standing_person()
    for a, b in ((5, 9), (6, 10), (11, 15), (12, 16), (5, 12), (6, 11)):
        cv2.line(image, tuple(map(int, kp[a])), tuple(map(int, kp[b])), (40, 60, 200), 9)
    cv2.circle(image, tuple(map(int, kp[0])), 14, (150, 180, 220), -1)
    return image, pose_importance(480, 640, kp[None])


def test_regionwise_round_trip_with_plain_opencv(scene):
    image, q = scene
    mu = pose_block_mu(q, 0.5, 8.0)
    data = encode_regionwise(image, mu)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == image.shape
    np.testing.assert_array_equal(decoded, decode_checked(data, (480, 640)))
    roi = np.kron(q >= 0.5, np.ones((8, 8), bool))
    unified_fine = encode_unified(image, 0.5)
    fine = decode_checked(unified_fine)
    # The person is coded as at mu 0.5 (within 0.5 dB), the image costs far fewer bytes.
    assert psnr(image, decoded, roi) > psnr(image, fine, roi) - 0.5
    assert len(data) < 0.5 * len(unified_fine)
    assert psnr(image, decoded, ~roi) < psnr(image, fine, ~roi) - 3.0
    # A uniform map is exactly Unified-IMCO.
    assert encode_regionwise(image, np.full(q.shape, 2.0)) == encode_unified(image, 2.0)


def test_paper_levels_keep_the_mean_level(scene):
    image, q = scene
    mu = paper_block_mu(q, 4.0)
    assert set(np.unique(mu)) <= {2.0, 4.0, 6.0}
    assert mu.mean() == pytest.approx(4.0, abs=1e-9)
    assert mu[q >= 0.9].max() == 2.0                     # joints get the finest level
    assert len(encode_regionwise(image, mu)) > 0


def test_bad_payloads_and_inputs_are_rejected_with_a_reason(scene):
    image, q = scene
    data = encode_regionwise(image, pose_block_mu(q, 1.0, 8.0))
    with pytest.raises(ImageDecodeError, match='missing start/end marker'):
        decode_checked(data[: len(data) // 2])
    with pytest.raises(ImageDecodeError, match='empty'):
        decode_checked(b'')
    with pytest.raises(ImageDecodeError, match='expected 320x480'):
        decode_checked(data, (480, 320))
    corrupt = bytearray(data)
    corrupt[2:200] = b'\x00' * 198
    with pytest.raises(ImageDecodeError):
        decode_checked(bytes(corrupt))
    with pytest.raises(ValueError, match='expected \\(60, 80\\)'):
        encode_regionwise(image, np.ones((10, 10)))
    with pytest.raises(ValueError, match='in \\(0.05, 32.0\\)'):
        encode_regionwise(image, np.full(q.shape, 40.0))
    with pytest.raises(ValueError, match='mu must be in'):
        tables(0.0)


def test_block_transform_is_the_orthonormal_dct():
    from scipy.fft import dctn

    from mec_coop.coop.regional import DCT64
    block = np.random.default_rng(0).uniform(-128, 127, (8, 8))
    np.testing.assert_allclose(DCT64 @ block.ravel(), dctn(block, norm='ortho').ravel(),
                               atol=1e-3)
    np.testing.assert_allclose(DCT64 @ DCT64.T, np.eye(64), atol=1e-5)


def test_offload_importance_is_drawn_near_the_people_only():
    kp = np.stack([standing_person(), standing_person(cx=520.0, top=60.0, height=120.0)])
    conf = np.ones((2, 17))
    conf[1, 9:] = 0.0                                     # legs unseen: the box still counts
    boxes = np.array([[260, 110, 340, 330], [490, 50, 560, 200]], float)
    full = pose_importance(480, 640, kp, conf, boxes)
    near = pose_importance(480, 640, kp, conf, boxes, floor=0.1)
    kept = full >= 0.1
    assert 0.03 < kept.mean() < 0.3
    np.testing.assert_array_equal(near[kept], full[kept])
    assert (near[~kept] == 0).all()
    np.testing.assert_array_equal(pose_block_mu(near, 0.2, 16.0), pose_block_mu(full, 0.2, 16.0))
    with pytest.raises(ValueError, match='floor must be in'):
        pose_importance(480, 640, kp, floor=1.0)


def test_only_coarse_blocks_are_transformed_and_they_decode_as_coded_at_their_level(scene):
    image, q = scene
    mu = pose_block_mu(q, 0.5, 3.0)                       # a level that keeps some detail
    stats = {}
    data = encode_regionwise(image, mu, stats)
    # Work avoided: the people's blocks (finest level) are left to the JPEG writer.
    coarse = mu > 0.5
    assert stats['luma_blocks'] == coarse.sum() < stats['luma_total'] == mu.size
    chroma_coarse = mu.reshape(30, 2, 40, 2).min(axis=(1, 3)) > 0.5
    assert stats['chroma_blocks'] == 2 * chroma_coarse.sum()
    decoded = decode_checked(data, (480, 640))
    # The background looks as if the whole frame were coded at its level (within 0.5 dB).
    background = np.kron(mu == 3.0, np.ones((8, 8), bool))
    coarse_ref = decode_checked(encode_unified(image, 3.0))
    assert abs(psnr(image, decoded, background) - psnr(image, coarse_ref, background)) < 0.5


def test_regionwise_handles_sizes_off_the_chroma_grid():
    rng = np.random.default_rng(5)
    image = cv2.GaussianBlur(rng.uniform(0, 255, (101, 203, 3)), (0, 0), 2).astype(np.uint8)
    q = pose_importance(101, 203, standing_person(cx=100.0, top=10.0, height=80.0)[None])
    data = encode_regionwise(image, pose_block_mu(q, 0.5, 8.0))
    decoded = decode_checked(data, (101, 203))
    assert psnr(image, decoded, np.kron(q >= 0.5, np.ones((8, 8), bool))[:101, :203]) > 35.0
