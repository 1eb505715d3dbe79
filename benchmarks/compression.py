# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Rate vs pose accuracy of the offloaded frames: uniform JPEG vs region-wise (SpaT-IMCO) coding.

Every view is coded at a sweep of settings by four codecs: ``jpeg`` (OpenCV at a quality, what
the camera sends today), ``unified`` (Unified-IMCO: one multiplier ``mu`` on the Annex-K tables,
Huffman-optimised), ``spat_paper`` (SpaT-IMCO as the paper writes it: levels
``{mu+D, mu, mu-D}``, mean level ``mu`` by P3) and ``spat_pose`` (this project's pose-aware map:
joints and limbs at ``mu``, background at ``--mu-background``). The importance map comes from
the camera's nano model (imgsz 320) on the frame, or, where it finds nobody, from the edge's
ROI feedback (simulated: the reference skeleton shifted ``--shift-px`` as a 3D track's
prediction would be, as in ``benchmarks/camera_roi.py``). The edge model (yolo11n-pose at imgsz
960, as ``config/*.yaml`` run it) then runs on the decoded images.

* Virtual rig: reference = ground truth. 2D error = mean over visible joints of
  ``min(|k - k_gt|, --cap-px)``, a missed person counting ``--cap-px`` per joint (so misses
  never look good); 3D = MPJPE of the robust triangulation of the four views vs ground truth,
  with the share of valid joints beside it.
* Recorded rig (Pose2Sim Demo_SinglePerson): reference = the edge model's own result on the
  uncompressed frame, and its triangulation for 3D.

Bytes at equal 2D error are read off each codec's curve (monotone envelope, log-bytes
interpolated). Also checks the cheap importance map against the edge model's keypoint-loss
gradient (:mod:`mec_coop.pose.saliency`) on the virtual views. Writes
``docs/figures/compression.json`` and ``compression.png``.

``--codecs raw spat_pose spat_pose_before --name compression_encoder`` instead compares this
tree's region-wise encoder with ``--baseline-rev``'s on the same maps and frames (the
``encoder_change`` rows: bytes and 2D error per ``mu``, and the earlier encoder's error at the
new encoder's bytes).

Run:  . scripts/env.sh && python benchmarks/compression.py
"""

import argparse
import json
import pathlib
import time

# benchmarks/ is on sys.path when this runs as a script
from encode_speed import BASELINE_REV, module_at
import numpy as np

from mec_coop.coop.codec import encode_jpeg
from mec_coop.coop.importance import (block_means, paper_block_mu, pose_block_mu,
                                      pose_importance, rank_agreement)
from mec_coop.coop.regional import decode_checked, encode_regionwise, encode_unified
from mec_coop.geometry.triangulation import triangulate_cameras
from mec_coop.pose.frame_score import select_person
from mec_coop.pose.ultralytics_backend import UltralyticsPose

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIGURES = ROOT / 'docs' / 'figures'
SETTINGS = {'raw': [0],
            'jpeg': [95, 90, 70, 50, 30, 15, 8, 4],
            'unified': [0.3, 0.6, 1.0, 2.0, 4.0, 6.0, 9.0, 12.0],
            'spat_paper': [1.0, 2.0, 4.0, 6.0, 9.0, 12.0],
            'spat_pose': [0.3, 0.6, 1.0, 2.0, 4.0, 6.0, 9.0, 12.0]}
# Savings are read at the uncompressed frame's error plus these tolerances (px).
TOLERANCES_PX = (1.0, 2.0, 4.0, 8.0)


def encoder(codec, setting, importance, mu_background, before=None):
    if codec == 'spat_pose_before':
        return lambda image: before.encode_regionwise(
            image, pose_block_mu(importance, setting, max(mu_background, setting)))
    if codec == 'jpeg':
        return lambda image: encode_jpeg(image, int(setting))
    if codec == 'unified':
        return lambda image: encode_unified(image, setting)
    if codec == 'spat_paper':
        return lambda image: encode_regionwise(image, paper_block_mu(importance, setting))
    return lambda image: encode_regionwise(
        image, pose_block_mu(importance, setting, max(mu_background, setting)))


def importance_map(camera_model, image, reference, rng, shift_px):
    """Block importance from the nano model's person, else from a simulated edge ROI."""
    h, w = image.shape[:2]
    angle = rng.uniform(0.0, 2.0 * np.pi)
    predicted = reference + shift_px * np.array([np.cos(angle), np.sin(angle)])
    estimate = camera_model.predict(image)
    i = select_person(estimate, predicted)
    if i >= 0 and np.median(np.linalg.norm(estimate.keypoints[i] - predicted, axis=-1)) < \
            4 * shift_px + 0.3 * np.nanmax(np.ptp(reference, axis=0)):
        return pose_importance(h, w, estimate.keypoints[i:i + 1], estimate.confidences[i:i + 1],
                               estimate.boxes[i:i + 1]), 'camera'
    return pose_importance(h, w, predicted[None]), 'feedback'


def deviation(estimate, view, cap_px):
    """Capped per-joint distance to the edge's result on the raw frame (``cap`` if lost)."""
    raw, vis = view.get('raw'), view['visible']
    if raw is None:
        return np.zeros(0)
    i = select_person(estimate, np.where(vis[:, None], raw, np.nan))
    if i < 0:
        return np.full(int(vis.sum()), cap_px)
    return np.minimum(np.linalg.norm(estimate.keypoints[i] - raw, axis=-1)[vis], cap_px)


def view_errors(estimate, reference, visible, cap_px):
    """Per-joint 2D errors of the person nearest the reference, capped; all ``cap`` if missed."""
    i = select_person(estimate, np.where(visible[:, None], reference, np.nan))
    errors = np.full(int(visible.sum()), cap_px)
    if i >= 0:
        errors = np.minimum(np.linalg.norm(estimate.keypoints[i] - reference, axis=-1)[visible],
                            cap_px)
    return errors, i


def run_instants(instants, cameras, edge, args, gt_world=None):
    """Code every instant's views at every setting; return one curve per codec."""
    curves = {}
    settings = {c: SETTINGS['spat_pose' if c == 'spat_pose_before' else c] for c in args.codecs}
    before = module_at(args.baseline_rev) if 'spat_pose_before' in settings else None
    for codec, values in settings.items():
        curve = []
        for setting in values:
            sizes, errors, devs, misses, mpjpes, valid, per_view = [], [], [], 0, [], [], []
            for inst in instants:
                images = []
                for view in inst['views']:
                    if codec == 'raw':
                        sizes.append(view['image'].size)
                        images.append(view['image'])
                        continue
                    data = encoder(codec, setting, view['importance'], args.mu_background,
                                   before)(view['image'])
                    sizes.append(len(data))
                    images.append(decode_checked(data, view['image'].shape[:2]))
                estimates = edge.predict_batch(images)
                pts = np.full((len(images), 17, 2), np.nan)
                conf = np.zeros((len(images), 17))
                for v, (view, est) in enumerate(zip(inst['views'], estimates)):
                    if view['visible'].sum() < args.min_joints:
                        continue
                    e, i = view_errors(est, view['reference'], view['visible'], args.cap_px)
                    errors.extend(e)
                    per_view.append(float(e.mean()))
                    if codec == 'raw':
                        view['raw'] = est.keypoints[i] if i >= 0 else None
                    devs.extend(deviation(est, view, args.cap_px))
                    misses += i < 0
                    if i >= 0:
                        pts[v], conf[v] = est.keypoints[i], est.confidences[i]
                tri = triangulate_cameras(cameras, pts, conf, method=args.triangulation,
                                          max_std_m=0.12, outlier_threshold_px=args.outlier_px)
                ok = tri.valid & np.isfinite(inst['world']).all(axis=-1)
                valid.append(float(ok.mean()))
                if ok.any():
                    mpjpes.append(float(np.linalg.norm(tri.points[ok] - inst['world'][ok],
                                                       axis=-1).mean() * 1000.0))
            curve.append({'setting': setting, 'bytes': float(np.mean(sizes)),
                          'error_2d_px': float(np.mean(errors)),
                          'deviation_2d_px': float(np.mean(devs)), 'missed_views': int(misses),
                          'mpjpe_mm': float(np.mean(mpjpes)) if mpjpes else None,
                          'valid_joints_3d': float(np.mean(valid))})
            if before is not None:  # paired view by view in encoder_change
                curve[-1]['view_errors_2d_px'] = per_view
            print(f'  {codec:10s} {setting:>5}: {curve[-1]["bytes"] / 1024:7.1f} KB  '
                  f'2D {curve[-1]["error_2d_px"]:6.2f} px  dev {curve[-1]["deviation_2d_px"]:6.2f}'
                  f' px  missed {misses}  '
                  f'3D {curve[-1]["mpjpe_mm"]} mm', flush=True)
        curves[codec] = curve
    return curves


def bytes_at_error(curve, error, key='error_2d_px'):
    """Bytes a codec needs for ``error``: monotone envelope, log-bytes interpolated; NaN if out."""
    pts = sorted((c['bytes'], c[key]) for c in curve)
    b = np.log([p[0] for p in pts])
    e = np.minimum.accumulate([p[1] for p in pts])
    if not e[-1] <= error <= e[0]:
        return float('nan')
    return float(np.exp(np.interp(-error, -e, b)))


def savings(curves, key, reference):
    """
    Byte savings of each region-wise codec over ``reference`` at equal ``key`` error.

    At the uncompressed frame's value plus each of :data:`TOLERANCES_PX` (the bytes needed to
    stay that close to what the edge gets from the raw frame) and at the value of JPEG quality
    90 (the camera's default setting).
    """
    raw = curves['raw'][0][key]
    at90 = next(c[key] for c in curves['jpeg'] if c['setting'] == 90)
    out = {}
    for codec in ('spat_paper', 'spat_pose') + (('unified',) if reference == 'jpeg' else ()):
        rows = {}
        for name, target in [(f'raw+{tol:g}px', raw + tol) for tol in TOLERANCES_PX] + [
                ('jpeg90', at90)]:
            a = bytes_at_error(curves[codec], target, key)
            b = bytes_at_error(curves[reference], target, key)
            rows[name] = {'target': target, 'bytes': a, 'reference_bytes': b,
                          'saving': 1.0 - a / b if np.isfinite(a / b) else None}
        out[codec] = rows
    return out


def encoder_change(curves):
    """
    Compare the region-wise encoder of this tree with ``--baseline-rev``'s, setting by setting.

    Bytes and 2D error at each ``mu``, the change of each view's mean error (paired: same
    view, map and edge model), and the error the earlier encoder's curve has at this encoder's
    bytes (log-bytes interpolated; None outside its range).
    """
    rows = []
    for new, old in zip(curves['spat_pose'], curves['spat_pose_before']):
        pts = sorted((c['bytes'], c['error_2d_px']) for c in curves['spat_pose_before'])
        b = np.log([p[0] for p in pts])
        inside = b[0] <= np.log(new['bytes']) <= b[-1]
        rows.append({'setting': new['setting'], 'bytes_before': old['bytes'],
                     'bytes_after': new['bytes'], 'error_2d_px_before': old['error_2d_px'],
                     'error_2d_px_after': new['error_2d_px'],
                     'missed_views_before': old['missed_views'],
                     'missed_views_after': new['missed_views'],
                     'mpjpe_mm_before': old['mpjpe_mm'], 'mpjpe_mm_after': new['mpjpe_mm'],
                     **paired(new['view_errors_2d_px'], old['view_errors_2d_px']),
                     'error_2d_px_before_at_bytes_after': float(np.interp(
                         np.log(new['bytes']), b, [p[1] for p in pts])) if inside else None})
    return rows


def paired(after, before):
    """Mean view-by-view change of the 2D error (after - before) and its 95% interval."""
    d = np.subtract(after, before)
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float('nan')
    return {'views': len(d), 'error_change_px': float(d.mean()),
            'error_change_ci95_px': [float(d.mean() - half), float(d.mean() + half)],
            'views_changed_over_1px': int((np.abs(d) > 1.0).sum())}


def rig_summary(curves):
    """Return the savings of the region-wise codecs, or the encoder change if that ran."""
    if 'spat_pose_before' in curves:
        return {'encoder_change': encoder_change(curves)}
    return {'savings': all_savings(curves)}


def all_savings(curves):
    return {f'{key}_vs_{ref}': savings(curves, key, ref)
            for key in ('error_2d_px', 'deviation_2d_px') for ref in ('unified', 'jpeg')}


def virtual_instants(args, camera_model, edge):
    from mec_coop.rig.virtual import VirtualRig

    rig = VirtualRig(num_cameras=4, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    instants, agreement, sources = [], [], []
    for k in range(args.instants):
        frame = rig.frame(args.start_s + k * args.spacing_s)
        views = []
        for v in range(len(rig.cameras)):
            image, ref, vis = frame.image(v), frame.keypoints_2d[v, 0], frame.visibility[v, 0]
            if vis.sum() >= args.min_joints:
                q, source = importance_map(camera_model, image, ref, rng, args.shift_px)
                sources.append(source)
                if args.gradient_check:
                    from mec_coop.pose.saliency import keypoint_loss_gradient
                    grad = block_means(keypoint_loss_gradient(edge, image, ref, vis))
                    agreement.append(rank_agreement(q, grad))
            else:
                q = np.zeros((90, 160))
            views.append({'image': image, 'reference': ref, 'visible': vis, 'importance': q})
        instants.append({'views': views, 'world': frame.joints_world[0]})
    check = {'views': len(agreement),
             'spearman_mean': float(np.mean([a['spearman'] for a in agreement])),
             'gradient_mass_in_top10pct_blocks_mean': float(np.mean(
                 [a['mass_in_top'] for a in agreement]))} if agreement else None
    return rig.cameras, instants, check, sources


def recorded_instants(args, camera_model, edge):
    from mec_coop.rig.recorded import RecordedRig

    rig = RecordedRig('Demo_SinglePerson', rate_hz=args.recorded_rate)
    rng = np.random.default_rng(args.seed)
    instants, sources = [], []
    for frame in rig.frames(0, args.recorded_instants):
        images = frame.images
        refs = edge.predict_batch(images)
        pts = np.full((len(images), 17, 2), np.nan)
        conf = np.zeros((len(images), 17))
        views = []
        for v, (image, est) in enumerate(zip(images, refs)):
            i = est.best()
            ref, vis = np.full((17, 2), np.nan), np.zeros(17, bool)
            if i >= 0:
                ref, vis = est.keypoints[i], est.confidences[i] >= 0.5
                pts[v], conf[v] = ref, est.confidences[i]
            if vis.sum() >= args.min_joints:
                q, source = importance_map(camera_model, image, ref, rng, args.shift_px)
                sources.append(source)
            else:
                q = np.zeros((-(-image.shape[0] // 8), -(-image.shape[1] // 8)))
            views.append({'image': image, 'reference': ref, 'visible': vis, 'importance': q})
        tri = triangulate_cameras(rig.cameras, pts, conf, method=args.triangulation,
                                  outlier_threshold_px=args.outlier_px)
        instants.append({'views': views, 'world': np.where(tri.valid[:, None], tri.points,
                                                           np.nan)})
    return rig.cameras, instants, sources


def plot(result, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(16, 8))
    for row, rig in enumerate(('virtual', 'recorded')):
        for col, (key, label) in enumerate((('error_2d_px', '2D keypoint error (px, capped)'),
                                            ('deviation_2d_px', '2D deviation from raw-frame '
                                             'result (px)'), ('mpjpe_mm', '3D MPJPE (mm)'))):
            ax = axes[row, col]
            for codec, curve in result[rig]['curves'].items():
                if codec == 'raw':
                    ax.axhline(curve[0][key] or np.nan, color='k', lw=0.8, ls=':',
                               label='uncompressed')
                    continue
                xs = [c['bytes'] / 1024 for c in curve if c[key] is not None]
                ax.plot(xs, [c[key] for c in curve if c[key] is not None], 'o-', label=codec)
            ax.set_xscale('log')
            ax.set_xlabel('KB per frame')
            ax.set_ylabel(label)
            ax.set_title(f'{rig} rig' + (' (vs ground truth)' if rig == 'virtual'
                                         else ' (vs edge model on the raw frame)'))
            ax.grid(alpha=0.3)
    axes[0, 0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--instants', type=int, default=5)
    parser.add_argument('--start-s', type=float, default=2.0)
    parser.add_argument('--spacing-s', type=float, default=4.0)
    parser.add_argument('--recorded-instants', type=int, default=2)
    parser.add_argument('--recorded-rate', type=float, default=1.0)
    parser.add_argument('--mu-background', type=float, default=16.0)
    parser.add_argument('--shift-px', type=float, default=15.0)
    parser.add_argument('--cap-px', type=float, default=50.0)
    parser.add_argument('--min-joints', type=int, default=6)
    parser.add_argument('--outlier-px', type=float, default=30.0)
    parser.add_argument('--triangulation', default='robust')
    parser.add_argument('--no-gradient-check', dest='gradient_check', action='store_false')
    parser.add_argument('--skip-recorded', action='store_true')
    parser.add_argument('--out', default=str(FIGURES))
    parser.add_argument('--codecs', nargs='+', default=list(SETTINGS),
                        choices=list(SETTINGS) + ['spat_pose_before'],
                        help="spat_pose_before: spat_pose by --baseline-rev's encoder")
    parser.add_argument('--baseline-rev', default=BASELINE_REV,
                        help='git revision of the encoder spat_pose_before runs')
    parser.add_argument('--name', default='compression',
                        help='output files <name>.json / .png (the docs: compression)')
    parser.add_argument('--savings-only', action='store_true',
                        help='recompute savings and the figure from the saved compression.json')
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    if args.savings_only:
        result = json.loads((out / f'{args.name}.json').read_text())
        for rig in ('virtual', 'recorded'):
            if rig in result:
                result[rig].update(rig_summary(result[rig]['curves']))
        report(result, out, args.name)
        return
    start = time.time()
    camera_model, edge = UltralyticsPose(imgsz=320), UltralyticsPose(imgsz=960)
    result = {'args': vars(args), 'settings': SETTINGS}
    print('virtual rig', flush=True)
    cameras, instants, check, sources = virtual_instants(args, camera_model, edge)
    curves = run_instants(instants, cameras, edge, args)
    result['virtual'] = {'curves': curves, **rig_summary(curves),
                         'gradient_check': check,
                         'importance_sources': {s: sources.count(s) for s in set(sources)}}
    if not args.skip_recorded:
        print('recorded rig', flush=True)
        # The recorded rig's settings (config/recorded_rig.yaml); the consensus triangulation
        # keeps no joint on some of these frames (docs/triangulation.md), the greedy one does.
        args.outlier_px, args.triangulation = 40.0, 'greedy'
        cameras, instants, sources = recorded_instants(args, camera_model, edge)
        curves = run_instants(instants, cameras, edge, args)
        result['recorded'] = {'curves': curves, **rig_summary(curves),
                              'importance_sources': {s: sources.count(s) for s in set(sources)}}
    result['wall_s'] = time.time() - start
    report(result, out, args.name)


def report(result, out, name='compression'):
    out.mkdir(parents=True, exist_ok=True)
    (out / f'{name}.json').write_text(json.dumps(result, indent=1))
    if 'recorded' in result:
        plot(result, out / f'{name}.png')
    for row in result['virtual'].get('encoder_change', []):
        print({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()})
    for rig in ('virtual', 'recorded'):
        for name, table in result.get(rig, {}).get('savings', {}).items():
            for codec, rows in table.items():
                print(rig, name, codec, {k: None if v['saving'] is None else round(v['saving'], 3)
                                         for k, v in rows.items()})


if __name__ == '__main__':
    main()
