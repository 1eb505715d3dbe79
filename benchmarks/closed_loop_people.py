# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The cooperative loop with several people, without DDS or timing: where the edge loses people.

The multi-person sibling of ``benchmarks/closed_loop.py`` (whose camera step it reuses): the
virtual rig's crossing scenario (``--people`` walkers through the room centre), each camera's
:class:`~mec_coop.coop.feedback.RoiPolicy` fed with *every* track's crop for a capture time (one
``CameraRoi`` per capture time, as the edge node sends them), the real yolo11n-pose at the
camera's ``--imgsz`` and, for offloaded frames, at the edge's ``--edge-imgsz`` on crops around
the camera's people (``edge.offload_crops``; ``--edge-inputs full``: the whole frame, the
paper), accepted at ``theta_server`` as if always on time. :class:`~mec_coop.fusion.edge.
EdgeFusion` runs with ``FusionSettings(association=True)`` and its other defaults. Schemes
(``--modes``): ``cooperative`` (theta 0.3 / 0.7) and ``server_centric`` (every frame offloaded).
``--resolve-m 0``: the association without :mod:`mec_coop.fusion.resolve` (joints whose views
disagree stay invalid), as before it.

Scored per instant by :class:`~mec_coop.eval.multi_person.MultiPersonScore` (PCP, PCK, MPJPE of
matched people, missed and false people, id switches per person-minute) with each published
skeleton checked against the ground-truth labels of the detections it was built from (here the
replay knows which report was used: no ambiguous views). Each ground-truth person at each
instant gets one outcome (:func:`outcome`), which says where the PCP gap comes from.

``--reports DIR``: each run saves its camera reports in DIR, or, when DIR holds them already,
replays them without the models (open loop: the crops no longer follow the fusion, so this
measures fusion settings on fixed detections in seconds instead of minutes; ``camera_reports``
in the JSON says which).

Run:  . scripts/env.sh && python benchmarks/closed_loop_people.py --seeds 0 3 --duration 30
          --edge-inputs crops full (one command line)
(writes docs/figures/closed_loop_people.json; per-instant rows under results/)
"""

import argparse
import collections
import itertools
import json
import pathlib
import time

# benchmarks/ is on sys.path when this runs as a script
from closed_loop import add_replay_arguments, camera_report, models, write_results
import numpy as np

from mec_coop.coop.feedback import RoiPolicy
from mec_coop.coop.routing import mode_thresholds
from mec_coop.eval.labels import label_detection
from mec_coop.eval.multi_person import (match_people, mixed_labels, MultiPersonScore, pcp,
                                        PCP_PARTS)
from mec_coop.fusion.association import AssociationSettings
from mec_coop.fusion.edge import EdgeFusion, FusionSettings, Report
from mec_coop.geometry.skeleton import COCO_JOINTS
from mec_coop.geometry.triangulation import JointFlag, triangulate
from mec_coop.rig.virtual import VirtualRig

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIGURES = ROOT / 'docs' / 'figures'
# A part is correct when its mean endpoint error is within half its length (PCP).
OUTCOMES = ('correct', 'some_parts_wrong', 'mixed', 'not_published', 'detected_in_one_view',
            'not_detected', 'not_seen')


def offer_priors(policies: dict, priors: dict) -> None:
    """Give each camera its crops, one prior ``(crops, keypoints (P, 17, 2))`` per capture time."""
    for name, found in priors.items():
        for stamp in sorted({p.stamp for p in found}):
            same = [p for p in found if p.stamp == stamp]
            policies[name].offer(stamp, ([p.roi for p in same],
                                         np.array([p.keypoints for p in same])))


def outcome(g: int, seen: int, detected: int, skeleton: dict | None) -> str:
    """
    Tell what became of ground-truth person ``g`` at one instant (one of :data:`OUTCOMES`).

    :param seen: cameras in which ``g`` is positive (rig ground truth: < 40% of joints hidden).
    :param detected: cameras whose report holds a detection labelled ``g``.
    :param skeleton: the published skeleton matched to ``g`` (``labels``, ``pcp``), or None.
    """
    if skeleton is not None:
        if len(set(skeleton['labels'])) > 1 or -1 in skeleton['labels']:
            return 'mixed'
        return 'correct' if skeleton['pcp'] >= 1.0 else 'some_parts_wrong'
    if seen < 2 and detected < 2:
        return 'not_seen'
    return {0: 'not_detected', 1: 'detected_in_one_view'}.get(detected, 'not_published')


def run_rig(args, seed: int, mode: str, edge_crops: bool, camera_model, edge_model,
            resolve_m: float, saved: list | None = None) -> tuple[dict, list, list]:
    """
    Replay one rig in one scheme; return its summary, per-instant rows and camera reports.

    ``saved``: camera reports of an earlier run of the rig, used in their order instead of the
    cameras (open loop: the fusion's crops no longer change what the cameras report).
    """
    rig = VirtualRig(num_cameras=args.cameras, seed=seed, num_people=args.people,
                     scenario='crossing')
    names = [f'cam{i}' for i in range(args.cameras)]
    calibration = dict(zip(names, rig.cameras))
    clock = [0.0]
    fusion = EdgeFusion(names, FusionSettings(association=True, people=AssociationSettings(
        resolve_m=resolve_m, **association_overrides(args.association))), calibration.get,
        clock=lambda: clock[0])
    policies = {name: RoiPolicy() for name in names}
    thresholds = mode_thresholds(mode)
    counts: collections.Counter = collections.Counter()
    score = MultiPersonScore(max_match_m=0.5)
    rows, truth_at, labels_at, visible_at, reports = [], {}, {}, {}, []
    replayed = iter(saved or ())
    for k in range(int(round(args.duration * args.fps))):
        stamp = args.start + k / args.fps
        frame = rig.frame(stamp)
        clock[0] = stamp
        labels = []
        for v, name in enumerate(names):
            report = next(replayed) if saved else camera_report(
                camera_model, edge_model, frame.image(v), policies[name], stamp, thresholds,
                args.score, counts, edge_crops, args.routing == 'per_person')
            reports.append(report)
            people, _ = report.all_people()
            labels.append([label_detection(p, rig.cameras[v], frame.joints_world)
                           for p in people] if report.pixels is not None else [])
            fusion.add(name, stamp, report)
        truth_at[stamp], labels_at[stamp] = frame.joints_world, labels
        visible_at[stamp] = frame.visible_fraction
        clock[0] = stamp + fusion.settings.acquire_timeout_s + 0.01
        released = fusion.poll(stamp)
        offer_priors(policies, released.priors)
        score.add_truth(stamp, frame.joints_world)
        for anchor, people in released.people:
            rows.append(instant_row(anchor, people, truth_at[anchor], labels_at[anchor],
                                    names, visible_at[anchor]))
            score.add_estimates(anchor, [p.track_id for p in people],
                                np.array([joints(p) for p in people]).reshape(-1, 17, 3),
                                [mixed_labels(np.array(p['indices']), labels_at[anchor])
                                 for p in rows[-1]['skeletons']])
    summary = score.summary()
    summary['outcomes'] = dict(collections.Counter(
        o for r in rows for o in r['outcomes']))
    summary['parts'] = part_failures(rows)
    summary['joints'] = joint_errors(rows)
    if args.joints:
        summary['invalid_joints'] = invalid_joints(rows, reports, rig.cameras, args)
    summary['camera_choices'] = dict(counts)
    summary['fusion_totals'] = dict(fusion.totals)
    return summary, rows, reports


def save_reports(path: pathlib.Path, reports: list) -> None:
    """Write a run's camera reports to an ``.npz`` (arrays only, no pickle)."""
    arrays = {}
    for i, r in enumerate(reports):
        people, weights = r.all_people()
        arrays.update({f'{i}_people': people, f'{i}_weights': weights,
                       f'{i}_selected': np.array([] if r.pixels is None else r.pixels),
                       f'{i}_selected_weights': np.array([] if r.weights is None else r.weights),
                       f'{i}_source': np.array(r.source), f'{i}_provisional': r.provisional})
    np.savez_compressed(path, count=len(reports), **arrays)


def load_reports(path: pathlib.Path) -> list:
    """Read the camera reports :func:`save_reports` wrote."""
    with np.load(path, allow_pickle=False) as data:
        out = []
        for i in range(int(data['count'])):
            pixels, weights = data[f'{i}_selected'], data[f'{i}_selected_weights']
            kept = pixels.size > 0
            out.append(Report(pixels if kept else None, weights if kept else None,
                              str(data[f'{i}_source']),
                              provisional=bool(data[f'{i}_provisional']),
                              people=data[f'{i}_people'] if kept else None,
                              people_weights=data[f'{i}_weights'] if kept else None))
        return out


def association_overrides(pairs: list) -> dict:
    """Parse ``FIELD=VALUE`` pairs into :class:`AssociationSettings` fields of their type."""
    out = {}
    for pair in pairs:
        key, _, value = pair.partition('=')
        default = getattr(AssociationSettings, key, None)
        if key == 'resolve_m' or not isinstance(default, (bool, int, float)):
            raise SystemExit(f'--association: no setting {key!r} (resolve_m: --resolve-m)')
        out[key] = value.lower() in ('1', 'true') if isinstance(default, bool) \
            else type(default)(value)
    return out


def joints(person) -> np.ndarray:
    """Return the published joints ``(17, 3)`` of a fused person, NaN where not valid."""
    return np.where(person.valid[:, None], person.points, np.nan)


def instant_row(stamp, people, truth, labels, names, visible_fraction) -> dict:
    """One released instant: its skeletons and each ground-truth person's outcome."""
    skeletons = []
    for p in people:
        indices = [-1] * len(names)
        for cam, n in zip(p.camera_ids, p.person_indices):
            indices[names.index(cam)] = n
        skeletons.append({'id': p.track_id, 'indices': indices,
                          'labels': [labels[v][n] for v, n in enumerate(indices) if n >= 0],
                          'flags': p.triangulation.flags.tolist(),
                          'views': p.triangulation.num_views.tolist(),
                          'noise_px': float(p.triangulation.noise_px)})
    estimates = np.array([joints(p) for p in people]).reshape(-1, 17, 3)
    matched = {g: (e, err) for g, e, err in match_people(truth, estimates)}
    outcomes, detail = [], []
    for g in range(len(truth)):
        seen = int(np.sum(visible_fraction[:, g] > 0.6))
        detected = sum(g in view for view in labels)
        skeleton = None
        if g in matched:
            e, err = matched[g]
            skeleton = dict(skeletons[e], pcp=pcp(estimates[e], truth[g]), mpjpe_mm=1e3 * err,
                            errors_mm=(1e3 * np.linalg.norm(estimates[e] - truth[g], axis=-1)
                                       ).tolist())
        outcomes.append(outcome(g, seen, detected, skeleton))
        detail.append({'seen': seen, 'detected': detected, 'skeleton': skeleton})
    return {'stamp': stamp, 'skeletons': skeletons, 'outcomes': outcomes, 'people': detail,
            'truth': truth.tolist()}


def part_failures(rows: list) -> dict:
    """
    Count why matched people's PCP parts fail, in all and per part (``by_part``).

    A missing endpoint (with the :class:`~mec_coop.geometry.triangulation.JointFlag` names of
    the missing joints) or an endpoint error too large for the part's length.
    """
    counts: collections.Counter = collections.Counter()
    flags: collections.Counter = collections.Counter()
    by_part: dict = {f'{COCO_JOINTS[a]}-{COCO_JOINTS[b]}': collections.Counter()
                     for a, b in PCP_PARTS}
    for row in rows:
        for person, truth in zip(row['people'], row['truth']):
            skeleton = person['skeleton']
            if skeleton is None:
                continue
            errors = np.array(skeleton['errors_mm'], dtype=float)
            for a, b in PCP_PARTS:
                part = by_part[f'{COCO_JOINTS[a]}-{COCO_JOINTS[b]}']
                counts['parts'] += 1
                missing = [j for j in (a, b) if not np.isfinite(errors[j])]
                if missing:
                    counts['missing_endpoint'] += 1
                    part['missing_endpoint'] += 1
                    flags.update(f.name for j in missing for f in JointFlag
                                 if skeleton['flags'][j] & f)
                    continue
                length = 1e3 * np.linalg.norm(np.subtract(truth[a], truth[b]))
                verdict = 'too_far' if errors[a] + errors[b] > length else 'correct'
                counts[verdict] += 1
                part[verdict] += 1
    return {**counts, 'missing_joint_flags': dict(flags.most_common()),
            'by_part': {name: dict(c) for name, c in by_part.items()}}


def joint_errors(rows: list) -> dict:
    """Count matched people's published joints, and those over 0.15 m from the truth."""
    errors = np.array([p['skeleton']['errors_mm'] for row in rows for p in row['people']
                       if p['skeleton'] is not None], dtype=float).reshape(-1)
    published = errors[np.isfinite(errors)]
    return {'published': int(published.size), 'over_150mm': int(np.sum(published > 150.0))}


def invalid_joints(rows: list, reports: list, cameras: list, args) -> dict:
    """
    Why PCP endpoints of matched people are invalid, view by view against the ground truth.

    For each such joint: its views (the skeleton's detections with the joint at confidence
    >= 0.3), each *right* when within 0.08 of the person's projected size of the true joint,
    else wrong, and then *on another person* when as near another person's joint. With three
    or more views, a per-joint view choice is tried: each pair of views triangulated (DLT),
    the pair whose rays meet best (largest reprojection error of the two) taken when it is at
    most half the next pair's, and its point compared with the truth (within 0.15 m or not).
    Joints with two or more views, all right (``all_right``): the worst view's pixel offset
    from the truth against the instant's noise estimate, by the person's size in pixels.
    """
    out: collections.Counter = collections.Counter()
    all_right = []
    V = len(cameras)
    for row in rows:
        k = int(round((row['stamp'] - args.start) * args.fps))
        people = [reports[k * V + v].all_people() for v in range(V)]
        truth = np.array(row['truth'])
        projected = np.array([c.project(truth) for c in cameras])             # (V, G, J, 2)
        for g, person in enumerate(row['people']):
            skeleton = person['skeleton']
            if skeleton is None:
                continue
            for j in sorted({j for part in PCP_PARTS for j in part}):
                if np.isfinite(skeleton['errors_mm'][j]):
                    continue
                out['joints'] += 1
                views = [(v, people[v][0][n, j]) for v, n in enumerate(skeleton['indices'])
                         if n >= 0 and people[v][1][n, j] >= 0.3
                         and np.isfinite(people[v][0][n, j]).all()]
                right, worst, sizes = 0, 0.0, []
                for v, px in views:
                    size = np.nanmax(np.ptp(projected[v, g], 0))
                    d = np.linalg.norm(projected[v, :, j] - px, axis=-1) / size
                    worst, sizes = max(worst, d[g] * size), sizes + [size]
                    others = np.linalg.norm(np.delete(projected[v], g, 0) - px, axis=-1) / size
                    right += d[g] <= 0.08
                    out['wrong_views_on_another_person'] += bool(
                        d[g] > 0.08 and np.nanmin(others, initial=np.inf) <= 0.08)
                out['wrong_views'] += len(views) - right
                out[f'views_{len(views)}_right_{right}'] += 1
                out['two_right_and_a_wrong'] += right >= 2 and right < len(views)
                if right >= 2 and right == len(views):
                    all_right.append((np.median(sizes), worst, skeleton.get('noise_px', np.nan)))
                if len(views) >= 3:
                    out['three_or_more_views'] += 1
                    verdict = best_pair(views, cameras, truth[g, j])
                    out[f'best_pair_{verdict}'] += 1
    return {**{key: int(n) for key, n in sorted(out.items())},
            'all_right': offsets_by_size(np.array(all_right).reshape(-1, 3))}


def offsets_by_size(rows: np.ndarray) -> dict:
    """10th / 50th / 90th percentiles of ``(size px, worst offset px, noise px)`` rows by size."""
    out = {}
    for lo, hi in ((0, 100), (100, 150), (150, 10000)):
        part = rows[(rows[:, 0] >= lo) & (rows[:, 0] < hi)]
        if len(part):
            q = np.nanpercentile(part, [10, 50, 90], axis=0).round(1)
            ratio = np.percentile(part[:, 1] / part[:, 0], [10, 50, 90]).round(3)
            out[f'size_{lo}_{hi}px'] = {'joints': len(part), 'worst_offset_px': q[:, 1].tolist(),
                                        'noise_px': q[:, 2].tolist(),
                                        'offset_of_size': ratio.tolist()}
    return out


def best_pair(views: list, cameras: list, truth: np.ndarray) -> str:
    """Per-joint view choice of :func:`invalid_joints`: 'near', 'far' or 'undecided'."""
    fits = []
    for (a, xa), (b, xb) in itertools.combinations(views, 2):
        tri = triangulate([cameras[a], cameras[b]], np.array([[xa], [xb]]), np.ones((2, 1)),
                          method='dlt')
        point = tri.points[0]
        error = max(np.linalg.norm(cameras[v].project(point) - x) for v, x in ((a, xa), (b, xb)))
        fits.append((error, np.linalg.norm(point - truth)))
    fits.sort()
    if fits[0][0] > 0.5 * fits[1][0]:
        return 'undecided'
    return 'near' if fits[0][1] <= 0.15 else 'far'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--people', type=int, default=3)
    parser.add_argument('--cameras', type=int, default=4)
    parser.add_argument('--modes', nargs='+', default=['cooperative', 'server_centric'])
    add_replay_arguments(parser, start=2.0, duration=30.0, per='run')
    parser.add_argument('--edge-inputs', nargs='+', default=['crops'], choices=['crops', 'full'],
                        help="the edge's model on crops around the camera's people "
                        '(edge.offload_crops) and/or on the whole offloaded frame (the paper)')
    parser.add_argument('--resolve-m', type=float, nargs='+',
                        default=[AssociationSettings.resolve_m],
                        help='association_resolve_m: joints whose views disagree decided by '
                        "the track's prediction within this distance (0: never); one run each")
    parser.add_argument('--association', nargs='*', default=[], metavar='FIELD=VALUE',
                        help='other AssociationSettings fields (association_<field> on the '
                        'edge), e.g. min_inlier_fraction=0.7')
    parser.add_argument('--reports', help='folder of saved camera reports: a run whose reports '
                        'are there replays them without the models (open loop, quick tests of '
                        'fusion settings), else it saves its own there')
    parser.add_argument('--routing', default='per_person', choices=['per_person', 'least'],
                        help='several tracked people in a frame: route on the least confident '
                        'of those scoring >= theta_low (the camera node), or of all (before)')
    parser.add_argument('--joints', action='store_true',
                        help="count why matched people's PCP endpoints are invalid, view by "
                        'view, and try a per-joint view choice (invalid_joints in the JSON)')
    parser.add_argument('--out', default=str(FIGURES / 'closed_loop_people.json'))
    args = parser.parse_args()
    camera_model, edge_model = models(args)
    results = []
    details = ROOT / 'results' / 'closed_loop_people'
    details.mkdir(parents=True, exist_ok=True)
    runs = [(seed, mode, edge) for seed in args.seeds for mode in args.modes
            for edge in args.edge_inputs if mode != 'cooperative' or edge == args.edge_inputs[0]]
    for (seed, mode, edge), resolve_m in itertools.product(runs, args.resolve_m):
        start = time.perf_counter()
        name = f'seed{seed}_{mode}_{edge}_{args.routing}'
        saved = pathlib.Path(args.reports) / f'{name}.npz' if args.reports else None
        replay = saved is not None and saved.exists()
        summary, rows, reports = run_rig(args, seed, mode, edge == 'crops', camera_model,
                                         edge_model, resolve_m,
                                         load_reports(saved) if replay else None)
        if saved is not None and not replay:
            saved.parent.mkdir(parents=True, exist_ok=True)
            save_reports(saved, reports)
        summary.update(seed=seed, mode=mode, edge_input=edge, resolve_m=resolve_m,
                       routing=args.routing, camera_reports='replayed' if replay else 'live',
                       association=association_overrides(args.association),
                       wall_s=round(time.perf_counter() - start, 1))
        results.append(summary)
        print(json.dumps(summary), flush=True)
        (details / f'{name}_resolve{resolve_m:g}.json').write_text(
            json.dumps(rows, default=float) + '\n')
    write_results(args, 'runs', results)


if __name__ == '__main__':
    main()
