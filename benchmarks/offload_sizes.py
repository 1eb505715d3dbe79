# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Offload size per JPEG quality for each offload codec: the rate curves the uplink plan uses.

The camera node encodes an offload with :func:`mec_coop.coop.regional.encode_offload`: plain
OpenCV JPEG (``jpeg``), or region-wise (``regionwise``: the people its nano model found at the
quality's multiplier, the background at the fixed ``BACKGROUND_MU``, so lowering the quality
shrinks only the people's part). This replays that on the virtual rig: each view as the camera
receives it (the rig's JPEG at ``rig.jpeg_quality`` 90, decoded), the nano model (imgsz 320) on
the full frame, then both codecs at every quality of
:data:`mec_coop.alloc.uplink_plan.QUALITIES`. A view where the model finds nobody is sent
as a plain JPEG by the region-wise codec too; those views are counted and left out of the
region-wise curve (the curve is that of the frames it codes region-wise).

Writes ``docs/figures/offload_sizes.json``: mean bytes per quality and codec, the size relative
to quality 90 (ratio of the means, the shape :mod:`mec_coop.alloc.uplink_plan` holds) and the
per-view spread of that ratio.

Run:  . scripts/env.sh && python benchmarks/offload_sizes.py
"""

import argparse
import json
import pathlib
import time

import cv2
import numpy as np

from mec_coop.alloc.uplink_plan import QUALITIES
from mec_coop.coop.codec import encode_jpeg
from mec_coop.coop.regional import encode_offload, OFFLOAD_CODECS
from mec_coop.pose.ultralytics_backend import UltralyticsPose

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIGURES = ROOT / 'docs' / 'figures'
REFERENCE_QUALITY = 90


def camera_views(args):
    """Yield each view as the camera decodes it: the rig's JPEG at ``--rig-quality``."""
    from mec_coop.rig.virtual import VirtualRig

    rig = VirtualRig(num_cameras=args.cameras, seed=args.seed)
    for k in range(args.instants):
        frame = rig.frame(args.start_s + k * args.spacing_s)
        for v in range(args.cameras):
            data = np.frombuffer(encode_jpeg(frame.image(v), args.rig_quality), np.uint8)
            yield cv2.imdecode(data, cv2.IMREAD_COLOR)


def measure(args):
    qualities = sorted(QUALITIES, reverse=True)
    model = UltralyticsPose(imgsz=args.imgsz)
    sizes = {codec: [] for codec in OFFLOAD_CODECS}
    plain = 0
    for image in camera_views(args):
        people = model.predict(image)
        if not people.num_people:
            plain += 1   # the region-wise codec sends a plain JPEG: not its curve
        for codec in OFFLOAD_CODECS:
            if codec == 'regionwise' and not people.num_people:
                continue
            sizes[codec].append([len(encode_offload(
                image, q, codec, people.keypoints, people.confidences, people.boxes))
                for q in qualities])
    out = {}
    ref = qualities.index(REFERENCE_QUALITY)
    for codec, rows in sizes.items():
        a = np.array(rows, dtype=float)
        mean = a.mean(axis=0)
        per_view = a / a[:, ref:ref + 1]
        out[codec] = {'views': len(rows), 'qualities': qualities,
                      'mean_bytes': mean.round(1).tolist(),
                      'relative_size': (mean / mean[ref]).round(4).tolist(),
                      'relative_size_view_min': per_view.min(axis=0).round(4).tolist(),
                      'relative_size_view_max': per_view.max(axis=0).round(4).tolist()}
    out['regionwise']['views_without_people'] = plain
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cameras', type=int, default=4)
    parser.add_argument('--instants', type=int, default=15)
    parser.add_argument('--start-s', type=float, default=2.0)
    parser.add_argument('--spacing-s', type=float, default=4.0)
    parser.add_argument('--rig-quality', type=int, default=90)
    parser.add_argument('--imgsz', type=int, default=320, help="the camera model's input size")
    parser.add_argument('--out', default=str(FIGURES))
    args = parser.parse_args()
    start = time.time()
    result = {'args': vars(args), 'command': 'python benchmarks/offload_sizes.py',
              **measure(args), 'wall_s': round(time.time() - start, 1)}
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / 'offload_sizes.json').write_text(json.dumps(result, indent=1))
    for codec in OFFLOAD_CODECS:
        r = result[codec]
        print(f'{codec} ({r["views"]} views): ' + ', '.join(
            f'q{q} {b / 1024:.1f} KB ({s:.3f})' for q, b, s in zip(
                r['qualities'], r['mean_bytes'], r['relative_size'])))


if __name__ == '__main__':
    main()
