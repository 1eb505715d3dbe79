# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The edge's memory under the offloads it serves, without DDS: where the soak's RSS growth came from.

Feeds the edge node's own batch function (:func:`mec_coop.ros.split_route.edge_estimates`,
what its inference worker runs, with ``offload_crops``) offloaded JPEGs of the virtual rig in
batches of ``--batch-size`` (the edge's ``batch_size``). Each offload carries the people its
camera reported, as the camera node sends them: every person above the detection threshold
(0.05), so the rig's person and spurious ones; the edge runs one crop per person. Their count
is drawn (1 + geometric) below a ceiling that rises from 2 to ``--max-people`` over the run,
each new ceiling sent as soon as it is reached, so that now and then a crop batch larger than
any before comes; ``--search`` of the offloads carry nobody and run as full frames. Each
variant runs in a fresh process:

* ``release`` - the product: the free heap goes back to the OS after each batch
  (:func:`mec_coop.pose.heap.release_free_heap`);
* ``keep`` - the same with that call replaced by a no-op: glibc keeps what the model freed.

After every batch it samples the process's RSS and Python's own allocations (tracemalloc: numpy
arrays included, torch's buffers not), which tells Python-side growth from native growth.
Writes ``<out>/edge_memory.json`` and ``<out>/edge_memory.png``.

Run:  . scripts/env.sh && python benchmarks/edge_memory.py --out docs/figures
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np

from soak import MIB, rss_bytes

ROOT = pathlib.Path(__file__).resolve().parents[1]
VARIANTS = ('release', 'keep')


def camera_people(frame, view: int, count: int, width: int, height: int, rng):
    """Make what a camera reports: the rig's person (where it projects), ``count - 1`` spurious."""
    from mec_coop.pose.backend import PoseEstimate

    truth = frame.keypoints_2d[view][0]
    shapes = [truth] + [truth - truth.mean(axis=0) + rng.uniform((0, 0), (width, height))
                        for _ in range(count - 1)]
    kp = np.array(shapes[:count]).reshape(count, len(truth), 2)
    boxes = np.concatenate([kp.min(axis=1), kp.max(axis=1)], axis=1)
    return PoseEstimate(boxes, rng.uniform(0.05, 0.9, count), kp,
                        rng.uniform(0.1, 0.9, kp.shape[:2]))


def offload(image, estimate):
    """Build the ``OffloadRequest`` the camera node sends (JPEG at 90 and its people)."""
    from mec_coop.coop.codec import encode_jpeg
    from mec_coop.msg import OffloadRequest
    from mec_coop.ros.conversions import persons_to_msgs

    msg = OffloadRequest(width=image.shape[1], height=image.shape[0], jpeg_quality=90)
    msg.image.format = 'jpeg'
    msg.image.data = encode_jpeg(image, 90)
    msg.people = persons_to_msgs(estimate)
    msg.selected_person = 0 if estimate.num_people else -1
    return msg


def drive(variant: str, offloads: int, imgsz: int, batch_size: int, search: float,
          max_people: int, seed: int, cost_repeats: int) -> dict:
    """Run one variant in this process; per batch: RSS, Python-traced memory, times."""
    import mec_coop.ros.split_route as route
    from mec_coop.pose.ultralytics_backend import UltralyticsPose
    from mec_coop.rig.virtual import VirtualRig

    release = route.release_free_heap
    release_s = []

    def timed_release() -> bool:
        start = time.perf_counter()
        done = release()
        release_s.append(time.perf_counter() - start)
        return done
    route.release_free_heap = timed_release if variant == 'release' else (lambda: False)

    model = UltralyticsPose(imgsz=imgsz, conf=0.05)
    rig = VirtualRig(num_cameras=4, seed=seed)
    width, height = rig.cameras[0].width, rig.cameras[0].height
    rng = np.random.default_rng(seed)
    rejected: list = []
    tracemalloc.start()
    jobs, samples, most = [], [], 0
    for i in range(offloads):
        view = i % len(rig.cameras)
        frame = rig.frame(0.5 * (i // len(rig.cameras)))
        # The camera's people (1 + geometric) below a ceiling that rises to max_people: a
        # larger batch than any before comes now and then, as the spurious detections do.
        ceiling = 2 + (max_people - 2) * i // offloads
        count = ceiling if ceiling > most else 0 if rng.random() < search else \
            min(int(rng.geometric(0.45)), ceiling)
        most = max(most, count)
        jobs.append((f'cam{view}', offload(frame.image(view), camera_people(
            frame, view, count, width, height, rng))))
        if len(jobs) < batch_size:
            continue
        start = time.perf_counter()
        route.edge_estimates(model, jobs, lambda *why: rejected.append(why), max_crops=64)
        elapsed = time.perf_counter() - start
        jobs = []                  # sampled without the batch's messages and frame in hand
        frame = None
        samples.append({'offloads': i + 1, 'max_people': most, 'batch_s': round(elapsed, 4),
                        'rss_mib': round(rss_bytes(os.getpid()) / MIB, 1),
                        'python_mib': round(tracemalloc.get_traced_memory()[0] / MIB, 2)})
    return {'variant': variant, 'rejected': len(rejected), 'samples': samples,
            'release_ms_mean': 1e3 * float(np.mean(release_s)) if release_s else None,
            'cost': cost(model, route, release, rig, rng, cost_repeats)
            if variant == 'release' and cost_repeats else None}


def cost(model, route, release, rig, rng, repeats: int) -> dict:
    """
    Median seconds of one batch (2 offloads of 3 people) with and without the release after it.

    Interleaved, so that the load of a shared machine falls on both alike; a batch that follows
    a release re-faults the pages the model gets back, which this includes.
    """
    frame = rig.frame(0.0)
    width, height = rig.cameras[0].width, rig.cameras[0].height
    jobs = [(f'cam{v}', offload(frame.image(v), camera_people(frame, v, 3, width, height, rng)))
            for v in range(2)]
    times: dict = {'release': [], 'keep': []}
    for k in range(2 * repeats):
        variant = 'release' if k % 2 else 'keep'
        route.release_free_heap = release if k % 2 else (lambda: False)
        start = time.perf_counter()
        route.edge_estimates(model, jobs, lambda *why: None, max_crops=64)
        times[variant].append(time.perf_counter() - start)
    return {f'batch_s_{v}': float(np.median(t)) for v, t in times.items()}


def summary(run: dict, warmup: int) -> dict:
    """RSS and Python memory after ``warmup`` batches: start, end (medians of 5), growth."""
    window = run['samples'][warmup:]
    if len(window) < 10:
        raise ValueError(f'{len(window)} batches after the warm-up: run more offloads')

    def ends(key: str) -> tuple:
        values = [s[key] for s in window]
        return float(np.median(values[:5])), float(np.median(values[-5:]))
    rss0, rss1 = ends('rss_mib')
    py0, py1 = ends('python_mib')
    return {'rss_start_mib': rss0, 'rss_end_mib': rss1, 'rss_growth': (rss1 - rss0) / rss0,
            'rss_max_mib': max(s['rss_mib'] for s in window),
            'python_start_mib': py0, 'python_end_mib': py1,
            'max_people_at_start': window[0]['max_people'],
            'max_people_at_end': window[-1]['max_people'],
            'batch_s_mean': float(np.mean([s['batch_s'] for s in window])),
            'release_ms_mean': run['release_ms_mean'], 'rejected': run['rejected'],
            'interleaved_cost': run['cost']}


def plot(runs: dict, warmup: int, path: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for variant, run in runs.items():
        x = [s['offloads'] for s in run['samples']]
        ax.plot(x, [s['rss_mib'] for s in run['samples']], label=f'RSS, {variant}')
    first = next(iter(runs.values()))['samples']
    people = ax.twinx()
    people.step([s['offloads'] for s in first], [s['max_people'] for s in first], 'k:',
                where='post', label='largest crop batch so far')
    people.set_ylabel('largest crop batch so far (people)')
    ax.axvline(first[warmup]['offloads'], color='grey', linestyle='--', label='end of warm-up')
    ax.set(xlabel='offloaded frames', ylabel='RSS (MiB)',
           title='edge model memory: free heap released after each batch or kept')
    ax.legend(loc='upper left', fontsize=8)
    people.legend(loc='lower right', fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--offloads', type=int, default=200)
    parser.add_argument('--imgsz', type=int, default=960, help="the edge's imgsz")
    parser.add_argument('--batch-size', type=int, default=2, help="the edge's batch_size")
    parser.add_argument('--search', type=float, default=0.1,
                        help='share of offloads without people (full frames)')
    parser.add_argument('--max-people', type=int, default=12)
    parser.add_argument('--warmup', type=int, default=10, help='batches left out of the growth')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cost-repeats', type=int, default=8,
                        help='interleaved batches timed with and without the release (0: none)')
    parser.add_argument('--variants', nargs='+', choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument('--out', default=str(ROOT / 'results' / 'benchmarks'))
    parser.add_argument('--worker', choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument('--result', help=argparse.SUPPRESS)
    args = parser.parse_args()
    options = (args.offloads, args.imgsz, args.batch_size, args.search, args.max_people,
               args.seed, args.cost_repeats)
    if args.worker:
        pathlib.Path(args.result).write_text(json.dumps(drive(args.worker, *options)))
        return

    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in args.variants:     # a fresh process each: a heap of its own
            result = pathlib.Path(tmp) / f'{variant}.json'
            subprocess.run([sys.executable, __file__, *sys.argv[1:], '--worker', variant,
                            '--result', str(result)], check=True)
            runs[variant] = json.loads(result.read_text())
    summaries = {v: summary(run, args.warmup) for v, run in runs.items()}
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / 'edge_memory.json').write_text(json.dumps({
        'offloads': args.offloads, 'imgsz': args.imgsz, 'batch_size': args.batch_size,
        'search': args.search, 'max_people': args.max_people, 'warmup_batches': args.warmup,
        'seed': args.seed, 'summary': summaries, 'runs': runs}, indent=1))
    plot(runs, args.warmup, out / 'edge_memory.png')
    print(f'{"variant":>8} {"RSS start":>9} {"end":>7} {"growth":>7} {"max":>7} '
          f'{"python MiB":>11} {"people":>7} {"batch s":>8} {"release ms":>10}')
    for variant, s in summaries.items():
        release = '-' if s['release_ms_mean'] is None else f'{s["release_ms_mean"]:.1f}'
        print(f'{variant:>8} {s["rss_start_mib"]:>9.1f} {s["rss_end_mib"]:>7.1f} '
              f'{s["rss_growth"]:>+7.1%} {s["rss_max_mib"]:>7.1f} '
              f'{s["python_start_mib"]:>5.1f}->{s["python_end_mib"]:<5.1f} '
              f'{s["max_people_at_start"]:>3}->{s["max_people_at_end"]:<3} '
              f'{s["batch_s_mean"]:>8.3f} {release:>10}')
    if summaries.get('release', {}).get('interleaved_cost'):
        print(f'one batch of 2 offloads x 3 people, interleaved (median s): '
              f'{summaries["release"]["interleaved_cost"]}')
    print(f'wrote {out / "edge_memory.json"} and {out / "edge_memory.png"}')


if __name__ == '__main__':
    main()
