# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Run the live node graph with JPEG offload and with split routes; append to the split doc.

    python benchmarks/split_live.py [--cameras 2] [--duration 40] [--cuts 4:int8 5:float16]

Every frame is offloaded (server-centric thresholds); the split runs set ``split_route`` on the
cameras and the edge and push the cut as ``partition_point``. All processes (rig, cameras with
their heads, uplink emulator at 1 MHz, edge, evaluator) share this 2-core CPU. Writes
``docs/figures/split_live.json`` and the table ``docs/split_live.md``.
"""

import argparse
import json
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from pipeline import run_one  # noqa: E402

from mec_coop.coop.uplink import LinkBudget  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--cameras', type=int, default=2)
    parser.add_argument('--duration', type=float, default=40.0)
    parser.add_argument('--fps', type=float, default=2.0)
    parser.add_argument('--cuts', nargs='+', default=['4:int8', '5:float16'])
    parser.add_argument('--out', default=str(ROOT / 'docs'))
    parser.add_argument('--render-only', action='store_true',
                        help='rewrite the Markdown from the JSON of the last run')
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    if args.render_only:
        write(json.loads((out / 'figures' / 'split_live.json').read_text()), args, out)
        return
    runs = {'JPEG offload': []}
    for cut in args.cuts:
        point, dtype = cut.split(':')
        runs[f'split {point} {dtype}'] = [
            'camera.split_route=true', 'edge.split_route=true',
            f'camera.partition_point={point}', f'camera.split_dtype={dtype}']
    rows = {}
    for k, (name, overrides) in enumerate(runs.items()):
        with tempfile.TemporaryDirectory() as tmp:
            rows[name] = run_one(args.cameras, args.fps, 'server_centric', args.duration,
                                 pathlib.Path(tmp), 60 + k, overrides=overrides)
        print(name, rows[name], flush=True)
    (out / 'figures').mkdir(parents=True, exist_ok=True)
    (out / 'figures' / 'split_live.json').write_text(json.dumps(rows, indent=1))
    write(rows, args, out)


def write(rows, args, out):
    lines = ['# Split route in the live node graph', '',
             f'Written by `python benchmarks/split_live.py --cameras {args.cameras} --duration '
             f'{args.duration:g} --cuts {" ".join(args.cuts)}`; server-centric thresholds '
             f'(every frame leaves the camera), {args.fps:g} fps, uplink emulator at 1 MHz, all '
             'nodes on this shared 2-core CPU. "no result": the run produced no summary.', '',
             '| route | skeleton rate | delay p50 / p95 (s) | MPJPE (mm) | joint coverage |',
             '|---|---|---|---|---|']
    for name, r in rows.items():
        if r is None:
            lines.append(f'| {name} | no result | | | |')
            continue
        p50, p95 = (f'{v:.3f}' if v is not None else 'n/a'
                    for v in (r['delay_p50_s'], r['delay_p95_s']))
        lines.append(f'| {name} | {r["skeleton_rate"]:.2f} | {p50} / {p95} | '
                     f'{r["mpjpe_mm"]:.1f} | '
                     f'{r["joint_coverage"]:.2f} |')
    sizes = out / 'figures' / 'split_pipeline.json'
    if sizes.exists():      # bytes per frame measured by split_pipeline.py on the same rig
        routes = json.loads(sizes.read_text())['routes']
        rate = LinkBudget().spectral_rate_bps(-100.0) / args.cameras
        lines += ['', f'Airtime of one frame at this link ({rate / 1e6:.1f} Mbit/s per camera; '
                  f'a frame every {1 / args.fps:g} s), sizes from `docs/split_pipeline.md`:',
                  '']
        for name in rows:
            key = 'JPEG offload (q90)' if name == 'JPEG offload' else name
            if key in routes:
                lines.append(f'- {name}: {routes[key]["bytes"] / 1e3:.0f} kB, '
                             f'{8 * routes[key]["bytes"] / rate:.2f} s')
    (out / 'split_live.md').write_text('\n'.join(lines) + '\n')
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
