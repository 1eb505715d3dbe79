# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Command line entry point: ``python -m mec_coop.cli <command>``.

``demo``: the virtual rig with N cameras, the real camera pose model (yolo11n-pose at imgsz 320)
on every rendered view, confidence-weighted DLT triangulation, and MPJPE / PCK / delay against
the rig's ground truth. It runs in one process without ROS; the ROS node graph is separate.
"""

import argparse
import json
import pathlib
import sys
import time

import numpy as np

from mec_coop.geometry import metrics
from mec_coop.geometry.triangulation import triangulate_cameras


def run_demo(num_cameras=4, duration_s=20.0, fps=2.0, seed=0, imgsz=320, out_dir='results/demo',
             stream=sys.stdout):
    """Run the offline virtual-rig demo; return and write its summary."""
    from mec_coop.pose.ultralytics_backend import UltralyticsPose
    from mec_coop.rig.virtual_rig import VirtualRig

    rig = VirtualRig(num_cameras=num_cameras, seed=seed)
    model = UltralyticsPose(imgsz=imgsz)
    frames = int(round(duration_s * fps))
    preds, gts, delays, confidences = [], [], [], []
    for k in range(frames):
        frame = rig.frame(k / fps)
        pixels = np.full((num_cameras, 17, 2), np.nan)
        weights = np.zeros((num_cameras, 17))
        inference = []
        for v, image in enumerate(frame.images):
            est = model.predict(image)
            inference.append(est.inference_time_s)
            best = est.best()
            confidences.append(est.frame_confidence())
            if best >= 0:
                pixels[v], weights[v] = est.keypoints[best], est.confidences[best]
        start = time.perf_counter()
        result = triangulate_cameras(rig.cameras, pixels, weights)
        # Cameras infer in parallel on their own devices: the slowest one bounds the frame.
        delays.append(max(inference) + time.perf_counter() - start)
        preds.append(result.points)
        gts.append(frame.joints_world[0])
        err = metrics.mpjpe(result.points, frame.joints_world[0])
        stream.write(f'\r[demo] frame {k + 1}/{frames} action={frame.actions[0]:<11} '
                     f'positive views {int(frame.positive.sum())}/{num_cameras} '
                     f'MPJPE {1000 * err:7.1f} mm ')
        stream.flush()
    stream.write('\n')
    pred, gt = np.array(preds), np.array(gts)
    delays = np.array(delays)
    summary = {
        'cameras': num_cameras, 'frames': frames, 'fps': fps, 'seed': seed,
        'camera_model': model.name,
        'mpjpe_mm': 1000 * metrics.mpjpe(pred, gt),
        'pa_mpjpe_mm': 1000 * metrics.pa_mpjpe(pred, gt),
        'pck_150mm': metrics.pck(pred, gt, 0.15),
        'joint_coverage': metrics.coverage(pred),
        'delay_s': {f'p{q}': float(np.percentile(delays, q)) for q in (50, 95, 99)},
        'mean_camera_confidence': float(np.mean(confidences)),
    }
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / 'summary.json').write_text(json.dumps(summary, indent=2))
    stream.write(
        f'[demo] {num_cameras} cameras, {frames} frames: MPJPE {summary["mpjpe_mm"]:.1f} mm, '
        f'PA-MPJPE {summary["pa_mpjpe_mm"]:.1f} mm, PCK@150mm {summary["pck_150mm"]:.3f}, '
        f'joints estimated {summary["joint_coverage"]:.3f}\n'
        f'[demo] delay (slowest camera inference + triangulation) p50 '
        f'{summary["delay_s"]["p50"] * 1000:.0f} ms, '
        f'p95 {summary["delay_s"]["p95"] * 1000:.0f} ms, '
        f'p99 {summary["delay_s"]["p99"] * 1000:.0f} ms\n'
        f'[demo] wrote {out / "summary.json"}\n')
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(prog='mec_coop', description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    demo = sub.add_parser('demo', help='virtual-rig demo printing MPJPE and delay')
    demo.add_argument('--cameras', type=int, default=4)
    demo.add_argument('--duration', type=float, default=20.0, help='seconds of rig time')
    demo.add_argument('--fps', type=float, default=2.0)
    demo.add_argument('--seed', type=int, default=0)
    demo.add_argument('--imgsz', type=int, default=320)
    demo.add_argument('--out', default='results/demo')
    args = parser.parse_args(argv)
    if args.command == 'demo':
        run_demo(args.cameras, args.duration, args.fps, args.seed, args.imgsz, args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
