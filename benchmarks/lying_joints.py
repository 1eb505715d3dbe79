# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
What tells the far-off joints of a lying person apart, with only what the edge knows.

Replays the virtual rig as ``benchmarks/closed_loop.py`` does (same cameras, models, crops and
fusion), with the edge *without* the person's shape check, so that every joint it would publish
is seen. Per valid joint: the posture (no fall / going down or up / lying, torso past 45
degrees), its error (wrong: > 150 mm), views, reprojection error over the estimated keypoint
noise, largest standard deviation of its covariance, mean confidence, and the pixel error of
each view's keypoint; per instant: the median |log| ratio of its body bones to the person's
bone lengths as :class:`~mec_coop.fusion.shape.PersonShape` learns them (from the confident
joints of the instants before), and its shoulder width over the person's. Writes the
distributions of each, wrong against right joints and lying against the other instants, to
``docs/figures/lying_joints.json`` (README, "Falls").

Run:  . scripts/env.sh && python benchmarks/lying_joints.py --seeds 0 1 5 7 11
"""

import argparse
import collections

# benchmarks/ is on sys.path when this runs as a script
from closed_loop import add_replay_arguments, camera_report, models, write_results, WRONG_MM
import numpy as np

from mec_coop.action.features import torso_inclination
from mec_coop.coop.feedback import RoiPolicy
from mec_coop.coop.routing import Thresholds
from mec_coop.fusion.edge import EdgeFusion, FusionSettings
from mec_coop.fusion.feedback import FeedbackSettings
from mec_coop.fusion.shape import bone_lengths, MIN_BONES, PersonShape
from mec_coop.geometry.skeleton import COCO_BONES
from mec_coop.rig.virtual import VirtualRig

_BODY = np.array([min(b) >= 5 for b in COCO_BONES])
_SHOULDERS = COCO_BONES.index((5, 6))
QUANTILES = (0.1, 0.5, 0.9)


def posture(action: str, inclination: float) -> str:
    """``lying`` (a fall, torso past 45 degrees), ``going_down_or_up`` or ``no_fall``."""
    if action != 'fall':
        return 'no_fall'
    return 'lying' if inclination > np.pi / 4 else 'going_down_or_up'


def replay(args: argparse.Namespace, seed: int, camera_model, edge_model) -> tuple[list, list]:
    """Per-joint and per-instant rows of one rig."""
    rig = VirtualRig(num_cameras=args.cameras, seed=seed)
    names = [f'cam{i}' for i in range(args.cameras)]
    calibration = dict(zip(names, rig.cameras))
    clock = [0.0]
    fusion = EdgeFusion(names, FusionSettings(feedback=FeedbackSettings(shape_check=False)),
                        calibration.get, clock=lambda: clock[0])
    policies = {name: RoiPolicy(search_every=3) for name in names}
    thresholds = Thresholds(args.theta_low, args.theta_high)
    counts: collections.Counter = collections.Counter()
    shape = PersonShape()
    joints, instants = [], []
    for k in range(int(round(args.duration * args.fps))):
        stamp = args.start + k / args.fps
        frame = rig.frame(stamp)
        clock[0] = stamp
        reports = {}
        for v, name in enumerate(names):
            reports[name] = camera_report(camera_model, edge_model, frame.image(v),
                                          policies[name], stamp, thresholds, args.score, counts,
                                          True)
            fusion.add(name, stamp, reports[name])
        clock[0] = stamp + fusion.settings.acquire_timeout_s + 0.01
        released = fusion.poll(stamp)
        for name, priors in released.priors.items():
            for prior in priors:
                policies[name].offer(prior.stamp, ([prior.roi], prior.keypoints))
        if not released.skeletons:
            continue
        fused = released.skeletons[0]
        tri, truth = fused.triangulation, frame.joints_world[0]
        where = posture(frame.actions[0], float(torso_inclination(truth)))
        reference = shape.reference()
        shape.learn(tri)
        with np.errstate(divide='ignore', invalid='ignore'):
            deviation = np.log(bone_lengths(tri.points) / reference)
        body = np.isfinite(deviation) & _BODY
        instants.append({
            'posture': where,
            'median_bone_deviation': float(np.median(np.abs(deviation[body])))
            if body.sum() >= MIN_BONES else None,
            'shoulder_ratio': float(np.exp(deviation[_SHOULDERS]))
            if np.isfinite(deviation[_SHOULDERS]) else None})
        error = 1e3 * np.linalg.norm(tri.points - truth, axis=-1)
        cov = np.where(tri.valid[:, None, None], tri.covariance, 0.0)
        std = 1e3 * np.sqrt(np.clip(np.linalg.eigvalsh(cov)[:, -1], 0.0, None))
        pixels = {cam: calibration[cam].project(truth) for cam in fused.camera_ids}
        for j in np.flatnonzero(tri.valid):
            views = [float(np.linalg.norm(reports[cam].pixels[j] - pixels[cam][j]))
                     for v, cam in enumerate(fused.camera_ids) if tri.used[v, j]]
            joints.append({'posture': where, 'error_mm': float(error[j]),
                           'views': int(tri.num_views[j]),
                           'residual_over_noise': float(tri.reprojection_error[j]
                                                        / tri.noise_px),
                           'std_mm': float(std[j]), 'confidence': float(tri.confidence[j]),
                           'view_pixel_error': views})
    return joints, instants


def quantiles(values: list) -> dict:
    """``{count, q10, q50, q90}`` of ``values`` (None where empty)."""
    values = [v for v in values if v is not None]
    if not values:
        return {'count': 0}
    return {'count': len(values),
            **{f'q{int(100 * q)}': float(np.quantile(values, q)) for q in QUANTILES}}


def summarise(joints: list, instants: list) -> dict:
    """Distributions per posture: joint features of wrong and right joints, instant shape."""
    out = {}
    for where in ('no_fall', 'going_down_or_up', 'lying'):
        rows = [r for r in joints if r['posture'] == where]
        sides = {'wrong': [r for r in rows if r['error_mm'] > WRONG_MM],
                 'right': [r for r in rows if r['error_mm'] <= WRONG_MM]}
        shapes = [r for r in instants if r['posture'] == where]
        deviation = [r['median_bone_deviation'] for r in shapes
                     if r['median_bone_deviation'] is not None]
        shoulders = [r['shoulder_ratio'] for r in shapes if r['shoulder_ratio'] is not None]
        out[where] = {
            'joints': {side: {
                'count': len(group),
                **{name: quantiles([r[name] for r in group]) for name in (
                    'error_mm', 'views', 'residual_over_noise', 'std_mm', 'confidence')},
                'view_pixel_error': quantiles([e for r in group for e in r['view_pixel_error']]),
                'three_or_more_views': float(np.mean([r['views'] >= 3 for r in group]))
                if group else None}
                for side, group in sides.items()},
            'instants': len(shapes),
            'median_bone_factor': quantiles(list(np.exp(deviation))),
            'share_median_bone_factor_over_1_16': float(np.mean(np.array(deviation) > 0.15))
            if deviation else None,
            'shoulder_ratio': quantiles(shoulders),
            'share_shoulder_ratio_below_0_7': float(np.mean(np.array(shoulders) < 0.7))
            if shoulders else None}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 5, 7, 11])
    parser.add_argument('--cameras', type=int, default=4)
    add_replay_arguments(parser, start=3.5, duration=100.0, per='rig')
    parser.add_argument('--theta-low', type=float, default=0.3)
    parser.add_argument('--theta-high', type=float, default=0.7)
    parser.add_argument('--out', default='docs/figures/lying_joints.json')
    args = parser.parse_args()
    camera_model, edge_model = models(args)
    joints, instants = [], []
    for seed in args.seeds:
        rows, shapes = replay(args, seed, camera_model, edge_model)
        joints += rows
        instants += shapes
        print(f'seed {seed}: {len(shapes)} skeletons', flush=True)
    write_results(args, 'postures', summarise(joints, instants))


if __name__ == '__main__':
    main()
