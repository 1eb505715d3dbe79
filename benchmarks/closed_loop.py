# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The cooperative loop without DDS or timing: how often the edge's feedback keeps the person.

Replays the virtual rig instant by instant through the product's own core: each camera's
:class:`~mec_coop.coop.feedback.RoiPolicy` and :func:`~mec_coop.coop.feedback.infer` (crop,
wider retry, full frame) with the real yolo11n-pose at ``--imgsz``, the frame score, the dual
thresholds and the search offloads of cameras without a crop; offloaded frames through the same
weights at the edge's ``--edge-imgsz``, on crops around the people the camera found as the edge
node's ``offload_crops`` does (accepted at ``theta_server``, as if always on time);
:class:`~mec_coop.fusion.edge.EdgeFusion` with its defaults, whose crops go back to the cameras
for the next instants. What the running graph adds is time: late views, CPU contention and the
uplink (``./scripts/demo.sh`` measures those).

Reports per rig (seed, camera count): the skeleton rate over all instants and over the instants
at least two cameras see (``positive`` views, the paper's definition), why the others failed
(too few views, refused by the person's shape check, no valid joint), the rate per scripted
action (walk, fall, ...) and during falls while the torso is within / past 45 degrees of the
vertical (going down or getting up / lying: the error model of the action study,
``mec_coop.action.data.NoiseModel``, takes them from here), MPJPE and joint coverage of the
published skeleton, per posture also the wrong joints published (> 150 mm) and those the shape
check flagged (``--no-shape-check``: the edge without it), and how the cameras chose (crop,
retry, miss, full frame, search offload).
Writes ``docs/figures/closed_loop.json``.

Run:  . scripts/env.sh && python benchmarks/closed_loop.py --seeds 0 7 --cameras 4 6 --duration 100
"""

import argparse
import collections
import json
import pathlib
import time

import numpy as np

from mec_coop.action.features import torso_inclination
from mec_coop.coop.codec import encode_jpeg
from mec_coop.coop.feedback import RoiPolicy
from mec_coop.coop.regional import decode_checked, encode_offload, OFFLOAD_CODECS
from mec_coop.coop.routing import Route, Thresholds
from mec_coop.fusion.edge import EdgeFusion, FusionSettings, Report
from mec_coop.fusion.feedback import FeedbackSettings
from mec_coop.geometry.metrics import coverage, mpjpe
from mec_coop.pose.frame_score import frame_score, select_person
from mec_coop.pose.ultralytics_backend import UltralyticsPose
from mec_coop.rig.virtual import VirtualRig

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIGURES = ROOT / 'docs' / 'figures'
# Why an instant seen by two cameras has no skeleton (EdgeFusion.totals).
MISSED = ('too_few_views', 'shape_refused_instants', 'no_valid_joint')
WRONG_MM = 150.0


def camera_report(camera_model, edge_model, image, policy, stamp, thresholds, score, counts,
                  edge_crops, per_person=True, offload_codec=None):
    """
    One camera's frame as the graph handles it: a :class:`Report`.

    The report carries every person found (the camera's or the edge model's), as the edge node's
    reports do; the fusion without association uses only the selected one. ``per_person``: the
    camera node's routing rule with several tracked people (those below ``theta_low`` left out,
    :func:`~mec_coop.pose.frame_score.frame_score`); False: the least confident of all decides.
    ``offload_codec``: ``(codec, quality)`` the offloads go through as the camera node encodes
    them (:func:`~mec_coop.coop.regional.encode_offload`) before the edge's model; None: raw.
    """
    estimate, predicted, choice = policy.infer(camera_model, image, stamp, counts)
    counts[choice.value] += 1
    floor = thresholds.theta_low if per_person else 0.0
    route = thresholds.route(frame_score(estimate, score, predicted, floor=floor))
    search = policy.search(choice, route is Route.DROP)
    counts['search' if search else route.value] += 1
    if route is Route.KEYPOINTS:
        i = select_person(estimate, predicted)
        return Report(estimate.keypoints[i], estimate.confidences[i], 'camera',
                      people=estimate.keypoints, people_weights=estimate.confidences)
    if route is Route.OFFLOAD or search:
        if offload_codec is not None:
            people = (estimate.keypoints, estimate.confidences, estimate.boxes) \
                if estimate.num_people else ()
            image = decode_checked(encode_offload(image, offload_codec[1], offload_codec[0],
                                                  *people))
        result = edge_model.predict_around(image, estimate.keypoints) \
            if edge_crops and not search else None
        if result is None:
            result = edge_model.predict(image)
        if thresholds.edge_accepts(result.frame_confidence()):
            best = result.best()
            return Report(result.keypoints[best], result.confidences[best], 'edge',
                          people=result.keypoints, people_weights=result.confidences)
    return Report(None, None, 'dropped')


def run_rig(args, seed, num_cameras, camera_model, edge_model):
    """Replay one rig; return its summary (JSON-ready)."""
    rig = VirtualRig(num_cameras=num_cameras, seed=seed)
    names = [f'cam{i}' for i in range(num_cameras)]
    calibration = dict(zip(names, rig.cameras))
    clock = [0.0]
    # Without feedback the edge tracks nobody, sends no crops and the cameras never search: the
    # paper's scheme with this product's triangulation.
    fusion = EdgeFusion(names, FusionSettings(feedback=FeedbackSettings(
        shape_check=args.shape_check) if args.feedback else None), calibration.get,
        clock=lambda: clock[0])
    checked = watch_shape_check(fusion)
    policies = {name: RoiPolicy(search_every=3 if args.feedback else 0) for name in names}
    thresholds = Thresholds(args.theta_low, args.theta_high)
    offload = None if args.offload_codec == 'raw' else (args.offload_codec, args.offload_quality)
    counts: collections.Counter = collections.Counter()
    rows = []
    for k in range(int(round(args.duration * args.fps))):
        stamp = args.start + k / args.fps
        frame = rig.frame(stamp)
        clock[0] = stamp
        for v, name in enumerate(names):
            # The rig node publishes its frames as JPEG (rig.jpeg_quality); 0: raw renders.
            image = frame.image(v) if not args.camera_jpeg else decode_checked(
                encode_jpeg(frame.image(v), args.camera_jpeg))
            report = camera_report(camera_model, edge_model, image, policies[name],
                                   stamp, thresholds, args.score, counts, args.edge_crops,
                                   offload_codec=offload)
            fusion.add(name, stamp, report)
        before = collections.Counter(fusion.totals)
        clock[0] = stamp + fusion.settings.acquire_timeout_s + 0.01
        checked.clear()
        released = fusion.poll(stamp)
        for name, priors in released.priors.items():
            for prior in priors:
                policies[name].offer(prior.stamp, ([prior.roi], prior.keypoints))
        outcome = collections.Counter(fusion.totals) - before
        skeleton = released.skeletons[0] if released.skeletons else None
        # The joints the shape check flagged, where they were (NaN: not flagged).
        flagged = np.full((17, 3), np.nan) if not checked else np.where(
            (checked[0][0].valid & ~checked[0][1].valid)[:, None], checked[0][0].points, np.nan)
        rows.append({'positive': int(frame.positive.sum()),
                     'outcome': next((c for c in MISSED if outcome[c]), ''), 'flagged': flagged,
                     'action': frame.actions[0],
                     'inclination': float(torso_inclination(frame.joints_world[0])),
                     'points': None if skeleton is None else skeleton.points,
                     'truth': frame.joints_world[0]})
    return {**summarise(rows, counts),
            'shape_check': {k: v for k, v in fusion.totals.items() if k.startswith('shape_')}}


def watch_shape_check(fusion: EdgeFusion) -> list:
    """Record ``(before, after)`` of each instant the person's shape check sees (none if off)."""
    seen: list = []
    shape = fusion.person.shape if fusion.person is not None else None
    if shape is not None:
        check = shape.check

        def recorded(tri, counts):
            out = check(tri, counts)
            seen.append((tri, out))
            return out
        shape.check = recorded  # type: ignore[method-assign]
    return seen


def posture_joints(rows: list) -> dict:
    """
    Joints published per posture, the wrong ones among them, and those the shape check flagged.

    Wrong: more than ``WRONG_MM`` from the ground truth (fails PCK@150). Coverage: mean share of
    the 17 joints published at the published instants. Flagged: the joints the shape check made
    invalid, also at the instants it refused (right ones are the check's cost).
    """
    out = {}
    for posture, group in rows.items():
        published = [r for r in group if r['points'] is not None]
        err = [1e3 * np.linalg.norm(r['points'] - r['truth'], axis=-1) for r in published]
        gone = [1e3 * np.linalg.norm(r['flagged'] - r['truth'], axis=-1) for r in group]
        out[posture] = {
            'valid_joints': int(sum(np.isfinite(e).sum() for e in err)),
            'wrong_joints': int(sum((e > WRONG_MM).sum() for e in err)),
            'joint_coverage': float(np.mean([np.isfinite(e).mean() for e in err]))
            if err else None,
            'flagged_wrong': int(sum((e > WRONG_MM).sum() for e in gone)),
            'flagged_right': int(sum((e <= WRONG_MM).sum() for e in gone)),
            'flagged_median_error_mm': float(np.median(flat)) if (flat := np.concatenate(
                [e[np.isfinite(e)] for e in gone] + [[]])).size else None}
    return out


def summarise(rows, counts):
    """Rates, causes of missing skeletons and accuracy of one replay."""
    seen = [r for r in rows if r['positive'] >= 2]
    published = [r for r in rows if r['points'] is not None]
    causes = collections.Counter(r['outcome'] for r in seen if r['points'] is None)
    actions = sorted({r['action'] for r in seen})
    falls = {'fall_within_45deg': [r for r in seen if r['action'] == 'fall'
                                   and r['inclination'] <= np.pi / 4],
             'fall_past_45deg': [r for r in seen if r['action'] == 'fall'
                                 and r['inclination'] > np.pi / 4],
             'not_fall': [r for r in seen if r['action'] != 'fall']}
    pred = np.array([r['points'] for r in published]) if published else np.zeros((0, 17, 3))
    truth = np.array([r['truth'] for r in published]) if published else np.zeros((0, 17, 3))
    return {
        'instants': len(rows),
        'instants_two_positive_views': len(seen),
        'skeleton_rate': len(published) / max(len(rows), 1),
        'skeleton_rate_two_positive_views': sum(r['points'] is not None for r in seen)
        / max(len(seen), 1),
        'missed_two_positive_views': dict(causes),
        # Per scripted action: a fall is when a rig must keep the person (issue 16's events).
        'skeleton_rate_by_action': {a: float(np.mean([r['points'] is not None for r in seen
                                                      if r['action'] == a])) for a in actions},
        'instants_by_action': {a: sum(r['action'] == a for r in seen) for a in actions},
        'missed_by_posture': {k: sum(r['points'] is None for r in v) for k, v in falls.items()},
        'instants_by_posture': {k: len(v) for k, v in falls.items()},
        'mpjpe_mm_by_posture': {k: 1e3 * mpjpe(np.array([r['points'] for r in v]),
                                               np.array([r['truth'] for r in v]))
                                for k, v in ((k, [r for r in v if r['points'] is not None])
                                             for k, v in falls.items()) if v},
        'joints_by_posture': posture_joints(falls),
        'mpjpe_mm': 1e3 * mpjpe(pred, truth) if published else None,
        'joint_coverage': coverage(pred) if published else None,
        'camera_choices': dict(counts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--cameras', type=int, nargs='+', default=[4])
    add_replay_arguments(parser, start=3.5, duration=100.0, per='rig')
    parser.add_argument('--theta-low', type=float, default=0.3)
    parser.add_argument('--theta-high', type=float, default=0.7)
    parser.add_argument('--no-feedback', dest='feedback', action='store_false',
                        help='no track, crops or searches (edge.feedback / camera.roi_feedback '
                        'false)')
    parser.add_argument('--no-shape-check', dest='shape_check', action='store_false',
                        help="publish the joints the person's bone lengths refute "
                        '(fusion/shape.py), as before')
    parser.add_argument('--edge-full-frame', dest='edge_crops', action='store_false',
                        help="the edge's model on the whole offloaded frame (the paper), not "
                        "on crops around the camera's people (edge.offload_crops)")
    parser.add_argument('--offload-codec', default='raw', choices=('raw', *OFFLOAD_CODECS),
                        help="what the edge's model sees of an offload: the raw frame, or the "
                        "frame through the camera node's encoder and back (camera.offload_codec)")
    parser.add_argument('--offload-quality', type=int, default=90,
                        help='JPEG quality of the offloads (camera.jpeg_quality)')
    parser.add_argument('--camera-jpeg', type=int, default=0,
                        help='JPEG quality of the frames the cameras get, as the rig node '
                        'publishes them (rig.jpeg_quality, 90); 0: the raw renders')
    parser.add_argument('--out', default=str(FIGURES / 'closed_loop.json'))
    args = parser.parse_args()
    camera_model, edge_model = models(args)
    results = []
    for seed in args.seeds:
        for num_cameras in args.cameras:
            start = time.perf_counter()
            summary = run_rig(args, seed, num_cameras, camera_model, edge_model)
            summary.update(seed=seed, cameras=num_cameras,
                           wall_s=round(time.perf_counter() - start, 1))
            results.append(summary)
            print(json.dumps(summary), flush=True)
    write_results(args, 'rigs', results)


def add_replay_arguments(parser: argparse.ArgumentParser, start: float, duration: float,
                         per: str) -> None:
    """Add the options a replay shares: rig time span and rate, models' input sizes, score."""
    parser.add_argument('--start', type=float, default=start, help='rig time of the first instant')
    parser.add_argument('--duration', type=float, default=duration, help=f'rig seconds per {per}')
    parser.add_argument('--fps', type=float, default=2.0)
    parser.add_argument('--imgsz', type=int, default=320)
    parser.add_argument('--edge-imgsz', type=int, default=960)
    parser.add_argument('--score', default='joints_box')


def models(args: argparse.Namespace) -> tuple[UltralyticsPose, UltralyticsPose]:
    """Return the cameras' and the edge's model: one set of weights at two input sizes."""
    return UltralyticsPose(imgsz=args.imgsz), UltralyticsPose(imgsz=args.edge_imgsz)


def write_results(args: argparse.Namespace, key: str, results: list) -> None:
    """Write the command's arguments and its results (under ``key``) to ``args.out``."""
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({'arguments': vars(args), key: results}, indent=2,
                              default=float) + '\n')
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
