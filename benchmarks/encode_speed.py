# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Time the camera's region-wise offload encoder against an earlier revision's, on the same frames.

The offload is encoded on the camera, on the skeleton's critical path, so its time adds to
every offloaded view's delay. Frames: virtual-rig views (1280x720) with a person; the people
come from the camera's nano model (imgsz 320) as in the camera node, else from the visible
ground-truth joints (as the edge's ROI feedback would give them). Each frame is encoded by
``encode_offload`` of this tree and of ``--baseline-rev`` (its ``mec_coop/coop/regional.py``
read from git), interleaved, ``--repeats`` times; min and median per frame over all of them
(this machine is shared, so the median carries the load; the min is the least disturbed).
Also: the parts (importance map, encoder alone), plain JPEG (``cv2.imencode``, what a
``jpeg`` offload costs), bytes per frame, and how far the two encoders' decoded images are
apart (PSNR, on the people's blocks and on the whole frame). Writes
``docs/figures/encode_speed.json``.

Run:  . scripts/env.sh && python benchmarks/encode_speed.py
"""

import argparse
import importlib.util
import json
import pathlib
import subprocess
import tempfile
import time

import numpy as np

from mec_coop.coop.codec import encode_jpeg
from mec_coop.coop.importance import LEVEL_THRESHOLDS, pose_block_mu, pose_importance
from mec_coop.coop import regional
from mec_coop.coop.regional import BACKGROUND_MU, decode_checked, mu_for_quality, psnr

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The tree before the YCbCr / coarse-blocks-only encoder (the float32 pixel-path one).
BASELINE_REV = '5431339'


def module_at(rev, path='mec_coop/coop/regional.py'):
    """Import ``path`` as it was at git revision ``rev`` (its imports resolve to this tree)."""
    source = subprocess.run(['git', 'show', f'{rev}:{path}'], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    with tempfile.NamedTemporaryFile('w', suffix='.py', delete=False) as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location(f'regional_{rev}', f.name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rig_views(seed, instants, start_s, spacing_s, min_joints):
    """Virtual-rig views with a person: image and the people the camera would encode around."""
    from mec_coop.pose.ultralytics_backend import UltralyticsPose
    from mec_coop.rig.virtual import VirtualRig

    rig, camera = VirtualRig(num_cameras=4, seed=seed), UltralyticsPose(imgsz=320)
    views = []
    for k in range(instants):
        frame = rig.frame(start_s + k * spacing_s)
        for v in range(len(rig.cameras)):
            image, vis = frame.image(v), frame.visibility[v, 0]
            estimate = camera.predict(image)
            if estimate.num_people:
                people = (estimate.keypoints, estimate.confidences, estimate.boxes, 'camera')
            elif vis.sum() >= min_joints:
                people = (np.where(vis[:, None], frame.keypoints_2d[v, 0], np.nan)[None],
                          vis[None].astype(float), None, 'ground_truth')
            else:
                continue
            views.append((image, *people))
    return views


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def summary(seconds):
    ms = 1000.0 * np.asarray(seconds)
    return {'n': int(ms.size), 'min_ms': float(ms.min()), 'median_ms': float(np.median(ms)),
            'p90_ms': float(np.percentile(ms, 90))}


def run(args):
    before = module_at(args.baseline_rev)
    views = rig_views(args.seed, args.instants, args.start_s, args.spacing_s, args.min_joints)
    mu = mu_for_quality(args.quality)
    t = {k: [] for k in ('offload_before', 'offload_after', 'importance_before',
                         'importance_after', 'encoder_before', 'encoder_after', 'plain_jpeg')}
    per_view = []
    for rep in range(args.repeats):
        for i, (image, kp, conf, boxes, source) in enumerate(views):
            old, dt = timed(before.encode_offload, image, args.quality, 'regionwise', kp, conf,
                            boxes)
            t['offload_before'].append(dt)
            new, dt = timed(regional.encode_offload, image, args.quality, 'regionwise', kp,
                            conf, boxes)
            t['offload_after'].append(dt)
            h, w = image.shape[:2]
            q_old, dt = timed(pose_importance, h, w, kp, conf, boxes)
            t['importance_before'].append(dt)
            q_new, dt = timed(pose_importance, h, w, kp, conf, boxes, floor=LEVEL_THRESHOLDS[0])
            t['importance_after'].append(dt)
            block_mu = pose_block_mu(q_new, mu, max(BACKGROUND_MU, mu))
            t['encoder_before'].append(timed(before.encode_regionwise, image, block_mu)[1])
            stats = {}
            t['encoder_after'].append(timed(regional.encode_regionwise, image, block_mu,
                                            stats)[1])
            t['plain_jpeg'].append(timed(encode_jpeg, image, args.quality)[1])
            if rep:
                continue
            same_map = bool(np.array_equal(pose_block_mu(q_old, mu, max(BACKGROUND_MU, mu)),
                                           block_mu))
            a, b = decode_checked(old), decode_checked(new)
            people = np.kron(block_mu == block_mu.min(), np.ones((8, 8), bool))[:h, :w]
            per_view.append({
                'source': source, 'same_block_levels': same_map, 'bytes_before': len(old),
                'bytes_after': len(new), 'identical_payload': old == new,
                'psnr_before_db': psnr(image, a), 'psnr_after_db': psnr(image, b),
                'psnr_people_before_db': psnr(image, a, people),
                'psnr_people_after_db': psnr(image, b, people),
                'psnr_after_vs_before_db': psnr(a, b), **stats})
            print(f'view {i:2d} ({source}): {len(old)} -> {len(new)} bytes, '
                  f'{1000 * t["offload_before"][-1]:.1f} -> '
                  f'{1000 * t["offload_after"][-1]:.1f} ms, blocks quantised '
                  f'{stats.get("luma_blocks")}/{stats.get("luma_total")}', flush=True)
    timings = {k: summary(v) for k, v in t.items()}
    key = [('bytes_before', 'bytes_after'), ('psnr_before_db', 'psnr_after_db'),
           ('psnr_people_before_db', 'psnr_people_after_db')]
    means = {k: float(np.mean([v[k] for v in per_view])) for pair in key for k in pair}
    return {'args': vars(args), 'views': len(views), 'image_size': list(views[0][0].shape[:2]),
            'timings': timings, 'means': means,
            'speedup_min': timings['offload_before']['min_ms'] / timings['offload_after']['min_ms'],
            'speedup_median': (timings['offload_before']['median_ms'] /
                               timings['offload_after']['median_ms']),
            'identical_payloads': int(sum(v['identical_payload'] for v in per_view)),
            'same_block_levels': int(sum(v['same_block_levels'] for v in per_view)),
            'per_view': per_view}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--baseline-rev', default=BASELINE_REV)
    parser.add_argument('--quality', type=int, default=90)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--instants', type=int, default=8)
    parser.add_argument('--start-s', type=float, default=2.0)
    parser.add_argument('--spacing-s', type=float, default=4.0)
    parser.add_argument('--min-joints', type=int, default=6)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--out', default=str(ROOT / 'docs' / 'figures'))
    args = parser.parse_args()
    result = run(args)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / 'encode_speed.json').write_text(json.dumps(result, indent=1))
    for name, row in result['timings'].items():
        print(f'{name:18s} min {row["min_ms"]:6.1f}  median {row["median_ms"]:6.1f} ms '
              f'(n={row["n"]})')
    print({k: round(v, 2) for k, v in result['means'].items()},
          f'speed-up min {result["speedup_min"]:.2f}x median {result["speedup_median"]:.2f}x')


if __name__ == '__main__':
    main()
