# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The allocator's split plan: which cut each camera's offloads take, and what it pushes."""

import json
from pathlib import Path

import numpy as np
import pytest

from mec_coop.alloc.split_plan import choose_cuts, CutCost, load_cut_costs, partition_points
from mec_coop.msg import AllocationState, CameraAllocation
from mec_coop.ros.allocation import pushes

PROFILE = Path(__file__).parents[1] / 'docs' / 'figures' / 'split_pipeline.json'


def test_the_measured_profile_never_beats_the_offloads_the_cameras_send():
    cuts = load_cut_costs(str(PROFILE))
    # Candidates lose at most 1 mm against the profile's JPEG route with every joint valid:
    # e.g. split 9 int8 (no valid joint) and split 8 int8 (+0.7 mm, but 1.7 mm over) are out.
    names = {(c.point, c.dtype) for c in cuts}
    assert (9, 'int8') not in names and (4, 'int8') in names
    smallest = min(c.size_bytes for c in cuts)
    # The cameras' 16 KB region-wise offloads and a 0.1 s edge, at 1/4 of 1 MHz to 100 MHz of
    # Shannon rate: every cut sends 20x the bytes; the JPEG wins everywhere.
    for rate in (1e6, 1e7, 1e8):
        assert choose_cuts(cuts, [16_384.0] * 4, 0.1, [rate] * 4) == [None] * 4
    assert smallest > 200_000


def test_a_cut_wins_where_the_edge_is_slow_and_the_link_fast(tmp_path):
    cuts = [CutCost(4, 'int8', 331_529.0, 0.023, 0.071), CutCost(9, 'float16', 964_781.0,
                                                                 0.108, 0.007)]
    # JPEG: 132 KB and 0.5 s at the edge. At 1 Gbit/s cut 4 takes 0.023 + 0.0027 + 0.071 s,
    # cut 9 0.108 + 0.0077 + 0.007 s: both beat 0.5011 s, cut 4 is fastest. At 1 Mbit/s the
    # JPEG's 1.06 s of airtime beats cut 4's 2.75 s.
    chosen = choose_cuts(cuts, [132_340.0, 132_340.0], 0.5, [1e9, 1e6])
    assert chosen == [cuts[0], None]
    assert chosen[0].delay_s(1e9) == pytest.approx(0.023 + 8 * 331_529 / 1e9 + 0.071)
    assert partition_points(chosen).tolist() == [4, -1]
    # No candidate at all: every camera sends its JPEG.
    assert choose_cuts([], [1.0], 10.0, [1.0]) == [None]


def test_a_profile_without_a_jpeg_route_or_with_a_broken_row_is_refused(tmp_path):
    bad = tmp_path / 'profile.json'
    bad.write_text(json.dumps({'routes': {'split 0 int8': {'bytes': 1.0}}}))
    with pytest.raises(ValueError, match='no JPEG offload route'):
        load_cut_costs(str(bad))
    bad.write_text(json.dumps({'routes': {'JPEG offload (q90)': {'mpjpe_mm': 40.0},
                                          'split 0 int8': {'bytes': 1.0}}}))
    with pytest.raises(ValueError, match="lacks 'valid_joints'"):
        load_cut_costs(str(bad))


def test_pushes_set_every_cameras_partition_point_only_with_a_split_plan():
    state = AllocationState(delay_requirement_s=0.5, cameras=[
        CameraAllocation(camera_id='cam0', theta_low=0.2, theta_high=0.7, partition_point=4),
        CameraAllocation(camera_id='cam1', theta_low=0.2, theta_high=0.7, partition_point=-1)])
    planned = pushes(state, 0.05, split_dtypes={'cam0': 'int8'})
    assert [(p.name, p.value) for p in planned['camera:cam0']] == [
        ('theta_low', 0.2), ('theta_high', 0.7), ('partition_point', 4), ('split_dtype', 'int8')]
    assert [(p.name, p.value) for p in planned['camera:cam1']][2:] == [('partition_point', -1)]
    unplanned = pushes(state, 0.05)
    assert all(p.name != 'partition_point' for p in np.concatenate(
        [unplanned['camera:cam0'], unplanned['camera:cam1']]))
