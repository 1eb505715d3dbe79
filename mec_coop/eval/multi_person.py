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
from typing import Optional

import numpy as np
from scipy.optimize import linear_sum_assignment

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


class MultiPersonScore:
    """Accumulates ground truth and estimates of several people; :meth:`summary` scores them."""

    def __init__(self, stamp_tolerance_s: float = 0.01, max_match_m: float = 0.5) -> None:
        self.stamp_tolerance_s = stamp_tolerance_s
        self.max_match_m = max_match_m
        self._truth: dict[float, np.ndarray] = {}
        self._estimates: dict[float, tuple] = {}

    def add_truth(self, stamp: float, people: np.ndarray) -> None:
        """Ground truth ``(P, J, 3)`` of every person at ``stamp`` (s); order = person id."""
        self._truth[round(stamp, 3)] = np.asarray(people, dtype=np.float64)

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
        self._estimates[round(stamp, 3)] = (list(track_ids), joints, flags)

    @property
    def estimated(self) -> bool:
        """Whether any estimate (even an empty instant) was added."""
        return bool(self._estimates)

    def _estimate_at(self, stamp: float) -> Optional[tuple]:
        near = [s for s in self._estimates if abs(s - stamp) <= self.stamp_tolerance_s]
        return self._estimates[min(near, key=lambda s: abs(s - stamp))] if near else None

    def summary(self, last_truth_stamp: Optional[float] = None) -> dict:
        """
        Metrics as a JSON-ready dict over the instants from the first estimate on.

        :param last_truth_stamp: ignore ground truth after this stamp (still in flight).
        """
        first = min(self._estimates, default=None)
        stamps = sorted(s for s in self._truth
                        if (first is None or s >= first - self.stamp_tolerance_s)
                        and (last_truth_stamp is None or s <= last_truth_stamp))
        pairs: list = []
        counts: collections.Counter = collections.Counter()
        last_id: dict[int, int] = {}
        for stamp in stamps:
            truth = self._truth[stamp]
            counts['truth_people'] += len(truth)
            found = self._estimate_at(stamp)
            ids, joints, mixed = found if found is not None else ([], np.zeros((0, 17, 3)), [])
            counts['estimates'] += len(ids)
            counts['mixed'] += sum(mixed)
            matches = match_people(truth, joints, self.max_match_m)
            counts['matched'] += len(matches)
            for g, e, _ in matches:
                pairs.append((truth[g], joints[e]))
                if g in last_id and last_id[g] != ids[e]:
                    counts['id_switches'] += 1
                last_id[g] = ids[e]
        period = float(np.median(np.diff(stamps))) if len(stamps) > 1 else 0.0
        person_minutes = counts['truth_people'] * period / 60.0
        out = {
            'instants': len(stamps),
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
            'track_ids': sorted({i for ids, _, _ in self._estimates.values() for i in ids}),
        }
        if pairs:
            gt, est = (np.array(a) for a in zip(*pairs))
            out.update(mpjpe_mm=1000 * metrics.mpjpe(est, gt), pcp=pcp(est, gt),
                       pck_150mm=metrics.pck(est, gt, 0.15),
                       joint_coverage=metrics.coverage(est))
        else:
            out.update(mpjpe_mm=float('nan'), pcp=0.0, pck_150mm=0.0, joint_coverage=0.0)
        return out


def mixed_labels(person_indices: np.ndarray, labels: list) -> bool:
    """
    Whether a skeleton was fused from detections of different people (or a false one).

    :param person_indices: ``(V,)`` detection used in each view, -1 for none.
    :param labels: per view, the ground-truth person of each detection (-1: nobody).
    """
    used = {int(labels[v][n]) for v, n in enumerate(person_indices) if n >= 0}
    return len(used) > 1 or -1 in used
