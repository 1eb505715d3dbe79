# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Scoring a running pipeline against the rig's ground truth.

Skeletons are matched to ground truth by capture stamp (the edge stamps a skeleton with the
earliest capture stamp it used, the rig stamps ground truth with the capture stamp of the
frame). A ground-truth instant without a skeleton counts as missed: it lowers the skeleton
rate, while MPJPE, PA-MPJPE and PCK are over the matched instants.
"""

import collections

import numpy as np

from mec_coop.geometry import metrics

# Camera frames by what they became: audits and searches are offloads the thresholds did not ask
# for (the allocator's random audits; a camera without a crop asking the edge to look).
ROUTES = ('keypoints', 'offload', 'drop', 'audit', 'search')
IMAGE_ROUTES = ('offload', 'audit', 'search')


class PipelineScore:
    """Accumulates ground truth, skeletons, routes and delays; :meth:`summary` scores them."""

    def __init__(self, stamp_tolerance_s=0.01):
        self.stamp_tolerance_s = stamp_tolerance_s
        self._truth = {}
        self._estimates = {}
        self._delays = []
        self.routes = collections.Counter()

    def add_truth(self, stamp, joints):
        """Ground truth ``(17, 3)`` (first person) of the instant ``stamp`` (seconds)."""
        self._truth[round(stamp, 3)] = np.asarray(joints, dtype=np.float64)

    def add_skeleton(self, stamp, joints, end_to_end_s):
        """Estimated joints ``(17, 3)`` (NaN where invalid) and the skeleton's measured delay."""
        self._estimates[round(stamp, 3)] = np.asarray(joints, dtype=np.float64)
        self._delays.append(float(end_to_end_s))

    def add_route(self, route):
        if route not in ROUTES:
            raise ValueError(f'unknown route {route!r}')
        self.routes[route] += 1

    def matched(self):
        """``(truth stamp, ground truth (17, 3), estimate (17, 3))`` of each matched instant."""
        out = []
        for stamp, est in sorted(self._estimates.items()):
            near = [s for s in self._truth if abs(s - stamp) <= self.stamp_tolerance_s]
            if near:
                truth_stamp = min(near, key=lambda s: abs(s - stamp))
                out.append((truth_stamp, self._truth[truth_stamp], est))
        return out

    def _held_mpjpe_mm(self, truth_stamps, matched):
        """
        MPJPE over every ground-truth instant, holding the last skeleton over missed ones.

        A missed instant is scored with the newest skeleton published before it (what a user
        sees); joints never estimated are not counted. ``matched``: truth stamp -> estimate.
        """
        held, errors = None, []
        for stamp in truth_stamps:
            held = matched.get(stamp, held)
            if held is not None:
                errors.append(np.linalg.norm(held - self._truth[stamp], axis=-1))
        if not errors:
            return float('nan')
        errors = np.array(errors)
        return float(1000 * np.nanmean(errors)) if np.isfinite(errors).any() else float('nan')

    def _jitter(self):
        """Mean joint acceleration of the published skeletons (m/s^2), NaN if too few."""
        stamps = sorted(self._estimates)
        if len(stamps) < 3:
            return float('nan')
        joints = np.array([self._estimates[s] for s in stamps])
        return metrics.mean_acceleration(np.array(stamps), joints)

    def summary(self, delay_requirement_s=0.5, last_truth_stamp=None):
        """
        Metrics as a JSON-ready dict.

        :param last_truth_stamp: ignore ground truth after this stamp (frames still in flight
            when the run ended).
        """
        # Instants before the first skeleton are the graph's start-up (models loading): they
        # are reported as warm-up, not as misses of the running pipeline.
        first = min(self._estimates) - self.stamp_tolerance_s if self._estimates else None

        def counted(stamp):
            return (last_truth_stamp is None or stamp <= last_truth_stamp) and \
                (first is None or stamp >= first)

        matched = self.matched()
        pairs = [(gt, est) for stamp, gt, est in matched if counted(stamp)]
        truth = [s for s in self._truth if counted(s)]
        delays = np.array(self._delays)
        routed = sum(self.routes.values())
        out = {
            'ground_truth_frames': len(truth),
            'skeletons': len(self._estimates),
            'matched': len(pairs),
            'skeleton_rate': len(pairs) / len(truth) if truth else 0.0,
            'routes': {r: self.routes[r] for r in ROUTES},
            'offload_ratio': sum(self.routes[r] for r in IMAGE_ROUTES) / routed if routed else 0.0,
            'delay_requirement_s': delay_requirement_s,
            'warmup_instants': sum(1 for s in self._truth if first is not None and s < first),
        }
        if pairs:
            gt, est = (np.array(a) for a in zip(*pairs))
            out.update(mpjpe_mm=1000 * metrics.mpjpe(est, gt),
                       pa_mpjpe_mm=1000 * metrics.pa_mpjpe(est, gt),
                       pck_150mm=metrics.pck(est, gt, 0.15),
                       joint_coverage=metrics.coverage(est))
        else:
            out.update(mpjpe_mm=float('nan'), pa_mpjpe_mm=float('nan'), pck_150mm=0.0,
                       joint_coverage=0.0)
        out['mpjpe_all_instants_mm'] = self._held_mpjpe_mm(
            sorted(truth), {stamp: est for stamp, _, est in matched})
        out['jitter_m_s2'] = self._jitter()
        if delays.size:
            out['delay_s'] = {f'p{q}': float(np.percentile(delays, q)) for q in (50, 95, 99)}
            out['delay_s']['mean'] = float(delays.mean())
            out['delay_within_requirement'] = float(np.mean(delays <= delay_requirement_s))
        return out
