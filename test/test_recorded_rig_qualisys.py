# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Tests of the recorded rig's Qualisys calibration parsing, on synthetic files and the demos.

The demo data come from ``pip install --no-deps pose2sim==0.10.49``; tests that need them skip
without it.
"""

import itertools

import numpy as np
import pytest

from mec_coop.rig.recorded.demos import DEMOS, find_calibration, resolve_demo
from mec_coop.rig.recorded.qualisys import read_qca


def test_qca_round_trip_with_fov_offset_and_binning(tmp_path, ring_cameras, write_qca):
    cams = ring_cameras()
    write_qca(tmp_path / 'a.qca.txt', cams, left=16, top=8, binning=2)
    parsed = read_qca(tmp_path / 'a.qca.txt', binning_factor=2)
    assert [c.name for c in parsed] == [c.name for c in cams]
    for got, want in zip(parsed, cams):
        assert (got.width, got.height) == (want.width, want.height)
        # The file holds full-sensor sub-pixels with the field of view's origin; binning halves
        # the grid. Distortion acts on normalised coordinates, so binning leaves it alone.
        np.testing.assert_allclose(got.K, want.K, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(got.R, want.R, atol=1e-12)
        np.testing.assert_allclose(got.center, want.center, atol=1e-12)
        np.testing.assert_allclose(got.dist, want.dist, atol=1e-15)


def test_qca_round_trip_projects_identically(tmp_path, ring_cameras, write_qca):
    cams = ring_cameras()
    write_qca(tmp_path / 'b.qca.txt', cams)
    parsed = read_qca(tmp_path / 'b.qca.txt')
    points = np.random.default_rng(1).uniform((-1, -1, 0), (1, 1, 2), (50, 3))
    for got, want in zip(parsed, cams):
        np.testing.assert_allclose(got.project(points), want.project(points), atol=1e-9)


def test_qca_rejects_rotation_bad_files_and_skips_marker_cameras(
        tmp_path, ring_cameras, write_qca):
    cams = ring_cameras()
    write_qca(tmp_path / 'rot.qca.txt', cams, rotation=90)
    with pytest.raises(ValueError, match='viewrotation'):
        read_qca(tmp_path / 'rot.qca.txt')
    write_qca(tmp_path / 'mixed.qca.txt', cams, models=['Miqus M3', 'none', 'Miqus Video', 'x'])
    assert [c.name for c in read_qca(tmp_path / 'mixed.qca.txt')] == ['cam02', 'cam03']
    (tmp_path / 'bad.qca.txt').write_text('<calibration><cameras>')
    with pytest.raises(ValueError, match='not a readable'):
        read_qca(tmp_path / 'bad.qca.txt')
    write_qca(tmp_path / 'none.qca.txt', cams, models=['Miqus M3'] * 4)
    with pytest.raises(ValueError, match='no video cameras'):
        read_qca(tmp_path / 'none.qca.txt')


@pytest.mark.usefixtures('pose2sim_demos')
def test_demo_calibration_values_follow_pose2sim_conventions():
    cams = read_qca(find_calibration(resolve_demo('Demo_SinglePerson')))
    cam = cams[0]
    assert cam.name == 'cam01'
    # Straight from the file: focalLengthU=107599.671875, centerPointU=34110.316406, 64 per px.
    assert cam.K[0, 0] == pytest.approx(107599.671875 / 64)
    assert cam.K[1, 2] == pytest.approx(60680.792969 / 64)
    assert cam.dist[0] == pytest.approx(-0.046183 / 64)
    # Position x=1460.23 mm ...; the optical axis is minus the third row of the file's matrix.
    np.testing.assert_allclose(cam.center, [1.4602323709, -1.9091590482, 1.8965058524])
    np.testing.assert_allclose(cam.R[2], [-0.7104002580, 0.5907342213, -0.3825762058])


@pytest.mark.usefixtures('pose2sim_demos')
@pytest.mark.parametrize('demo', DEMOS)
def test_demo_calibration_is_a_sane_rig(demo):
    cams = read_qca(find_calibration(resolve_demo(demo)))
    assert [c.name for c in cams] == ['cam01', 'cam02', 'cam03', 'cam04']
    for cam in cams:
        assert (cam.width, cam.height) == (1088, 1920)
        assert 1600 < cam.K[0, 0] < 1750 and abs(cam.K[0, 0] / cam.K[1, 1] - 1) < 0.01
        assert 0.4 * cam.width < cam.K[0, 2] < 0.6 * cam.width
        assert 0.4 * cam.height < cam.K[1, 2] < 0.6 * cam.height
        assert np.all(np.abs(cam.dist) < 0.01)
        assert 1.5 < cam.center[2] < 2.5          # mounted at head height or above, world z up
        assert cam.R[2, 2] < -0.2                 # looking down
    centres = np.array([c.center for c in cams])
    gaps = [np.linalg.norm(a - b) for a, b in itertools.combinations(centres, 2)]
    assert 2.0 < min(gaps) and max(gaps) < 8.0
    # The optical axes meet in one capture area in front of every camera.
    A = sum(np.eye(3) - np.outer(c.R[2], c.R[2]) for c in cams)
    b = sum((np.eye(3) - np.outer(c.R[2], c.R[2])) @ c.center for c in cams)
    meet = np.linalg.solve(A, b)
    for cam in cams:
        depth = cam.to_camera(meet)[2]
        assert 2.0 < depth < 6.0
        off_axis = np.linalg.norm(np.cross(meet - cam.center, cam.R[2]))
        assert off_axis < 1.0
