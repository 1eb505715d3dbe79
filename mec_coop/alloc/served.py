# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The uplink plan's served-instant objective (ours): what the edge makes of the views it gets.

The instant model (:mod:`.instant`: at least two views on time, the cameras independent)
predicted 0.92-0.99 for every plan of a run in the graph that measured 0.71-0.84
(``docs/compression_results.md``, "Why the instant model is optimistic", from the per-instant
recordings of ``benchmarks/compression_alloc.py --graph``). The recordings show what it leaves
out, and this model puts each in as measured:

1. **The edge's release.** The edge waits for an expected view until its release deadline,
   ``D_req`` less the release margin, not until ``t0`` (at most one frame period): an offload
   leaves its camera 0.15-0.5 s after capture (the camera's model, under load) and reached the
   edge 0.54-0.98 s after capture, at most 11% of a camera's within 0.5 s, yet 60-83% of a
   well-served camera's images were in by the release. The upload budget here is the release
   deadline less the camera's time (the caller's link ``t0``).
2. **Images of nobody.** A camera that found nobody sends its whole frame (30-125 KB where a
   region-wise image of a person is 10 KB); it brings the edge no keypoints of its own, and
   the edge's result of it came after the release. ``ViewRoutes.empty`` is their share: those
   frames are no view.
3. **Views are not a skeleton within the bound.** Given the views in by the release, the
   edge's checks drop some instants (two views that disagree) and some skeletons are over the
   MPJPE bound, more often with image views (the camera's own keypoints of a frame it was
   unsure of, sent with the image, stand in for the edge's late result). :data:`VIEW_SUCCESS`
   is the measured probability of success per number of keypoint views ``k`` and image views
   ``i``; the instant model is its special case of 1 for ``k + i >= 2`` and 0 below.

Camera ``i`` gives a keypoint view with ``a_i = p_kp s_kp`` and an image view with
``b_i = (p_off - p_empty) s_off`` (one route per frame: exclusive), the cameras independent;
the success is ``sum_{k, i} P(k, i) VIEW_SUCCESS(k, i)``. :func:`solve_served` maximises it over
the shares and ratios with the search of :func:`~.instant.search_shares`.
"""

from typing import Mapping, Optional, Sequence

import numpy as np

from mec_coop.alloc.cocrra_tdma import TdmaLink
from mec_coop.alloc.instant import MIN_VIEWS, route_parts, search_shares, ViewRoutes

# P(skeleton within D_req and MPJPE <= 100 mm | k keypoint views, i image views in by the
# release), keyed (k, i): measured by `python benchmarks/compression_alloc.py --graph` (the
# runs' per-instant records of `--tag audit_gaussian` and `--tag audit_none`, the four plans of
# each pooled, cells of at least 5 instants; written with the counts to
# docs/figures/view_success.json by `--view-success`). Cells not measured take the nearest
# measured cell with as many views or fewer (:func:`success_matrix`).
VIEW_SUCCESS: Mapping[tuple[int, int], float] = {
    (2, 0): 0.924, (3, 0): 0.951, (4, 0): 1.0,   # 290, 102 and 10 instants
    (1, 1): 0.446, (2, 1): 0.766,                # 56 and 47
    (0, 2): 0.1, (1, 2): 0.444,                  # 10 and 9
}


def success_matrix(cameras: int, table: Mapping[tuple[int, int], float] = VIEW_SUCCESS
                   ) -> np.ndarray:
    """
    ``(cameras + 1, cameras + 1)``: the success given ``k`` keypoint and ``i`` image views.

    Fewer than :data:`~.instant.MIN_VIEWS` views: 0. A cell the table lacks takes the measured
    cell with the most views up to ``k + i`` and, among those, the nearest number of images;
    without any, 1 (the instant model's "two views are a skeleton").
    """
    out = np.zeros((cameras + 1, cameras + 1))
    for k in range(cameras + 1):
        for i in range(cameras + 1 - k):
            n = k + i
            if n < MIN_VIEWS:
                continue
            below = [(kk + ii, -abs(ii - i), p) for (kk, ii), p in table.items()
                     if MIN_VIEWS <= kk + ii <= n]
            out[k, i] = table.get((k, i), max(below)[2] if below else 1.0)
    return out


def served_probability(kp, image, matrix: np.ndarray) -> np.ndarray:
    """
    ``sum_{k, i} P(k, i) matrix[k, i]`` for independent cameras on the last axis.

    ``kp``, ``image``: each camera's probability of a keypoint view and of an image view
    (exclusive); leading axes are separate cases.
    """
    kp, image = np.broadcast_arrays(np.asarray(kp, dtype=float), np.asarray(image, dtype=float))
    u = kp.shape[-1]
    dist = np.zeros((*kp.shape[:-1], u + 1, u + 1))
    dist[..., 0, 0] = 1.0
    for c in range(u):
        a, b = kp[..., c, None, None], image[..., c, None, None]
        new = dist * (1.0 - a - b)
        new[..., 1:, :] += dist[..., :-1, :] * a
        new[..., :, 1:] += dist[..., :, :-1] * b
        dist = new
    return (dist * matrix).sum(axis=(-2, -1))


def served_views(o, tau, data_bits, link: TdmaLink, routes: ViewRoutes) -> np.ndarray:
    """Per camera (second-last axis) its keypoint view and its image view on time (last axis)."""
    kp, off, image = route_parts(o, tau, data_bits, link, routes)
    return np.stack([kp, image * off], axis=-1)


def served_success(o, tau, data_bits, link: TdmaLink, routes: ViewRoutes,
                   table: Mapping[tuple[int, int], float] = VIEW_SUCCESS):
    """Return the probability that an instant succeeds; ``link.t0_s``: the upload budget."""
    v = served_views(o, tau, data_bits, link, routes)
    return served_probability(v[..., 0], v[..., 1], success_matrix(len(link.gains), table))


def solve_served(data_bits, link: TdmaLink, routes: ViewRoutes, grid,
                 starts: Sequence[np.ndarray] = (), step: float = 0.01,
                 exhaustive: Optional[int] = None,
                 table: Mapping[tuple[int, int], float] = VIEW_SUCCESS
                 ) -> tuple[np.ndarray, np.ndarray, float]:
    """Shares and ratios of the highest served success: ``(o, tau, success)``."""
    matrix = success_matrix(len(link.gains), table)

    def value(o, tau):
        return served_views(o, tau, data_bits, link, routes)

    return search_shares(value, lambda v: served_probability(v[..., 0], v[..., 1], matrix),
                         len(data_bits), link, routes, grid, starts, step, exhaustive)
