# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The instant models against per-instant recordings of the running graph.

Used by ``benchmarks/compression_alloc.py``: ``--view-success`` pools the recorded runs'
success per number of keypoint and image views in by the edge's release (the table
``mec_coop/alloc/served.py`` ``VIEW_SUCCESS`` holds) into ``docs/figures/view_success.json``;
:func:`replayed` evaluates the served model with one run's own measured inputs (routes, images
of nobody, offload sizes, the camera's time before an upload, the plan's shares and qualities),
to tell a wrong model from wrong inputs; :func:`audit_section` writes the decomposition of the
failures and predicted beside measured success per plan.

Run:  . scripts/env.sh && python benchmarks/compression_alloc.py --view-success
      results/benchmarks/cocrra_graph_audit_gaussian results/benchmarks/cocrra_graph_audit_none
"""

import json
import pathlib

import numpy as np

from mec_coop.alloc.cocrra_tdma import TdmaLink
from mec_coop.alloc.instant import ViewRoutes
from mec_coop.alloc.instant_audit import CAUSES, counted, success_by_views
from mec_coop.alloc.plan import RELEASE_MARGIN_S
from mec_coop.alloc.served import served_success
from mec_coop.alloc.uplink_plan import rate_curve
from mec_coop.coop.routing import IMAGE_ROUTES
from mec_coop.coop.uplink import db_to_linear, dbm_to_watt
from mec_coop.ros.allocation import SIZE_SPREAD_PRIOR

# The keypoint message the replay charges (bytes): a person's 17 keypoints and the header.
MESSAGE_BYTES = 300.0


def pool_view_success(run_dirs, delay_req_s, bound_mm):
    """``{'k,i': [successes, instants]}`` over every run's ``instants.json`` under ``run_dirs``."""
    total: dict = {}
    files = sorted(p for d in run_dirs for p in pathlib.Path(d).glob('*/instants.json'))
    for path in files:
        cells = success_by_views(json.loads(path.read_text()), delay_req_s,
                                 delay_req_s - RELEASE_MARGIN_S, bound_mm)
        for key, (hits, count) in cells.items():
            cell = total.setdefault(key, [0, 0])
            cell[0] += hits
            cell[1] += count
    return {'runs': [str(p.parent) for p in files], 'cells': total}


def write_view_success(run_dirs, out, delay_req_s=1.0, bound_mm=100.0, least=5):
    """Write the pooled table; print ``VIEW_SUCCESS`` (cells of at least ``least`` instants)."""
    pooled = pool_view_success(run_dirs, delay_req_s, bound_mm)
    pooled.update(delay_requirement_s=delay_req_s, bound_mm=bound_mm, least_instants=least)
    out.write_text(json.dumps(pooled, indent=1))
    table = {}
    for key, (hits, count) in sorted(pooled['cells'].items()):
        k, i = (int(v) for v in key.rstrip('i').split('k'))
        if count >= least and k + i >= 2:
            table[(k, i)] = round(hits / count, 3)
        print(f'  {k} keypoint + {i} image views: {hits} / {count} succeeded')
    print(f'VIEW_SUCCESS = {table}')
    return table


def _median(values, default):
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else default


def replayed(records, row, args, plan=None) -> dict:
    """
    Return the served model's prediction with the run's own measured inputs.

    Routes, images of nobody and the sizes of images with a person are those the run sent (its
    counted instants); the upload budget is the release deadline less the median time an
    image left its camera; ``plan``: ``(qualities, shares)``, else the plan the run ended with.
    """
    records = counted(records)
    cams = sorted(records[0]['cameras']) if records else []
    alloc = row.get('allocation') or {}
    qualities, shares = plan or (alloc.get('jpeg_quality'), alloc.get('tdma_share'))
    if not records or not shares or not all(qualities or ()):
        return {}
    n = len(records)
    views = {c: [r['cameras'][c] for r in records] for c in cams}
    images = {c: [v for v in views[c] if v.get('route') in IMAGE_ROUTES] for c in cams}
    sent = _median([v.get('sent') for c in cams for v in images[c]], 0.3)
    release = row['delay_requirement_s'] - RELEASE_MARGIN_S
    routes = ViewRoutes(
        tuple(len(images[c]) / n for c in cams),
        tuple(sum(v.get('route') == 'keypoints' for v in views[c]) / n for c in cams),
        (8.0 * MESSAGE_BYTES,) * len(cams),
        tuple(sum(not v.get('person') for v in images[c]) / n for c in cams))
    curves = [rate_curve(_median([v.get('bytes') for v in images[c] if v.get('person')],
                                 10_000.0), int(q), codec=args['codec'])
              for c, q in zip(cams, qualities)]
    d = np.array([c.full_bits for c in curves])
    o = np.array([1.0 - 8.0 * c.sizes[c.qualities.index(int(q))] / c.full_bits
                  for c, q in zip(curves, qualities)])
    link = TdmaLink(args['bandwidth'], dbm_to_watt(30.0), dbm_to_watt(-165.0),
                    tuple(db_to_linear(g) for g in args['gains']), max(release - sent, 1e-3),
                    args['min_share'], args.get('fading') or 'none', SIZE_SPREAD_PRIOR, 0.5)
    tau = np.asarray(shares, dtype=float)
    return {'served': float(served_success(o, tau, d, link, routes)),
            'two_views': float(served_success(o, tau, d, link, routes, table={})),
            'upload_budget_s': link.t0_s,
            'routes': {'offload': routes.offload, 'keypoints': routes.keypoints,
                       'empty': routes.empty}}


SERVED_NOTE = [
    '### The served plan `cocrra_served` (ours): the model fixed with what the recordings showed',
    '',
    '`mec_coop/alloc/served.py`: a camera gives a keypoint view with `p_kp s_kp` and an image '
    'view with `(p_off - p_empty) s_off` (images of nobody bring no view), both on the link '
    "model with the upload budget up to the edge's release (D_req - `release_margin_s`, "
    "0.05 s, less the camera's time, where the instant model had t0 <= one frame period), and "
    'the instant succeeds with '
    'the measured probability given the numbers of keypoint and image views in '
    '(`VIEW_SUCCESS`, `docs/figures/view_success.json`, from the two audit runs below; two '
    'keypoint views 0.92, one keypoint and one image view 0.45). The allocator takes the '
    "cameras' routes from the frame scores of the last `calibration_horizon_s` (30 s): the "
    "plan in place's, not the start-up's. `cocrra_served` maximises it over the shares and "
    "qualities (the search of `cocrra_instant`, never below the baselines' shares); every "
    "plan is judged in it (`predicted served`). Co-CRRA is still paper D's per-device "
    "objective, the paper's method. These runs are out of sample for `VIEW_SUCCESS` (measured "
    'on the audit runs before them), one run per plan and file, on a machine shared with '
    'other engineers (load column); a file without a verdict lacks a plan that made no '
    'skeleton (its table below says which).', '']


def audit_section(paths) -> list:
    """Markdown: per run and plan the failure causes, and predicted beside measured success."""
    lines, pooled = [], []
    for path in paths:
        data = json.loads(path.read_text())
        rows = [r for r in data['rows'] if not r.get('failed') and r.get('audit')]
        if not rows:
            continue
        pooled += [(r['success_rate'], r['predicted_instant_mean'], r['predicted_served_mean'])
                   for r in rows if r.get('predicted_instant_mean') is not None
                   and r.get('predicted_served_mean') is not None]
        lines += [f'`{path.name}` (fading `{data["args"].get("fading")}`, run order '
                  f'{", ".join(r["plan"] for r in rows)}):', '',
                  '| uplink plan | instants | success (evaluator) | ' + ' | '.join(CAUSES)
                  + ' | two views in by the release | independent cameras, by t0 / by the '
                  'release | predicted instant (logged, mean over the plans) | predicted '
                  "served (the same) | served with the run's inputs | offloaded |",
                  '|---|---|---|' + '---|' * len(CAUSES) + '---|---|---|---|---|---|']
        for r in rows:
            a, rep = r['audit'], r.get('replayed') or {}
            lines.append(
                f'| {r["plan"]} | {a["instants"]} | {r["success_rate"]:.3f} | '
                + ' | '.join(f'{a["shares"][c]:.3f}' for c in CAUSES)
                + f' | {a["two_views_release"]:.3f} | {a["independent_t0"]:.3f} / '
                f'{a["independent_release"]:.3f} | {_fmt(r.get("predicted_instant_mean"))} | '
                f'{_fmt(r.get("predicted_served_mean"))} | {_fmt(rep.get("served"))} | '
                f'{r["offload_ratio"]:.0%} |')
        lines += ['', *_agreement(rows), '']
    if pooled:
        measured, instant, served = np.array(pooled).T
        gap_i, gap_s = abs(instant - measured), abs(served - measured)
        lines += [f'Over the {len(pooled)} plan runs above whose allocator logged both '
                  'predictions: |predicted - measured| mean / median, the instant model '
                  f'{np.mean(gap_i):.3f} / {np.median(gap_i):.3f}, the served model '
                  f'{np.mean(gap_s):.3f} / {np.median(gap_s):.3f}; predicted - measured mean, the '
                  f'instant model {np.mean(instant - measured):+.3f}, the served model '
                  f'{np.mean(served - measured):+.3f}.', '']
    return lines


def _agreement(rows) -> list:
    """How far each logged or replayed prediction is from the measured success, and its order."""
    measured = {r['plan']: r['success_rate'] for r in rows}
    order = ' > '.join(sorted(measured, key=measured.get, reverse=True))
    out = [f'Measured order: {order}.']
    for name, get in (('instant model (logged)', lambda r: r.get('predicted_instant_mean')),
                      ('served model (logged)', lambda r: r.get('predicted_served_mean')),
                      ("served model with the run's inputs",
                       lambda r: (r.get('replayed') or {}).get('served'))):
        pred = {r['plan']: get(r) for r in rows if get(r) is not None}
        if len(pred) < len(rows):
            continue
        errors = [abs(pred[p] - measured[p]) for p in pred]
        ranked = sorted(pred, key=pred.get, reverse=True)
        same = ranked == sorted(measured, key=measured.get, reverse=True)
        out.append(f'{name}: |predicted - measured| mean {np.mean(errors):.3f}, largest '
                   f'{max(errors):.3f}; order ' + ' > '.join(ranked)
                   + (' (the same)' if same else ' (not the same)') + '.')
    return [' '.join(out)]


def _fmt(x):
    return 'n/a' if x is None else f'{x:.3f}'
