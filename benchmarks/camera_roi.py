# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Camera model with the edge's feedback: full frame vs a crop around the predicted person.

Renders ``--cameras`` x ``--frames`` views of a one-person virtual rig for each of ``--seeds``
and runs the camera model (yolo11n-pose at ``--imgsz``) twice on each: on the full 1280x720
frame, and on the crop (:mod:`mec_coop.pose.roi`) around the ground-truth projection moved by a
simulated prediction error (the whole skeleton shifted ``--shift-px`` in a random direction plus
``--joint-noise-px`` of Gaussian noise per joint: what an edge tracking the person in 3D would
predict; it states ``--shift-px`` as its prediction error, ``track_agreement``'s
``prediction_error_px``). Reports the detection rate on positive views, the 2D keypoint error,
and how well each frame score (:mod:`mec_coop.pose.frame_score`) flags views whose median 2D
error exceeds ``--bad-px`` (ROC AUC). Writes ``docs/figures/camera_roi.json`` and
``docs/figures/frame_score.png``.

Run:  . scripts/env.sh && python benchmarks/camera_roi.py --seeds 0 1 2 --cameras 4 --frames 25
"""

import argparse
import json
import os
import pathlib
import time

import numpy as np

from mec_coop.pose.frame_score import flag_auc, frame_score, FRAME_SCORES, select_person
from mec_coop.pose.roi import DEFAULT_MARGIN, DEFAULT_MIN_SIZE, roi_from_keypoints
from mec_coop.pose.ultralytics_backend import UltralyticsPose
from mec_coop.rig.virtual import VirtualRig

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIGURES = ROOT / 'docs' / 'figures'
# The right person near the right place: median joint error under this share of its longest
# extent (not its height: lying people are wide and flat).
FOUND_FRACTION = 0.2


def predicted_keypoints(truth, rng, shift_px, joint_noise_px):
    """Ground-truth pixels ``(17, 2)`` moved as a tracking edge's prediction would be."""
    angle = rng.uniform(0.0, 2.0 * np.pi)
    shift = shift_px * np.array([np.cos(angle), np.sin(angle)])
    return truth + shift + rng.normal(0.0, joint_noise_px, truth.shape)


def view_record(estimate, truth, inside, predicted, prediction_error_px):
    """Chosen person's median 2D error over in-image joints (inf: nobody) and every score."""
    i = select_person(estimate, predicted)
    error = float('inf')
    if i >= 0:
        error = float(np.median(np.linalg.norm(estimate.keypoints[i] - truth, axis=-1)[inside]))
    return {'error_px': error, 'people': estimate.num_people,
            'time_s': estimate.inference_time_s,
            **{name: frame_score(estimate, name, predicted) for name in FRAME_SCORES
               if name != 'track_agreement'},
            'track_agreement': frame_score(estimate, 'track_agreement', predicted,
                                           prediction_error_px=prediction_error_px)}


def collect(args, seed, model):
    """One row per view that shows at least one joint of the person: label, truth and results."""
    rig = VirtualRig(num_cameras=args.cameras, seed=seed)
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(args.frames):
        frame = rig.frame(k / args.fps)
        for v, cam in enumerate(rig.cameras):
            truth, inside = frame.keypoints_2d[v, 0], frame.in_image[v, 0]
            if not inside.any():
                continue
            predicted = predicted_keypoints(truth, rng, args.shift_px, args.joint_noise_px)
            roi = roi_from_keypoints(predicted, cam.width, cam.height, args.margin,
                                     args.min_size)
            image = frame.image(v)
            full = model.predict(image)
            cropped = model.predict_roi(image, [roi] if roi else [])
            pts = truth[inside]
            rows.append({'positive': bool(frame.positive[v]), 'seed': seed, 'camera': v,
                         'time': frame.stamp, 'extent_px': float(np.max(np.ptp(pts, axis=0))),
                         'roi_size': roi.size if roi else 0,
                         'full': view_record(full, truth, inside, predicted, args.shift_px),
                         'roi': view_record(cropped, truth, inside, predicted, args.shift_px)})
    return rows


def summarise(rows, bad_px):
    """Summarise detection rates, 2D errors and score AUCs of both modes (JSON-ready)."""
    positive = np.array([r['positive'] for r in rows])
    extent = np.array([r['extent_px'] for r in rows])
    out = {'views': len(rows), 'positive_views': int(positive.sum()),
           'person_extent_px_p10_p50_p90': np.percentile(extent, (10, 50, 90)).round(1).tolist()}
    errors = {m: np.array([r[m]['error_px'] for r in rows]) for m in ('full', 'roi')}
    found = {m: errors[m] < FOUND_FRACTION * np.maximum(extent, 1.0) for m in errors}
    both = positive & found['full'] & found['roi']
    for mode in ('full', 'roi'):
        err, people = errors[mode], np.array([r[mode]['people'] for r in rows])
        res = {
            'positive_any_detection_rate': float(np.mean(people[positive] > 0)),
            'positive_found_rate': float(np.mean(found[mode][positive])),
            'negative_found_rate': float(np.mean(found[mode][~positive])) if np.any(~positive)
            else None,
            'median_2d_error_px_found_positive': float(np.median(err[positive & found[mode]])),
            'median_2d_error_px_found_by_both': float(np.median(err[both])),
            'median_inference_ms': 1000 * float(np.median([r[mode]['time_s'] for r in rows])),
            'bad_views': int(np.sum(~(err <= bad_px))),
        }
        for name in FRAME_SCORES:
            res[f'auc_{name}'] = flag_auc([r[mode][name] for r in rows], err, bad_px)
        out[mode] = res
    return out


def rounded(value, digits=4):
    """Round every float in nested dicts and lists to ``digits``."""
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    return round(value, digits) if isinstance(value, float) else value


def plot(rows, path, bad_px, names=('paper', 'track_agreement')):
    """Score vs per-view median 2D error, full frame and ROI side by side."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    cap = 300.0  # where views without a detection are drawn
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, mode, title in zip(axes, ('full', 'roi'), ('full frame', 'ROI crop')):
        err = np.minimum([r[mode]['error_px'] for r in rows], cap)
        for name, marker, color in zip(names, 'ox', ('tab:blue', 'tab:orange')):
            score = [r[mode][name] for r in rows]
            auc = flag_auc(score, [r[mode]['error_px'] for r in rows], bad_px)
            ax.scatter(err, score, marker=marker, s=18, alpha=0.6, color=color,
                       label=f'{name} (AUC {auc:.2f})')
        ax.axvline(bad_px, color='grey', ls='--', lw=1)
        missed = int(np.sum(err >= cap))
        ax.set(xscale='log', xlabel=f'median 2D error, px (none found: {cap:.0f})',
               title=f'{title} ({len(rows)} views, {missed} with nobody found)')
        ax.legend(loc='lower left')
    axes[0].set_ylabel('frame score')
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--cameras', type=int, default=4)
    parser.add_argument('--frames', type=int, default=25)
    parser.add_argument('--fps', type=float, default=1.0, help='rig time step = 1 / fps')
    parser.add_argument('--imgsz', type=int, default=320)
    parser.add_argument('--detection-threshold', type=float, default=0.05)
    parser.add_argument('--shift-px', type=float, default=15.0)
    parser.add_argument('--joint-noise-px', type=float, default=3.0)
    parser.add_argument('--margin', type=float, default=DEFAULT_MARGIN)
    parser.add_argument('--min-size', type=int, default=DEFAULT_MIN_SIZE)
    parser.add_argument('--bad-px', type=float, default=10.0)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', default=str(FIGURES / 'camera_roi.json'))
    parser.add_argument('--figure', default=str(FIGURES / 'frame_score.png'))
    args = parser.parse_args()
    start = time.perf_counter()
    model = UltralyticsPose(imgsz=args.imgsz, conf=args.detection_threshold,
                            threads=args.threads)
    rows = [row for seed in args.seeds for row in collect(args, seed, model)]
    arguments = {k: v for k, v in vars(args).items() if k not in ('out', 'figure')}
    summary = {'arguments': arguments, **summarise(rows, args.bad_px)}
    if len(args.seeds) > 1:
        keys = ('positive_found_rate', 'median_2d_error_px_found_positive', 'auc_paper',
                'auc_track_agreement')
        per_seed = {seed: summarise([r for r in rows if r['seed'] == seed], args.bad_px)
                    for seed in args.seeds}
        summary['per_seed'] = {seed: {mode: {k: round(s[mode][k], 3) for k in keys}
                                      for mode in ('full', 'roi')}
                               for seed, s in per_seed.items()}
    summary['wall_s'] = round(time.perf_counter() - start, 1)
    # Inference times are only comparable on an idle machine: record how busy it was.
    summary['load_average_1min_at_end'] = round(os.getloadavg()[0], 2)
    print(json.dumps(rounded({k: v for k, v in summary.items() if k != 'arguments'}), indent=2))
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rounded(summary), indent=2) + '\n')
    plot(rows, pathlib.Path(args.figure), args.bad_px)
    print(f'wrote {out} and {args.figure}')


if __name__ == '__main__':
    main()
