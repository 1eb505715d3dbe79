# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Virtual rig rendering speed.

For N = 4, 8, 16 cameras at 1280x720: the one-off ray-cast of the empty room per camera, the
ground truth and labels per frame (no images), and drawing the people per view and per frame
(all N views), over frames spread through a walk with one or two people. Prints a table and
writes ``results/benchmarks/render.json``.

Run:  . scripts/env.sh && python benchmarks/render.py
"""

import argparse
import json
import pathlib
import platform
import time

import numpy as np

from mec_coop.rig.virtual import VirtualRig

ROOT = pathlib.Path(__file__).resolve().parents[1]


def measure(num_cameras, num_people, frames, width, height, seed=0):
    rig = VirtualRig(num_cameras=num_cameras, width=width, height=height, seed=seed,
                     num_people=num_people)
    start = time.perf_counter()
    for renderer in rig.renderers:
        renderer.background
    room_s = (time.perf_counter() - start) / num_cameras
    label_s, view_s = [], []
    for t in np.linspace(0.0, 120.0, frames):
        start = time.perf_counter()
        f = rig.frame(t)
        label_s.append(time.perf_counter() - start)
        for v in range(num_cameras):
            start = time.perf_counter()
            f.image(v)
            view_s.append(time.perf_counter() - start)
    view_ms = 1e3 * np.array(view_s)
    frame_ms = view_ms.reshape(frames, num_cameras).sum(axis=1) + 1e3 * np.array(label_s)
    return {'cameras': num_cameras, 'people': num_people, 'width': width, 'height': height,
            'frames': frames, 'room_raycast_ms_per_camera': 1e3 * room_s,
            'labels_ms_per_frame': 1e3 * float(np.mean(label_s)),
            'view_ms_mean': float(view_ms.mean()),
            'view_ms_p95': float(np.percentile(view_ms, 95)),
            'frame_ms_mean': float(frame_ms.mean()),
            'frame_ms_p95': float(np.percentile(frame_ms, 95))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].strip())
    parser.add_argument('--cameras', type=int, nargs='+', default=[4, 8, 16])
    parser.add_argument('--people', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--frames', type=int, default=20)
    parser.add_argument('--width', type=int, default=1280)
    parser.add_argument('--height', type=int, default=720)
    parser.add_argument('--out', type=pathlib.Path,
                        default=ROOT / 'results' / 'benchmarks' / 'render.json')
    args = parser.parse_args(argv)
    rows = [measure(n, p, args.frames, args.width, args.height)
            for n in args.cameras for p in args.people]
    print(f'{"cams":>4} {"people":>6} {"room ray-cast":>14} {"labels":>8} {"view mean":>10} '
          f'{"view p95":>9} {"frame mean":>11} {"frame p95":>10}   (ms)')
    for r in rows:
        print(f'{r["cameras"]:>4} {r["people"]:>6} {r["room_raycast_ms_per_camera"]:>14.0f} '
              f'{r["labels_ms_per_frame"]:>8.1f} {r["view_ms_mean"]:>10.1f} '
              f'{r["view_ms_p95"]:>9.1f} {r["frame_ms_mean"]:>11.1f} {r["frame_ms_p95"]:>10.1f}')
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        'machine': {'platform': platform.platform(), 'processor': platform.processor(),
                    'python': platform.python_version()},
        'note': 'room ray-cast is once per camera (cached); frame = labels + all views',
        'rows': rows}, indent=2) + '\n')
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
