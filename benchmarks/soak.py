# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Soak test: the virtual-rig graph for minutes, with every node's memory and error lines watched.

Runs the demo's graph (4 cameras, 2 fps, cooperative, uplink emulator, MCAP recording on) through
``benchmarks/pipeline.py``'s ``run_one`` for ``--minutes``, samples the resident memory (RSS) of
every node process (and its children) every ``--period`` s (psutil if installed, else
``/proc/<pid>/status``), restarts nodes that die as the runner does (counted), and counts the
ERROR lines and tracebacks in the node logs. Writes ``<out>/soak.json`` and ``<out>/soak.png``
(RSS against time); the graph's logs, summary and recording go to ``--run-dir``.

A node's RSS is *flat* when, after ``--warmup`` s counted from the first skeleton (models load
and caches fill before that), the median of its last ``--ends`` share of samples (a tenth, at
least three) is within ``--tolerance`` (5%) of the median of its first; the least-squares slope
(MiB/h) over that window is reported too, since a short run cannot show a slow leak. A model
node's RSS swings by the batch in flight (the edge's by about 100 MiB, its ``rss_min_mib`` and
``rss_max_mib``), so medians of three samples could read ~10% apart by sampling phase alone.
The acceptance of issue 13 is 30 minutes, every node flat within 5% and no ERROR line.

Run:  . scripts/env.sh && python benchmarks/soak.py --minutes 30 --out docs/figures
"""

import argparse
import json
import os
import pathlib
import re
import time

import numpy as np

from pipeline import run_one

ROOT = pathlib.Path(__file__).resolve().parents[1]
ERROR_LINE = re.compile(r'\[ERROR\]|Traceback \(most recent call last\)')
MIB = 1024.0 * 1024.0


def _proc_rss(pid):
    try:
        status = pathlib.Path(f'/proc/{pid}/status').read_text()
        children = [int(c) for task in pathlib.Path(f'/proc/{pid}/task').glob('*/children')
                    for c in task.read_text().split()]
    except OSError:             # the process ended meanwhile
        return 0
    match = re.search(r'VmRSS:\s+(\d+) kB', status)   # a zombie has none
    return (int(match.group(1)) * 1024 if match else 0) + sum(map(_proc_rss, children))


def rss_bytes(pid):
    """Resident memory of a process and its descendants (bytes); 0 once it is gone."""
    try:
        import psutil
    except ImportError:
        return _proc_rss(pid)
    try:
        process = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    except psutil.Error:
        return 0


def error_lines(log_dir):
    """ERROR lines and tracebacks per node log."""
    return {log.stem: [ln for ln in log.read_text(errors='replace').splitlines()
                       if ERROR_LINE.search(ln)]
            for log in sorted(pathlib.Path(log_dir).glob('*.log'))}


def first_skeleton(out):
    path = out / 'summary.json'
    try:
        return json.loads(path.read_text()).get('matched', 0) > 0
    except (OSError, ValueError):    # not written yet
        return False


class Sampler:
    """Called by ``run_one`` while the graph runs: samples RSS, supervises restarts."""

    def __init__(self, out, period_s):
        self.out = out
        self.period_s = period_s
        self.samples = []           # (seconds since start, {node: RSS bytes})
        self.first_skeleton_s = None
        self.restart_lines = []
        self.restarts = {}

    def __call__(self, graph, duration):
        start = time.monotonic()
        next_sample = start
        while time.monotonic() - start < duration:
            lost = graph.supervise(self.restart_lines.append)
            if lost:
                raise RuntimeError(f'nodes {lost} died for good: '
                                   f'{graph.log_tail(next(iter(lost)))}')
            now = time.monotonic()
            if self.first_skeleton_s is None and first_skeleton(self.out):
                self.first_skeleton_s = now - start
            if now >= next_sample:
                self.samples.append((now - start, {label: rss_bytes(proc.pid) for label, (
                    proc, _) in graph.procs.items()}))
                next_sample += self.period_s
            time.sleep(min(1.0, max(0.05, next_sample - time.monotonic())))
        self.restarts = dict(graph.restarts)


def flatness(samples, since_s, tolerance, ends=0.1):
    """Per node: RSS at the start and end of the window, growth, slope (MiB/h), flat or not."""
    window = [(t, rss) for t, rss in samples if t >= since_s]
    if len(window) < 6:
        return {}
    t = np.array([s for s, _ in window])
    count = min(max(3, round(ends * len(window))), len(window) // 2)
    out = {}
    for node in window[0][1]:
        mib = np.array([rss[node] for _, rss in window]) / MIB
        begin, end = float(np.median(mib[:count])), float(np.median(mib[-count:]))
        growth = (end - begin) / begin if begin else float('nan')
        out[node] = {'rss_start_mib': begin, 'rss_end_mib': end, 'growth': growth,
                     'rss_min_mib': float(mib.min()), 'rss_max_mib': float(mib.max()),
                     'slope_mib_per_h': float(np.polyfit(t, mib, 1)[0] * 3600.0),
                     'end_samples': count, 'flat': bool(abs(growth) <= tolerance)}
    return out


def plot(samples, since_s, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    t = np.array([s for s, _ in samples]) / 60.0
    for node in samples[0][1]:
        ax.plot(t, [rss[node] / MIB for _, rss in samples], label=node)
    if since_s is not None:
        ax.axvline(since_s / 60.0, color='grey', linestyle='--', label='end of warm-up')
    ax.set(xlabel='minutes since start', ylabel='RSS (MiB)', yscale='log',
           title='soak: resident memory of every node')
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--minutes', type=float, default=30.0)
    parser.add_argument('--period', type=float, default=10.0, help='RSS sample period (s)')
    parser.add_argument('--warmup', type=float, default=60.0,
                        help='seconds after the first skeleton left out of the flatness check')
    parser.add_argument('--tolerance', type=float, default=0.05)
    parser.add_argument('--ends', type=float, default=0.1,
                        help='share of the window whose median is its start (and end) RSS')
    parser.add_argument('--cameras', type=int, default=4)
    parser.add_argument('--out', default=str(ROOT / 'results' / 'benchmarks'),
                        help='where soak.json and soak.png go')
    parser.add_argument('--run-dir', default=str(ROOT / 'results' / 'soak_run'),
                        help="the graph's logs, summary and MCAP recording")
    args = parser.parse_args()

    out = pathlib.Path(args.out)
    run_dir = pathlib.Path(args.run_dir)
    # A summary left by an earlier run would pass for this run's first skeleton.
    (run_dir / 'summary.json').unlink(missing_ok=True)
    sampler = Sampler(run_dir, args.period)
    row = run_one(args.cameras, 2.0, 'cooperative', 60.0 * args.minutes, run_dir,
                  150 + os.getpid() % 80, overrides=['evaluator.record=true'], during=sampler)
    since = None if sampler.first_skeleton_s is None else sampler.first_skeleton_s + args.warmup
    nodes = flatness(sampler.samples, since, args.tolerance, args.ends) \
        if since is not None else {}
    errors = error_lines(run_dir / 'logs')
    result = {
        'minutes': args.minutes, 'cameras': args.cameras, 'sample_period_s': args.period,
        'first_skeleton_s': sampler.first_skeleton_s, 'flatness_from_s': since,
        'tolerance': args.tolerance, 'ends': args.ends, 'nodes': nodes,
        'restarts': sampler.restarts,
        'restart_lines': sampler.restart_lines,
        'error_lines': {k: len(v) for k, v in errors.items()},
        'error_examples': {k: v[:3] for k, v in errors.items() if v},
        'all_flat': bool(nodes) and all(n['flat'] for n in nodes.values()),
        'no_errors': not any(errors.values()),
        'run': row,
        'samples': [{'t_s': round(t, 1), 'rss_mib': {k: round(v / MIB, 1) for k, v in rss.items()}}
                    for t, rss in sampler.samples]}
    out.mkdir(parents=True, exist_ok=True)
    (out / 'soak.json').write_text(json.dumps(result, indent=2))
    if sampler.samples:
        plot(sampler.samples, since, out / 'soak.png')
    print(f'{"node":>14} {"start MiB":>9} {"end MiB":>8} {"growth":>7} {"MiB/h":>7} flat  errors')
    for node, n in nodes.items():
        print(f'{node:>14} {n["rss_start_mib"]:>9.1f} {n["rss_end_mib"]:>8.1f} '
              f'{n["growth"]:>+7.1%} {n["slope_mib_per_h"]:>+7.1f} '
              f'{"yes" if n["flat"] else "NO":>4}  {len(errors.get(node, []))}')
    print(f'all flat within {args.tolerance:.0%}: {result["all_flat"]}; no ERROR lines: '
          f'{result["no_errors"]}; restarts {sampler.restarts}; run: {row}')
    print(f'wrote {out / "soak.json"} and {out / "soak.png"}')


if __name__ == '__main__':
    main()
