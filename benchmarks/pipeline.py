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
# The pipeline before issue 10: no edge feedback, the paper's frame score, the greedy
# (leave-one-view-out) triangulation.
NO_FEEDBACK = ['edge.feedback=false', 'camera.roi_feedback=false', 'camera.frame_score=paper',
               'edge.triangulation=greedy']


def run_one(cameras, fps, mode, duration, out, domain, feedback=True, overrides=(),
            during=None):
    """
    Run the graph for ``duration`` s and return its row (None when a node failed).

    ``during(graph, duration)``, when given, runs while the graph does instead of a sleep
    (``benchmarks/soak.py`` samples the processes there).
    """
    config = load_config('virtual_rig', [
        f'graph.cameras={cameras}', f'graph.mode={mode}', f'rig.fps={fps}',
        f'evaluator.output_dir={out}', 'evaluator.record=false',
        *([] if feedback else NO_FEEDBACK), *overrides])
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST')
    with GraphProcesses(build_graph(config), out / 'logs', env=env) as graph:
        if during is None:
            time.sleep(duration)
        else:
            during(graph, duration)
        failed = graph.failed()
    summary = json.loads((out / 'summary.json').read_text()) \
        if (out / 'summary.json').exists() else {}
    if failed or not summary.get('skeletons'):
        # No skeleton at all: on a loaded CPU the nodes may still be importing torch when the
        # run ends (an 8-camera graph at load 11 did); no row, rather than an empty one.
        print(f'{mode} {cameras} cams {fps:g} fps: no result (failed nodes {failed}, '
              f"{summary.get('skeletons', 'no')} skeletons); logs in {out / 'logs'}")
        return None
    delay = summary.get('delay_s', {})
    return {'cameras': cameras, 'fps': fps, 'mode': mode, 'feedback': feedback,
            'duration_s': duration, 'skeletons_per_s': summary['skeletons'] / duration,
            'skeleton_rate': summary['skeleton_rate'],
            'joint_coverage': summary['joint_coverage'],
            'mpjpe_all_instants_mm': summary['mpjpe_all_instants_mm'],
            'warmup_instants': summary['warmup_instants'],
            'delay_p50_s': delay.get('p50'), 'delay_p95_s': delay.get('p95'),
            'delay_p99_s': delay.get('p99'), 'mpjpe_mm': summary['mpjpe_mm'],
            'offload_ratio': summary['offload_ratio'], 'routes': summary['routes']}


def _seconds(value):
    return f'{value:6.3f}' if value is not None else '   n/a'


def plot(rows, path):
    """MPJPE against p95 delay per run, labelled with the skeleton rate (misses are visible)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for r in rows:
        marker = 'o' if r['feedback'] else 'x'
        ax.scatter(r['delay_p95_s'] or float('nan'), r['mpjpe_mm'], marker=marker)
        ax.annotate(f"{r['mode']} {r['cameras']}c {r['fps']:g}fps "
                    f"{'fb' if r['feedback'] else 'no fb'} rate {r['skeleton_rate']:.2f}",
                    (r['delay_p95_s'] or 0.0, r['mpjpe_mm']), fontsize=7)
    ax.set(xlabel='end-to-end delay p95 (s)', ylabel='MPJPE (mm)',
           title='pipeline runs (o: edge feedback, x: without)')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--cameras', type=int, nargs='+', default=[2, 4, 8])
    parser.add_argument('--fps', type=float, nargs='+', default=[2.0, 10.0])
    parser.add_argument('--modes', nargs='+', default=sorted(MODES), choices=sorted(MODES))
    parser.add_argument('--duration', type=float, default=40.0)
    parser.add_argument('--feedback', choices=('on', 'off', 'both'), default='on',
                        help="the edge's crops for the cameras (issue 10): with, without, both")
    parser.add_argument('--out', default=str(ROOT / 'results' / 'benchmarks'))
    args = parser.parse_args()

    out = pathlib.Path(args.out)
    rows = []
    domains = iter(range(150 + os.getpid() % 20, 233))
    print(f'{"mode":>15} {"fb":>3} {"cams":>4} {"fps":>4} {"skel/s":>7} {"rate":>5} '
          f'{"cover":>5} {"p50 s":>6} {"p95 s":>6} {"p99 s":>6} {"MPJPE":>6} {"all-inst":>8} '
          f'{"offload":>7}')
    feedbacks = {'on': (True,), 'off': (False,), 'both': (True, False)}[args.feedback]
    for mode in args.modes:
        for feedback in feedbacks:
            for cameras in args.cameras:
                for fps in args.fps:
                    label = f'{mode}_{cameras}_{fps:g}_{"fb" if feedback else "nofb"}'
                    r = run_one(cameras, fps, mode, args.duration,
                                out / 'pipeline_runs' / label, next(domains), feedback)
                    if r is None:
                        continue
                    rows.append(r)
                    print(f'{mode:>15} {"on" if feedback else "off":>3} {cameras:>4} '
                          f'{fps:>4g} {r["skeletons_per_s"]:>7.2f} {r["skeleton_rate"]:>5.2f} '
                          f'{r["joint_coverage"]:>5.2f} {_seconds(r["delay_p50_s"])} '
                          f'{_seconds(r["delay_p95_s"])} {_seconds(r["delay_p99_s"])} '
                          f'{r["mpjpe_mm"]:>6.1f} {r["mpjpe_all_instants_mm"]:>8.1f} '
                          f'{r["offload_ratio"]:>7.3f}', flush=True)
    (out / 'pipeline.json').write_text(json.dumps(rows, indent=2))
    plot(rows, out / 'pipeline.png')
    print(f'wrote {out / "pipeline.json"} and {out / "pipeline.png"}')


if __name__ == '__main__':
    main()
