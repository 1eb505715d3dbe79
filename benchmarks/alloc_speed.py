# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Allocator speed and optimality (Algorithm 1 against exhaustive search).

The paper: "Cooperative Inference for Real-Time 3D Human Pose Estimation in Multi-Device
Edge Networks".

Four parts:

1. The paper's operating point: N = 4 cameras (assumed Beta laws, gains -100/-95/-105/-100 dB),
   K = 20 (0.05 grid), D_req from 0.2 to 1 s; every solver's time, accuracy and delay, and the
   gap to the exhaustive optimum. Target: proposed < 0.015 s per point (the paper's figure).
2. Growth with the number of cameras N (2 ... 64), synthetic cameras, D_req in the middle of
   the range where it binds.
3. Growth with the grid (K = 5 ... 80 segments) at N = 4.
4. Accuracy gap to exhaustive search on random instances whose D_req binds.

Solve times are the solvers' own ``solve_time_s`` (whole call: tables, search, final
evaluation), median over repeats. Prints tables and writes
``results/benchmarks/alloc_speed.json`` and ``alloc_speed.png``.

Run:  . scripts/env.sh && python benchmarks/alloc_speed.py
"""

import argparse
from dataclasses import replace
import json
import pathlib
import platform
import time

import matplotlib
import numpy as np

from mec_coop.alloc import baselines, model, plan, scores
from mec_coop.alloc.model import SystemParams
from mec_coop.alloc.scores import CameraModel

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402, I100 (the backend must be chosen first)
from matplotlib.ticker import NullFormatter  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
TARGET_S = 0.015
PAPER_GAINS_DB = (-100.0, -95.0, -105.0, -100.0)
# Proposed variants: the default (marginal greedy + sweeps + pair exchange, shares re-optimised
# per candidate), without pair exchange, and the paper's literal alternation (Gauss-Seidel
# sweeps with the shares of the previous share step).
VARIANTS = {
    'proposed': ('proposed', {}),
    'proposed (no exchange)': ('proposed', {'exchange': False}),
    'proposed (paper sweeps)': ('proposed', {'search': 'sweeps', 'exchange': False,
                                             'candidate_tau': 'previous'}),
    'proposed_fixed_tau': ('proposed_fixed_tau', {}),
    'cascade': ('cascade', {}),
}


def timed(name, options, cameras, params, repeats):
    """Run a solver ``repeats`` times; return the last result and the median solve time."""
    runs = [plan.SOLVERS[name](cameras, params, **options) for _ in range(repeats)]
    return runs[-1], float(np.median([r.solve_time_s for r in runs]))


def paper_point(repeats):
    cameras = [CameraModel.assumed(g) for g in PAPER_GAINS_DB]
    rows = []
    for delay_req in (0.2, 0.3, 0.5, 0.7, 1.0):
        params = SystemParams(delay_req_s=delay_req)
        best = baselines.exhaustive(cameras, params)
        runs = {**VARIANTS, 'device_centric': ('device_centric', {}),
                'server_centric': ('server_centric', {})}
        for label, (name, options) in runs.items():
            result, median = timed(name, options, cameras, params, repeats)
            rows.append({'delay_req_s': delay_req, 'solver': label, 'solve_time_s': median,
                         'accuracy': result.accuracy, 'delay_s': result.delay_s,
                         'feasible': result.feasible,
                         # Only a feasible result competes with the optimum.
                         'gap_to_exhaustive': (best.accuracy - result.accuracy) / best.accuracy
                         if result.feasible else None,
                         'theta_low': result.theta_low.tolist(),
                         'theta_high': result.theta_high.tolist(),
                         'theta_server': result.theta_server.tolist(),
                         'tau': result.tau.tolist()})
        rows.append({'delay_req_s': delay_req, 'solver': 'exhaustive',
                     'solve_time_s': best.solve_time_s, 'accuracy': best.accuracy,
                     'delay_s': best.delay_s, 'feasible': best.feasible,
                     'gap_to_exhaustive': 0.0, 'combinations': best.iterations})
    return rows


def binding(rng, cameras, params, fraction=None, segments=20):
    """Return ``params`` with D_req inside the binding range (at ``fraction``, or random)."""
    lowest, highest = baselines.requirement_range(cameras, params, segments=segments)
    share = rng.uniform() if fraction is None else fraction
    return replace(params, delay_req_s=lowest + share * (highest - lowest))


def growth_n(sizes, repeats, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for num in sizes:
        cameras = scores.synthetic_cameras(rng, num)
        params = binding(rng, cameras, SystemParams(), fraction=0.5)
        for label, (name, options) in VARIANTS.items():
            result, median = timed(name, options, cameras, params, repeats)
            rows.append({'cameras': num, 'solver': label, 'solve_time_s': median,
                         'accuracy': result.accuracy, 'delay_req_s': params.delay_req_s,
                         'feasible': result.feasible})
    return rows


def growth_k(segment_counts, repeats):
    cameras = [CameraModel.assumed(g) for g in PAPER_GAINS_DB]
    params = SystemParams(delay_req_s=0.5)
    rows = []
    for segments in segment_counts:
        for label in ('proposed', 'proposed (no exchange)'):
            name, options = VARIANTS[label]
            result, median = timed(name, {**options, 'segments': segments}, cameras, params,
                                   repeats)
            rows.append({'segments': segments, 'pairs': (segments + 1) * (segments + 2) // 2,
                         'solver': label, 'solve_time_s': median,
                         'accuracy': result.accuracy})
    return rows


def gaps(settings, seed=1):
    rng = np.random.default_rng(seed)
    rows = []
    for num, segments, trials in settings:
        found = {label: [] for label in VARIANTS if label != 'cascade'}
        for _ in range(trials):
            cameras = scores.synthetic_cameras(rng, num)
            params = binding(rng, cameras, SystemParams(
                tx_model=str(rng.choice(model.TX_MODELS))), segments=segments)
            best = baselines.exhaustive(cameras, params, segments=segments)
            for label in found:
                name, options = VARIANTS[label]
                result = plan.SOLVERS[name](cameras, params, segments=segments, **options)
                found[label].append((best.accuracy - result.accuracy) / best.accuracy)
        for label, values in found.items():
            values = np.array(values)
            rows.append({'cameras': num, 'segments': segments, 'instances': trials,
                         'solver': label, 'mean_gap': float(values.mean()),
                         'max_gap': float(values.max()),
                         'share_optimal': float(np.mean(values <= 1e-9))})
    return rows


def plot(path, n_rows, k_rows, gap_rows):
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for label in VARIANTS:
        rows = [r for r in n_rows if r['solver'] == label]
        axes[0].loglog([r['cameras'] for r in rows], [r['solve_time_s'] for r in rows], 'o-',
                       label=label)
    axes[0].axhline(TARGET_S, color='k', ls=':', label='paper: 0.015 s (N = 4)')
    axes[0].set(xlabel='cameras N', ylabel='solve time [s]', title='Growth with N (K = 20)')
    for label in ('proposed', 'proposed (no exchange)'):
        rows = [r for r in k_rows if r['solver'] == label]
        axes[1].loglog([r['segments'] for r in rows], [r['solve_time_s'] for r in rows], 'o-',
                       label=label)
    axes[1].set(xlabel='grid segments K', ylabel='solve time [s]', title='Growth with K (N = 4)')
    settings = sorted({(r['cameras'], r['segments']) for r in gap_rows})
    labels = [label for label in VARIANTS if label != 'cascade']
    width = 0.8 / len(labels)
    for i, label in enumerate(labels):
        values = [next(r['max_gap'] for r in gap_rows if r['solver'] == label
                       and (r['cameras'], r['segments']) == s) for s in settings]
        axes[2].bar(np.arange(len(settings)) + i * width, 100 * np.array(values), width,
                    label=label)
    axes[2].set_xticks(np.arange(len(settings)) + 0.4 - width / 2,
                       [f'N={n}, K={k}' for n, k in settings])
    axes[2].set(ylabel='worst accuracy gap to exhaustive [%]',
                title='Optimality (random binding instances)')
    for ax, rows, key in ((axes[0], n_rows, 'cameras'), (axes[1], k_rows, 'segments')):
        ticks = sorted({r[key] for r in rows})
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
    for ax in axes:
        ax.grid(True, which='both', alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--repeats', type=int, default=15)
    parser.add_argument('--quick', action='store_true', help='fewer random instances')
    parser.add_argument('--out', default=str(ROOT / 'results' / 'benchmarks' / 'alloc_speed'))
    args = parser.parse_args()
    started = time.perf_counter()

    point = paper_point(args.repeats)
    print('Paper operating point: N = 4, gains -100/-95/-105/-100 dB, K = 20')
    print(f'{"D_req":>5} {"solver":<24} {"time ms":>8} {"accuracy":>8} {"delay s":>8} '
          f'{"feasible":>8} {"gap %":>7}')
    for r in point:
        print(f'{r["delay_req_s"]:>5.2f} {r["solver"]:<24} {1e3 * r["solve_time_s"]:>8.2f} '
              f'{r["accuracy"]:>8.4f} {r["delay_s"]:>8.4f} {str(r["feasible"]):>8} '
              + (f'{100 * r["gap_to_exhaustive"]:>7.3f}' if r['feasible'] else f'{"-":>7}'))
    proposed_times = [r['solve_time_s'] for r in point if r['solver'] == 'proposed']
    target_met = max(proposed_times) < TARGET_S
    print(f'target: proposed < {TARGET_S} s per point at N = 4, K = 20: worst '
          f'{max(proposed_times):.4f} s -> {"met" if target_met else "NOT met"}')

    n_rows = growth_n((2, 4, 8, 16, 32, 64), max(3, args.repeats // 3))
    print(f'\nGrowth with N (K = 20, D_req mid-range)\n{"N":>3} {"solver":<24} {"time ms":>8} '
          f'{"accuracy":>8}')
    for r in n_rows:
        print(f'{r["cameras"]:>3} {r["solver"]:<24} {1e3 * r["solve_time_s"]:>8.2f} '
              f'{r["accuracy"]:>8.4f}')

    k_rows = growth_k((5, 10, 20, 40, 80), max(3, args.repeats // 3))
    print(f'\nGrowth with K (N = 4, D_req = 0.5 s)\n{"K":>3} {"pairs":>5} {"solver":<24} '
          f'{"time ms":>8} {"accuracy":>8}')
    for r in k_rows:
        print(f'{r["segments"]:>3} {r["pairs"]:>5} {r["solver"]:<24} '
              f'{1e3 * r["solve_time_s"]:>8.2f} {r["accuracy"]:>8.4f}')

    settings = [(2, 10, 100), (3, 10, 50), (4, 10, 30), (4, 20, 8)]
    if args.quick:
        settings = [(n, k, max(3, t // 5)) for n, k, t in settings]
    gap_rows = gaps(settings)
    print(f'\nGap to exhaustive on random binding instances\n{"N":>3} {"K":>3} {"runs":>4} '
          f'{"solver":<24} {"mean %":>8} {"max %":>8} {"optimal":>8}')
    for r in gap_rows:
        print(f'{r["cameras"]:>3} {r["segments"]:>3} {r["instances"]:>4} {r["solver"]:<24} '
              f'{100 * r["mean_gap"]:>8.4f} {100 * r["max_gap"]:>8.4f} '
              f'{r["share_optimal"]:>8.2f}')

    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix('.json').write_text(json.dumps({
        'machine': platform.processor() or platform.machine(), 'numpy': np.__version__,
        'target_s': TARGET_S, 'target_met': target_met, 'paper_point': point,
        'growth_n': n_rows, 'growth_k': k_rows, 'gaps': gap_rows}, indent=2))
    plot(out.with_suffix('.png'), n_rows, k_rows, gap_rows)
    print(f'\nwrote {out.with_suffix(".json")} and {out.with_suffix(".png")} '
          f'({time.perf_counter() - started:.0f} s)')


if __name__ == '__main__':
    main()
