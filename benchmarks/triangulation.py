# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Triangulation speed and accuracy.

Speed: frames per second for 17 joints x {2, 4, 8, 16} views, batched over frames
(:func:`triangulate`) against the textbook per-joint loop (build ``A``, SVD, last row of ``V^T``),
as HkPose3D does it. Accuracy: MPJPE against pixel noise on 4 views, next to the Cramér-Rao
expectation. Prints tables and writes ``results/benchmarks/triangulation.json``.

Run:  . scripts/env.sh && python benchmarks/triangulation.py
"""

import argparse
import json
import pathlib
import platform
import time

import numpy as np

from mec_coop.geometry.metrics import mpjpe
from mec_coop.geometry.skeleton import NUM_JOINTS
from mec_coop.geometry.triangulation import crlb_covariance, expected_error_norm, triangulate
from mec_coop.rig.virtual import make_cameras

ROOT = pathlib.Path(__file__).resolve().parents[1]


def per_joint_loop(P, x):
    """Triangulate with one unweighted DLT (SVD of the 2V x 4 matrix) per joint and frame."""
    out = np.empty(x.shape[:1] + x.shape[2:3] + (3,))
    for f in range(x.shape[0]):
        for j in range(x.shape[2]):
            A = np.concatenate([x[f, :, j, 0:1] * P[:, 2] - P[:, 0],
                                x[f, :, j, 1:2] * P[:, 2] - P[:, 1]])
            Xh = np.linalg.svd(A)[2][-1]
            out[f, j] = Xh[:3] / Xh[3]
    return out


def _timed(fn, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def scene(num_views, frames, sigma, seed=0):
    rng = np.random.default_rng(seed)
    cams = make_cameras(num_views)
    P = np.stack([c.P for c in cams])
    gt = rng.uniform((-1.5, -1.5, 0.0), (1.5, 1.5, 1.8), (frames, NUM_JOINTS, 3))
    x = np.stack([c.project(gt) for c in cams], axis=1)
    return P, gt, x + rng.normal(0.0, sigma, x.shape)


def speed(views, frames):
    rows = []
    for v in views:
        P, gt, x = scene(v, frames, sigma=2.0)
        batched = _timed(lambda: triangulate(P, x), 3) / frames
        single = _timed(lambda: [triangulate(P, x[f]) for f in range(50)], 3) / 50
        loop = _timed(lambda: per_joint_loop(P, x[:50]), 1) / 50
        rows.append({'views': v, 'joints': NUM_JOINTS,
                     'batched_ms_per_frame': batched * 1e3, 'batched_fps': 1.0 / batched,
                     'single_frame_ms': single * 1e3,
                     'per_joint_loop_ms_per_frame': loop * 1e3, 'per_joint_loop_fps': 1.0 / loop})
    return rows


def accuracy(sigmas, frames):
    rows = []
    for sigma in sigmas:
        P, gt, x = scene(4, frames, sigma, seed=1)
        res = triangulate(P, x)
        row = {'views': 4, 'sigma_px': sigma, 'mpjpe_mm': 1e3 * mpjpe(res.points, gt),
               'valid': float(res.valid.mean())}
        if sigma > 0:
            crlb = np.mean([expected_error_norm(crlb_covariance(P, X, sigma), 20_000)
                            for X in gt[:20].reshape(-1, 3)])
            row['crlb_mm'] = 1e3 * crlb
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--frames', type=int, default=2000)
    parser.add_argument('--out',
                        default=str(ROOT / 'results' / 'benchmarks' / 'triangulation.json'))
    args = parser.parse_args()

    speed_rows = speed((2, 4, 8, 16), args.frames)
    print(f'{"views":>5} {"batched ms/frame":>17} {"fps":>9} {"1 frame ms":>11} '
          f'{"per-joint loop ms":>18} {"speed-up":>9}')
    for r in speed_rows:
        print(f'{r["views"]:>5} {r["batched_ms_per_frame"]:>17.4f} {r["batched_fps"]:>9.0f} '
              f'{r["single_frame_ms"]:>11.3f} {r["per_joint_loop_ms_per_frame"]:>18.3f} '
              f'{r["per_joint_loop_ms_per_frame"] / r["batched_ms_per_frame"]:>9.1f}')
    eight = next(r for r in speed_rows if r['views'] == 8)
    target_met = eight['batched_ms_per_frame'] < 0.2
    print(f'target 8 views x 17 joints < 0.2 ms/frame batched: '
          f'{eight["batched_ms_per_frame"]:.3f} ms -> {"met" if target_met else "NOT met"}')

    acc_rows = accuracy((0.0, 1.0, 2.0, 4.0, 8.0), min(args.frames, 1000))
    print(f'\n{"sigma px":>8} {"MPJPE mm":>9} {"CRLB mm":>8} {"valid":>6}')
    for r in acc_rows:
        print(f'{r["sigma_px"]:>8.1f} {r["mpjpe_mm"]:>9.3f} {r.get("crlb_mm", 0.0):>8.3f} '
              f'{r["valid"]:>6.3f}')

    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({'machine': platform.processor() or platform.machine(),
                               'speed': speed_rows, 'accuracy': acc_rows,
                               'target_8_views_ms': 0.2, 'target_met': target_met}, indent=2))
    print(f'\nwrote {out}')


if __name__ == '__main__':
    main()
