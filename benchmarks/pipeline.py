# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
End-to-end pipeline throughput and latency on the virtual rig, per scheme.

Runs the full node graph (rig, camera nodes, uplink emulator, edge, evaluator) as processes for
each combination of camera count, frame rate and scheme, and reports skeletons per second,
end-to-end delay percentiles, MPJPE and the offload ratio. Writes
``results/benchmarks/pipeline.json`` and ``pipeline.png``.

Run:  . scripts/env.sh && python benchmarks/pipeline.py [--cameras 2 4 8] [--fps 2 10]
      [--modes cooperative server_centric] [--duration 40]
All processes share this machine's CPU: on 2 cores the large model and 8 camera models compete,
which is part of what the numbers show.
"""

import argparse
import json
import os
import pathlib
import time

from mec_coop.coop.routing import MODES
from mec_coop.graph import build_graph, load_config
from mec_coop.runner import GraphProcesses

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_one(cameras, fps, mode, duration, out, domain):
    config = load_config('virtual_rig', [
        f'graph.cameras={cameras}', f'graph.mode={mode}', f'rig.fps={fps}',
        f'evaluator.output_dir={out}', 'evaluator.record=false'])
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST')
    with GraphProcesses(build_graph(config), out / 'logs', env=env) as graph:
        time.sleep(duration)
        failed = graph.failed()
    if failed or not (out / 'summary.json').exists():
        print(f'{mode} {cameras} cams {fps:g} fps: no result (failed nodes {failed}); '
              f'logs in {out / "logs"}')
        return None
    summary = json.loads((out / 'summary.json').read_text())
    delay = summary.get('delay_s', {})
    return {'cameras': cameras, 'fps': fps, 'mode': mode, 'duration_s': duration,
            'skeletons_per_s': summary['skeletons'] / duration,
            'skeleton_rate': summary['skeleton_rate'],
            'delay_p50_s': delay.get('p50'), 'delay_p95_s': delay.get('p95'),
            'delay_p99_s': delay.get('p99'), 'mpjpe_mm': summary['mpjpe_mm'],
            'offload_ratio': summary['offload_ratio'], 'routes': summary['routes']}


def _seconds(value):
    return f'{value:6.3f}' if value is not None else '   n/a'


def plot(rows, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for mode in sorted({r['mode'] for r in rows}):
        for fps in sorted({r['fps'] for r in rows}):
            sel = sorted((r for r in rows if r['mode'] == mode and r['fps'] == fps),
                         key=lambda r: r['cameras'])
            label = f'{mode} {fps:g} fps'
            axes[0].plot([r['cameras'] for r in sel], [r['skeletons_per_s'] for r in sel],
                         marker='o', label=label)
            axes[1].plot([r['cameras'] for r in sel],
                         [r['delay_p95_s'] or float('nan') for r in sel], marker='o', label=label)
    axes[0].set(xlabel='cameras', ylabel='skeletons / s', title='throughput')
    axes[1].set(xlabel='cameras', ylabel='end-to-end delay p95 (s)', title='latency',
                yscale='log')
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--cameras', type=int, nargs='+', default=[2, 4, 8])
    parser.add_argument('--fps', type=float, nargs='+', default=[2.0, 10.0])
    parser.add_argument('--modes', nargs='+', default=sorted(MODES), choices=sorted(MODES))
    parser.add_argument('--duration', type=float, default=40.0)
    parser.add_argument('--out', default=str(ROOT / 'results' / 'benchmarks'))
    args = parser.parse_args()

    out = pathlib.Path(args.out)
    rows = []
    domains = iter(range(150 + os.getpid() % 20, 233))
    print(f'{"mode":>15} {"cams":>4} {"fps":>4} {"skel/s":>7} {"rate":>5} {"p50 s":>6} '
          f'{"p95 s":>6} {"p99 s":>6} {"MPJPE mm":>8} {"offload":>7}')
    for mode in args.modes:
        for cameras in args.cameras:
            for fps in args.fps:
                r = run_one(cameras, fps, mode, args.duration,
                            out / 'pipeline_runs' / f'{mode}_{cameras}_{fps:g}', next(domains))
                if r is None:
                    continue
                rows.append(r)
                print(f'{mode:>15} {cameras:>4} {fps:>4g} {r["skeletons_per_s"]:>7.2f} '
                      f'{r["skeleton_rate"]:>5.2f} {_seconds(r["delay_p50_s"])} '
                      f'{_seconds(r["delay_p95_s"])} {_seconds(r["delay_p99_s"])} '
                      f'{r["mpjpe_mm"]:>8.1f} {r["offload_ratio"]:>7.3f}', flush=True)
    (out / 'pipeline.json').write_text(json.dumps(rows, indent=2))
    plot(rows, out / 'pipeline.png')
    print(f'wrote {out / "pipeline.json"} and {out / "pipeline.png"}')


if __name__ == '__main__':
    main()
