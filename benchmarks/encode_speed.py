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

from mec_coop.coop import regional
from mec_coop.coop.codec import encode_jpeg
from mec_coop.coop.importance import LEVEL_THRESHOLDS, pose_block_mu, pose_importance
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
            'speedup_min': (timings['offload_before']['min_ms'] /
                            timings['offload_after']['min_ms']),
            'speedup_median': (timings['offload_before']['median_ms'] /
                               timings['offload_after']['median_ms']),
            'identical_payloads': int(sum(v['identical_payload'] for v in per_view)),
            'same_block_levels': int(sum(v['same_block_levels'] for v in per_view)),
            'per_view': per_view}


def markdown_section(speed_path, accuracy_path):
    """Markdown of the encoder's speed and its rate-accuracy change (for compression_results)."""
    if not speed_path.exists():
        return []
    r = json.loads(speed_path.read_text())
    a, t, m = r['args'], r['timings'], r['means']
    lines = ['## Region-wise encoder: before and after (`python benchmarks/encode_speed.py`, '
             '`docs/figures/encode_speed.json`)', '',
             f'{r["views"]} virtual-rig views ({r["image_size"][1]}x{r["image_size"][0]}, seed '
             f'{a["seed"]}, {a["instants"]} instants x 4 cameras, the views with a person), '
             f'quality {a["quality"]}, each encoded {a["repeats"]} times by this tree and by '
             f'revision {a["baseline_rev"]}, interleaved, on a shared, loaded 2-core CPU (two '
             'other engineers at work): min (least disturbed) and median per frame. Before: '
             'the pixel path (YCbCr in float, pre-quantisation of every block by a separable '
             "FFT DCT, back to BGR, libjpeg's colour conversion), the importance map over the "
             'whole frame. After: the pre-quantised YCbCr goes to the JPEG writer as it is '
             '(chroma as 2x2 means, which 4:2:0 downsampling returns unchanged), only blocks '
             'coarser than the finest level are transformed (one matrix product over them), '
             'the importance map is drawn near the people only (values at the level '
             'thresholds unchanged).', '',
             '| part | before min / median (ms) | after min / median (ms) |', '|---|---|---|']
    for name, label in (('offload', '`encode_offload` (what the camera runs)'),
                        ('importance', 'importance map'),
                        ('encoder', '`encode_regionwise` alone (same map)')):
        b, f = t[f'{name}_before'], t[f'{name}_after']
        lines.append(f'| {label} | {b["min_ms"]:.1f} / {b["median_ms"]:.1f} | '
                     f'{f["min_ms"]:.1f} / {f["median_ms"]:.1f} |')
    j = t['plain_jpeg']
    lines += ['', f'Speed-up of the offload encoding: {r["speedup_min"]:.2f}x (min), '
              f'{r["speedup_median"]:.2f}x (median). Plain JPEG offloads (`offload_codec` jpeg) '
              f'take {j["min_ms"]:.1f} / {j["median_ms"]:.1f} ms (`cv2.imencode`, no slow path).',
              '',
              f'The payload is not bit-identical ({r["identical_payloads"]} of '
              f'{len(r["per_view"])} views): the earlier encoder rounded twice (BGR, then '
              "libjpeg's YCbCr) and clipped colours to the RGB gamut; the blocks' levels are the "
              f'same on {r["same_block_levels"]} of {len(r["per_view"])} views. Bytes per frame '
              f'{m["bytes_before"] / 1024:.2f} KB before, {m["bytes_after"] / 1024:.2f} KB after '
              f'({100 * (m["bytes_after"] / m["bytes_before"] - 1):+.1f}%); PSNR '
              f'{m["psnr_before_db"]:.2f} / {m["psnr_after_db"]:.2f} dB over the frame, '
              f'{m["psnr_people_before_db"]:.2f} / {m["psnr_people_after_db"]:.2f} dB on the '
              "people's (finest-level) blocks.", '']
    if accuracy_path.exists():
        lines += accuracy_section(json.loads(accuracy_path.read_text()))
    return lines


def accuracy_section(data):
    """Edge 2D error of the two encoders, setting by setting (compression.py's encoder_change)."""
    a = data['args']
    recorded = 'recorded' in data
    lines = ['### Rate-accuracy of the two encoders (`python benchmarks/compression.py --codecs '
             'raw spat_pose spat_pose_before --no-gradient-check --instants '
             f'{a["instants"]}' + (f' --recorded-instants {a["recorded_instants"]}' if recorded
                                   else ' --skip-recorded') + ' --name compression_encoder`, '
             '`docs/figures/compression_encoder.json`)', '',
             'The same importance maps and frames through both encoders, edge model '
             f'yolo11n-pose at imgsz 960, errors capped at {a["cap_px"]} px. Virtual rig: seed '
             f'{a["seed"]}, {a["instants"]} instants x 4 cameras '
             f'({views(data, "virtual")} views with a person), vs ground truth'
             + (f'; recorded rig (Pose2Sim Demo_SinglePerson at {a["recorded_rate"]:g} Hz, up '
                f'to {a["recorded_instants"]} instants: {views(data, "recorded")} views with a '
                "person), vs the edge model's result on the raw frame" if recorded else '')
             + ". Change: each view's mean 2D error after minus before, mean over views with "
             "its 95% interval; at matched bytes: the earlier encoder's curve read at this "
             "encoder's bytes.", '']
    for rig in ('virtual', 'recorded'):
        if rig in data:
            lines += rig_rows(rig, data[rig])
    return lines


def views(data, rig):
    return data[rig]['encoder_change'][0]['views']


def rig_rows(rig, data):
    """One rig's table of the encoder change and its verdict line."""
    rows = data['encoder_change']
    lines = [f'{rig} rig (raw frame: {data["curves"]["raw"][0]["error_2d_px"]:.2f} px):', '',
             '| mu | KB before / after | 2D error before / after (px) | change (px) [95%] | '
             'views changed > 1 px | missed views | MPJPE before / after (mm) | '
             'before at matched bytes (px) |', '|---|---|---|---|---|---|---|---|']
    for row in rows:
        lo, hi = row['error_change_ci95_px']
        matched = row['error_2d_px_before_at_bytes_after']
        mp = '/'.join('n/a' if v is None else f'{v:.1f}'
                      for v in (row['mpjpe_mm_before'], row['mpjpe_mm_after']))
        lines.append(
            f'| {row["setting"]} | {row["bytes_before"] / 1024:.2f} / '
            f'{row["bytes_after"] / 1024:.2f} | {row["error_2d_px_before"]:.2f} / '
            f'{row["error_2d_px_after"]:.2f} | {row["error_change_px"]:+.2f} [{lo:+.2f}, '
            f'{hi:+.2f}] | {row["views_changed_over_1px"]} of {row["views"]} | '
            f'{row["missed_views_before"]} / {row["missed_views_after"]} | {mp} | '
            f'{"n/a" if matched is None else f"{matched:.2f}"} |')
    worse = [r['setting'] for r in rows if r['error_change_ci95_px'][0] > 0]
    better = [r['setting'] for r in rows if r['error_change_ci95_px'][1] < 0]
    change = [100 * (r['bytes_after'] / r['bytes_before'] - 1) for r in rows]
    return lines + ['', f'Bytes change {min(change):+.1f}% to {max(change):+.1f}% per setting; '
                    'the 2D error is worse beyond noise (interval above 0) at '
                    f'{", ".join(map(str, worse)) or "no"} setting(s), better (interval below '
                    f'0) at {", ".join(map(str, better)) or "no"} setting(s) of {len(rows)}.',
                    '']


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
