# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Several people: association + triangulation time per instant, and accuracy, on synthetic views.

Virtual-rig humanoids (1/2/4/8 people walking, jumping, falling at random in the 10 x 10 m room)
are projected into rings of 4/8/16 cameras (:func:`mec_coop.rig.detections.detect`), with two
detector models: ``clean`` (3 px noise) and ``corrupted`` (5 px noise, 10% of people missed per
camera, 0.3 false detections per camera and instant). People do not occlude each other here (no
rendering): the benchmark measures the association itself. Each instant goes through
:meth:`mec_coop.fusion.association.Associator.step` (timed: association, robust triangulation of
every person, track updates; CPU time of the thread, as the shared CPU makes elapsed time depend
on the other processes, which is reported beside it) and is scored by
:class:`mec_coop.eval.multi_person.MultiPersonScore`, with each published skeleton checked
against the ground-truth labels of the detections it was built from. ``best-per-view`` is the
behaviour before association (and the paper's, which tracks one person): each camera's most
confident detection, all triangulated together as one person.

``--model-replay``: the same on the real pose model's detections instead of synthetic ones: the
virtual rig's crossing scenario (3 people, 4 cameras, 2 fps) rendered, every full frame run
through yolo11n-pose at the camera's (320) and the edge's (960) input size, each detection
labelled with the ground-truth person nearest in the image (:mod:`mec_coop.eval.labels`).

Run:  . scripts/env.sh && python benchmarks/association.py [--model-replay 320 960]
(writes docs/figures/association.json and association.png)
"""

import argparse
import json
import pathlib
import platform
import time

import numpy as np

from mec_coop.eval.labels import label_detection
from mec_coop.eval.multi_person import mixed_labels, MultiPersonScore
from mec_coop.fusion.association import AssociationSettings, Associator, ViewDetections
from mec_coop.geometry.triangulation import triangulate_cameras
from mec_coop.rig.detections import detect, DetectorModel, SyntheticView
from mec_coop.rig.virtual import Humanoid, make_cameras, VirtualRig

ROOT = pathlib.Path(__file__).resolve().parents[1]
DETECTORS = {'clean': DetectorModel(noise_px=3.0),
             'corrupted': DetectorModel(noise_px=5.0, miss_rate=0.1, false_rate=0.3)}


def best_per_view(views, settings: AssociationSettings):
    """Fuse as the single-person edge does: each camera's most confident detection, together."""
    picks = [int(np.argmax(v.weights.mean(-1))) if len(v.labels) else -1 for v in views]
    used = [i for i, n in enumerate(picks) if n >= 0]
    if len(used) < settings.min_views:
        return []
    tri = triangulate_cameras([views[i].camera for i in used],
                              np.array([views[i].pixels[picks[i]] for i in used]),
                              np.array([views[i].weights[picks[i]] for i in used]),
                              outlier_threshold_px=settings.outlier_threshold_px,
                              max_std_m=settings.max_joint_std_m)
    if tri.valid.sum() < settings.min_valid_joints:
        return []
    return [(1, tri.points, np.array(picks))]


def synthetic(people: int, cameras: int, detector: str, seconds: float, rate: float,
              seed: int):
    """Yield per instant ``(t, truth, views)`` of random walkers seen by a synthetic detector."""
    rng = np.random.default_rng(seed)
    cams = make_cameras(cameras)
    walkers = [Humanoid((seed, p)) for p in range(people)]
    for k in range(int(seconds * rate)):
        t = k / rate
        truth = np.stack([w.pose(t).joints for w in walkers])
        yield t, truth, detect(cams, truth, DETECTORS[detector], rng)


def model_replay(imgsz: int, instants: int, seed: int) -> list:
    """Run the crossing scenario's full frames through the real model; label the detections."""
    from mec_coop.pose.ultralytics_backend import UltralyticsPose
    rig = VirtualRig(4, num_people=3, seed=seed, scenario='crossing')
    model = UltralyticsPose(imgsz=imgsz, conf=0.05)   # the cameras' detection threshold
    out = []
    for k in range(instants):
        frame = rig.frame(2.0 + 0.5 * k)
        views = []
        for v, cam in enumerate(rig.cameras):
            est = model.predict(frame.image(v))
            labels = [label_detection(kp, cam, frame.joints_world) for kp in est.keypoints]
            views.append(SyntheticView(cam, est.keypoints, est.confidences,
                                       np.array(labels, dtype=int)))
        out.append((frame.stamp, frame.joints_world, views))
    return out


def run(instants, method: str, people: int = 0, cameras: int = 0, detector: str = '') -> dict:
    settings = AssociationSettings()
    associator = Associator(settings)
    score = MultiPersonScore(max_match_m=0.5)
    times = []
    for t, truth, views in instants:
        start, start_cpu = time.perf_counter(), time.thread_time()
        if method == 'association':
            result = associator.step(t, [ViewDetections(v.camera, v.pixels, v.weights)
                                         for v in views])
            found = [(p.track_id, p.triangulation.points, p.person_indices)
                     for p in result.people]
        else:
            found = best_per_view(views, settings)
        times.append((time.perf_counter() - start, time.thread_time() - start_cpu))
        labels = [v.labels for v in views]
        score.add_truth(t, truth)
        score.add_estimates(t, [i for i, _, _ in found],
                            np.array([p for _, p, _ in found]).reshape(-1, 17, 3),
                            [mixed_labels(idx, labels) for _, _, idx in found])
    summary = score.summary()
    wall, cpu = 1e3 * np.array(times).T
    summary.pop('track_ids')
    return {'people': people, 'cameras': cameras, 'detector': detector, 'method': method,
            'median_ms': float(np.median(cpu)), 'p95_ms': float(np.percentile(cpu, 95)),
            'wall_median_ms': float(np.median(wall)),
            'wall_p95_ms': float(np.percentile(wall, 95)),
            **summary}


def plot(rows: list, path: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for cams in sorted({r['cameras'] for r in rows}):
        sel = [r for r in rows if r['cameras'] == cams and r['method'] == 'association'
               and r['detector'] == 'corrupted']
        axes[0].plot([r['people'] for r in sel], [r['median_ms'] for r in sel], 'o-',
                     label=f'{cams} cameras')
        axes[1].plot([r['people'] for r in sel], [100 * r['pcp'] for r in sel], 'o-',
                     label=f'{cams} cameras')
    axes[0].axhline(5.0, color='grey', ls='--', label='5 ms bound')
    axes[0].set(xlabel='people', ylabel='median ms per instant', xscale='log', xticks=[1, 2, 4, 8],
                xticklabels=['1', '2', '4', '8'], title='association + triangulation')
    axes[1].set(xlabel='people', ylabel='PCP %', xscale='log', xticks=[1, 2, 4, 8],
                xticklabels=['1', '2', '4', '8'], title='accuracy (corrupted detections)')
    for ax in axes:
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seconds', type=float, default=15.0)
    parser.add_argument('--rate', type=float, default=10.0, help='instants per second')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--people', type=int, nargs='+', default=[1, 2, 4, 8])
    parser.add_argument('--cameras', type=int, nargs='+', default=[4, 8, 16])
    parser.add_argument('--model-replay', type=int, nargs='*', default=[],
                        help='also replay the crossing scenario through the model at these sizes')
    parser.add_argument('--replay-instants', type=int, default=40)
    parser.add_argument('--out', type=pathlib.Path, default=ROOT / 'docs/figures')
    args = parser.parse_args()
    rows = []
    for people in args.people:
        for cams in args.cameras:
            for detector in DETECTORS:
                for method in ('association', 'best-per-view'):
                    row = run(synthetic(people, cams, detector, args.seconds, args.rate,
                                        args.seed), method, people, cams, detector)
                    rows.append(row)
                    print(f'{people} people {cams:2d} cams {detector:9s} {method:13s} '
                          f"median {row['median_ms']:5.2f} ms p95 {row['p95_ms']:5.2f} | "
                          f"MPJPE {row['mpjpe_mm']:6.1f} mm PCP {row['pcp']:.3f} "
                          f"missed {row['missed_people']:4d} false {row['false_people']:4d} "
                          f"switches/min {row['id_switches_per_person_minute']:.2f} "
                          f"mixed {row['fused_from_different_people']}", flush=True)
    for imgsz in args.model_replay:
        instants = model_replay(imgsz, args.replay_instants, args.seed)
        for method in ('association', 'best-per-view'):
            row = run(instants, method, 3, 4, f'yolo11n-pose@{imgsz}')
            rows.append(row)
            print(f"replay imgsz {imgsz} {method}: MPJPE {row['mpjpe_mm']:.1f} mm PCP "
                  f"{row['pcp']:.3f} missed {row['missed_people']} false {row['false_people']} "
                  f"switches {row['id_switches']} mixed {row['fused_from_different_people']}",
                  flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    out = {'command': 'python benchmarks/association.py', 'seconds': args.seconds,
           'rate_hz': args.rate, 'seed': args.seed, 'cpu': platform.processor() or
           platform.machine(),
           'note': 'median_ms/p95_ms: CPU time of the step (thread_time), wall_*: elapsed time; '
                   'a shared 2-core CPU under load (6 engineers), so wall times include waits',
           'detectors': {k: vars(v) for k, v in DETECTORS.items()}, 'rows': rows}
    (args.out / 'association.json').write_text(json.dumps(out, indent=2) + '\n')
    plot(rows, args.out / 'association.png')


if __name__ == '__main__':
    main()
