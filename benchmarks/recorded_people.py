# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Several real people: Pose2Sim's ``Demo_MultiPerson`` through the association, offline.

The recorded rig's four calibrated portrait videos (100 frames at 60 fps, two people) are
played at ``--rate`` Hz, every view goes through yolo11n-pose (``--imgsz``), and each instant
through :class:`~mec_coop.fusion.association.Associator`. There is no 3D ground truth: reported
per track id are the instants it was published, its first and last time, the median
reprojection error of its joints (pixels in the 1088x1920 videos) and the median and spread of
its bone lengths (a stable, plausible skeleton has bones that do not change), plus the tracks
that appeared at all. This runs the core offline, not the node graph.

Run:  . scripts/env.sh && python benchmarks/recorded_people.py
(writes docs/figures/recorded_people.json)
"""

import argparse
import json
import pathlib

import numpy as np

from mec_coop.fusion.association import Associator, ViewDetections
from mec_coop.geometry.skeleton import COCO_BONES, COCO_JOINTS
from mec_coop.pose.ultralytics_backend import UltralyticsPose
from mec_coop.rig.recorded.playback import RecordedRig

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--demo', default='Demo_MultiPerson')
    parser.add_argument('--rate', type=float, default=30.0)
    parser.add_argument('--imgsz', type=int, default=640)
    parser.add_argument('--out', type=pathlib.Path,
                        default=ROOT / 'docs/figures/recorded_people.json')
    args = parser.parse_args()
    rig = RecordedRig(args.demo, rate_hz=args.rate)
    model = UltralyticsPose(imgsz=args.imgsz, conf=0.05)
    associator = Associator()
    tracks: dict[int, dict] = {}
    instants = 0
    for frame in rig.frames():
        estimates = [model.predict(image) for image in frame.images]
        result = associator.step(frame.stamp_s, [
            ViewDetections(cam, est.keypoints, est.confidences)
            for cam, est in zip(rig.cameras, estimates)])
        instants += 1
        for person in result.people:
            tri = person.triangulation
            track = tracks.setdefault(person.track_id, {'stamps': [], 'errors': [], 'bones': []})
            track['stamps'].append(frame.stamp_s)
            track['errors'].extend(tri.reprojection_error[tri.valid].tolist())
            a, b = np.array(COCO_BONES).T
            track['bones'].append(np.linalg.norm(tri.points[a] - tri.points[b], axis=-1))
        print(f'{frame.index}: ids {[p.track_id for p in result.people]}', flush=True)
    start = rig.stamp(0)
    rows = []
    for track_id, track in sorted(tracks.items()):
        bones = np.array(track['bones'])
        with np.errstate(invalid='ignore'):
            median, spread = np.nanmedian(bones, 0), np.nanstd(bones, 0)
        rows.append({
            'track_id': track_id, 'instants': len(track['stamps']),
            'first_s': track['stamps'][0] - start, 'last_s': track['stamps'][-1] - start,
            'reprojection_error_px_median': float(np.median(track['errors'])),
            'bones': {f'{COCO_JOINTS[i]}-{COCO_JOINTS[j]}': {
                'median_m': float(m), 'std_m': float(s)}
                for (i, j), m, s in zip(COCO_BONES, median, spread)}})
        print(f"id {track_id}: {rows[-1]['instants']}/{instants} instants "
              f"{rows[-1]['first_s']:.2f}-{rows[-1]['last_s']:.2f} s, reprojection "
              f"{rows[-1]['reprojection_error_px_median']:.1f} px, bone std median "
              f'{1000 * np.nanmedian(spread):.0f} mm')
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        'command': 'python benchmarks/recorded_people.py', 'demo': args.demo,
        'rate_hz': args.rate, 'imgsz': args.imgsz, 'instants': instants, 'tracks': rows},
        indent=2) + '\n')


if __name__ == '__main__':
    main()
