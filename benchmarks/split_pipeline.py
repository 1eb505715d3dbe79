# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Measure the split route per cut of the edge's pose model, beside JPEG offload and keypoints.

Per cut of yolo11n-pose at imgsz 960: bytes per frame, camera head time, edge tail time,
end-to-end delay and MPJPE.

    python benchmarks/split_pipeline.py [--instants 4] [--out docs]

Frames of the virtual rig (4 cameras, seed 0) go through each route in this process, with the
real codecs and models; the uplink is the product's TDMA model (eq. (16) of the cooperative
inference paper, ``mec_coop.coop.uplink``) at a 1/4 share, evaluated for several bandwidths.
End-to-end delay of one frame = camera compute + airtime + edge compute (no queueing). MPJPE:
the 4 views triangulated (robust) against the rig's ground truth; joints the triangulation
refuses are counted, not scored. Writes ``docs/split_pipeline.md`` and
``docs/figures/split_pipeline.json``.
"""

import argparse
import json
import pathlib
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from mec_coop.coop.codec import decode_compressed, encode_jpeg  # noqa: E402
from mec_coop.coop.uplink import LinkBudget  # noqa: E402
from mec_coop.geometry.metrics import mpjpe  # noqa: E402
from mec_coop.geometry.triangulation import triangulate  # noqa: E402
from mec_coop.pose.ultralytics_backend import UltralyticsPose  # noqa: E402
from mec_coop.rig.virtual import VirtualRig  # noqa: E402
from mec_coop.split.codec import decode_tensors, encode_tensors  # noqa: E402
from mec_coop.split.yolo import SplitPose  # noqa: E402

BANDWIDTHS_HZ = (1e6, 10e6, 100e6)
SHARE = 0.25
GAIN_DB = -100.0
KEYPOINTS_BYTES = 600     # a serialized PoseKeypoints2D with one person (measured order)


def _median(values):
    return float(statistics.median(values)) if values else float('nan')


def _skeleton(rig, estimates):
    pts = np.full((len(estimates), 17, 2), np.nan)
    w = np.zeros((len(estimates), 17))
    for v, est in enumerate(estimates):
        i = est.best()
        if i >= 0:
            pts[v], w[v] = est.keypoints[i], est.confidences[i]
    return triangulate(rig.cameras, pts, w, max_std_m=0.12).points


def _score(skeletons, truths):
    pred, gt = np.array(skeletons), np.array(truths)
    valid = np.isfinite(pred).all(axis=-1)
    return {'mpjpe_mm': 1e3 * float(mpjpe(pred, gt)) if valid.any() else float('nan'),
            'valid_joints': float(valid.mean())}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--instants', type=int, default=4)
    parser.add_argument('--quality', type=int, default=90)
    parser.add_argument('--out', default='docs')
    parser.add_argument('--render-only', action='store_true',
                        help='rewrite the Markdown from the JSON of the last run')
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.render_only:
        out = pathlib.Path(args.out)
        res = json.loads((out / 'figures' / 'split_pipeline.json').read_text())
        args.instants = res['instants']
        (out / 'split_pipeline.md').write_text(markdown(res, args))
        print((out / 'split_pipeline.md').read_text())
        return
    rig = VirtualRig(num_cameras=4, seed=0)
    frames = [rig.frame(2.0 + 1.5 * k) for k in range(args.instants)]
    truths = [f.joints_world[0] for f in frames]
    images = [[f.image(v) for v in range(4)] for f in frames]
    model = SplitPose(imgsz=960)
    model.profile((720, 1280), repeats=2)
    camera = UltralyticsPose(imgsz=320)
    routes = {}
    reference = []      # skeletons of the full model on the raw frames (lossless offload)

    def add(name, cam_s, edge_s, nbytes, ests):
        skeletons = np.array([_skeleton(rig, e) for e in ests])
        routes[name] = {'camera_s': _median(cam_s), 'edge_s': _median(edge_s),
                        'bytes': _median(nbytes), **_score(skeletons, truths)}
        if len(reference):
            both = np.isfinite(skeletons).all(-1) & np.isfinite(reference).all(-1)
            routes[name]['skeleton_diff_mm'] = 1e3 * float(np.max(np.linalg.norm(
                skeletons[both] - reference[both], axis=-1))) if both.any() else float('nan')

    ests, cam_s = [], []
    for views in images:
        out = [camera.predict(im) for im in views]
        cam_s += [e.inference_time_s for e in out]
        ests.append(out)
    add('camera keypoints (imgsz 320)', cam_s, [0.0], [KEYPOINTS_BYTES], ests)
    ests, cam_s, edge_s, nbytes = [], [], [], []
    for views in images:
        out = []
        for im in views:
            t0 = time.perf_counter()
            data = encode_jpeg(im, args.quality)
            cam_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            est = model.predict(decode_compressed(data, 'jpeg'))
            edge_s.append(time.perf_counter() - t0)
            nbytes.append(len(data))
            out.append(est)
        ests.append(out)
    add(f'JPEG offload (q{args.quality})', cam_s, edge_s, nbytes, ests)
    full = [[model.predict(im) for im in views] for views in images]
    with torch.no_grad():
        ref_out = model.forward(model.prepare(images[0][0]))
    scale = float(ref_out.abs().max())
    add('full model on the raw frame', [0.0], [0.0], [0], full)
    reference = np.array([_skeleton(rig, e) for e in full])
    for point, cut in enumerate(model.cuts):
        for dtype in ('float16', 'int8'):
            ests, cam_s, edge_s, nbytes, kp_err = [], [], [], [], []
            for views, ref in zip(images, full):
                out = []
                for im, r in zip(views, ref):
                    t0 = time.perf_counter()
                    sent, input_hw = model.run_head(im, point)
                    enc = encode_tensors([sent[m].numpy() for m in cut.members],
                                         model.layer_ids(point), dtype, 'zlib')
                    cam_s.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    tensors = decode_tensors(enc, model.layer_ids(point))
                    est = model.predict_tail({m: torch.from_numpy(t) for m, t in
                                              zip(cut.members, tensors)}, point, input_hw,
                                             im.shape[:2])
                    edge_s.append(time.perf_counter() - t0)
                    nbytes.append(enc.nbytes)
                    if est.num_people and r.num_people:
                        kp_err.append(float(np.abs(est.keypoints[est.best()]
                                                   - r.keypoints[r.best()]).max()))
                    out.append(est)
                ests.append(out)
            add(f'split {point} {dtype}', cam_s, edge_s, nbytes, ests)
            sent, _ = model.run_head(images[0][0], point)
            enc = encode_tensors([sent[m].numpy() for m in cut.members], model.layer_ids(point),
                                 dtype, 'zlib')
            with torch.no_grad():
                raw = model.run_tail({m: torch.from_numpy(t) for m, t in
                                      zip(cut.members, decode_tensors(enc))}, point)
            routes[f'split {point} {dtype}'].update(
                members=list(cut.members), max_keypoint_diff_px=max(kp_err, default=0.0),
                head_mmac=cut.local_macs / 1e6,
                output_diff_rel=float((raw - ref_out).abs().max()) / scale)
    for r in routes.values():
        r['delay_s'] = {}
        for bw in BANDWIDTHS_HZ:
            rate = SHARE * LinkBudget(bandwidth_hz=bw).spectral_rate_bps(GAIN_DB)
            r['delay_s'][f'{bw / 1e6:g} MHz'] = r['camera_s'] + 8 * r['bytes'] / rate \
                + r['edge_s']
    res = {'instants': args.instants, 'cameras': 4, 'imgsz': 960, 'share': SHARE,
           'gain_db': GAIN_DB, 'routes': routes}
    out = pathlib.Path(args.out)
    (out / 'figures').mkdir(parents=True, exist_ok=True)
    (out / 'figures' / 'split_pipeline.json').write_text(json.dumps(res, indent=1))
    (out / 'split_pipeline.md').write_text(markdown(res, args))
    print((out / 'split_pipeline.md').read_text())


def markdown(res, args):
    bws = [f'{bw / 1e6:g} MHz' for bw in BANDWIDTHS_HZ]
    lines = ['# Split inference of the pose model, measured per cut', '',
             f'Written by `python benchmarks/split_pipeline.py --instants {args.instants}` '
             "(JSON: `docs/figures/split_pipeline.json`); see the script's docstring for the "
             'method. Times on a shared, loaded 2-core CPU (1 torch thread), medians per frame.',
             '', '| route | sent (head members) | bytes/frame | camera s | edge s | '
             + ' | '.join(f'delay s @ {b}' for b in bws) + ' | MPJPE mm | valid joints | '
             'max keypoint diff px | max output diff / output scale | max joint diff vs the '
             'full model on the raw frame (mm) |', '|---' * (10 + len(bws)) + '|']
    for name, r in res['routes'].items():
        members = ','.join(r.get('members', [])) or '-'
        diff = r.get('max_keypoint_diff_px')
        rel = r.get('output_diff_rel')
        lines.append(f'| {name} | {members} | {r["bytes"]:.0f} | {r["camera_s"]:.3f} | '
                     f'{r["edge_s"]:.3f} | '
                     + ' | '.join(f'{r["delay_s"][b]:.3f}' for b in bws)
                     + f' | {r["mpjpe_mm"]:.1f} | {r["valid_joints"]:.2f} | '
                     + ('-' if diff is None else f'{diff:.2f}') + ' | '
                     + ('-' if rel is None else f'{rel:.1e}') + ' | '
                     + f'{r.get("skeleton_diff_mm", float("nan")):.2f} |')
    lines += ['', "Camera seconds exclude the camera's own model (imgsz 320), which every route "
              'runs for the dual threshold. Verdict per bandwidth (best split = least delay among '
              "the cuts whose MPJPE is at most 1 mm above the JPEG route's, all joints "
              'valid):', '']
    jpeg = next(r for k, r in res['routes'].items() if k.startswith('JPEG'))
    splits = {k: r for k, r in res['routes'].items() if k.startswith('split')
              and r['mpjpe_mm'] <= jpeg['mpjpe_mm'] + 1.0 and r['valid_joints'] >= 0.99}
    for b in bws:
        name, best = min(splits.items(), key=lambda kv: kv[1]['delay_s'][b])
        air_s = best['delay_s'][b] - best['camera_s'] - best['edge_s']
        air_j = jpeg['delay_s'][b] - jpeg['camera_s'] - jpeg['edge_s']
        # Slower camera by k: k * head + air + tail < k * jpeg encode + air_j + edge_j.
        slack = jpeg['edge_s'] + air_j - best['edge_s'] - air_s
        extra = best['camera_s'] - jpeg['camera_s']
        k = slack / extra if extra > 0 else float('inf')
        verdict = (f'beats JPEG offload by {jpeg["delay_s"][b] - best["delay_s"][b]:.3f} s '
                   f'while the camera is at most {k:.2f}x slower than this CPU core'
                   if best['delay_s'][b] < jpeg['delay_s'][b] else
                   f'loses to JPEG offload by {best["delay_s"][b] - jpeg["delay_s"][b]:.3f} s')
        lines.append(f'- {b}: best split `{name}` ({best["bytes"]:.0f} B, '
                     f'{best["delay_s"][b]:.3f} s) {verdict}; it sends '
                     f"{best['bytes'] / jpeg['bytes']:.1f}x the JPEG's bytes and takes "
                     f'{best["edge_s"] / jpeg["edge_s"]:.2f}x its edge time.')
    cam = next(r for k, r in res['routes'].items() if k.startswith('camera'))
    fastest = min(r['delay_s'][bws[-1]] for r in splits.values())
    lines.append(f'- Camera keypoints: {cam["delay_s"][bws[0]]:.3f} s at any bandwidth, MPJPE '
                 f'{cam["mpjpe_mm"]:.1f} mm with {100 * cam["valid_joints"]:.0f}% of joints '
                 f'valid; the fastest split takes {fastest:.3f} s even at {bws[-1]}, so no cut '
                 'beats the camera on delay, and every cut above beats it on accuracy.')
    return '\n'.join(lines + where_cuts_win(res, jpeg, splits)) + '\n'


def _rate_bps(bandwidth_hz, res):
    return res['share'] * LinkBudget(bandwidth_hz=bandwidth_hz).spectral_rate_bps(res['gain_db'])


def min_bandwidth_hz(extra_bits, margin_s, res, high=1e12):
    """Least bandwidth at which ``extra_bits`` take under ``margin_s`` of airtime (inf: none)."""
    if extra_bits <= 0:
        return 0.0
    if margin_s <= 0 or extra_bits / _rate_bps(high, res) >= margin_s:
        return float('inf')
    low = 1e3
    for _ in range(100):        # the rate grows with bandwidth (noise grows with it too)
        mid = (low * high) ** 0.5
        low, high = (mid, high) if extra_bits / _rate_bps(mid, res) >= margin_s else (low, mid)
    return high


def where_cuts_win(res, jpeg, splits):
    """
    Say, from the measured times and bytes, where a cut would beat JPEG offload.

    Latency model of one frame: camera compute x k (k = camera time / this CPU core's) +
    airtime at the uplink rate + edge compute (this CPU). A cut beats JPEG offload iff
    k (camera_cut - camera_jpeg) + airtime(bytes_cut - bytes_jpeg) < edge_jpeg - edge_cut.
    """
    lines = ['', '## Where a cut would beat JPEG offload (latency model of the measured times)',
             '', "Per frame: k x camera time + airtime + edge time, with k the camera's time "
             "over this CPU core's, the uplink of the table (1/4 share, -100 dB gain), the edge "
             'as measured here. k_max: the camera speed a cut needs even with unlimited '
             'bandwidth (edge time saved / camera time added); channel bandwidth needed (each '
             'camera gets 1/4) at k = 1 (a camera as fast as this core) and k = 0.5 (twice as '
             'fast). A faster edge (a GPU) '
             'shrinks the edge time saved and with it every k_max.', '',
             '| cut | extra bytes vs JPEG | edge time saved s | camera time added s (k = 1) '
             '| k_max | bandwidth needed at k = 1 | at k = 0.5 |', '|---|---|---|---|---|---|---|']
    best = None
    for name, r in splits.items():
        saved = jpeg['edge_s'] - r['edge_s']
        added = r['camera_s'] - jpeg['camera_s']
        extra = 8 * (r['bytes'] - jpeg['bytes'])
        k_max = saved / added if added > 0 else float('inf')
        need = [min_bandwidth_hz(extra, saved - k * added, res) for k in (1.0, 0.5)]
        if best is None or k_max > best[1]:
            best = (name, k_max, need)
        lines.append(f'| {name} | {extra / 8:.0f} | {saved:.3f} | {added:.3f} | '
                     + (f'{k_max:.2f}' if k_max > 0 else 'none (no edge time saved)') + ' | '
                     + ' | '.join(_hz(b) for b in need) + ' |')
    if best is not None:
        lines += ['', '- No cut beats JPEG offload with a camera as fast as this CPU core at any '
                  'bandwidth' if all(r['camera_s'] - jpeg['camera_s'] >= jpeg['edge_s']
                                     - r['edge_s'] for r in splits.values())
                  else '- Some cut beats JPEG offload with a camera as fast as this core (table).',
                  f'- The most favourable cut is `{best[0]}`: it needs a camera at least '
                  f'{1 / best[1]:.2f}x as fast as this core (k <= {best[1]:.2f}) and, at k = 0.5, '
                  f'{_hz(best[2][1])} of uplink bandwidth (every cut sends more bytes than the '
                  'JPEG, so it wins only where airtime is cheap and the camera is fast).']
    return lines


def _hz(value):
    return 'never' if value == float('inf') else f'{value / 1e6:.0f} MHz'


if __name__ == '__main__':
    main()
