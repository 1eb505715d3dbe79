# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Bounded memory for scores of arbitrarily long runs.

A run's score is a sum over ground-truth instants, so an instant can be scored and forgotten once
no skeleton can still arrive for it. :class:`SettlingWindow` keeps the instants of the last
``settle_s`` seconds of ground truth (the clock is the newest ground-truth stamp, never a
skeleton's: one wrongly stamped skeleton cannot settle the others' instants) and hands older ones
to the scorer in stamp order. Scores are then exact as long as every skeleton arrives within
``settle_s`` of its capture; a later one is counted (``late``) but not matched.

Delay percentiles come from :class:`DelayQuantiles`: the first ``exact_limit`` delays are kept
and their percentiles are exact (``numpy.percentile``, linear); beyond that they are folded into
a fixed log-spaced histogram whose percentiles are within ``relative_error`` (0.5%) of the exact
ones for delays of 0.1 ms to 10^4 s (DDSketch's bound: Masson, Rim and Lee, "DDSketch: A Fast
and Fully-Mergeable Quantile Sketch with Relative-Error Guarantees", VLDB 2019).
"""

import math
from typing import Callable, Optional

import numpy as np

from mec_coop.geometry import metrics

PCK_THRESHOLD_M = 0.15


def nearest_stamp(stamps: dict, stamp: float, tolerance_s: float) -> Optional[float]:
    """
    Find the key of ``stamps`` (rounded to ms) nearest to ``stamp`` within ``tolerance_s``.

    None when there is none.

    Looks up the few ms keys in reach instead of scanning every key.
    """
    reach = int(math.ceil(tolerance_s * 1000)) + 1
    base = int(round(stamp * 1000))
    near = [k for k in (round((base + d) / 1000, 3) for d in range(-reach, reach + 1))
            if k in stamps and abs(k - stamp) <= tolerance_s]
    return min(near, key=lambda k: abs(k - stamp)) if near else None


def add_pair(sums: dict, truth: np.ndarray, estimate: np.ndarray,
             procrustes: bool = False) -> None:
    """
    Add one matched pose's joint errors to running sums (MPJPE, PCK, coverage, PA-MPJPE).

    Each metric is a mean over every joint of every matched pose, so sums and counts reproduce
    :mod:`mec_coop.geometry.metrics` on the whole stack; :func:`pair_metrics` divides them.
    """
    errors = metrics.joint_errors(estimate, truth)
    finite = np.isfinite(errors)
    sums['error_m'] += float(errors[finite].sum())
    sums['estimated_joints'] += int(finite.sum())
    sums['joints'] += errors.size
    sums['pck_hits'] += int((np.where(finite, errors, np.inf) <= PCK_THRESHOLD_M).sum())
    if procrustes:
        aligned = metrics.joint_errors(metrics.procrustes_align(estimate, truth), truth)
        ok = np.isfinite(aligned)
        sums['aligned_error_m'] += float(aligned[ok].sum())
        sums['aligned_joints'] += int(ok.sum())


def pair_metrics(sums: dict, procrustes: bool = False) -> dict:
    """Divide :func:`add_pair`'s sums: ``mpjpe_mm``, ``pck_150mm``, ``joint_coverage`` (PA)."""
    def mean_mm(total, n):
        return 1000 * sums[total] / sums[n] if sums[n] else float('nan')
    out = {'mpjpe_mm': mean_mm('error_m', 'estimated_joints'),
           'pck_150mm': sums['pck_hits'] / sums['joints'] if sums['joints'] else 0.0,
           'joint_coverage': sums['estimated_joints'] / sums['joints'] if sums['joints'] else 0.0}
    if procrustes:
        out['pa_mpjpe_mm'] = mean_mm('aligned_error_m', 'aligned_joints')
    return out


def weighted_percentile(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """
    ``numpy.percentile(..., q)`` (linear) of ``values`` (sorted) each repeated ``counts`` times.

    NaN when the counts sum to 0.
    """
    cumulative = np.cumsum(counts)
    n = int(cumulative[-1]) if len(cumulative) else 0
    if n == 0:
        return float('nan')
    rank = q / 100.0 * (n - 1)
    lo = int(math.floor(rank))
    below = values[np.searchsorted(cumulative, lo, side='right')]
    above = values[np.searchsorted(cumulative, min(lo + 1, n - 1), side='right')]
    return float(below + (rank - lo) * (above - below))


class DelayQuantiles:
    """Percentiles, mean and the share within a bound of a stream of delays (seconds)."""

    def __init__(self, exact_limit: int = 10000, relative_error: float = 0.005,
                 smallest: float = 1e-4, largest: float = 1e4) -> None:
        if exact_limit < 1 or not 0.0 < relative_error < 0.5 or not 0.0 < smallest < largest:
            raise ValueError('need exact_limit >= 1, 0 < relative_error < 0.5 and '
                             '0 < smallest < largest')
        self.exact_limit = exact_limit
        self.relative_error = relative_error
        self.smallest = smallest
        self._log_gamma = math.log((1 + relative_error) / (1 - relative_error))
        self._bins = int(math.ceil(math.log(largest / smallest) / self._log_gamma))
        self._exact: Optional[list] = []
        self._counts = np.zeros(2 * self._bins + 1, dtype=np.int64)
        self.count = 0
        self._sum = 0.0

    @property
    def exact(self) -> bool:
        """Whether every delay is still kept (percentiles and shares exact)."""
        return self._exact is not None

    def _index(self, value: float) -> int:
        magnitude = abs(value)
        if magnitude < self.smallest:
            return self._bins
        i = int(math.ceil(math.log(magnitude / self.smallest) / self._log_gamma))
        i = min(max(i, 1), self._bins)
        return self._bins + (i if value > 0 else -i)

    def _representatives(self) -> np.ndarray:
        # The middle of bin i, (smallest g^(i-1), smallest g^i], in relative terms: error <= alpha.
        i = np.arange(1, self._bins + 1)
        gamma = math.exp(self._log_gamma)
        positive = self.smallest * np.exp(i * self._log_gamma) * 2.0 / (gamma + 1.0)
        return np.concatenate([-positive[::-1], [0.0], positive])

    def add(self, value: float) -> None:
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f'delay must be finite, got {value}')
        self.count += 1
        self._sum += value
        if self._exact is not None:
            self._exact.append(value)
            if len(self._exact) <= self.exact_limit:
                return
            values, self._exact = self._exact, None
        else:
            values = [value]
        for v in values:
            self._counts[self._index(v)] += 1

    def percentile(self, q: float) -> float:
        if self._exact is not None:
            return float(np.percentile(self._exact, q)) if self._exact else float('nan')
        return weighted_percentile(self._representatives(), self._counts, q)

    @property
    def mean(self) -> float:
        return self._sum / self.count if self.count else float('nan')

    def share_within(self, bound: float) -> float:
        """Share of delays <= ``bound``; sketched, only delays within 1% of it may be misjudged."""
        if self._exact is not None:
            return float(np.mean(np.array(self._exact) <= bound)) if self._exact else 0.0
        return float(self._counts[self._representatives() <= bound].sum() / self.count)

    def nbytes(self) -> int:
        """Memory held (bytes): a bound for the scorer's tests."""
        return self._counts.nbytes + (8 * len(self._exact) if self._exact is not None else 0)


class SettlingWindow:
    """
    Ground truth and estimates of the last ``settle_s`` seconds, keyed by stamp (ms).

    ``finalise_truth(stamp, value)`` is called in stamp order once the newest ground truth is
    ``settle_s + stamp_tolerance_s`` past an instant. With ``estimates_first`` (a scorer that
    matches each estimate to its nearest instant), ``finalise_estimate(stamp, value)`` is called
    once the newest ground truth is ``settle_s`` past an estimate, before the instants it may
    match; otherwise (a scorer that looks up each instant's nearest estimate) after them, once
    no unscored instant is within the tolerance of the estimate.
    """

    def __init__(self, stamp_tolerance_s: float, settle_s: float,
                 finalise_estimate: Callable, finalise_truth: Callable,
                 estimates_first: bool = True) -> None:
        if settle_s <= stamp_tolerance_s:
            raise ValueError(f'settle_s ({settle_s}) must exceed the stamp tolerance')
        self.tolerance = stamp_tolerance_s
        self.settle_s = settle_s
        self.truth: dict = {}
        self.estimates: dict = {}
        self.first_estimate: Optional[float] = None
        self.newest_truth = -math.inf
        self.settled_until = -math.inf      # every instant up to here is scored and gone
        self.estimates_first = estimates_first
        self._estimate_lag = 0.0 if estimates_first else 2 * stamp_tolerance_s
        self._estimates_below = -math.inf   # estimates below this stamp are settled
        self.late = {'truth': 0, 'estimates': 0, 'estimates_without_truth': 0}
        self._finalise_estimate = finalise_estimate
        self._finalise_truth = finalise_truth

    @property
    def horizon(self) -> float:
        return self.newest_truth - self.settle_s

    def add_truth(self, stamp: float, value) -> bool:
        """Keep an instant; False (counted as late) when its time was already scored."""
        stamp = round(stamp, 3)
        if stamp <= self.settled_until + self.tolerance:
            self.late['truth'] += 1
            return False
        self.truth[stamp] = value
        if stamp > self.newest_truth:
            self.newest_truth = stamp
            self.settle()
        return True

    def add_estimate(self, stamp: float, value) -> bool:
        """
        Keep an estimate; False when it can no longer be matched.

        That is when its instants were already scored (``late``), or when it is further than
        ``settle_s`` ahead of all ground truth (``estimates_without_truth``: keeping it could
        hold memory for ever).
        """
        stamp = round(stamp, 3)
        self.first_estimate = stamp if self.first_estimate is None else \
            min(self.first_estimate, stamp)
        if stamp < self._estimates_below:
            self.late['estimates'] += 1
            return False
        if stamp > self.newest_truth + self.settle_s:
            self.late['estimates_without_truth'] += 1
            return False
        self.estimates[stamp] = value
        return True

    def settle(self) -> None:
        if self.estimates_first:
            self._settle_estimates()
        for stamp in sorted(s for s in self.truth if s < self.horizon - self.tolerance):
            self._finalise_truth(stamp, self.truth.pop(stamp))
            self.settled_until = stamp
        if not self.estimates_first:
            self._settle_estimates()

    def _settle_estimates(self) -> None:
        self._estimates_below = self.horizon - self._estimate_lag
        for stamp in sorted(s for s in self.estimates if s < self._estimates_below):
            self._finalise_estimate(stamp, self.estimates.pop(stamp))

    def check_cut(self, last_truth_stamp: Optional[float]) -> None:
        """Refuse to leave out of a summary instants that are already scored."""
        if last_truth_stamp is not None and last_truth_stamp < self.settled_until:
            raise ValueError(f'instants up to {self.settled_until} s are already scored; '
                             f'cannot leave out those after {last_truth_stamp} s (raise '
                             'settle_s above the in-flight margin)')
