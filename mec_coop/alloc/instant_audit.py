# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Why an instant of a recorded run failed, set beside what the instant model assumes.

A run's per-instant records (``benchmarks/instant_probe.py``: per camera the route, when its
view left, reached the edge and got the edge's result, in seconds after capture; per instant
the skeleton's delay, views and MPJPE) are split by the first reason an instant missed
"a skeleton within D_req and MPJPE <= the bound" (:data:`CAUSES`):

- ``few_views``: no skeleton, and fewer than ``min_views`` views with a person reached the edge
  by its release deadline (what the instant model of :mod:`.instant` predicts, but for its
  ``t0`` instead of the release deadline);
- ``fused_none``: no skeleton although enough views with a person were in (the edge's checks
  and triangulation left fewer than two);
- ``late``: a skeleton after D_req;
- ``inaccurate``: a skeleton in time with an MPJPE over the bound (or no valid joint).

Per camera it measures what the model takes as inputs: the share of frames sent as keypoints
(``p_kp``) and as images (``p_off``: :data:`~mec_coop.coop.routing.IMAGE_ROUTES`, offloads,
audits and searches), and how often each route's view with a person is at the
edge by ``t0`` and by the release deadline. Like the evaluator, instants before the first
skeleton are the start-up and not counted.
"""

from typing import Optional, Sequence

import numpy as np

from mec_coop.alloc.cocrra_tdma import at_least
from mec_coop.coop.routing import IMAGE_ROUTES

CAUSES = ('success', 'few_views', 'fused_none', 'late', 'inaccurate')


def view_in(view: dict, deadline_s: float) -> bool:
    """Whether a camera's record gave the edge keypoints of a person by ``deadline_s``."""
    arrived = view.get('arrived')
    if arrived is None or arrived > deadline_s:
        return False
    if view.get('person'):
        return True
    # An image whose camera saw nobody: only the edge's accepted result is a view.
    result = view.get('result')
    return bool(view.get('accepted')) and result is not None and result <= deadline_s


def counted(records: Sequence[dict]) -> list[dict]:
    """Return the records from the first one with a skeleton on (the counted ones)."""
    first = next((i for i, r in enumerate(records) if r.get('skeleton')), len(records))
    return list(records[first:])


def cause(record: dict, delay_req_s: float, release_s: float, bound_mm: float,
          min_views: int = 2) -> str:
    """Return the first of :data:`CAUSES` that ``record`` meets."""
    skeleton = record.get('skeleton')
    if skeleton is None:
        views = sum(view_in(v, release_s) for v in record['cameras'].values())
        return 'few_views' if views < min_views else 'fused_none'
    if skeleton['delay'] > delay_req_s:
        return 'late'
    error = skeleton.get('mpjpe_mm')
    return 'success' if error is not None and error <= bound_mm else 'inaccurate'


def camera_rates(records: Sequence[dict], cameras: Sequence[str], t0_s: float,
                 release_s: float) -> dict:
    """
    Per camera, the measured inputs of the instant model and the views on time.

    ``p_kp``/``p_off``: share of instants sent as keypoints / as an image; ``kp_in_t0``,
    ``off_in_t0``: of those, the share whose view with a person was at the edge within ``t0``;
    ``*_in_release``: the same by the release deadline; ``v_t0``, ``v_release``: the share of
    all instants with this camera's view in (the model's ``v_i``).
    """
    n = max(1, len(records))
    out = {}
    for cam in cameras:
        views = [r['cameras'][cam] for r in records]
        kp = [v for v in views if v.get('route') == 'keypoints']
        off = [v for v in views if v.get('route') in IMAGE_ROUTES]

        def share(group, deadline):
            return float(np.mean([view_in(v, deadline) for v in group])) if group else None
        out[cam] = {'p_kp': len(kp) / n, 'p_off': len(off) / n,
                    'kp_in_t0': share(kp, t0_s), 'off_in_t0': share(off, t0_s),
                    'kp_in_release': share(kp, release_s),
                    'off_in_release': share(off, release_s),
                    'v_t0': share(views, t0_s) or 0.0,
                    'v_release': share(views, release_s) or 0.0}
    return out


def decompose(records: Sequence[dict], cameras: Sequence[str], delay_req_s: float,
              release_s: float, t0_s: float, bound_mm: float,
              predicted: Optional[float] = None, min_views: int = 2) -> dict:
    """
    Split a run's counted instants by :func:`cause`; set the model's view terms beside.

    ``independent_t0`` / ``independent_release``: the instant model's formula
    (:func:`~.cocrra_tdma.at_least` of the cameras' measured ``v``) at each deadline;
    ``two_views_release``: the measured share of instants with ``min_views`` views in by the
    release deadline (their difference: the cameras are not independent). ``predicted``:
    what the allocator's model said (its last plan), for the table.
    """
    records = counted(records)
    n = len(records)
    causes = [cause(r, delay_req_s, release_s, bound_mm, min_views) for r in records]
    rates = camera_rates(records, cameras, t0_s, release_s)
    two = [sum(view_in(v, release_s) for v in r['cameras'].values()) >= min_views
           for r in records]
    return {
        'instants': n,
        'shares': {c: causes.count(c) / n if n else 0.0 for c in CAUSES},
        'skeleton_rate': float(np.mean([bool(r.get('skeleton')) for r in records])) if n
        else 0.0,
        'two_views_release': float(np.mean(two)) if n else 0.0,
        'independent_t0': at_least([rates[c]['v_t0'] for c in cameras], min_views),
        'independent_release': at_least([rates[c]['v_release'] for c in cameras], min_views),
        'cameras': rates, 'predicted_instant': predicted,
        'accuracy_by_views': accuracy_by_views(records, delay_req_s, bound_mm),
        'success_by_views': success_by_views(records, delay_req_s, release_s, bound_mm)}


def accuracy_by_views(records: Sequence[dict], delay_req_s: float, bound_mm: float) -> dict:
    """
    Skeletons in time by the number of views they used: count, share within the bound, MPJPE.

    The key is ``'<views>v<images>i'``: views used and how many of them were images (their
    edge result or, late, the camera's own keypoints sent with them).
    """
    groups: dict = {}
    for r in records:
        s = r.get('skeleton')
        if s is None or s['delay'] > delay_req_s:
            continue
        images = sum(r['cameras'].get(c, {}).get('route') in IMAGE_ROUTES for c in s['views'])
        groups.setdefault(f'{len(s["views"])}v{images}i', []).append(s.get('mpjpe_mm'))
    out = {}
    for key, errors in sorted(groups.items()):
        finite = [e for e in errors if e is not None]
        out[key] = {'count': len(errors),
                    'within_bound': sum(e <= bound_mm for e in finite) / len(errors),
                    'mpjpe_median_mm': float(np.median(finite)) if finite else None}
    return out


def view_counts(record: dict, release_s: float) -> tuple[int, int]:
    """Count the views with a person in by ``release_s``: ``(keypoint messages, images)``."""
    views = [v for v in record['cameras'].values() if view_in(v, release_s)]
    images = sum(v.get('route') in IMAGE_ROUTES for v in views)
    return len(views) - images, images


def success_by_views(records: Sequence[dict], delay_req_s: float, release_s: float,
                     bound_mm: float) -> dict:
    """
    ``'<keypoint views>k<image views>i' -> [successes, instants]`` over the counted instants.

    What the edge makes of the views that reached it: the measured probability of a skeleton
    within D_req and the bound given how many keypoint and image views were in by the release.
    """
    out: dict = {}
    for r in counted(records):
        kp, img = view_counts(r, release_s)
        cell = out.setdefault(f'{kp}k{img}i', [0, 0])
        cell[0] += cause(r, delay_req_s, release_s, bound_mm) == 'success'
        cell[1] += 1
    return dict(sorted(out.items()))
