# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Several people: cross-view association of 2D detections, 3D tracks and stable identities.

One :meth:`Associator.step` per capture instant, given every camera's 2D detections (all people
each camera found, COCO-17):

1. **Tracks first.** Each live track is predicted to the instant and projected into every camera;
   per camera, the Hungarian method (``scipy.optimize.linear_sum_assignment``) pairs tracks and
   detections on the confidence-weighted mean keypoint distance, in units of the track's projected
   size (so one gate fits near and far people). Pairs beyond ``match_gate`` stay unpaired; a
   pair another track may own as well is left out (``contested_views``, :func:`contested`), and
   so is a doubtful one of a track with ``firm_views`` others (:func:`doubtful`). A young track
   (``young_instants``) checks its views against each other (:func:`young_claims`).
2. **Triangulation** of each track's detections with the robust consensus triangulation
   (:mod:`mec_coop.geometry.triangulation`), all tracks in one batch. A detection the consensus
   mostly rejects (fewer than ``min_inlier_fraction`` of its joints used) was the wrong person:
   it is released and the track re-triangulated without it. A track needs ``min_views`` views
   and ``min_valid_joints`` valid joints to be measured; a track seen by one camera only is not
   triangulated (it coasts on its prediction) and its detection is not offered to anyone else.
3. **Births** from the detections left over (:func:`~mec_coop.fusion.grouping.birth_groups`):
   camera pairs score their detections by the symmetric epipolar distance in normalised
   coordinates (:mod:`mec_coop.geometry.epipolar`), confidence-weighted over the joints both
   see; groups grow from the most consistent pair and merge only if every cross pair is
   consistent and no camera appears twice (cliques: cycle-consistent). A group of two cameras
   is ambiguous (two people near one epipolar line) unless each detection's partner costs less
   than ``ambiguity_ratio`` times its next candidate in the other camera. Groups of at least
   ``min_views`` cameras are triangulated like tracks. A group of two cameras that other
   cameras speak against (they see people, none where the skeleton projects) is a ghost and
   dropped, as is a tentative track measured by two such cameras (a confirmed one needs two).
   A group on a track measured at this instant is a duplicate and dropped; one on a lost
   track's prediction continues that track (same id; ``reattach_m``, for a track measured
   once plus ``max_speed_mps`` times the time since); any other starts a *tentative* track.
4. **Identities.** A tentative track becomes confirmed, and gets the next id (1, 2, ...; 0 means
   "no identity" in ``Skeleton3D.track_id``), after ``birth_instants`` consecutive measured
   instants; a tentative track that misses an instant is dropped (a false detection meeting
   another camera's once never becomes a person). A confirmed track unmeasured for
   ``death_timeout_s`` and ``death_instants`` instants in a row dies. Ids are never reused:
   away longer, a person comes back under a new id (no re-identification); within, the old id.
   Low instant rates: after a missed instant a track's match gate widens by the walk since its
   last measurement (``max_speed_mps``): a walker's prediction 2 s ahead is metres off.

Each person has a :class:`~mec_coop.fusion.tracking.SkeletonTrack` and bone lengths (``shape``).
"""

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from mec_coop.fusion.detections import (confident, depths, keypoint_costs, padded,
                                        person_sizes, project, size_mismatch)
from mec_coop.fusion.grouping import (birth_groups, claimed_pixels, contested, contradicting,
                                      doubtful, firm_only, skeleton_distance, young_claims)
from mec_coop.fusion.resolve import BONE_SAMPLES, measured_only, resolve
from mec_coop.fusion.shape import PersonShape
from mec_coop.fusion.tracking import SkeletonTrack, TrackConfig, TrackUpdate
from mec_coop.geometry.camera import PinholeCamera
from mec_coop.geometry.dlt import MIN_NOISE_PX
from mec_coop.geometry.triangulation import METHODS, triangulate, Triangulation

# Constant velocity: a walking body's translation dominates the matching cost, and at 2 fps the
# decaying velocity of the crops' track (feedback.DEFAULT_TRACK) leaves walkers 0.5 m behind,
# which swaps people where they cross (virtual-rig replay: 15 id switches with it, 3 without).
ASSOCIATION_TRACK = TrackConfig(accel_psd=16.0)


@dataclass(frozen=True)
class AssociationSettings:
    """
    Association parameters (units in brackets).

    :param match_gate: largest track-to-detection cost [projected person size].
    :param epipolar_gate: largest pair cost for births [normalised image units, ~rad].
    :param min_confidence: keypoints below this confidence take no part in association.
    :param min_joints: confident joints a detection, and a pair of them, need.
    :param min_views: cameras a person needs to be triangulated.
    :param min_valid_joints: valid triangulated joints for a measurement of a person.
    :param min_inlier_fraction: share of a detection's confident joints the triangulation must
        use, else the detection was another person's and is released.
    :param birth_instants: consecutive measured instants before a track is confirmed (K).
    :param ambiguity_ratio: a two-camera birth needs its pair cost below this fraction of each
        detection's next consistent candidate in the other camera.
    :param human_checks: with the robust triangulation, drop left/right-swapped views and flag
        implausible bone lengths (a group mixing two people at different depths has them).
    :param duplicate_fraction: two detections of one camera whose joints lie within this
        fraction of the person's extent (median) are one person; the weaker is ignored.
    :param death_timeout_s: a confirmed track unmeasured for this long, and for
        ``death_instants`` instants in a row, dies [s].
    :param death_instants: at a low instant rate the timeout alone would end a track at its
        first missed instant (1 fps, 1.5 s); it also needs this many in a row.
    :param reattach_m: mean joint distance under which a new group continues a lost track (at
        its prediction), or duplicates a measured one [m].
    :param max_speed_mps: how fast people walk: after a missed instant a track's match gate
        widens by the distance since its last measurement (relative to its size), and a track
        measured once continues a new group up to ``reattach_m`` plus that distance [m/s].
    :param resolve_m: a joint whose views disagree is decided by the track's prediction within
        this distance (:mod:`mec_coop.fusion.resolve`; 0: never) [m].
    :param contested_views: a track's detection that another track may own as well (two
        people overlapping in the view) is left out (:func:`~mec_coop.fusion.grouping.
        contested`); False: the Hungarian pairing alone decides, as before.
    :param firm_views: with ``contested_views``, a track with at least this many firm views
        (and ``min_views``) leaves out its doubtful ones (:func:`~mec_coop.fusion.grouping.
        doubtful`); 0: never.
    :param young_instants: a track measured fewer times than this (no velocity yet) checks its
        claims against each other (:func:`~mec_coop.fusion.grouping.young_claims`). 0: never.
    :param resolve_bones: with ``resolve_m``, the track's bone lengths judge too (docs/people.md).
    :param noise_floor: the triangulation's keypoint noise estimate goes no lower than this
        fraction of the person's size in pixels (:func:`~mec_coop.fusion.detections.person_sizes`);
        0: the geometry's fixed floor (``dlt.MIN_NOISE_PX``) alone.
    :param resolve_publish_only: joints ``resolve`` decided are published but kept out of the
        track's update and bone lengths (:func:`~mec_coop.fusion.resolve.measured_only`);
        False: they update the track like any measured joint.
    """

    match_gate: float = 0.5
    epipolar_gate: float = 0.03
    min_confidence: float = 0.3
    min_joints: int = 5
    min_views: int = 2
    min_valid_joints: int = 6
    min_inlier_fraction: float = 0.5
    birth_instants: int = 2
    duplicate_fraction: float = 0.1
    human_checks: bool = True
    ambiguity_ratio: float = 0.5
    death_timeout_s: float = 1.5
    death_instants: int = 3
    reattach_m: float = 0.5
    max_speed_mps: float = 1.5
    resolve_m: float = 0.3
    contested_views: bool = True
    firm_views: int = 2
    young_instants: int = 3
    resolve_bones: bool = True
    resolve_publish_only: bool = True
    noise_floor: float = 0.0
    triangulation: str = 'robust'
    outlier_threshold_px: float = 30.0
    max_joint_std_m: float = 0.12
    track: TrackConfig = ASSOCIATION_TRACK

    def __post_init__(self) -> None:
        for name in ('match_gate', 'epipolar_gate', 'death_timeout_s', 'reattach_m',
                     'outlier_threshold_px', 'max_joint_std_m', 'max_speed_mps'):
            if not getattr(self, name) > 0:
                raise ValueError(f'{name} must be > 0, got {getattr(self, name)}')
        if not 0.0 <= self.noise_floor < 1.0:
            raise ValueError(f'noise_floor must be in [0, 1), got {self.noise_floor}')
        if not 0.0 <= self.resolve_m < np.inf:
            raise ValueError(f'resolve_m must be finite and >= 0, got {self.resolve_m}')
        if not 0.0 <= self.min_confidence <= 1.0 or not 0.0 <= self.min_inlier_fraction <= 1.0:
            raise ValueError('min_confidence and min_inlier_fraction must be in [0, 1]')
        counts_ok = 1 <= self.min_joints <= 17 and 1 <= self.min_valid_joints <= 17
        if self.min_views < 2 or self.birth_instants < 1 or not counts_ok or \
                self.firm_views == 1 or min(self.young_instants, self.death_instants) < 0:
            raise ValueError('need min_views >= 2, birth_instants >= 1, 1 <= min_joints, '
                             'min_valid_joints <= 17, firm_views 0 or >= 2, young_instants >= 0, '
                             'death_instants >= 0')
        if self.triangulation not in METHODS:
            raise ValueError(f'triangulation must be one of {METHODS}, got {self.triangulation!r}')


@dataclass(frozen=True)
class ViewDetections:
    """One camera's people at the instant: ``pixels (N, J, 2)`` raw pixels, ``weights (N, J)``."""

    camera: PinholeCamera
    pixels: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        p, w = np.asarray(self.pixels, dtype=np.float64), np.asarray(self.weights, float)
        if p.ndim != 3 or p.shape[2] != 2 or w.shape != p.shape[:2]:
            raise ValueError(f'{self.camera.name}: need pixels (N, J, 2) and weights (N, J), '
                             f'got {p.shape} and {w.shape}')
        object.__setattr__(self, 'pixels', p)
        object.__setattr__(self, 'weights', w)


@dataclass
class PersonEstimate:
    """
    One person measured at the instant.

    ``person_indices (V,)``: the detection of each camera used (index into that camera's
    detections), -1 where none; ``track_id`` 0 while the track is tentative.
    """

    track_id: int
    triangulation: Triangulation
    person_indices: np.ndarray
    update: Optional[TrackUpdate]  # None: the instant was older than the track
    resolved: Optional[np.ndarray] = None  # (J,) joints decided by the track, publish-only


@dataclass
class StepResult:
    """What one instant produced: confirmed people measured now, and identity events."""

    people: list[PersonEstimate] = field(default_factory=list)
    tentative: int = 0
    born: list[int] = field(default_factory=list)
    died: list[int] = field(default_factory=list)
    released_detections: int = 0
    resolved_joints: int = 0  # joints the views disagreed on, decided by the track
    contradicted: int = 0   # two-camera measurements or births other cameras spoke against
    contested_views: int = 0  # tracks' detections left out: another track may own them
    outvoted_views: int = 0  # young tracks' claims their other views place elsewhere


class _Person:
    """A track and what the association knows about it."""

    def __init__(self, config: TrackConfig) -> None:
        self.track = SkeletonTrack(config)
        self.track_id = 0
        self.hits = 0
        self.misses = 0  # consecutive instants unmeasured
        self.gap = False  # the last measurement came after a missed instant
        self.last_seen = -np.inf
        self.points: Optional[np.ndarray] = None  # last measured skeleton (J, 3), NaN invalid
        self.shape = PersonShape()


class Associator:
    """Tracks of several people over time; see the module docstring. Not thread-safe."""

    def __init__(self, settings: AssociationSettings = AssociationSettings()) -> None:
        self.settings = settings
        self.tracks: list[_Person] = []
        self._next_id = 1

    def reset(self) -> None:
        """Forget every track (ids keep counting: an id is never given twice)."""
        self.tracks = []

    @property
    def confirmed(self) -> list[_Person]:
        return [t for t in self.tracks if t.track_id]

    def step(self, stamp: float, views: Sequence[ViewDetections]) -> StepResult:
        """Associate, triangulate and track one capture instant (``stamp`` in seconds)."""
        s, out = self.settings, StepResult()
        if not np.isfinite(stamp):
            raise ValueError(f'stamp must be finite, got {stamp}')
        for t in list(self.tracks):
            if t.track_id and stamp - t.last_seen > s.death_timeout_s and \
                    t.misses >= s.death_instants:
                self.tracks.remove(t)
                out.died.append(t.track_id)
        V = len(views)
        if not V:
            self._commit(stamp, {}, {}, {}, out, np.empty((0, 0, 3)))
            return out
        P = np.stack([v.camera.P for v in views])
        ideal, ok = confident(views, s.min_confidence, s.duplicate_fraction)
        pred = np.array([t.track.predict(max(stamp, t.last_seen), max(
            s.death_timeout_s, stamp - t.last_seen)).points
                         for t in self.tracks]).reshape(len(self.tracks), -1, 3) \
            if self.tracks else np.zeros((0, views[0].pixels.shape[1], 3))
        claims, withheld = self._match_tracks(P, pred, ideal, ok, views, self._gates(stamp, pred))
        out.contested_views = sum(len(w) for w in withheld)
        for r in (r for r, t in enumerate(self.tracks) if t.hits < s.young_instants):
            out.outvoted_views += young_claims(P, ideal, ok, views, claims, withheld, r,
                                               s.ambiguity_ratio, s.min_joints)
        measured, resolved = self._triangulate(P, ideal, ok, views, claims, out), {}
        for r, (tri, claim) in measured.items():
            bones = self.tracks[r].shape.reference(BONE_SAMPLES) if s.resolve_bones else None
            new, n = resolve(P, *claimed_pixels(ideal, ok, views, claim), tri, pred[r],
                             s.resolve_m, s.ambiguity_ratio, s.outlier_threshold_px, bones)
            measured[r], out.resolved_joints = (new, claim), out.resolved_joints + n
            if s.resolve_publish_only:
                resolved[r] = new.valid & ~tri.valid
        for r, (tri, claim) in list(measured.items()):
            # A confirmed track may lose a camera to occlusion: two must speak against it.
            if (claim >= 0).sum() == 2 and contradicting(
                    P, ideal, ok, views, tri.points, claim, s.min_joints,
                    s.match_gate) >= 1 + bool(self.tracks[r].track_id):
                del measured[r]
                out.contradicted += 1
        # A track measured once has no velocity: a lone view it claims is likely a stranger's
        # (at 1 fps the person walked 1-1.5 m); it goes to births, which may continue the track.
        young = np.array([t.hits < 2 for t in self.tracks], dtype=bool)
        claims[young & ((claims >= 0).sum(-1) < s.min_views)] = -1
        free = []
        for v in range(V):
            unclaimed = ok[v].sum(-1) >= s.min_joints
            unclaimed[claims[:, v][claims[:, v] >= 0]] = False
            unclaimed[withheld[v]] = False
            free.append(np.flatnonzero(unclaimed))
        births = birth_groups(views, ideal, ok, free, s.min_joints, s.epipolar_gate,
                              s.ambiguity_ratio, s.min_views)
        group_claims = np.array([[g.get(v, -1) for v in range(V)] for g in births], dtype=int)
        born = self._triangulate(P, ideal, ok, views, group_claims.reshape(-1, V), out)
        for r, (tri, claim) in list(born.items()):
            if (claim >= 0).sum() == 2 and contradicting(P, ideal, ok, views, tri.points,
                                                         claim, s.min_joints, s.match_gate):
                del born[r]
                out.contradicted += 1
        self._commit(stamp, measured, born, resolved, out, pred)
        return out

    # -- step 1: tracks ----------------------------------------------------------------------
    def _gates(self, stamp: float, pred: np.ndarray) -> np.ndarray:
        """Return each track's match gate ``(T,)``, widened by its walk since last measured."""
        # The walk (max_speed_mps x the time since) in the cost's unit: the skeleton's size.
        s = self.settings
        with np.errstate(invalid='ignore'):
            size = np.linalg.norm(np.nanmax(pred, 1) - np.nanmin(pred, 1), axis=-1)
        # Only after a miss (the velocity restarts): always wide took slow people's detections.
        since = np.array([(stamp - t.last_seen) * (t.misses > 0 or t.gap) for t in self.tracks])
        return s.match_gate + s.max_speed_mps * since / np.where(size > 0.5, size, np.inf)

    def _match_tracks(self, P: np.ndarray, pred: np.ndarray, ideal: list, ok: list,
                      views: Sequence[ViewDetections], gates: np.ndarray
                      ) -> tuple[np.ndarray, list]:
        """
        Pair tracks and detections per camera.

        Return the claims ``(T, V)`` of the tracks predicted at ``pred (T, J, 3)`` (-1: none),
        and per view the detections withheld from everyone as contested
        (:func:`~mec_coop.fusion.grouping.contested`).
        """
        s = self.settings
        claims = np.full((len(self.tracks), len(views)), -1)
        withheld = [np.zeros(0, dtype=int)] * len(views)
        doubt = claims >= 0
        if len(pred):
            # Every camera at once (numpy's per-call overhead, not arithmetic, dominated).
            px = project(P, pred).swapaxes(0, 1)                                 # (V, T, J, 2)
            pad = padded(ideal, ok, [v.weights for v in views])
            costs = keypoint_costs(px, *pad, s.min_joints)                       # (V, T, N)
            if s.contested_views:
                depth, sizes = depths(P, pred), size_mismatch(px, *pad[:2])
        for v in range(len(views) if len(pred) else 0):
            if not len(ideal[v]):
                continue
            cost = costs[v, :, :len(ideal[v])]
            gated = np.where(cost <= gates[:, None], cost, 1e6)
            rows, cols = linear_sum_assignment(gated)
            keep = gated[rows, cols] < 1e6
            claims[rows[keep], v] = cols[keep]
            if s.contested_views:
                hard = contested(claims[:, v], cost, depth[v], sizes[v, :, :len(ideal[v])],
                                 s.match_gate, s.ambiguity_ratio)
                withheld[v], claims[hard, v] = claims[hard, v], -1
                doubt[:, v] = doubtful(claims[:, v], cost, s.match_gate, s.ambiguity_ratio)
        firm = max(s.firm_views, s.min_views) if s.firm_views else len(views) + 1
        out = firm_only(claims, doubt, firm)
        for v in np.flatnonzero(out.any(0)):
            withheld[v], claims[out[:, v], v] = np.append(withheld[v], claims[out[:, v], v]), -1
        return claims, withheld

    # -- step 2: triangulation ---------------------------------------------------------------
    def _triangulate(self, P: np.ndarray, ideal: list, ok: list,
                     views: Sequence[ViewDetections], claims: np.ndarray,
                     out: StepResult) -> dict:
        """Triangulate each row of ``claims`` (T, V); return row -> (triangulation, claims)."""
        s, results = self.settings, {}
        rows = np.flatnonzero((claims >= 0).sum(-1) >= s.min_views)
        for _ in range(2):  # a second pass only for rows that lost a detection
            if not len(rows):
                break
            x, w = (np.array(a) for a in zip(*(claimed_pixels(ideal, ok, views, claims[r])
                                               for r in rows)))
            tri = triangulate(P, x, w, min_views=s.min_views, method=s.triangulation,
                              outlier_threshold_px=s.outlier_threshold_px,
                              max_std_m=s.max_joint_std_m, ideal_pixels=True,
                              human_checks=s.human_checks and s.triangulation == 'robust',
                              min_noise_px=np.fmax(s.noise_floor * person_sizes(x, w),
                                                   MIN_NOISE_PX) if s.noise_floor else
                              MIN_NOISE_PX)
            had = w > 0
            used = tri.used & had
            wrong = had.any(-1) & (used.sum(-1) < s.min_inlier_fraction * had.sum(-1))
            again = []
            for i, r in enumerate(rows):
                if wrong[i].any():
                    claims[r, wrong[i]] = -1
                    out.released_detections += int(wrong[i].sum())
                    if (claims[r] >= 0).sum() >= s.min_views:
                        again.append(r)
                    continue
                one = _index(tri, i)
                if one.valid.sum() >= s.min_valid_joints:
                    results[r] = (one, claims[r].copy())
            rows = np.array(again, dtype=int)
        return results

    # -- step 4: identities ------------------------------------------------------------------
    def _commit(self, stamp: float, measured: dict, born: dict, resolved: dict,
                out: StepResult, pred: np.ndarray) -> None:
        """
        Update, start, confirm and drop tracks.

        ``resolved``: row -> publish-only joints; ``pred (T, J, 3)``: the tracks at ``stamp``.
        """
        s = self.settings
        tracks = list(self.tracks)
        for _, (tri, claim) in sorted(born.items(), key=lambda item: item[0]):
            # A lost person is where the track heads or was last seen; a young one reaches far.
            near = {k: skeleton_distance(tri.points, measured[k][0].points) if k in measured
                    else min(skeleton_distance(tri.points, pred[k]),
                             skeleton_distance(tri.points, t.points))
                    for k, t in enumerate(tracks)}
            reach = {k: s.reattach_m + s.max_speed_mps * (stamp - t.last_seen) * (t.hits < 2)
                     for k, t in enumerate(tracks) if k not in measured}
            if any(d < s.reattach_m for k, d in near.items() if k in measured):
                continue  # the same person, already measured through the tracks
            lost = [k for k, r in reach.items() if near[k] < r]
            if lost:
                measured[min(lost, key=near.__getitem__)] = (tri, claim)
                continue
            tracks.append(_Person(s.track))
            measured[len(tracks) - 1] = (tri, claim)
        kept = []
        for k, t in enumerate(tracks):
            if k not in measured:
                if t.track_id or not t.hits:  # a tentative track must be seen every instant
                    kept.append(t)
                    t.misses += 1
                continue
            kept.append(t)
            tri, claim = measured[k]
            fed = measured_only(tri, resolved.get(k))
            result = t.track.update(stamp, fed.points, fed.valid)
            update: Optional[TrackUpdate] = result if result.accepted else None
            if update is not None:
                t.hits, t.misses, t.gap = t.hits + 1, 0, t.misses > 0
                t.last_seen = stamp
                t.points = fed.points
                t.shape.learn(fed)
            if not t.track_id and t.hits >= s.birth_instants:
                t.track_id = self._next_id
                self._next_id += 1
                out.born.append(t.track_id)
            if t.track_id:
                out.people.append(PersonEstimate(t.track_id, tri, claim, update,
                                                 resolved.get(k)))
        self.tracks = kept
        out.tentative = sum(1 for t in self.tracks if not t.track_id)
        out.people.sort(key=lambda p: p.track_id)


def _index(tri: Triangulation, i: int) -> Triangulation:
    """Element ``i`` of a batched triangulation."""
    return Triangulation(**{k: getattr(tri, k)[i] for k in tri.__dataclass_fields__})
