# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The edge's memory stays flat while its crop batches grow (issue 13's soak)."""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_edge_rss_flat_while_crop_batches_grow(tmp_path):
    # benchmarks/edge_memory.py drives the edge's own batch function (edge_estimates) in a fresh
    # process, so the heap measured is that code's alone; imgsz 320 keeps it short. Without the
    # release after each batch (its 'keep' variant) the same run ended 110-132 MiB and peaked
    # 130-158 MiB above its start (two runs): glibc kept every larger batch's buffers.
    subprocess.run([sys.executable, str(ROOT / 'benchmarks' / 'edge_memory.py'),
                    '--variants', 'release', '--imgsz', '320', '--offloads', '24',
                    '--max-people', '16', '--warmup', '2', '--cost-repeats', '0',
                    '--out', str(tmp_path)],
                   check=True, timeout=120)
    result = json.loads((tmp_path / 'edge_memory.json').read_text())['summary']['release']
    assert result['max_people_at_end'] - result['max_people_at_start'] >= 10  # batches grew
    assert result['rejected'] == 0
    # What still grows is 1-2 MiB per crop of the largest batch, 14-19 MiB here at 15 crops of
    # 320 (part of it is Python's: Ultralytics' predictor keeps the last batch referenced).
    assert result['rss_end_mib'] - result['rss_start_mib'] < 30.0
    assert result['rss_max_mib'] - result['rss_start_mib'] < 35.0
    assert abs(result['python_end_mib'] - result['python_start_mib']) < 5.0
