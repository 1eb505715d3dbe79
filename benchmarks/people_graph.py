# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Several people through the whole node graph: virtual rig, people crossing, association on.

Runs the virtual-rig graph (rig, camera nodes, uplink, edge, evaluator: separate processes over
Fast DDS) with ``rig.scenario=crossing``, ``edge.association=true`` for each scheme, and keeps the
evaluator's multi-person summary: PCP, PCK@150 mm, MPJPE of matched people, missed and false
people, identity switches per person-minute and skeletons fused from detections of different
people (each contributing detection labelled with its ground-truth person). The run time counts
from the first skeleton (:func:`mec_coop.cli.run_graph`).

Run:  . scripts/env.sh && python benchmarks/people_graph.py --people 3 --cameras 4
          --modes server_centric cooperative --duration 120 (one command line)
(writes docs/figures/people_graph.json)
"""

import argparse
import json
import pathlib

from mec_coop.cli import run_graph
from mec_coop.graph import load_config

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--people', type=int, default=3)
    parser.add_argument('--cameras', type=int, default=4)
    parser.add_argument('--modes', nargs='+', default=['server_centric', 'cooperative'])
    parser.add_argument('--duration', type=float, default=120.0)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--set', action='append', default=[], metavar='SECTION.KEY=VALUE')
    parser.add_argument('--out', type=pathlib.Path,
                        default=ROOT / 'docs/figures/people_graph.json')
    args = parser.parse_args()
    rows = json.loads(args.out.read_text())['rows'] if args.out.exists() else []
    for mode in args.modes:
        overrides = [f'graph.cameras={args.cameras}', f'graph.mode={mode}',
                     f'rig.num_people={args.people}', 'rig.scenario=crossing',
                     f'rig.seed={args.seed}', 'edge.association=true', 'evaluator.record=false',
                     *args.set]
        out_dir = ROOT / 'results' / 'people_graph' / mode
        summary = run_graph(load_config('virtual_rig', overrides), args.duration, out_dir)
        row = {'mode': mode, 'people': args.people, 'cameras': args.cameras,
               'duration_s': args.duration, 'overrides': overrides,
               'summary': summary.get('people') if summary else None,
               'delay_s': summary.get('delay_s') if summary else None,
               'offload_ratio': summary.get('offload_ratio') if summary else None}
        rows = [r for r in rows if (r['mode'], r['people'], r['cameras']) !=
                (mode, args.people, args.cameras)] + [row]
        print(json.dumps(row, indent=2), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({'command': 'python benchmarks/people_graph.py',
                                        'note': 'shared 2-core CPU under load', 'rows': rows},
                                       indent=2) + '\n')


if __name__ == '__main__':
    main()
