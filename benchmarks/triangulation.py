# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Triangulation accuracy, robustness and speed on random camera rings.

Scenes: random rings of 4, 8 or 16 cameras (4-5 m out, 2.2-3 m high, focal 640-900 px,
1280x720, aimed near the room centre), a new ring every 50 poses; COCO-17 poses of the virtual
rig's humanoids (walking, jumping, crouching, falling), each moved to a random place within 1.5 m
of the centre and turned at random. Keypoints outside an image are missing. Scenarios, on top of
Gaussian pixel noise: ``clean``; ``shifted`` (one view per frame 50 px off in every joint);
``random`` (20% of all 2D joints replaced by random pixels); ``missing`` (one view per frame
lost). Methods: ``robust`` (default), ``robust+human`` (with the COCO checks), ``greedy``
(leave-one-view-out, the former default), ``dlt`` (paper eqs. (1)-(2), no rejection), and
aniposelib / Pose2Sim when importable. Also times batched triangulation against the textbook
per-joint SVD loop. The methods take turns on every ring, so that their times compare under the
same load of a shared machine.

Writes ``docs/figures/triangulation.json`` and the tables of ``docs/triangulation.md``.

Run:  . scripts/env.sh && python benchmarks/triangulation.py [--frames 500]
"""

import argparse
import json
import pathlib
import platform
import time

import numpy as np

from mec_coop.geometry.camera import PinholeCamera
from mec_coop.geometry.triangulation import triangulate
from mec_coop.rig.virtual import Humanoid

ROOT = pathlib.Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 1280, 720
WRONG_M = 0.2
POSES_PER_RING = 50
SCENARIOS = ('clean', 'shifted', 'random', 'missing')
BEGIN, END = '<!-- benchmark:begin -->', '<!-- benchmark:end -->'


def random_ring(rng, num_views):
    """``num_views`` cameras around the centre, evenly spread with jitter."""
    spacing = 2 * np.pi / num_views
    angles = rng.uniform(0, 2 * np.pi) + spacing * (np.arange(num_views)
                                                    + rng.uniform(-0.3, 0.3, num_views))
    cams = []
    for i, a in enumerate(angles):
        radius, focal = rng.uniform(4.0, 5.0), rng.uniform(640.0, 900.0)
        position = (radius * np.cos(a), radius * np.sin(a), rng.uniform(2.2, 3.0))
        target = (*rng.uniform(-0.3, 0.3, 2), rng.uniform(0.8, 1.2))
        hfov = np.degrees(2 * np.arctan(0.5 * WIDTH / focal))
        cams.append(PinholeCamera.look_at(f'cam{i}', position, target, WIDTH, HEIGHT, hfov))
    return cams


def random_poses(rng, count):
    """``(count, 17, 3)`` humanoid poses, each placed within 1.5 m of the centre."""
    people = [Humanoid(seed=int(s)) for s in rng.integers(0, 1 << 30, 8)]
    out = np.empty((count, 17, 3))
    for k in range(count):
        joints = people[k % len(people)].pose(rng.uniform(0.0, 60.0)).joints
        yaw = rng.uniform(-np.pi, np.pi)
        rot = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
        centre = np.append(joints[[11, 12]].mean(0)[:2], 0.0)
        r, phi = 1.5 * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
        out[k] = (joints - centre) @ rot.T + (r * np.cos(phi), r * np.sin(phi), 0.0)
    return out


def corrupt(rng, x, scenario):
    """Apply ``scenario`` to pixels ``(F, V, J, 2)`` in place."""
    F, V, J, _ = x.shape
    view = rng.integers(0, V, F)
    if scenario == 'shifted':
        d = rng.normal(size=(F, J, 2))
        x[np.arange(F), view] += 50.0 * d / np.linalg.norm(d, axis=-1, keepdims=True)
    elif scenario == 'random':
        hit = rng.random((F, V, J)) < 0.2
        x[hit] = rng.uniform((0, 0), (WIDTH - 1, HEIGHT - 1), (hit.sum(), 2))
    elif scenario == 'missing':
        x[np.arange(F), view] = np.nan


def scene(num_views, frames, sigma, scenario, seed=0):
    """``[(cameras, gt (F, 17, 3), pixels (F, V, 17, 2)), ...]``, one entry per ring."""
    rng = np.random.default_rng([seed, num_views, int(sigma * 10), SCENARIOS.index(scenario)])
    out = []
    for start in range(0, frames, POSES_PER_RING):
        cams = random_ring(rng, num_views)
        gt = random_poses(rng, min(POSES_PER_RING, frames - start))
        x = np.stack([c.project(gt) for c in cams], axis=1)
        x = np.where(np.stack([c.in_image(x[:, v]) for v, c in enumerate(cams)], 1)[..., None],
                     x, np.nan)
        x += rng.normal(0.0, sigma, x.shape)
        corrupt(rng, x, scenario)
        out.append((cams, gt, x))
    return out


def ours(method, **kwargs):
    def run(cams, x):
        res = triangulate(cams, x, method=method, **kwargs)
        return res.points, res.valid
    return run


def aniposelib_method():
    """Return aniposelib 0.8's ``CameraGroup.triangulate``, or why it cannot be imported."""
    try:
        import cv2
        from aniposelib.cameras import Camera, CameraGroup
    except Exception as exc:  # noqa: B902 - any import failure only means: not compared
        return f'{type(exc).__name__}: {exc}'

    def run(cams, x):
        group = CameraGroup([Camera(name=c.name, size=(c.width, c.height), matrix=c.K,
                                    dist=np.zeros(5), rvec=cv2.Rodrigues(c.R)[0].ravel(),
                                    tvec=c.t) for c in cams])
        F, V, J, _ = x.shape
        pts = np.moveaxis(x, 1, 0).reshape(V, F * J, 2)
        # aniposelib solves in normalised coordinates: undistort=True is what applies K^-1
        # (the distortion is zero here, the pixels being ideal).
        X = group.triangulate(pts, undistort=True, progress=False).reshape(F, J, 3)
        return X, np.all(np.isfinite(X), -1)
    return run


def pose2sim_method():
    """Return Pose2Sim's subset search at its 15 px default, or why it cannot be imported."""
    try:
        from Pose2Sim.triangulation import triangulation_from_best_cameras
    except Exception as exc:  # noqa: B902 - any import failure only means: not compared
        return f'{type(exc).__name__}: {exc}'
    config = {'triangulation': {'reproj_error_threshold_triangulation': 15.0,
                                'min_cameras_for_triangulation': 2, 'handle_LR_swap': False,
                                'undistort_points': False}}

    def run(cams, x):
        P = [c.P for c in cams]
        F, V, J, _ = x.shape
        X = np.full((F, J, 3), np.nan)
        valid = np.zeros((F, J), dtype=bool)
        for f in range(F):
            for j in range(J):
                u, v = x[f, :, j, 0], x[f, :, j, 1]
                conf = np.where(np.isfinite(u), 1.0, 0.0)
                coords = (u, v, conf)
                Q, err = triangulation_from_best_cameras(config, coords, coords, P, None)[:2]
                valid[f, j] = err <= 15.0 and np.all(np.isfinite(Q))
                X[f, j] = Q[:3] if valid[f, j] else np.nan
        return X, valid
    return run


def methods():
    """Name -> triangulation function, and name -> reason for the libraries not importable."""
    found = {'robust': ours('robust'), 'robust+human': ours('robust', human_checks=True),
             'greedy': ours('greedy'), 'dlt': ours('dlt')}
    skipped = {}
    for name, make in (('aniposelib', aniposelib_method), ('pose2sim', pose2sim_method)):
        fn = make()
        if isinstance(fn, str):
            skipped[name] = fn
        else:
            found[name] = fn
    return found, skipped


def evaluate(found, rings, single_frames, repeats=1):
    """
    Accuracy of each method on ``rings`` and its time per frame, batched and one frame a call.

    ``found``: name -> triangulation function. The methods take turns on each ring (and each
    single frame), so that all see the same load of a shared machine; the batched passes are
    repeated ``repeats`` times and the median kept, the one-frame time is the median over calls.
    """
    frames = sum(len(gt) for _, gt, _ in rings)
    errors = {name: [] for name in found}
    valid = {name: [] for name in found}
    passes = {name: [] for name in found}
    for repeat in range(repeats):
        total = dict.fromkeys(found, 0.0)
        for cams, gt, x in rings:
            for name, fn in found.items():
                start = time.perf_counter()
                X, ok = fn(cams, x)
                total[name] += time.perf_counter() - start
                if repeat == 0:
                    errors[name].append(np.linalg.norm(X - gt, axis=-1))
                    valid[name].append(ok)
        for name in found:
            passes[name].append(total[name])
    cams, gt, x = rings[0]
    calls = {name: [] for name in found}
    for f in range(min(single_frames, len(gt))):
        for name, fn in found.items():
            start = time.perf_counter()
            fn(cams, x[f:f + 1])
            calls[name].append(time.perf_counter() - start)
    out = {}
    for name in found:
        e, ok = np.concatenate(errors[name]), np.concatenate(valid[name])
        good = e[ok]
        out[name] = {
            'mpjpe_mm': 1e3 * float(good.mean()) if good.size else float('nan'),
            'median_mm': 1e3 * float(np.median(good)) if good.size else float('nan'),
            'coverage': float(ok.mean()),
            'wrong_valid_pct': 100.0 * float(np.mean(ok & (np.nan_to_num(e, nan=0.0) > WRONG_M))),
            'max_valid_error_m': float(good.max()) if good.size else float('nan'),
            'batch_ms_per_frame': 1e3 * float(np.median(passes[name])) / frames,
            'single_frame_ms': 1e3 * float(np.median(calls[name]))}
    return out


def per_joint_loop(P, x):
    """Triangulate with one unweighted DLT (SVD of the 2V x 4 matrix) per joint and frame."""
    out = np.empty(x.shape[:1] + x.shape[2:3] + (3,))
    for f in range(x.shape[0]):
        for j in range(x.shape[2]):
            A = np.concatenate([x[f, :, j, 0:1] * P[:, 2] - P[:, 0],
                                x[f, :, j, 1:2] * P[:, 2] - P[:, 1]])
            Xh = np.linalg.svd(A)[2][-1]
            out[f, j] = Xh[:3] / Xh[3]
    return out


def loop_speed(views, frames=100):
    """Milliseconds per frame of the textbook per-joint SVD loop (a numpy stand-in for it)."""
    rows = []
    for v in views:
        cams, gt, x = scene(v, frames, 2.0, 'clean')[0]
        x = np.nan_to_num(x)
        start = time.perf_counter()
        per_joint_loop(np.stack([c.P for c in cams]), x)
        rows.append({'views': v, 'per_joint_loop_ms_per_frame':
                     1e3 * (time.perf_counter() - start) / len(gt)})
    return rows


def markdown(rows, skipped, loop_rows):
    lines = ['| views | noise px | scenario | method | MPJPE mm | median mm | valid % | '
             'wrong & valid % | max valid err m | batch ms/frame | 1-frame ms |',
             '|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|']
    for r in rows:
        lines.append(f'| {r["views"]} | {r["sigma_px"]:g} | {r["scenario"]} | {r["method"]} | '
                     f'{r["mpjpe_mm"]:.1f} | {r["median_mm"]:.1f} | {100 * r["coverage"]:.1f} | '
                     f'{r["wrong_valid_pct"]:.2f} | {r["max_valid_error_m"]:.3g} | '
                     f'{r["batch_ms_per_frame"]:.3f} | {r["single_frame_ms"]:.2f} |')
    lines.append('')
    lines.append('Per-joint SVD loop (textbook DLT, plain numpy), ms per frame: ' + ', '.join(
        f'{r["views"]} views {r["per_joint_loop_ms_per_frame"]:.2f}' for r in loop_rows) + '.')
    for name, why in skipped.items():
        lines.append(f'\n{name} not compared: `{why}`.')
    return '\n'.join(lines)


def write_markdown(path, table):
    text = path.read_text() if path.exists() else f'# Triangulation\n\n{BEGIN}\n{END}\n'
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(f'{head}{BEGIN}\n{table}\n{END}{tail}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--frames', type=int, default=500)
    parser.add_argument('--single-frames', type=int, default=50)
    parser.add_argument('--repeats', type=int, default=3,
                        help='timed batched passes per row; the median is reported')
    parser.add_argument('--views', type=int, nargs='+', default=[4, 8, 16])
    parser.add_argument('--sigmas', type=float, nargs='+', default=[0.0, 1.0, 2.0, 4.0])
    parser.add_argument('--json', default=str(ROOT / 'docs' / 'figures' / 'triangulation.json'))
    parser.add_argument('--markdown', default=str(ROOT / 'docs' / 'triangulation.md'))
    args = parser.parse_args()

    found, skipped = methods()
    rows = []
    for views in args.views:
        for sigma in args.sigmas:
            # The outlier scenarios at the 2 px; the noise sweep on clean data.
            for scenario in SCENARIOS if sigma == 2.0 else ('clean', 'random'):
                rings = scene(views, args.frames, sigma, scenario)
                results = evaluate(found, rings, args.single_frames, args.repeats)
                for name, r in results.items():
                    r.update(views=views, sigma_px=sigma, scenario=scenario, method=name)
                    rows.append(r)
                    print(f'{views:>2} views {sigma:g} px {scenario:>8} {name:>12}: '
                          f'MPJPE {r["mpjpe_mm"]:8.1f} mm  valid {100 * r["coverage"]:5.1f}%  '
                          f'wrong&valid {r["wrong_valid_pct"]:5.2f}%  '
                          f'batch {r["batch_ms_per_frame"]:.3f} ms  '
                          f'1-frame {r["single_frame_ms"]:.2f} ms', flush=True)
    loop_rows = loop_speed(args.views)
    for name, why in skipped.items():
        print(f'{name} skipped: {why}')
    out = pathlib.Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({'machine': platform.processor() or platform.machine(),
                               'frames': args.frames, 'repeats': args.repeats,
                               'wrong_m': WRONG_M, 'rows': rows, 'per_joint_loop': loop_rows,
                               'skipped': skipped}, indent=1))
    write_markdown(pathlib.Path(args.markdown), markdown(rows, skipped, loop_rows))
    print(f'wrote {out} and {args.markdown}')


if __name__ == '__main__':
    main()
