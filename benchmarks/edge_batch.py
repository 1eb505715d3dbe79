# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Edge model service time per image against batch size, on this machine's CPU.

Runs the edge model (yolo11n-pose at ``--imgsz``, 960 by default) on rendered 1280x720
virtual-rig views in batches of each ``--batch-sizes`` (one model call per batch,
:meth:`~mec_coop.pose.backend.PoseBackend.predict_batch`), ``--rounds`` times over the same
``--images`` views, and reports the per-image service time (batch time / batch size): median,
10th and 90th percentile, and the speed-up over batch size 1. Writes
``docs/figures/edge_batch.json``.

Run:  . scripts/env.sh && python benchmarks/edge_batch.py --threads 2
"""

import argparse
import json
import os
import pathlib
import platform
import time

import numpy as np

from mec_coop.pose.ultralytics_backend import UltralyticsPose
from mec_coop.rig.virtual import VirtualRig

ROOT = pathlib.Path(__file__).resolve().parents[1]


def rig_views(count, seed):
    """``count`` rendered views: all cameras of successive instants, one second apart."""
    rig = VirtualRig(num_cameras=4, seed=seed)
    views = []
    t = 0.0
    while len(views) < count:
        views += rig.frame(t).images
        t += 1.0
    return views[:count]


def service_times(model, views, batch_size):
    """Per-image times (s) of every batch of ``batch_size`` consecutive views."""
    times = []
    for k in range(0, len(views) - batch_size + 1, batch_size):
        start = time.perf_counter()
        model.predict_batch(views[k:k + batch_size])
        times.append((time.perf_counter() - start) / batch_size)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--imgsz', type=int, default=960)
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 2, 4])
    parser.add_argument('--images', type=int, default=8)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'figures' / 'edge_batch.json'))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    views = rig_views(args.images, args.seed)
    model = UltralyticsPose(imgsz=args.imgsz, conf=0.05, threads=args.threads)
    # One untimed batch of each size: the first call of a new batch shape is slower.
    for b in args.batch_sizes:
        model.predict_batch(views[:b])
    rows = {}
    print(f'{model.name}, {args.threads} threads: per-image service time')
    print(f'{"batch":>5} {"p10 ms":>8} {"p50 ms":>8} {"p90 ms":>8} {"speed-up":>8}')
    per_image = {b: [] for b in args.batch_sizes}
    # Batch sizes take turns within each round, so that load from other processes on a shared
    # machine spreads over all of them alike.
    for _ in range(args.rounds):
        for b in args.batch_sizes:
            per_image[b] += service_times(model, views, b)
    for b in args.batch_sizes:
        p10, p50, p90 = 1000 * np.percentile(per_image[b], (10, 50, 90))
        rows[str(b)] = {'batches': len(per_image[b]), 'per_image_ms_p10': round(p10, 1),
                        'per_image_ms_p50': round(p50, 1), 'per_image_ms_p90': round(p90, 1)}
    base = rows[str(args.batch_sizes[0])]['per_image_ms_p50']
    for b in args.batch_sizes:
        row = rows[str(b)]
        row['speed_up_vs_first'] = round(base / row['per_image_ms_p50'], 2)
        print(f'{b:>5} {row["per_image_ms_p10"]:>8.1f} {row["per_image_ms_p50"]:>8.1f} '
              f'{row["per_image_ms_p90"]:>8.1f} {row["speed_up_vs_first"]:>8.2f}')
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    machine = {'cpu': platform.processor() or platform.machine(), 'cpu_count': os.cpu_count(),
               'load_average_1min_before_after': [round(load_before, 2),
                                                  round(os.getloadavg()[0], 2)]}
    arguments = {k: v for k, v in vars(args).items() if k != 'out'}
    out.write_text(json.dumps({'arguments': arguments, 'model': model.name, 'machine': machine,
                               'image': '1280x720 virtual-rig view', 'batch_size': rows},
                              indent=2) + '\n')
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
