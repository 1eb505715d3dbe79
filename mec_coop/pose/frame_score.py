# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Per-frame scores that a camera's dual threshold compares (send keypoints / offload / drop).

Every score is in ``[0, 1]``, 0 when nobody is found, and is selectable by name
(:data:`FRAME_SCORES`, :func:`frame_score`):

``paper``
    The frame confidence of the cooperative edge inference paper: mean of the 17 joint
    confidences of the most confident person (:meth:`PoseEstimate.frame_confidence`). On full
    frames at imgsz 320 it is bimodal (found: > 0.7, missed: 0): it says whether the model saw
    someone, not how good the keypoints are.
``joints_box``
    ``sqrt(mean joint confidence * box score)`` of the chosen person. At a low detection
    threshold (0.05) a partly hidden person is still reported, with a box score of 0.05-0.25
    and joint confidences of 0.35-0.5 that the paper score alone would pass as fair; the product
    puts it near the drop threshold. The square root keeps good views near 0.85, where the
    paper score puts them, so existing thresholds stay meaningful.
``track_agreement``
    ``joints_box`` times the share of joints near the keypoints the edge predicted from its 3D
    track (the ones the ROI was built from): within ``tolerance`` (0.2) of the predicted person's
    longest extent, or twice the edge's stated ``prediction_error_px`` if that is larger. The
    track is an estimate independent of this image, so a confident but wrong pose (a lying
    person's limbs misplaced) scores low. Falls back to ``joints_box`` without a prediction. The
    radius must exceed the track's error or good views score low too: with a 30 px error and a
    fixed 0.2 tolerance the AUC below falls from 0.98 to 0.72; with the radius at twice the
    stated error it is 0.92 (paper: 0.81).

On the virtual rig with ROI crops (``benchmarks/camera_roi.py``: seeds 0-2, 300 views, 15 px of
prediction error) the ROC AUC of flagging views with a median 2D error above 10 px is 0.88 for
``paper``, 0.90 for ``joints_box`` and 0.98 for ``track_agreement`` (per seed: paper 0.76-0.98,
track_agreement 0.97-1.00). On full frames at imgsz 320 the AUCs of 0.79-0.85 come mostly from
telling found from missed: among the views the model finds, ``paper`` ranks at 0.60, about
chance. See ``docs/figures/camera_roi.json`` and ``docs/figures/frame_score.png``.
"""

from typing import Callable, Dict, Optional

import numpy as np

from mec_coop.pose.backend import PoseEstimate

# Share of the predicted person's longest extent within which a joint agrees with the track.
DEFAULT_TOLERANCE = 0.2
# Agreement radius / the track's prediction error: the best ratio at 15 and at 30 px of error.
ERROR_RADIUS_FACTOR = 2.0


def select_person(estimate: PoseEstimate, predicted: Optional[np.ndarray] = None) -> int:
    """
    Return the index of the person a frame score is about, ``-1`` when nobody was found.

    Without a prediction: the most confident person (:meth:`PoseEstimate.best`). With the
    predicted keypoints ``(17, 2)`` of the tracked person: the person nearest to them (median
    joint distance), so a more confident bystander does not take the track's place. With
    several tracked people ``(P, 17, 2)`` (first: the longest-lived track): the one nearest to
    the first (the single-person edge's choice; the association uses every person).
    """
    if not estimate.num_people:
        return -1
    if predicted is not None and np.ndim(predicted) == 3:
        predicted = predicted[0] if len(predicted) else None
    if predicted is None or not np.any(np.isfinite(predicted)):
        return estimate.best()
    dist = np.linalg.norm(estimate.keypoints - np.asarray(predicted, dtype=np.float64)[None],
                          axis=-1)
    with np.errstate(invalid='ignore'):
        return int(np.nanargmin(np.nanmedian(dist, axis=1)))


def agreement(keypoints: np.ndarray, predicted: np.ndarray,
              tolerance: float = DEFAULT_TOLERANCE, prediction_error_px: float = 0.0) -> float:
    """
    Return the share of joints near ``predicted``.

    Near: within ``tolerance`` x the predicted person's longest extent, or within
    :data:`ERROR_RADIUS_FACTOR` x ``prediction_error_px`` if that is larger. Only joints with a
    finite prediction count; fewer than two give 0 (no extent to scale by).
    """
    predicted = np.asarray(predicted, dtype=np.float64)
    ok = np.all(np.isfinite(predicted), axis=-1)
    if ok.sum() < 2:
        return 0.0
    extent = float(np.max(np.ptp(predicted[ok], axis=0)))
    radius = max(tolerance * extent, ERROR_RADIUS_FACTOR * prediction_error_px)
    dist = np.linalg.norm(np.asarray(keypoints, dtype=np.float64)[ok] - predicted[ok], axis=-1)
    return float(np.mean(dist <= radius))


def paper_score(estimate: PoseEstimate, predicted: Optional[np.ndarray] = None) -> float:
    """Return the paper's frame confidence (``predicted`` is ignored)."""
    return estimate.frame_confidence()


def joints_box_score(estimate: PoseEstimate, predicted: Optional[np.ndarray] = None) -> float:
    """Return ``sqrt(mean joint confidence * box score)`` of the chosen person."""
    i = select_person(estimate, predicted)
    if i < 0:
        return 0.0
    return float(np.sqrt(estimate.mean_confidence[i] * estimate.box_scores[i]))


def track_agreement_score(estimate: PoseEstimate, predicted: Optional[np.ndarray] = None,
                          tolerance: float = DEFAULT_TOLERANCE,
                          prediction_error_px: float = 0.0) -> float:
    """Return :func:`joints_box_score` times the chosen person's :func:`agreement`."""
    base = joints_box_score(estimate, predicted)
    if predicted is None or base == 0.0:
        return base
    i = select_person(estimate, predicted)
    return base * agreement(estimate.keypoints[i], predicted, tolerance, prediction_error_px)


FRAME_SCORES: Dict[str, Callable[..., float]] = {
    'paper': paper_score,
    'joints_box': joints_box_score,
    'track_agreement': track_agreement_score,
}


def frame_score(estimate: PoseEstimate, name: str = 'paper',
                predicted: Optional[np.ndarray] = None, floor: float = 0.0,
                **options) -> float:
    """
    Return the frame score ``name`` of one estimate.

    Several people (the routing rule): with the predictions ``(P, 17, 2)`` of every person the
    edge tracks in this image, each tracked person is scored on the detection nearest to its
    prediction. People scoring below ``floor`` (the camera's ``theta_low``: seen too badly to be
    worth the frame, or not in it at all) are left out, and the frame scores as its *least*
    confident remaining person: it is sent as keypoints only if it serves everyone else it
    shows, and a person the nano model sees fairly but not well gets the edge model (offload).
    The frame is dropped only when every tracked person scores below ``floor`` (it then scores
    as its best person). The left-out people's detections stay in the report: the edge's
    association and robust triangulation decide on them. ``floor`` 0 is the earlier rule: the
    least confident person of all, so one badly seen (or hidden) person dropped the frame with
    everyone in it (``docs/people.md``). With ``paper`` (no prediction) it is the most confident
    person.

    :param predicted: ``(17, 2)`` keypoints predicted for the tracked person in this image
        (full-image pixels, NaN where unknown), ``(P, 17, 2)`` for several tracked people, or
        ``None`` without feedback.
    :param floor: score below which a tracked person is left out of a several-people frame.
    :param options: keyword arguments of the score (``track_agreement``: ``tolerance``,
        ``prediction_error_px``).
    """
    if name not in FRAME_SCORES:
        raise ValueError(f'unknown frame score {name!r}; use one of {sorted(FRAME_SCORES)}')
    if predicted is not None and np.ndim(predicted) == 3:
        scores = [FRAME_SCORES[name](estimate, p, **options) for p in predicted]
        if not scores:
            return FRAME_SCORES[name](estimate, None, **options)
        return min((c for c in scores if c >= floor), default=max(scores))
    return FRAME_SCORES[name](estimate, predicted, **options)


def flag_auc(scores, errors, threshold_px: float = 10.0) -> float:
    """
    Return the ROC AUC of flagging views with ``errors > threshold_px`` by a low score.

    The chance that a good view scores above a bad one, ties counting one half (Mann-Whitney).
    An infinite or NaN error (nobody found) is bad. NaN when either class is empty.
    """
    scores = np.asarray(scores, dtype=np.float64)
    bad = ~(np.asarray(errors, dtype=np.float64) <= threshold_px)
    good_s, bad_s = scores[~bad], scores[bad]
    if not len(good_s) or not len(bad_s):
        return float('nan')
    greater = np.mean(good_s[:, None] > bad_s[None, :])
    ties = np.mean(good_s[:, None] == bad_s[None, :])
    return float(greater + 0.5 * ties)
