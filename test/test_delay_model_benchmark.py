# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The delay-model benchmark's own logic: a recorded run replayed with its measured inputs."""

import importlib.util
import pathlib
import sys
from types import SimpleNamespace

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'benchmarks'))   # it imports its sibling pareto.py
_spec = importlib.util.spec_from_file_location('delay_model_benchmark',
                                               ROOT / 'benchmarks' / 'delay_model.py')
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

CAMERAS = ['cam0', 'cam1', 'cam2', 'cam3']


def _recording(instants=200, edge_late_s=0.0):
    """
    Return the probe's rows of four cameras at 2 fps.

    Keypoints come 0.1 s after capture; every tenth frame of each camera (staggered) is an
    offload of 10 KB that leaves 0.15 s after capture, takes 0.08 s at 1 Mbit/s and 0.1 s at
    the edge, whose result comes ``edge_late_s`` later than that.
    """
    rows = []
    for k in range(instants):
        stamp = 100.0 + 0.5 * k
        for i, cam in enumerate(CAMERAS):
            if (k + 3 * i) % 10:
                rows.append((bench.KEYPOINTS, cam, stamp, stamp + 0.1, None))
                continue
            offload = SimpleNamespace(image=SimpleNamespace(data=bytes(10_000)),
                                      uplink_airtime_s=0.08, audit=False, camera_confidence=0.6)
            rows += [(bench.SENT, cam, stamp, stamp + 0.15, offload),
                     (bench.DELIVERED, cam, stamp, stamp + 0.23, offload),
                     (bench.RESULT, cam, stamp, stamp + 0.33 + edge_late_s,
                      SimpleNamespace(inference_time_s=0.1))]
    return rows


def test_a_run_the_replay_models_is_replayed_stage_by_stage():
    instants = bench.measured(_recording(), CAMERAS)
    assert len(instants) == 180   # the first tenth is the start-up
    row = bench.compare(instants, CAMERAS, 2.0, 0.45, 1, {'p50': 0.1, 'p95': 0.33})
    assert row['inputs']['p_offload'] == pytest.approx([0.1] * 4, abs=0.01)
    assert row['inputs']['uplink_rate_bps'] == pytest.approx([1e6] * 4)
    assert row['inputs']['offload_extra_s'] == pytest.approx([0.05] * 4)
    for stage, seconds in (('offload_leaves_camera_p50_s', 0.15),
                           ('offload_reaches_edge_p50_s', 0.23),
                           ('offload_view_p50_s', 0.33)):
        assert row[stage]['measured'] == pytest.approx(seconds)
        assert row[stage]['replayed'] == pytest.approx(seconds, abs=0.01), stage
    # No camera offloads two frames in a row here.
    assert all(c['offload_after_offload'] == 0.0 for c in row['per_camera'].values())


def test_a_stage_the_replay_misses_shows_where():
    # The edge's results come 0.2 s later than its own time says: the stages up to the edge
    # still agree, the edge's result does not.
    row = bench.compare(bench.measured(_recording(edge_late_s=0.2), CAMERAS), CAMERAS, 2.0, 0.45,
                        1, {})
    assert row['offload_reaches_edge_p50_s']['replayed'] == pytest.approx(0.23, abs=0.01)
    assert row['offload_view_p50_s']['measured'] - row['offload_view_p50_s']['replayed'] \
        == pytest.approx(0.2, abs=0.01)
