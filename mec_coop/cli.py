# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Command line entry point: ``python -m mec_coop.cli <command>``.

``run CONFIG``: start the node graph of a config (``config/*.yaml``) as processes, the same graph
the launch files start, until Ctrl-C or ``--duration``.
``rig-export``: virtual-rig views as a YOLO-pose dataset.
``rig-views``: a PNG grid of every camera's view with the ground truth projected into it.
``rig-confidence``: camera- and edge-model confidences on labelled rig views (the allocator's
CDF samples, ``samples.npz``) with a plot of the four distributions.
``demo``: the main job. The virtual rig with 4 cameras through camera nodes, the uplink emulator
and the edge, for a bounded time; prints MPJPE, PCK, delay percentiles against the requirement,
offload ratio and routes, and writes ``summary.json``, ``skeleton_*.mcap`` and
``skeleton_reprojected.png`` to ``--out``.
"""

import argparse
import json
import os
import pathlib
import re
import sys
import time

from mec_coop.graph import build_graph, load_config
from mec_coop.runner import GraphProcesses

# The run time of `run`/`demo --duration` counts from the first skeleton, or from this long
# after the start when none comes (the summary then shows what is missing).
STARTUP_TIMEOUT_S = 120.0


def run_graph(config, duration_s=None, out_dir='results/run', stream=sys.stdout):
    """Run a graph; return the evaluator's summary when the graph has one."""
    out = pathlib.Path(out_dir)
    config.setdefault('evaluator', {})['output_dir'] = str(out)
    specs = build_graph(config)
    summary_path = out / 'summary.json'
    if summary_path.exists():
        summary_path.unlink()
    with GraphProcesses(specs, out / 'logs') as graph:
        stream.write(f'[run] started {len(specs)} nodes: '
                     f'{", ".join(s.fully_qualified_name for s in specs)}; '
                     f'logs in {out / "logs"}\n')
        launched = start = time.monotonic()
        waiting = True
        try:
            while waiting or duration_s is None or time.monotonic() - start < duration_s:
                failed = graph.supervise(lambda line: stream.write(f'\n{line}\n'))
                if failed:
                    label = next(iter(failed))
                    raise RuntimeError(f'node {label} exited with {failed[label]} (restarts: '
                                       f'{graph.restarts[label]}):\n{graph.log_tail(label)}')
                progress = _progress(out)
                if waiting and (_skeletons_seen(progress)
                                or time.monotonic() - launched > STARTUP_TIMEOUT_S):
                    waiting = False
                    start = time.monotonic()
                    stream.write(f'\n[run] first skeleton {start - launched:.0f} s after start; '
                                 'the run time counts from here\n')
                if waiting:
                    stream.write(f'\r[run] {time.monotonic() - launched:5.0f} s  waiting for the '
                                 'first skeleton (models loading and warming up)')
                    stream.flush()
                    time.sleep(1.0)
                    continue
                elapsed = time.monotonic() - start
                total = f'/{duration_s:.0f}' if duration_s else ''
                stream.write(f'\r[run] {elapsed:5.0f}{total} s  {progress}')
                stream.flush()
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
        stream.write('\n[run] stopping nodes...\n')
    return json.loads(summary_path.read_text()) if summary_path.exists() else None


def _skeletons_seen(progress):
    """Whether the evaluator's status line counts a matched skeleton ("N/M instants", N > 0)."""
    match = re.match(r'(\d+)/\d+ instants', progress)
    return bool(match) and int(match.group(1)) > 0


def _progress(out):
    """Last status line of the evaluator log (it logs MPJPE and delay periodically)."""
    log = out / 'logs' / 'evaluator.log'
    if not log.exists():
        return ''
    lines = [ln for ln in log.read_text().splitlines() if 'instants' in ln]
    return lines[-1].split(']: ')[-1][:110] if lines else 'waiting for the first skeletons'


def write_run_picture(config, out, instants=3):
    """
    Write a PNG of a few matched instants of a virtual-rig run.

    Every camera's view shows the estimated skeleton (green) and the ground truth (red)
    projected into it. Returns the path, or None when the run matched no instant.
    """
    import cv2
    import numpy as np

    from mec_coop.rig import overlay
    from mec_coop.rig.virtual import VirtualRig

    path = pathlib.Path(out) / 'matched.npz'
    if not path.exists():
        return None
    data = np.load(path)
    valid = np.all(np.isfinite(data['estimate']), axis=-1).sum(axis=-1)
    order = [i for i in np.argsort(-valid, kind='stable') if np.isfinite(data['rig_time'][i])]
    chosen = sorted(order[:instants], key=lambda i: data['rig_time'][i])
    rig_spec = next(s for s in build_graph(config) if s.executable == 'rig_node')
    rig = VirtualRig.from_parameters(rig_spec.parameters)
    views = []
    for i in chosen:
        frame = rig.frame(float(data['rig_time'][i]))
        for v, cam in enumerate(rig.cameras):
            image = frame.image(v).copy()
            overlay.draw_skeleton(image, cam.project(data['truth'][i]), color=(40, 40, 230))
            overlay.draw_skeleton(image, cam.project(data['estimate'][i]), color=(40, 220, 40))
            error = np.nanmean(np.linalg.norm(data['estimate'][i] - data['truth'][i], axis=-1))
            overlay.label(image, f't={data["rig_time"][i]:.1f}s {cam.name} '
                          f'MPJPE {1000 * error:.0f} mm')
            views.append(image)
    if not views:
        return None
    picture = pathlib.Path(out) / 'skeleton_reprojected.png'
    cv2.imwrite(str(picture), overlay.tile(views, columns=len(rig.cameras)))
    return picture


def print_summary(summary, stream=sys.stdout):
    delay = summary.get('delay_s', {})
    req = summary['delay_requirement_s']
    stream.write(
        f"MPJPE            {summary['mpjpe_mm']:.1f} mm  "
        f"(PA-MPJPE {summary['pa_mpjpe_mm']:.1f} mm; all instants, a missed one holding the "
        f"last skeleton: {summary.get('mpjpe_all_instants_mm', float('nan')):.1f} mm)\n"
        f"PCK@150mm        {summary['pck_150mm']:.3f}  (joints estimated "
        f"{summary['joint_coverage']:.3f})\n"
        f"skeletons        {summary['matched']} of {summary['ground_truth_frames']} ground-truth "
        f"instants ({summary['skeleton_rate']:.2f}; {summary.get('warmup_instants', 0)} "
        'start-up instants before the first skeleton not counted)\n'
        f"delay p50/95/99  {delay.get('p50', float('nan')):.3f} / "
        f"{delay.get('p95', float('nan')):.3f} / {delay.get('p99', float('nan')):.3f} s  "
        f"(requirement {req} s, met by {summary.get('delay_within_requirement', 0.0):.0%})\n"
        f"routes           {summary['routes']}  offload ratio {summary['offload_ratio']:.3f}\n"
        f"jitter           {summary.get('jitter_m_s2', float('nan')):.2f} m/s^2 mean joint "
        'acceleration of the published skeleton\n')


def rig_tool(args):
    """Run ``rig-export`` or ``rig-confidence``."""
    from mec_coop.alloc.scores import save_samples
    from mec_coop.rig import datasets
    from mec_coop.rig.virtual import VirtualRig

    rig = VirtualRig(num_cameras=args.cameras, seed=args.seed)
    times = [k / args.fps for k in range(args.frames)]
    out = pathlib.Path(args.out)
    if args.command == 'rig-export':
        count = datasets.export_yolo_pose(rig, times, out)
        print(f'wrote {count} labelled views to {out} (data.yaml)')
        return 0
    if args.command == 'rig-views':
        import cv2

        from mec_coop.rig import overlay
        frame = rig.frame(times[-1])
        views = []
        for v, cam in enumerate(rig.cameras):
            image = frame.image(v).copy()
            for p in range(frame.keypoints_2d.shape[1]):
                kp, seen = frame.keypoints_2d[v, p], frame.visibility[v, p]
                overlay.draw_skeleton(image, kp, frame.in_image[v, p], color=(40, 40, 230))
                overlay.draw_skeleton(image, kp, seen, color=(40, 220, 40))
            overlay.label(image, f'{cam.name} t={frame.stamp:.1f}s '
                          f'{"positive" if frame.positive[v] else "negative"} {frame.actions}')
            views.append(image)
        out.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(out), overlay.tile(views, columns=4))
        print(f'wrote {out} (green: visible joints, red: occluded)')
        return 0
    from mec_coop.pose.ultralytics_backend import UltralyticsPose
    small = UltralyticsPose(imgsz=args.camera_imgsz, conf=args.detection_threshold)
    large = UltralyticsPose(imgsz=args.edge_imgsz, conf=args.detection_threshold)
    samples = datasets.confidence_samples(rig, times, small, large)
    out.mkdir(parents=True, exist_ok=True)
    save_samples(out / 'samples.npz', samples['device'], samples['server'],
                 samples['positive'], camera_index=samples['camera_index'], time=samples['time'])
    datasets.plot_confidence_pdfs(samples, out / 'confidence_pdfs.png', small.name, large.name)
    stats = datasets.sample_statistics(samples)
    (out / 'statistics.json').write_text(json.dumps(stats, indent=2))
    for key, value in stats.items():
        print(f'{key:>36}: {value}')
    print(f'wrote {out}/samples.npz, confidence_pdfs.png, statistics.json')
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog='mec_coop', description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    run = sub.add_parser('run', help='start the node graph of a config')
    run.add_argument('config', help='config path or name in config/ (e.g. virtual_rig)')
    run.add_argument('--duration', type=float, default=None, help='seconds (default: Ctrl-C)')
    demo = sub.add_parser('demo', help='the virtual-rig main job, printing MPJPE and delay')
    demo.add_argument('--duration', type=float, default=90.0, help='seconds of running time')
    demo.add_argument('--cameras', type=int, default=4)
    for p in (run, demo):
        p.add_argument('--set', action='append', default=[], metavar='SECTION.KEY=VALUE',
                       help='override a config value (repeatable)')
        p.add_argument('--out', default=None, help='output folder')
    for name, helptext in (('rig-export', 'write rig views as a YOLO-pose dataset'),
                           ('rig-views', 'PNG of all views with projected ground truth'),
                           ('rig-confidence', 'labelled confidence samples of both models')):
        rig = sub.add_parser(name, help=helptext)
        rig.add_argument('--frames', type=int, default=60, help='rig frames (all cameras each)')
        rig.add_argument('--cameras', type=int, default=4)
        rig.add_argument('--fps', type=float, default=2.0, help='rig time step = 1 / fps')
        rig.add_argument('--seed', type=int, default=0)
        rig.add_argument('--out', default=f'results/{name}')
        if name == 'rig-confidence':
            rig.add_argument('--camera-imgsz', type=int, default=320)
            rig.add_argument('--edge-imgsz', type=int, default=960)
            rig.add_argument('--detection-threshold', type=float, default=0.05,
                             help='minimum box score (the nodes default to 0.05 as well)')
    args = parser.parse_args(argv)
    os.environ.setdefault('YOLO_OFFLINE', '1')
    os.environ.setdefault('YOLO_AUTOINSTALL', 'false')
    if args.command in ('rig-export', 'rig-views', 'rig-confidence'):
        return rig_tool(args)
    if args.command == 'run':
        # A new folder per run unless one is given: runs do not overwrite each other.
        out = args.out or time.strftime('results/run_%Y-%m-%d_%H-%M-%S', time.gmtime())
        summary = run_graph(load_config(args.config, args.set), args.duration, out)
    else:
        out = args.out or 'results/demo'
        config = load_config('virtual_rig', [f'graph.cameras={args.cameras}'] + args.set)
        summary = run_graph(config, args.duration, out)
        if summary is None:
            sys.stderr.write(f'[demo] no summary was written; see the logs in {out}/logs\n')
            return 1
        picture = write_run_picture(config, out)
        if picture:
            print(f'[demo] wrote {picture} (green: estimate, red: ground truth)')
    if summary:
        print_summary(summary)
        print(f'[run] wrote {out}/summary.json and {out}/skeleton_*.mcap')
    return 0


if __name__ == '__main__':
    sys.exit(main())
