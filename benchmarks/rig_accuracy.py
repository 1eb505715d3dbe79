# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The real pose model on the virtual rig: multi-view MPJPE against a single-camera baseline.

Renders ``--frames`` instants, runs yolo11n-pose at each ``--imgsz`` on every view, and
compares confidence-weighted triangulation with the oracle-root-depth single-camera lifting
(:mod:`mec_coop.rig.accuracy`). Also checks that the ground-truth projections triangulate
back exactly. Prints a table and writes ``results/benchmarks/rig_accuracy.json``.

Run:  . scripts/env.sh && python benchmarks/rig_accuracy.py --frames 40 --imgsz 320 960
"""

import argparse
import json
import pathlib

import numpy as np

from mec_coop.geometry import metrics
from mec_coop.geometry.triangulation import triangulate_cameras
from mec_coop.pose.ultralytics_backend import UltralyticsPose
from mec_coop.rig.accuracy import detect_frames, multiview_vs_single_camera
from mec_coop.rig.virtual import VirtualRig

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--frames', type=int, default=40)
    parser.add_argument('--cameras', type=int, default=4)
    parser.add_argument('--imgsz', type=int, nargs='+', default=[320, 960])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=str(ROOT / 'results' / 'benchmarks' /
                                             'rig_accuracy.json'))
    args = parser.parse_args()
    rig = VirtualRig(num_cameras=args.cameras, seed=args.seed)
    times = [k * 0.5 for k in range(args.frames)]

    frames = [rig.frame(t) for t in times]
    gt = np.array([f.joints_world[0] for f in frames])
    exact = triangulate_cameras(rig.cameras, np.array([f.keypoints_2d[:, 0] for f in frames]))
    rows = {'ground_truth_projection_mpjpe_mm': 1000 * metrics.mpjpe(exact.points, gt)}
    print(f'ground-truth projections: MPJPE {rows["ground_truth_projection_mpjpe_mm"]:.2e} mm')
    print(f'{"imgsz":>6} {"instants":>8} {"multi-view MPJPE":>17} {"PCK@150":>8} '
          f'{"1-camera MPJPE":>15} {"PCK@150":>8}')
    for imgsz in args.imgsz:
        result = multiview_vs_single_camera(
            rig.cameras, detect_frames(rig, times, UltralyticsPose(imgsz=imgsz)))
        rows[f'imgsz_{imgsz}'] = result
        if result['instants']:
            print(f'{imgsz:>6} {result["instants"]:>8} {result["multiview_mpjpe_mm"]:>14.1f} mm '
                  f'{result["multiview_pck_150mm"]:>8.3f} '
                  f'{result["single_camera_mpjpe_mm"]:>12.1f} mm '
                  f'{result["single_camera_pck_150mm"]:>8.3f}')
        else:
            print(f'{imgsz:>6} no instant with two detecting views')
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({'cameras': args.cameras, 'frames': args.frames, **rows},
                              indent=2))
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
