# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Grouping 2D detections of several people across cameras and tracks.

Cliques across cameras and the claims that another track contests, on the costs
:mod:`mec_coop.fusion.detections` measures. Helpers of :mod:`mec_coop.fusion.association`, on
plain arrays.
"""

import itertools
from typing import Any, Optional, Sequence

import numpy as np

from mec_coop.fusion.detections import keypoint_costs, project
from mec_coop.geometry import epipolar
from mec_coop.geometry.triangulation import triangulate

# A track this much nearer a camera than another (median joint depth) is in front of it: about a
# body's depth, so two people side by side at a crossing are neither in front of the other.
FRONT_MARGIN_M = 0.3
# Two tracks' detections in one camera whose swapped pairing costs at most this much more than the
# chosen one (sum of the two costs) are contested: on the crossing replay's saved reports of
# seeds 0 and 3 (docs/people.md) 1.25 left 1 skeleton fused from two people, 1.1 left 2.
SWAP_MARGIN = 1.25
# A detection is the person in front's unless its size fits the one behind better by this much
# (|log| of the size ratios, ~20%): on the same replay it left out the detections of people 2 m
# behind that tracks in front took, for 1-2 matched people fewer per run.
SIZE_MARGIN = 0.2


def clique_groups(cost: np.ndarray, view: np.ndarray, gate: float, ratio: float) -> list[set]:
    """
    Cycle-consistent groups of detections from their pairwise costs ``(n, n)`` (inf: none).

    Groups grow greedily from the cheapest pair; two groups merge only if every cross pair is
    within ``gate`` and no camera (``view (n,)``) appears twice, so each group is a clique. A
    group of two is left out as ambiguous unless each member's partner costs less than
    ``ratio`` times its next candidate within the gate in the partner's camera (two views
    cannot tell two people near one epipolar line apart; a ratio test as in Lowe's for feature
    matches).
    """
    n = len(cost)
    group = list(range(n))       # detection -> group label
    members = {i: {i} for i in range(n)}
    consistent = cost <= gate
    pairs = np.argwhere(np.triu(consistent, 1))
    for i, j in sorted(pairs.tolist(), key=lambda p: cost[p[0], p[1]]):
        gi, gj = group[i], group[j]
        if gi == gj:
            continue
        mi, mj = members[gi], members[gj]
        cams = [view[k] for k in mi | mj]
        if len(set(cams)) < len(cams) or not np.all(consistent[np.ix_(list(mi), list(mj))]):
            continue
        members[gi] = mi | mj
        for k in mj:
            group[k] = gi
        del members[gj]

    def ambiguous(m: set) -> set:
        """Members another detection of their camera could replace: not clearly better."""
        out = set()
        for a in m:
            rest = sorted(m - {a})
            others = (view == view[a]) & (np.arange(n) != a) & consistent[:, rest].all(1)
            if others.any() and cost[a, rest].mean() > ratio * cost[np.ix_(others, rest)].mean(
                    1).min():
                out.add(a)
        return out
    groups = []
    for m in members.values():
        while len(m) > 1 and ambiguous(m):
            m = m - ambiguous(m)
        if len(m) > 1:
            groups.append(m)
    return groups


def contested(claims: np.ndarray, cost: np.ndarray, depth: np.ndarray, size: np.ndarray,
              gate: float, ratio: float) -> np.ndarray:
    """
    Tracks ``(T,)`` whose claimed detection in one camera may be another track's person.

    Where two people overlap in a view the detector often finds one of them, and the track of
    the other (hidden, or not detected) fits that detection nearly as well as its owner: the
    Hungarian method hands it to the cheaper, which at a crossing is the wrong person as often
    as not, and the consensus keeps it (its rays pass near the hidden person's joints). A
    claim ``n = claims[a]`` is contested

    * by a track ``b`` without a detection in this camera that fits ``n`` within ``gate`` and
      not clearly worse (``cost[a, n] > ratio * cost[b, n]``), unless ``a`` is in front of
      ``b`` (``depth (T,)`` of each track in the camera, :data:`FRONT_MARGIN_M`): the detector
      sees the person in front; but not when the detection's size fits ``b`` clearly better
      (``size`` from :func:`~.detections.size_mismatch`, :data:`SIZE_MARGIN`): the person in
      front was not detected and ``n`` is the one behind;
    * or by a track ``b`` with its own detection ``m`` when swapping the two costs at most
      :data:`SWAP_MARGIN` times the pairing chosen (both claims are contested).

    A contested detection is left out: one view fewer is better than a skeleton fused from
    two people.

    :param claims: ``(T,)`` each track's detection in the camera, -1: none.
    :param cost: ``(T, N)`` :func:`~.detections.keypoint_costs` of the tracks against the
        detections.
    :param size: ``(T, N)`` :func:`~.detections.size_mismatch` of the tracks against them.
    """
    T = len(claims)
    mine = claims >= 0
    if not mine.any() or not cost.shape[1]:
        return np.zeros(T, dtype=bool)
    n, own, rival = _claim_costs(claims, cost)
    with np.errstate(invalid='ignore'):
        in_front = depth[:, None] < depth[None] - FRONT_MARGIN_M                    # a before b
        in_front &= ~(size[:, n].T + SIZE_MARGIN < size[np.arange(T), n][:, None])
    hidden = _hidden_rivals(mine, own, rival, gate, ratio) & ~in_front
    other = ~np.eye(T, dtype=bool) & mine[:, None]
    swapped = rival + cost[:, n]                          # [a, b]: cost[b, n_a] + cost[a, n_b]
    swap = other & mine[None] & (swapped <= SWAP_MARGIN * (own[:, None] + own[None]))
    return np.any(hidden | swap, axis=1)


def doubtful(claims: np.ndarray, cost: np.ndarray, gate: float, ratio: float) -> np.ndarray:
    """
    Tracks ``(T,)`` whose claimed detection in one camera a hidden person's track may own.

    Looser than :func:`contested`: a track without a detection in the camera fits the claim
    within ``gate`` and not clearly worse (``cost[a, n] > ratio * cost[b, n]``), also when
    the claiming track is in front of it and the sizes do not tell them apart (on the crossing
    replay a track in front whose person the detector missed took the detection of the person
    2 m behind; docs/people.md). :func:`firm_only` leaves such views out where the track has
    enough others.
    """
    mine = claims >= 0
    if not mine.any() or not cost.shape[1]:
        return np.zeros(len(claims), dtype=bool)
    _, own, rival = _claim_costs(claims, cost)
    return np.any(_hidden_rivals(mine, own, rival, gate, ratio), axis=1)


def _claim_costs(claims: np.ndarray, cost: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return each track's claimed detection (0: none), its cost, and ``[a, b]``: b's for a's."""
    n = np.where(claims >= 0, claims, 0)
    return n, cost[np.arange(len(claims)), n], cost[:, n].T


def _hidden_rivals(mine: np.ndarray, own: np.ndarray, rival: np.ndarray, gate: float,
                   ratio: float) -> np.ndarray:
    """
    Return ``[a, b]``: b, without a detection in the camera, fits a's claim not clearly worse.

    Within ``gate``, and ``own[a] > ratio * rival[a, b]``.
    """
    return mine[:, None] & ~mine[None] & (rival <= gate) & (own[:, None] > ratio * rival)


def firm_only(claims: np.ndarray, doubt: np.ndarray, min_views: int) -> np.ndarray:
    """
    ``(T, V)`` doubtful claims to leave out: those of tracks with ``min_views`` firm ones.

    One view fewer costs a track with enough firm views little; a view of another person
    fuses two people into one skeleton, and neither residuals nor the consensus can tell it
    where the two overlap (docs/people.md). A track with fewer firm views keeps its doubtful
    ones (:func:`contested` still applies to them), or it would go unmeasured.
    """
    mine = claims >= 0
    enough = (mine & ~doubt).sum(1) >= min_views
    return mine & doubt & enough[:, None]


def contradicting(P: np.ndarray, ideal: list, ok: list, views: Sequence, points: np.ndarray,
                  claim: np.ndarray, min_joints: int, gate: float) -> int:
    """
    Cameras without the person whose detections contradict a skeleton ``(J, 3)`` seen by two.

    Two cameras always agree on a pair of rays that meet, also when the rays belong to two
    people (a ghost). A camera that does not contribute (``claim (V,)`` -1) but sees
    ``min_joints`` of the skeleton inside its image, and found people at this instant, none of
    them within ``gate`` of where the skeleton projects, speaks against it. A camera that found
    nobody says nothing (it may be failing or the person hidden).
    """
    px = project(P, points[None])[0]                                             # (V, J, 2)
    count = 0
    for v, view in enumerate(views):
        if claim[v] >= 0 or not ok[v].any():
            continue
        inside = np.isfinite(px[v]).all(-1) & view.camera.in_image(np.nan_to_num(px[v]))
        if inside.sum() < min_joints:
            continue
        cost = keypoint_costs(np.where(inside[:, None], px[v], np.nan)[None], ideal[v], ok[v],
                              view.weights, min_joints)
        count += bool(np.all(cost > gate))
    return count


def skeleton_distance(a: np.ndarray, b: Optional[np.ndarray]) -> float:
    """Mean distance of the joints valid in both skeletons (inf if none)."""
    if b is None:
        return np.inf
    d = np.linalg.norm(a - b, axis=-1)
    return float(np.nanmean(d)) if np.isfinite(d).any() else np.inf


def claimed_pixels(ideal: list, ok: list, views: Sequence,
                   claim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """
    Ideal pixels ``(V, J, 2)`` and weights ``(V, J)`` of one person's detections.

    :param ideal: per view, the detections' ideal pixels ``(N, J, 2)``; ``ok`` their confident
        joints ``(N, J)``; ``views`` carry ``pixels`` and ``weights`` (``ViewDetections``).
    :param claim: ``(V,)`` the detection used in each view, -1: none.
    """
    J = views[0].pixels.shape[1]
    x, w = np.full((len(views), J, 2), np.nan), np.zeros((len(views), J))
    for v in np.flatnonzero(claim >= 0):
        n = claim[v]
        x[v], w[v] = ideal[v][n], np.where(ok[v][n], views[v].weights[n], 0.0)
    return x, w


def pair_costs(a: Any, b: Any, norm_a: np.ndarray, norm_b: np.ndarray, ok_a: np.ndarray,
               ok_b: np.ndarray, n_a: np.ndarray, n_b: np.ndarray,
               min_joints: int) -> np.ndarray:
    """
    Epipolar cost ``(Na, Nb)`` of detections ``n_a`` of view ``a`` against ``n_b`` of ``b``.

    The symmetric epipolar distance of each joint both see (normalised coordinates ``norm_a
    (Na, J, 3)``, confident joints ``ok_a (Na, J)``), weighted by the product of the two
    confidences; inf with fewer than ``min_joints`` common joints. ``a``, ``b``: views with
    ``camera`` and ``weights`` (``ViewDetections``).
    """
    E = epipolar.essential(a.camera, b.camera)
    d = epipolar.symmetric_distance(E, norm_a[:, None], norm_b[None])            # (Na, Nb, J)
    both = ok_a[:, None] & ok_b[None]
    w = np.where(both, a.weights[n_a][:, None] * b.weights[n_b][None], 0.0)
    with np.errstate(invalid='ignore', divide='ignore'):
        c = np.sum(w * np.nan_to_num(d), -1) / w.sum(-1)
    return np.where(both.sum(-1) >= min_joints, c, np.inf)


def outvoted_view(P: np.ndarray, ideal: list, ok: list, views: Sequence, claim: np.ndarray,
                  ratio: float, min_joints: int) -> tuple[int, int]:
    """
    Find the claimed view of one track that its other views place on another detection.

    Return ``(view, detection)``: the view and the detection the other views place there, or
    ``(-1, -1)``.

    Each claimed view ``v`` (of at least three) is left out in turn, the others triangulated
    (confidence-weighted DLT) and projected into ``v``: if another detection of ``v`` fits that
    projection clearly better than the claimed one (claimed cost > best other / ``ratio``,
    :func:`~.detections.keypoint_costs`), ``v`` holds someone else. The most clearly outvoted
    view is returned: a wrong view also spoils the projections for the right ones. (The epipolar
    cost does not tell such views apart: on the crossing replay a young track's wrong view
    paired with a right one at 0.008, within the births' gate; docs/people.md.)
    """
    used = np.flatnonzero(claim >= 0)
    if len(used) < 3:
        return -1, -1
    x, w = claimed_pixels(ideal, ok, views, claim)
    w = np.repeat(w[None], len(used), 0)
    w[np.arange(len(used)), used] = 0.0
    tri = triangulate(P, np.broadcast_to(x, w.shape + (2,)), w, method='dlt',
                      ideal_pixels=True)
    points = np.where(tri.valid[..., None], tri.points, np.nan)
    worst, out = 1.0 / ratio, (-1, -1)
    for i, v in enumerate(used):
        cost = keypoint_costs(project(P[v:v + 1], points[i:i + 1])[:, 0], ideal[v], ok[v],
                              views[v].weights, min_joints)[0]
        mine, cost[claim[v]] = cost[claim[v]], np.inf
        best = int(np.argmin(cost)) if len(cost) > 1 else -1
        if best >= 0 and mine > worst * cost[best]:
            worst, out = mine / cost[best], (int(v), best)
    return out


def young_claims(P: np.ndarray, ideal: list, ok: list, views: Sequence, claims: np.ndarray,
                 withheld: list, r: int, ratio: float, min_joints: int) -> int:
    """
    Check the claims ``claims[r]`` of a young track against each other; return views changed.

    A track measured once or twice has no velocity: its prediction stays where the person
    was, and in a camera it may fit the detection of a person nobody tracks yet better than
    its own person's (docs/people.md). While a view is outvoted (:func:`outvoted_view`, one
    per pass: a wrong view spoils the others' projections), it takes the detection its other
    views point at if no track holds or withheld it, else none. What a view gives up goes to
    births (it may be a person nobody tracks yet).
    """
    changed = 0
    for _ in range(claims.shape[1] - 2):
        v, n = outvoted_view(P, ideal, ok, views, claims[r], ratio, min_joints)
        if v < 0:
            break
        free = n not in claims[:, v] and n not in withheld[v]
        claims[r, v], changed = n if free else -1, changed + 1
    return changed


def birth_groups(views: Sequence[Any], ideal: list, ok: list, free: list, min_joints: int,
                 gate: float, ratio: float, min_views: int) -> list[dict]:
    """
    Cycle-consistent groups ``{view: detection}`` of the free detections (``free``: per view).

    Every camera pair scores its free detections by :func:`pair_costs`; :func:`clique_groups`
    groups them (``gate``, ``ratio``); groups of at least ``min_views`` cameras are returned.
    ``views`` carry ``camera`` (``ViewDetections``).
    """
    nodes = [(v, n) for v in range(len(views)) for n in free[v]]
    if len(nodes) < 2:
        return []
    index = {node: i for i, node in enumerate(nodes)}
    cost = np.full((len(nodes), len(nodes)), np.inf)
    norm = [epipolar.normalised(views[v].camera, np.nan_to_num(ideal[v][free[v]]))
            for v in range(len(views))]
    for a, b in itertools.combinations(range(len(views)), 2):
        if not len(free[a]) or not len(free[b]):
            continue
        c = pair_costs(views[a], views[b], norm[a], norm[b], ok[a][free[a]], ok[b][free[b]],
                       free[a], free[b], min_joints)
        ia = [index[(a, n)] for n in free[a]]
        ib = [index[(b, n)] for n in free[b]]
        cost[np.ix_(ia, ib)] = c
        cost[np.ix_(ib, ia)] = c.T
    groups = clique_groups(cost, np.array([v for v, _ in nodes]), gate, ratio)
    return [{nodes[k][0]: nodes[k][1] for k in m} for m in groups if len(m) >= min_views]
