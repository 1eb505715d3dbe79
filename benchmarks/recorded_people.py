# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Several real people: Pose2Sim's ``Demo_MultiPerson`` through the association, offline or live.

The recorded rig's four calibrated portrait videos (100 frames at 60 fps, two subjects and a
bystander) are played at ``--rate`` Hz. Offline (default) every view goes through yolo11n-pose
(``--imgsz``) and each instant through :class:`~mec_coop.fusion.association.Associator`: the core,
no node graph. With ``--graph`` the node graph of ``config/recorded_rig.yaml`` runs instead
(recorded rig, camera nodes, uplink, edge as processes over DDS; ``recorded_rig.demo``,
``edge.association=true``, the clip looping at the config's 2 Hz) for ``--duration`` seconds
from the first ``skeletons`` message, and the edge's published ``Skeleton3DArray`` messages
are scored. There is no 3D ground truth: reported per track id are the instants it was
published, its first and last time, the median reprojection error of its joints (pixels in the
1088x1920 videos) and the median and spread of its bone lengths (a stable, plausible skeleton
has bones that do not change), plus the tracks that appeared at all. Identity switches are
estimated without ground truth (:func:`id_changes`): an id that starts where an earlier, ended
id stood (within ``PLACE_M``) continues that person under a new id.

Run:  . scripts/env.sh && python benchmarks/recorded_people.py
(writes docs/figures/recorded_people.json), and through the graph:
      python benchmarks/recorded_people.py --graph --duration 60
(writes docs/figures/recorded_people_graph.json)
"""

import argparse
import json
import os
import pathlib

import numpy as np

from mec_coop.fusion.association import Associator, ViewDetections
from mec_coop.geometry.skeleton import COCO_BONES, COCO_JOINTS
from mec_coop.rig.recorded.playback import RecordedRig

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Two people's hip centres are further apart than this; one person's over a clip, nearer.
PLACE_M = 0.5
_HIPS = [COCO_JOINTS.index('left_hip'), COCO_JOINTS.index('right_hip')]


class Tracks:
    """Per track id: stamps, reprojection errors, bone lengths and hip centres of its skeletons."""

    def __init__(self) -> None:
        self.by_id: dict[int, dict] = {}

    def add(self, track_id: int, stamp: float, points: np.ndarray, errors: np.ndarray) -> None:
        """One published skeleton: ``points (17, 3)`` NaN where invalid, its joints' errors."""
        track = self.by_id.setdefault(track_id, {'stamps': [], 'errors': [], 'bones': [],
                                                 'hips': []})
        track['stamps'].append(stamp)
        track['errors'].extend(errors.tolist())
        a, b = np.array(COCO_BONES).T
        track['bones'].append(np.linalg.norm(points[a] - points[b], axis=-1))
        track['hips'].append(points[_HIPS].mean(axis=0))

    def rows(self, start: float, instants: int) -> list[dict]:
        """Summary per id, printed as it goes."""
        rows = []
        for track_id, track in sorted(self.by_id.items()):
            bones = np.array(track['bones'])
            with np.errstate(invalid='ignore'):
                median, spread = np.nanmedian(bones, 0), np.nanstd(bones, 0)
                hip = np.nanmedian(np.array(track['hips']), 0)
            rows.append({
                'track_id': track_id, 'instants': len(track['stamps']),
                'first_s': track['stamps'][0] - start, 'last_s': track['stamps'][-1] - start,
                'reprojection_error_px_median': float(np.median(track['errors']))
                if track['errors'] else None,
                'hip_centre_m': [float(v) for v in hip],
                'bones': {f'{COCO_JOINTS[i]}-{COCO_JOINTS[j]}': {
                    'median_m': float(m), 'std_m': float(sd)}
                    for (i, j), m, sd in zip(COCO_BONES, median, spread)}})
            error = rows[-1]['reprojection_error_px_median']
            print(f"id {track_id}: {rows[-1]['instants']}/{instants} instants "
                  f"{rows[-1]['first_s']:.2f}-{rows[-1]['last_s']:.2f} s, reprojection "
                  f'{error if error is None else round(error, 1)} px, bone std median '
                  f'{1000 * np.nanmedian(spread):.0f} mm', flush=True)
        return rows


def id_changes(rows: list[dict]) -> list[tuple[int, int]]:
    """
    ``(earlier id, later id)`` pairs where a person seems to have changed id (no ground truth).

    Ids are taken in order of birth; one that starts after an earlier id's last skeleton, with
    its median hip centre within :data:`PLACE_M` of that id's (horizontally), is that person
    again. Ids alive at the same time are different people, whatever their distance.
    """
    changes, places = [], []     # places: the ids of one person, in order
    for row in sorted(rows, key=lambda r: r['first_s']):
        here = np.array(row['hip_centre_m'][:2])
        for ids in places:
            last = ids[-1]
            if (row['first_s'] > last['last_s']
                    and np.linalg.norm(here - np.array(last['hip_centre_m'][:2])) < PLACE_M):
                changes.append((last['track_id'], row['track_id']))
                ids.append(row)
                break
        else:
            places.append([row])
    return changes


def core(args: argparse.Namespace) -> dict:
    """Run the association offline on the clip's frames."""
    from mec_coop.pose.ultralytics_backend import UltralyticsPose
    rig = RecordedRig(args.demo, rate_hz=args.rate)
    model = UltralyticsPose(imgsz=args.imgsz, conf=0.05)
    associator = Associator()
    tracks = Tracks()
    instants = 0
    for frame in rig.frames():
        estimates = [model.predict(image) for image in frame.images]
        result = associator.step(frame.stamp_s, [
            ViewDetections(cam, est.keypoints, est.confidences)
            for cam, est in zip(rig.cameras, estimates)])
        instants += 1
        for person in result.people:
            tri = person.triangulation
            points = np.where(tri.valid[:, None], tri.points, np.nan)
            tracks.add(person.track_id, frame.stamp_s, points,
                       tri.reprojection_error[tri.valid])
        print(f'{frame.index}: ids {[p.track_id for p in result.people]}', flush=True)
    return {'command': 'python benchmarks/recorded_people.py', 'demo': args.demo,
            'rate_hz': args.rate, 'imgsz': args.imgsz, 'instants': instants,
            'tracks': tracks.rows(rig.stamp(0), instants)}


def graph(args: argparse.Namespace) -> dict:
    """Run the graph of ``config/recorded_rig.yaml`` with the association (see the docstring)."""
    from recorded_feedback import record

    from mec_coop.graph import load_config
    from mec_coop.msg import Skeleton3DArray
    from mec_coop.ros.conversions import from_stamp, skeleton_joints
    overrides = [f'recorded_rig.demo={args.demo}', 'edge.association=true', *args.set]
    arrays = record(load_config('recorded_rig', overrides), Skeleton3DArray, '/skeletons',
                    args.duration, ROOT / 'results' / 'recorded_people_graph',
                    120 + os.getpid() % 60)
    tracks = Tracks()
    joints = []
    for array in arrays:
        for skeleton in array.skeletons:
            tracks.add(skeleton.track_id, from_stamp(array.header.stamp),
                       skeleton_joints(skeleton), np.array(
                           [j.reprojection_error_px for j in skeleton.joints
                            if j.valid and not j.predicted and j.reprojection_error_px >= 0]))
            joints.extend(j.valid for j in skeleton.joints)
    skeletons = sum(len(a.skeletons) for a in arrays)
    rows = tracks.rows(from_stamp(arrays[0].header.stamp), len(arrays)) if arrays else []
    changes = id_changes(rows)
    print(f'{len(arrays)} instants, {skeletons} skeletons in {args.duration:.0f} s, ids '
          f'{[r["track_id"] for r in rows]}, id changes {changes}', flush=True)
    return {'command': f'python benchmarks/recorded_people.py --graph --duration '
                       f'{args.duration:g}' + ''.join(f' --set {o}' for o in args.set),
            'overrides': overrides, 'duration_s': args.duration, 'instants': len(arrays),
            'instants_without_people': sum(not a.skeletons for a in arrays),
            'skeletons': skeletons, 'skeletons_per_s': skeletons / args.duration,
            'valid_joint_share': float(np.mean(joints)) if joints else 0.0,
            'track_ids': [r['track_id'] for r in rows], 'id_changes': changes,
            'note': 'shared 2-core CPU under load', 'tracks': rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--demo', default='Demo_MultiPerson')
    parser.add_argument('--rate', type=float, default=30.0, help='offline playback rate (Hz)')
    parser.add_argument('--imgsz', type=int, default=640, help='offline model input size')
    parser.add_argument('--graph', action='store_true', help='run the node graph instead')
    parser.add_argument('--duration', type=float, default=60.0,
                        help='graph: seconds counted from the first skeletons message')
    parser.add_argument('--set', action='append', default=[], metavar='SECTION.KEY=VALUE',
                        help='graph: override a config value (repeatable)')
    parser.add_argument('--out', type=pathlib.Path, default=None)
    args = parser.parse_args()
    result = graph(args) if args.graph else core(args)
    out = args.out or ROOT / 'docs/figures' / ('recorded_people_graph.json' if args.graph
                                               else 'recorded_people.json')
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + '\n')
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
