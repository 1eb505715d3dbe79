# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Scoring a running pipeline against the rig's ground truth, in bounded memory.

Skeletons are matched to ground truth by capture stamp (the edge stamps a skeleton with the
earliest capture stamp it used, the rig stamps ground truth with the capture stamp of the
frame). A ground-truth instant without a skeleton counts as missed: it lowers the skeleton
rate, while MPJPE, PA-MPJPE and PCK are over the matched instants.

Memory does not grow with the run (:mod:`mec_coop.eval.streaming`): an instant is scored into
running sums and forgotten once the newest ground truth is ``settle_s`` past it, so every number
equals the computation over the whole run as long as skeletons arrive within ``settle_s`` of
their capture (later ones are counted in ``late`` and in the delays, not matched). Delay
percentiles are exact for the first 10,000 skeletons, then within 0.5% (``delay_percentiles``
says which). :meth:`PipelineScore.matched` keeps the last ``matched_window`` matched instants.
"""

import collections
import copy

import numpy as np

from mec_coop.coop.routing import IMAGE_ROUTES, ROUTES
from mec_coop.eval.streaming import (add_pair, DelayQuantiles, nearest_stamp, pair_metrics,
                                     SettlingWindow)
from mec_coop.geometry import metrics

# An instant succeeds when a skeleton of it came within the delay requirement with at most this
# MPJPE (a bound for a person-sized error: the graph's matched MPJPE is ~50-60 mm here).
SUCCESS_MPJPE_MM = 100.0


class _Totals:
    """Running sums of the scored instants, and what carries over to the next ones."""

    def __init__(self) -> None:
        self.sums: collections.Counter = collections.Counter()
        self.pairs: dict = {}       # unscored instant -> estimates matched to it, in stamp order
        self.held = None            # the skeleton a viewer sees (held over missed instants)
        self.tail: list = []        # the last two published skeletons (stamp, joints): jitter
        self.pair_meta: dict = {}   # unscored instant -> (delay, views, edge) of its estimates
        # Per counted instant with an estimate within the MPJPE bound: its smallest delay.
        self.success = DelayQuantiles()

    def copy(self) -> '_Totals':
        out = copy.copy(self)
        out.sums = collections.Counter(self.sums)
        out.pairs = {k: list(v) for k, v in self.pairs.items()}
        out.pair_meta = {k: list(v) for k, v in self.pair_meta.items()}
        out.tail = list(self.tail)
        out.success = copy.deepcopy(self.success)
        return out


class PipelineScore:
    """Accumulates ground truth, skeletons, routes and delays; :meth:`summary` scores them."""

    def __init__(self, stamp_tolerance_s=0.01, settle_s=30.0, matched_window=1000,
                 success_mpjpe_mm=SUCCESS_MPJPE_MM):
        self.stamp_tolerance_s = stamp_tolerance_s
        self.success_mpjpe_mm = success_mpjpe_mm
        self.routes = collections.Counter()
        self.delays = DelayQuantiles()
        self._totals = _Totals()
        self._window = SettlingWindow(stamp_tolerance_s, settle_s,
                                      lambda s, v: self._match(self._totals, s, v),
                                      lambda s, v: self._score(self._totals, s, v))
        self._matched = collections.deque(maxlen=matched_window)

    def add_truth(self, stamp, joints, rig_time=float('nan')):
        """Ground truth ``(17, 3)`` (first person) of the instant ``stamp`` (seconds)."""
        self._window.add_truth(stamp, (np.asarray(joints, dtype=np.float64), float(rig_time)))

    def add_skeleton(self, stamp: float, joints: np.ndarray, end_to_end_s: float,
                     views: int = 0, edge: bool = False) -> None:
        """
        Estimated joints ``(17, 3)`` (NaN where invalid) and the skeleton's measured delay.

        ``views``: cameras that contributed (0: unknown); ``edge``: whether one of them was
        the edge model's result of an offloaded image. Kept beside each matched instant, so
        an accuracy difference between schemes can be told apart from a view count one.
        """
        self.delays.add(end_to_end_s)
        self._window.add_estimate(stamp, (np.asarray(joints, dtype=np.float64),
                                          float(end_to_end_s), int(views), bool(edge)))

    def add_route(self, route):
        if route not in ROUTES:
            raise ValueError(f'unknown route {route!r}')
        self.routes[route] += 1

    def _match(self, totals, stamp, value):
        joints, delay, views, edge = value
        totals.sums['skeletons'] += 1
        truth = nearest_stamp(self._window.truth, stamp, self.stamp_tolerance_s)
        if truth is not None:
            totals.pairs.setdefault(truth, []).append(joints)
            totals.pair_meta.setdefault(truth, []).append((delay, views, edge))
        totals.tail = totals.tail[-2:] + [(stamp, joints)]
        if len(totals.tail) == 3:
            stamps, points = zip(*totals.tail)
            magnitude = metrics.accelerations(np.array(stamps), np.array(points))
            finite = np.isfinite(magnitude)
            totals.sums['acceleration'] += float(magnitude[finite].sum())
            totals.sums['accelerations'] += int(finite.sum())

    def _score(self, totals, stamp, value, last_truth_stamp=None, keep=True):
        truth, rig_time = value
        estimates = totals.pairs.pop(stamp, [])
        meta = totals.pair_meta.pop(stamp, [])
        delays = [delay for delay, _, _ in meta]
        if keep:
            self._matched.extend((stamp, truth, est, rig_time, views, edge)
                                 for est, (_, views, edge) in zip(estimates, meta))
        first = self._window.first_estimate
        if first is None:
            totals.sums['before_any_skeleton'] += 1
            return
        if stamp < first - self.stamp_tolerance_s:
            totals.sums['warmup'] += 1
            return
        if last_truth_stamp is not None and stamp > last_truth_stamp:
            return
        totals.sums['counted'] += 1
        for est in estimates:
            add_pair(totals.sums, truth, est, procrustes=True)
            totals.sums['matched'] += 1
        # An estimate without any valid joint (NaN MPJPE) is never within the bound.
        within = [delay for est, delay in zip(estimates, delays)
                  if 1000.0 * metrics.mpjpe(est, truth) <= self.success_mpjpe_mm]
        if within:
            totals.success.add(min(within))
        if estimates:
            totals.held = estimates[-1]
        if totals.held is not None:
            errors = np.linalg.norm(totals.held - truth, axis=-1)
            finite = np.isfinite(errors)
            totals.sums['held_error_m'] += float(errors[finite].sum())
            totals.sums['held_joints'] += int(finite.sum())
            totals.sums['held_instants'] += 1

    def _with_unsettled(self, last_truth_stamp=None):
        """Copy the totals and score the instants still in the window into the copy."""
        totals = self._totals.copy()
        for stamp in sorted(self._window.estimates):
            self._match(totals, stamp, self._window.estimates[stamp])
        for stamp in sorted(self._window.truth):
            self._score(totals, stamp, self._window.truth[stamp], last_truth_stamp, keep=False)
        return totals

    def matched(self):
        """
        List the newest ``matched_window`` matched instants.

        Each is ``(truth stamp, ground truth (17, 3), estimate (17, 3), rig time, views,
        edge)`` (see :meth:`add_skeleton`).
        """
        totals = self._totals.copy()
        for stamp in sorted(self._window.estimates):
            self._match(totals, stamp, self._window.estimates[stamp])
        pending = [(s, *self._window.truth[s], est, m) for s in sorted(totals.pairs)
                   for est, m in zip(totals.pairs[s], totals.pair_meta[s])]
        out = list(self._matched) + [(s, truth, est, rig, views, edge)
                                     for s, truth, rig, est, (_, views, edge) in pending]
        return out[-self._matched.maxlen:]

    def summary(self, delay_requirement_s=0.5, last_truth_stamp=None):
        """
        Metrics as a JSON-ready dict.

        ``success_rate``: the share of counted instants with a skeleton within the delay
        requirement and an MPJPE of at most ``success_mpjpe_mm`` (a missed instant fails).

        :param last_truth_stamp: ignore ground truth after this stamp (frames still in flight
            when the run ended); it must not be before instants already scored.
        """
        self._window.check_cut(last_truth_stamp)
        totals = self._with_unsettled(last_truth_stamp)
        sums, late = totals.sums, self._window.late
        # Instants before the first skeleton are the graph's start-up (models loading): they
        # are reported as warm-up, not as misses of the running pipeline.
        started = self._window.first_estimate is not None
        frames = sums['counted'] + (0 if started else sums['before_any_skeleton'])
        routed = sum(self.routes.values())
        out = {
            'ground_truth_frames': frames,
            'skeletons': sums['skeletons'] + late['estimates'] + late['estimates_without_truth'],
            'matched': sums['matched'],
            'skeleton_rate': sums['matched'] / frames if frames else 0.0,
            'routes': {r: self.routes[r] for r in ROUTES},
            'offload_ratio': sum(self.routes[r] for r in IMAGE_ROUTES) / routed if routed else 0.0,
            'delay_requirement_s': delay_requirement_s,
            'warmup_instants': sums['warmup'] + (sums['before_any_skeleton'] if started else 0),
            'late': dict(late),
            'success_rate': totals.success.share_within(delay_requirement_s)
            * totals.success.count / frames if frames else 0.0,
            'success_mpjpe_mm': self.success_mpjpe_mm,
            **pair_metrics(sums, procrustes=True),
        }
        out['mpjpe_all_instants_mm'] = 1000 * sums['held_error_m'] / sums['held_joints'] \
            if sums['held_joints'] else float('nan')
        out['jitter_m_s2'] = sums['acceleration'] / sums['accelerations'] \
            if sums['accelerations'] else float('nan')
        if self.delays.count:
            out['delay_s'] = {f'p{q}': self.delays.percentile(q) for q in (50, 95, 99)}
            out['delay_s']['mean'] = self.delays.mean
            out['delay_within_requirement'] = self.delays.share_within(delay_requirement_s)
            out['delay_percentiles'] = 'exact' if self.delays.exact else \
                f'histogram, within {self.delays.relative_error:.1%}'
        return out
