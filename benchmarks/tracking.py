# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Skeleton tracking and smoothing on virtual-rig ground truth.

A procedural humanoid (walk, jump, fall, crouch, spread arms, stand) gives COCO-17 ground truth;
the 3D measurement is corrupted with Gaussian noise, dropped joints, joints displaced by 0.5 m and
left/right arm swaps. Reported: accuracy and jitter (mean joint acceleration) of the raw
measurement, the gated measurement, One Euro and Kalman output, for the constant-velocity model
(``cv``) and a velocity decaying in 0.3 s (``decay``); prediction error against horizon next to
holding the last estimate; gating and swap statistics; time per instant. Prints
tables and writes ``docs/figures/tracking.json``.

Run:  . scripts/env.sh && python benchmarks/tracking.py
"""

import argparse
import dataclasses
import json
import pathlib
import platform
import time

import numpy as np

from mec_coop.fusion.smoothing import SkeletonSmoother, SMOOTHING_METHODS
from mec_coop.fusion.tracking import SkeletonTrack, TrackConfig
from mec_coop.geometry.metrics import mean_acceleration
from mec_coop.geometry.skeleton import JOINT_INDEX
from mec_coop.rig.virtual import Humanoid

ROOT = pathlib.Path(__file__).resolve().parents[1]
ARM = [JOINT_INDEX[n] for n in ('left_elbow', 'right_elbow', 'left_wrist', 'right_wrist')]
ARM_SWAPPED = [ARM[1], ARM[0], ARM[3], ARM[2]]
MODELS = {'cv': {}, 'decay': {'accel_psd': 16.0, 'velocity_decay_s': 0.3}}


def corrupt(gt, rng, noise, dropout, outliers, swaps):
    """Measured skeletons ``(T, J, 3)`` and the masks of outlier joints and swapped frames."""
    z = gt + rng.normal(0.0, noise, gt.shape)
    outlier = rng.random(gt.shape[:2]) < outliers
    direction = rng.normal(size=gt.shape)
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    z[outlier] += 0.5 * direction[outlier]
    swapped = rng.random(len(gt)) < swaps
    z[np.ix_(swapped, ARM)] = z[np.ix_(swapped, ARM_SWAPPED)]
    z[rng.random(gt.shape[:2]) < dropout] = np.nan
    return z, outlier, swapped


def _stats(stamps, points, gt):
    err = np.linalg.norm(points - gt, axis=-1)
    return {'mpjpe_mm': 1e3 * float(np.nanmean(err)),
            'valid': float(np.mean(np.isfinite(err))),
            'jitter_ms2': mean_acceleration(stamps, points),
            'error_jitter_ms2': mean_acceleration(stamps, points - gt)}


def _timing(seconds):
    # The median resists other processes sharing the CPU; p99 shows the tail they cause.
    return {'median': 1e6 * float(np.median(seconds)), 'mean': 1e6 * float(seconds.mean()),
            'p99': 1e6 * float(np.percentile(seconds, 99))}


def run_sequence(stamps, gt, z, outlier, swapped, config):
    """Track and smooth one sequence; per-method outputs, per-instant times, gate statistics."""
    track = SkeletonTrack(config)
    smoothers = {m: SkeletonSmoother(m) for m in SMOOTHING_METHODS}
    out = {m: np.full(gt.shape, np.nan) for m in SMOOTHING_METHODS}
    update_s, smooth_s = [], []
    counts = dict.fromkeys(('gated_clean', 'rejected_clean', 'outliers', 'outliers_rejected',
                            'swaps', 'swaps_found', 'swap_false_alarms'), 0)
    for k, t in enumerate(stamps):
        start = time.perf_counter()
        update = track.update(t, z[k])
        update_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        for m, smoother in smoothers.items():
            out[m][k] = smoother(update).points
        smooth_s.append((time.perf_counter() - start) / len(smoothers))
        tested = np.isfinite(update.mahalanobis)
        clean = tested & ~outlier[k]
        counts['gated_clean'] += int(clean.sum())
        counts['rejected_clean'] += int((update.rejected & clean).sum())
        counts['outliers'] += int((tested & outlier[k]).sum())
        counts['outliers_rejected'] += int((update.rejected & outlier[k]).sum())
        counts['swaps'] += int(swapped[k])
        counts['swaps_found'] += int(swapped[k] and 'elbow' in update.swapped_pairs)
        counts['swap_false_alarms'] += 0 if swapped[k] else int(update.swapped.sum())
    return out, np.array(update_s), np.array(smooth_s), counts


def prediction_errors(stamps, gt, z, config, horizons):
    """Mean joint error (mm) of the Kalman prediction and of holding the estimate, per horizon."""
    # Predictions past the default bounded fill are NaN: lift the bound to see the model.
    track = SkeletonTrack(dataclasses.replace(config, max_fill_s=max(horizons),
                                              max_gap_s=max(horizons + (config.max_gap_s,))))
    dt = stamps[1] - stamps[0]
    errors = {h: ([], []) for h in horizons}
    for k, t in enumerate(stamps):
        update = track.update(t, z[k])
        for h in horizons:
            ahead = k + int(round(h / dt))
            if ahead >= len(stamps) or k < 10:
                continue
            pred = track.predict(stamps[ahead])
            ok = pred.valid & update.valid
            errors[h][0].append(np.linalg.norm(pred.points - gt[ahead], axis=1)[ok])
            errors[h][1].append(np.linalg.norm(update.points - gt[ahead], axis=1)[ok])
    return [{'horizon_s': h,
             'kalman_mm': 1e3 * float(np.mean(np.concatenate(cv))),
             'hold_mm': 1e3 * float(np.mean(np.concatenate(hold)))}
            for h, (cv, hold) in errors.items()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--duration', type=float, default=120.0, help='seconds of motion')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--noise', type=float, default=0.02, help='3D noise std (m)')
    parser.add_argument('--out', type=pathlib.Path, default=ROOT / 'docs/figures/tracking.json')
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    person = Humanoid(seed=args.seed)
    configs = {name: TrackConfig(measurement_std=args.noise, **kw) for name, kw in MODELS.items()}
    results = {'setup': {'duration_s': args.duration, 'noise_m': args.noise, 'dropout': 0.05,
                         'outliers': 0.02, 'outlier_displacement_m': 0.5, 'arm_swaps': 0.02,
                         'configs': {n: dataclasses.asdict(c) for n, c in configs.items()},
                         'machine': platform.processor() or platform.machine(),
                         'python': platform.python_version()},
               'rates': []}
    for fps, horizons in ((10.0, (0.1, 0.2, 0.5, 1.0)), (2.0, (0.5, 1.0))):
        stamps = np.arange(0.0, args.duration, 1.0 / fps)
        gt = np.array([person.pose(t).joints for t in stamps])
        z, outlier, swapped = corrupt(gt, rng, args.noise, 0.05, 0.02, 0.02)
        clean = corrupt(gt, np.random.default_rng(args.seed + 1), args.noise, 0.0, 0.0, 0.0)[0]
        rate = {'fps': fps, 'methods': {'truth': _stats(stamps, gt, gt),
                                        'raw': _stats(stamps, z, gt)}, 'models': {}}
        for name, config in configs.items():
            out, update_s, smooth_s, counts = run_sequence(stamps, gt, z, outlier, swapped,
                                                           config)
            rate['methods'].update({f'{name}/{m}': _stats(stamps, out[m], gt)
                                    for m in SMOOTHING_METHODS})
            rate['models'][name] = {
                'gate': counts,
                'prediction': prediction_errors(stamps, gt, clean, config, horizons),
                'update_us': _timing(update_s), 'smoother_us': _timing(smooth_s)}
        results['rates'].append(rate)
    report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + '\n')
    print(f'\nwrote {args.out}')


def report(results):
    for rate in results['rates']:
        print(f"\n== {rate['fps']:g} fps: raw = noisy measurement with outliers, swaps, dropouts;"
              ' none = gated + swap-fixed + bounded fill ==')
        print(f"{'method':16s} {'MPJPE mm':>9s} {'valid':>6s} {'jitter m/s2':>12s} "
              f"{'error jitter':>13s}")
        for name, m in rate['methods'].items():
            print(f"{name:16s} {m['mpjpe_mm']:9.1f} {m['valid']:6.3f} {m['jitter_ms2']:12.2f} "
                  f"{m['error_jitter_ms2']:13.2f}")
        for name, model in rate['models'].items():
            g = model['gate']
            print(f"{name}: gate: clean joints rejected {g['rejected_clean']}/{g['gated_clean']} "
                  f"({g['rejected_clean'] / max(g['gated_clean'], 1):.2%}), 0.5 m outliers "
                  f"rejected {g['outliers_rejected']}/{g['outliers']}; arm swaps found "
                  f"{g['swaps_found']}/{g['swaps']}, false alarms {g['swap_false_alarms']}")
            print(f'{name}: prediction (20 mm noise only): ' + ', '.join(
                f"{p['horizon_s']:g} s {p['kalman_mm']:.0f} mm (hold {p['hold_mm']:.0f})"
                for p in model['prediction']))
            up, sm = model['update_us'], model['smoother_us']
            print(f"{name}: time per instant (median / p99): update {up['median']:.0f} / "
                  f"{up['p99']:.0f} us, smoother {sm['median']:.0f} / {sm['p99']:.0f} us")


if __name__ == '__main__':
    main()
