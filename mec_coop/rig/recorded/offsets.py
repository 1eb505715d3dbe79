# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Temporal offsets between the cameras of a recorded rig, found by cross-view triangulation.

Measured with :func:`estimate_offsets` and the real yolo11n-pose (imgsz 640, all 100 frames):
the demo videos are in sync to within about two frames (33 ms). On ``Demo_SinglePerson`` the
best integer offsets relative to cam01 were cam02 +1, cam03 +2, cam04 +1, lowering the median
reprojection error only from 18.24 to 18.18 px; the paired per-frame bootstrap interval of that
change includes zero, the estimate moves at imgsz 1280 (+4, +4, +1), and on
``Demo_MultiPerson`` the cost is flat within 1 px over +-5 frames. None of this justifies a
non-zero default, so offsets default to 0 (``python -m mec_coop.rig.recorded`` reruns it).
"""

from collections.abc import Sequence
from dataclasses import dataclass
import itertools
import math
import os
from typing import Any, TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from mec_coop.geometry.camera import PinholeCamera
from mec_coop.geometry.triangulation import triangulate

from .playback import RecordedRig
from .video import iter_video

if TYPE_CHECKING:
    from mec_coop.pose.backend import PoseBackend


@dataclass
class OffsetEstimate:
    """Result of :func:`estimate_offsets`."""

    offsets: dict[str, int]  # {camera: frames}, reference camera 0
    candidates: np.ndarray  # (2 * max_offset + 1,) candidate offsets
    costs: np.ndarray      # (V, C) median reprojection error of each candidate, last round
    error_zero: float      # median reprojection error with all offsets 0
    error_best: float      # median reprojection error with the estimated offsets
    frames_zero: int       # frames that scored with all offsets 0
    frames_best: int       # frames that scored with the estimated offsets


def _undistort_detections(cameras, detections):
    """Per camera, per frame ``(N, J, 3)`` arrays with undistorted pixels (scores kept)."""
    out = []
    for cam, frames in zip(cameras, detections):
        per_frame = []
        for det in frames:
            det = np.asarray(det, dtype=np.float64)
            if det.size == 0:
                per_frame.append(np.zeros((0, 0, 3)))
                continue
            if det.ndim != 3 or det.shape[-1] != 3:
                raise ValueError(f'camera {cam.name!r}: detections must be (N, J, 3) arrays of '
                                 f'(x, y, score), got {det.shape}')
            ideal = cam.undistort_pixels(det[..., :2])
            per_frame.append(np.concatenate([ideal, det[..., 2:]], axis=-1))
        out.append(per_frame)
    return out


def _match_frames(P, frames, settings):
    """
    Greedy cross-view matching of the people of many frames at once.

    ``frames`` is a list over frames of per-view ``(N, J, 3)`` undistorted detections. In each
    round every frame takes, among its still unused detections, the combination (one per view,
    the ``max_candidates`` most confident) whose triangulation has the lowest median joint
    reprojection error. A person counts if ``min_views`` views and ``min_joints`` joints back
    it; people after the first must also stay under ``gate_px``, so leftovers paired across
    different people are not taken for someone. Returns ``(cost (F,), people)``: per frame the
    median error over the joints of all its people (inf if none) and the list of
    ``(combo, error)`` of its people, ``combo[v]`` being a detection index or -1.
    """
    V = P.shape[0]
    F = len(frames)
    people = [[] for _ in range(F)]
    errors = [[] for _ in range(F)]
    used = [[set() for _ in range(V)] for _ in range(F)]
    J = next((d.shape[1] for views in frames for d in views if d.shape[0]), 0)
    missing = np.full((1, J, 3), np.nan)
    for person in range(settings['max_people'] if J else 0):
        sets, owners, combos = [], [], []
        for f, views in enumerate(frames):
            options = []
            for v, det in enumerate(views):
                free = [i for i in range(det.shape[0]) if i not in used[f][v]]
                free.sort(key=lambda i: -np.nanmean(det[i, :, 2]))
                options.append(free[:settings['max_candidates']] or [-1])
            idx = np.array(list(itertools.product(*options)), dtype=np.int64).reshape(-1, V)
            idx = idx[np.sum(idx >= 0, axis=1) >= settings['min_views']]
            if not idx.size:
                continue
            # Index -1 picks the appended NaN row: the view has no detection left.
            sets.append(np.stack([np.concatenate([det if det.shape[0] else missing[:0], missing])
                                  [idx[:, v]] for v, det in enumerate(views)], axis=1))
            owners.extend([f] * len(idx))
            combos.extend(tuple(int(i) for i in row) for row in idx)
        if not sets:
            break
        pts = np.concatenate(sets)
        weights = np.where(pts[..., 2] >= settings['min_score'], pts[..., 2], 0.0)
        # No outlier rejection: a wrong pairing (or a wrong offset) must show in the error.
        with np.errstate(divide='ignore', invalid='ignore'):
            tri = triangulate(P, pts[..., :2], weights, min_views=2, outlier_threshold_px=None,
                              ideal_pixels=True)
            err = np.where(tri.valid, tri.reprojection_error, np.nan)
            enough = np.sum(tri.valid, axis=-1) >= settings['min_joints']
            score = np.full(len(owners), np.inf)
            score[enough] = np.nanmedian(err[enough], axis=-1)
        if person > 0:
            score[score > settings['gate_px']] = np.inf
        owners = np.asarray(owners)
        order = np.lexsort((score, owners))
        firsts = order[np.r_[True, owners[order][1:] != owners[order][:-1]]]
        best = [(int(owners[k]), int(k)) for k in firsts if np.isfinite(score[k])]
        if not best:
            break
        for f, k in best:
            people[f].append((combos[k], float(score[k])))
            errors[f].append(err[k][np.isfinite(err[k])])
            for v, i in enumerate(combos[k]):
                if i >= 0:
                    used[f][v].add(i)
    cost = np.array([float(np.median(np.concatenate(e))) if e else np.inf for e in errors])
    return cost, people


def _settings(min_score, max_candidates, min_joints, min_views, max_people, gate_px):
    return {'min_score': min_score, 'max_candidates': max_candidates, 'min_joints': min_joints,
            'min_views': min_views, 'max_people': max_people, 'gate_px': gate_px}


def _aligned(detections, offsets):
    """Frame lists of all views on the common timeline for integer ``offsets`` (V,)."""
    first = np.asarray(offsets) - min(offsets)
    count = min(len(frames) - s for frames, s in zip(detections, first))
    return [[detections[v][n + first[v]] for v in range(len(detections))]
            for n in range(max(count, 0))]


def match_people(cameras: Sequence[PinholeCamera], detections: Sequence[ArrayLike],
                 max_people: int = 1, min_score: float = 0.3, max_candidates: int = 3,
                 min_joints: int = 6, min_views: int = 2,
                 gate_px: float = 50.0) -> list[tuple[np.ndarray, float]]:
    """
    Match the people of one synchronized frame across views by triangulation.

    :param cameras: the :class:`PinholeCamera` of each view.
    :param detections: per view, an ``(N, J, 3)`` array of ``(x, y, score)`` keypoints in the
        (distorted) image; ``N`` may be 0.
    :param max_people: people to match, most consistent first.
    :param min_score: keypoints below this score are not triangulated.
    :param max_candidates: per view and person, the most confident unused detections tried.
    :param min_joints: joints that two views must see for a person to count.
    :param min_views: views that must see a person.
    :param gate_px: people after the first must have a median joint error below this.
    :return: a list (most consistent first) of ``(keypoints (V, J, 3), error)``: the detection
        of each view (NaN where the person is not matched in that view) and the median joint
        reprojection error in pixels.
    """
    dets = [np.asarray(d, dtype=np.float64) for d in detections]
    if len(dets) != len(cameras):
        raise ValueError(f'{len(dets)} detection arrays for {len(cameras)} cameras')
    ideal = _undistort_detections(cameras, [[d] for d in dets])
    P = np.stack([cam.P for cam in cameras])
    settings = _settings(min_score, max_candidates, min_joints, min_views, max_people, gate_px)
    _, people = _match_frames(P, [[frames[0] for frames in ideal]], settings)
    out = []
    for combo, error in people[0]:
        J = next(d.shape[1] for d, i in zip(dets, combo) if i >= 0)
        kp = np.full((len(cameras), J, 3), np.nan)
        for v, i in enumerate(combo):
            if i >= 0:
                kp[v] = dets[v][i]
        out.append((kp, error))
    return out


def estimate_offsets(cameras: Sequence[PinholeCamera],
                     detections: Sequence[Sequence[ArrayLike]], max_offset: int = 30,
                     reference: int = 0, max_people: int = 1, min_score: float = 0.3,
                     max_candidates: int = 3, min_joints: int = 6, min_views: int | None = None,
                     gate_px: float = 50.0, min_frames: int = 10,
                     rounds: int = 3) -> OffsetEstimate:
    """
    Per-camera frame offsets that make the views' 2D keypoints triangulate best.

    Each frame's people are matched across views by :func:`match_people`; a candidate offset
    scores the median, over the frames it leaves in common, of the frame's median joint
    reprojection error. A first pass pairs each camera with the reference alone (two-view
    error, blind to the other cameras' still unknown offsets); then each camera's offset is
    searched again with all views, for up to ``rounds`` passes or until nothing changes.

    :param cameras: the :class:`PinholeCamera` of each view.
    :param detections: per camera, a sequence over its *source* frames of ``(N, J, 3)`` arrays
        of ``(x, y, score)`` keypoints in the (distorted) image.
    :param max_offset: offsets ``-max_offset..max_offset`` frames are tried.
    :param reference: index of the camera whose offset is fixed at 0.
    :param max_people: as in :func:`match_people`, like ``min_score``, ``max_candidates``,
        ``min_joints`` and ``gate_px``.
    :param min_views: views that must see a person in the all-view passes (default: 3, or 2 for
        two cameras); the pairwise pass uses 2.
    :param min_frames: a candidate leaving fewer scored frames in common is rejected.
    :param rounds: at most this many all-view passes.
    :return: :class:`OffsetEstimate`; ``offsets`` uses the convention of
        :class:`~.playback.RecordedRig`.
    """
    V = len(cameras)
    if len(detections) != V:
        raise ValueError(f'{len(detections)} detection sequences for {V} cameras')
    if not 0 <= reference < V:
        raise ValueError(f'reference camera {reference} is outside 0..{V - 1}')
    if min_views is None:
        min_views = min(3, V)
    ideal = _undistort_detections(cameras, detections)
    P = np.stack([cam.P for cam in cameras])
    candidates = np.arange(-max_offset, max_offset + 1)
    settings = _settings(min_score, max_candidates, min_joints, min_views, max_people, gate_px)
    pair_settings = dict(settings, min_views=2)

    def evaluate(offsets, views=None):
        views = list(range(V)) if views is None else views
        frames = _aligned([ideal[v] for v in views], [offsets[v] for v in views])
        if not frames:
            return math.inf, 0
        cost, _ = _match_frames(P[views], frames,
                                pair_settings if len(views) == 2 else settings)
        scored = cost[np.isfinite(cost)]
        if scored.size < min_frames:
            return math.inf, int(scored.size)
        return float(np.median(scored)), int(scored.size)

    def scan(offsets, v, views=None):
        costs = np.empty(candidates.size)
        for k, d in enumerate(candidates):
            trial = list(offsets)
            trial[v] = int(d)
            costs[k] = evaluate(trial, views)[0]
        return costs

    offsets = [0] * V
    costs = np.full((V, candidates.size), np.nan)
    for v in range(V):
        if v != reference:
            costs[v] = scan(offsets, v, views=[reference, v])
            if np.any(np.isfinite(costs[v])):
                offsets[v] = int(candidates[np.argmin(costs[v])])
    for _ in range(rounds if V > 2 else 0):
        changed = False
        for v in range(V):
            if v == reference:
                continue
            costs[v] = scan(offsets, v)
            if not np.any(np.isfinite(costs[v])):
                continue
            best = int(candidates[np.argmin(costs[v])])
            changed |= best != offsets[v]
            offsets[v] = best
        if not changed:
            break
    error_zero, frames_zero = evaluate([0] * V)
    error_best, frames_best = evaluate(offsets)
    return OffsetEstimate({cam.name: off for cam, off in zip(cameras, offsets)}, candidates,
                          costs, error_zero, error_best, frames_zero, frames_best)


def detect_videos(rig: RecordedRig, model: 'PoseBackend',
                  stride: int = 1) -> list[list[np.ndarray]]:
    """
    Run a pose model on every ``stride``-th source frame of every camera.

    ``model`` is a :class:`~mec_coop.pose.backend.PoseBackend`; each detection is an
    ``(N, 17, 3)`` array of (x, y, score). The videos are read independently of the rig's
    offsets, as :func:`estimate_offsets` needs. Returns per camera a list over the source
    frames read; with ``stride`` > 1 the offsets found are in units of ``stride`` frames.
    """
    out = []
    for name in rig.camera_names:
        info = rig.videos[name]
        out.append([model.predict(image).as_array()
                    for index, image in iter_video(info.path, info.frame_count)
                    if index % stride == 0])
    return out


def save_detections(path: str | os.PathLike[str],
                    detections: Sequence[Sequence[np.ndarray]]) -> None:
    """Store :func:`detect_videos` output in an ``.npz`` (no pickle)."""
    # Any: numpy types **kwargs of savez as if they could fill its allow_pickle flag.
    arrays: dict[str, Any] = {}
    for v, frames in enumerate(detections):
        J = next((np.asarray(d).shape[1] for d in frames if np.asarray(d).size), 0)
        counts = np.array([len(d) for d in frames], dtype=np.int64)
        stacked = [np.asarray(d, dtype=np.float64).reshape(-1, J, 3) for d in frames]
        arrays[f'counts_{v}'] = counts
        arrays[f'keypoints_{v}'] = (np.concatenate(stacked) if counts.sum()
                                    else np.zeros((0, J, 3)))
    np.savez_compressed(path, num_cameras=len(detections), **arrays)


def load_detections(path: str | os.PathLike[str]) -> list[list[np.ndarray]]:
    """Inverse of :func:`save_detections`."""
    with np.load(path, allow_pickle=False) as data:
        out = []
        for v in range(int(data['num_cameras'])):
            counts, kp = data[f'counts_{v}'], data[f'keypoints_{v}']
            out.append(np.split(kp, np.cumsum(counts)[:-1]))
    return out
