# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Scoring several people: per-instant matching, accuracy, misses, false people and id switches.

At each ground-truth instant the people and the estimates (published skeletons with their track
ids) are paired by the Hungarian method on MPJPE; a pair further apart than ``max_match_m`` is no
match (the estimate counts as a false person, the ground truth as missed). Over the matched pairs:
MPJPE, PCK@150 mm, PCP and joint coverage, the numbers :class:`~mec_coop.eval.evaluation.
PipelineScore` reports for one person (with one person and every estimate within
``max_match_m`` they are equal on the same instants). Identity switches follow CLEAR MOT
(Bernardin and Stiefelhagen, "Evaluating Multiple Object Tracking Performance: The CLEAR MOT
Metrics", 2008): a ground-truth person whose matched track id differs from the one it was last
matched to; reported per person-minute of ground truth. Estimates the caller found fused from
detections of different people (``mixed``) are counted separately: the acceptance asks for none.
"""

import collections
import copy
from typing import Optional

import numpy as np
from scipy.optimize import linear_sum_assignment

from mec_coop.eval.streaming import (add_pair, nearest_stamp, pair_metrics, SettlingWindow,
                                     weighted_percentile)
from mec_coop.geometry import metrics

# Percentage of correct parts: the 8 limbs and the 2 torso sides of COCO-17 (the Shelf/Campus
# head part needs a head-top joint COCO does not have).
PCP_PARTS = ((5, 7), (6, 8), (7, 9), (8, 10), (11, 13), (12, 14), (13, 15), (14, 16),
             (5, 11), (6, 12))


def pcp(pred: np.ndarray, gt: np.ndarray, alpha: float = 0.5) -> float:
    """
    Share of correct parts: mean endpoint error within ``alpha`` of the part's true length.

    The "average" PCP of the multi-view benchmarks (Belagiannis et al., "3D Pictorial Structures
    for Multiple Human Pose Estimation", CVPR 2014); a part with a missing endpoint is incorrect.
    """
    e = np.nan_to_num(metrics.joint_errors(pred, gt), nan=np.inf)
    gt = np.asarray(gt, dtype=np.float64)
    a, b = np.array(PCP_PARTS).T
    length = np.linalg.norm(gt[..., a, :] - gt[..., b, :], axis=-1)
    return float(np.mean(0.5 * (e[..., a] + e[..., b]) <= alpha * length))


def match_people(truth: np.ndarray, estimates: np.ndarray, max_match_m: float = 0.5) -> list:
    """
    Pair ``truth (G, J, 3)`` and ``estimates (E, J, 3)`` (NaN joints allowed) by MPJPE.

    :return: ``[(g, e, mpjpe_m), ...]`` of the optimal assignment, pairs beyond ``max_match_m``
        and estimates without a joint left out.
    """
    truth, estimates = np.asarray(truth, float), np.asarray(estimates, float)
    if not len(truth) or not len(estimates):
        return []
    errors = np.linalg.norm(truth[:, None] - estimates[None], axis=-1)      # (G, E, J)
    seen = np.isfinite(errors)
    with np.errstate(invalid='ignore', divide='ignore'):
        cost = np.where(seen, errors, 0.0).sum(-1) / seen.sum(-1)
    cost = np.where(seen.any(-1), cost, np.inf)
    rows, cols = linear_sum_assignment(np.where(cost <= max_match_m, cost, 1e6))
    return [(int(g), int(e), float(cost[g, e])) for g, e in zip(rows, cols)
            if cost[g, e] <= max_match_m]


class _PeopleTotals:
    """Running sums of the scored instants and the state the next instant needs."""

    def __init__(self) -> None:
        self.counts: collections.Counter = collections.Counter()
        self.gaps_ms: collections.Counter = collections.Counter()   # between scored instants
        self.last_stamp: Optional[float] = None
        self.last_id: dict[int, int] = {}
        self.track_ids: set = set()

    def copy(self) -> '_PeopleTotals':
        out = copy.copy(self)
        out.counts = collections.Counter(self.counts)
        out.gaps_ms = collections.Counter(self.gaps_ms)
        out.last_id, out.track_ids = dict(self.last_id), set(self.track_ids)
        return out


class MultiPersonScore:
    """
    Accumulates ground truth and estimates of several people; :meth:`summary` scores them.

    Memory is bounded like :class:`~mec_coop.eval.evaluation.PipelineScore`'s: instants older
    than ``settle_s`` behind the newest ground truth are scored into running sums and forgotten.
    """

    def __init__(self, stamp_tolerance_s: float = 0.01, max_match_m: float = 0.5,
                 settle_s: float = 30.0) -> None:
        self.stamp_tolerance_s = stamp_tolerance_s
        self.max_match_m = max_match_m
        # Instants scored while no estimate had come yet count only if none ever comes.
        self._before_first = _PeopleTotals()
        self._totals = _PeopleTotals()
        self._window = SettlingWindow(
            stamp_tolerance_s, settle_s,
            lambda s, v: self._totals.track_ids.update(v[0]),
            lambda s, v: self._score(self._totals, self._before_first, s, v),
            estimates_first=False)

    def add_truth(self, stamp: float, people: np.ndarray) -> None:
        """Ground truth ``(P, J, 3)`` of every person at ``stamp`` (s); order = person id."""
        self._window.add_truth(stamp, np.asarray(people, dtype=np.float64))

    def add_estimates(self, stamp: float, track_ids: list[int], joints: np.ndarray,
                      mixed: Optional[list[bool]] = None) -> None:
        """
        Every person published for ``stamp``: ids, ``joints (E, J, 3)`` (NaN where invalid).

        :param mixed: per estimate, whether it was fused from detections of different people.
        """
        joints = np.asarray(joints, dtype=np.float64)
        if joints.shape[:1] != (len(track_ids),) or joints.shape[-1:] != (3,):
            raise ValueError(f'need joints ({len(track_ids)}, J, 3), got {joints.shape}')
        flags = [False] * len(track_ids) if mixed is None else list(mixed)
        if len(flags) != len(track_ids):
            raise ValueError(f'{len(track_ids)} track ids but {len(flags)} mixed flags')
        if not self._window.add_estimate(stamp, (list(track_ids), joints, flags)):
            self._totals.track_ids.update(track_ids)     # too late to match, but published

    @property
    def estimated(self) -> bool:
        """Whether any estimate (even an empty instant) was added."""
        return self._window.first_estimate is not None

    def _score(self, totals: _PeopleTotals, before_first: _PeopleTotals, stamp: float,
               truth: np.ndarray, last_truth_stamp: Optional[float] = None) -> None:
        first = self._window.first_estimate
        if first is None:
            totals = before_first
        elif stamp < first - self.stamp_tolerance_s or \
                (last_truth_stamp is not None and stamp > last_truth_stamp):
            return
        counts = totals.counts
        counts['instants'] += 1
        if totals.last_stamp is not None:
            totals.gaps_ms[int(round(1000 * (stamp - totals.last_stamp)))] += 1
        totals.last_stamp = stamp
        counts['truth_people'] += len(truth)
        near = nearest_stamp(self._window.estimates, stamp, self.stamp_tolerance_s)
        ids, joints, mixed = self._window.estimates[near] if near is not None else \
            ([], np.zeros((0, 17, 3)), [])
        counts['estimates'] += len(ids)
        counts['mixed'] += sum(mixed)
        matches = match_people(truth, joints, self.max_match_m)
        counts['matched'] += len(matches)
        for g, e, _ in matches:
            add_pair(counts, truth[g], joints[e])
            counts['pcp_parts'] += len(PCP_PARTS)
            counts['pcp_hits'] += int(round(len(PCP_PARTS) * pcp(joints[e], truth[g])))
            if g in totals.last_id and totals.last_id[g] != ids[e]:
                counts['id_switches'] += 1
            totals.last_id[g] = ids[e]

    def summary(self, last_truth_stamp: Optional[float] = None) -> dict:
        """
        Metrics as a JSON-ready dict over the instants from the first estimate on.

        :param last_truth_stamp: ignore ground truth after this stamp (still in flight); it must
            not be before instants already scored.
        """
        self._window.check_cut(last_truth_stamp)
        totals, before_first = self._totals.copy(), self._before_first.copy()
        for stamp in sorted(self._window.truth):
            self._score(totals, before_first, stamp, self._window.truth[stamp], last_truth_stamp)
        for ids, _, _ in self._window.estimates.values():
            totals.track_ids.update(ids)
        if not self.estimated:
            totals = before_first
        counts = totals.counts
        gaps = sorted(totals.gaps_ms)
        period = weighted_percentile(np.array(gaps) / 1000.0,
                                     np.array([totals.gaps_ms[g] for g in gaps]), 50) \
            if gaps else 0.0
        person_minutes = counts['truth_people'] * period / 60.0
        out = {
            'instants': counts['instants'],
            'truth_people': counts['truth_people'],
            'estimates': counts['estimates'],
            'matched': counts['matched'],
            'missed_people': counts['truth_people'] - counts['matched'],
            'false_people': counts['estimates'] - counts['matched'],
            'miss_rate': 1 - counts['matched'] / max(counts['truth_people'], 1),
            'id_switches': counts['id_switches'],
            'person_minutes': person_minutes,
            'id_switches_per_person_minute': (counts['id_switches'] / person_minutes
                                              if person_minutes else float('nan')),
            'fused_from_different_people': counts['mixed'],
            'track_ids': sorted(totals.track_ids),
            **pair_metrics(counts),
            'pcp': counts['pcp_hits'] / counts['pcp_parts'] if counts['pcp_parts'] else 0.0,
        }
        return out


def mixed_labels(person_indices: np.ndarray, labels: list) -> bool:
    """
    Whether a skeleton was fused from detections of different people (or a false one).

    :param person_indices: ``(V,)`` detection used in each view, -1 for none.
    :param labels: per view, the ground-truth person of each detection (-1: nobody).
    """
    used = {int(labels[v][n]) for v, n in enumerate(person_indices) if n >= 0}
    return len(used) > 1 or -1 in used
