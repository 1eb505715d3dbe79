# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The allocator's pure step: settings and score laws in, the values to apply out.

:func:`plan` runs a solver of :data:`SOLVERS`, then applies what the node really sets on the
graph (every camera keeps ``min_share`` of the airtime, so drop notices and keypoints still go
up) and evaluates feasibility, predicted delay and uplink loads on exactly those applied shares.

Two delay models judge a plan. Without a :class:`~mec_coop.alloc.timing.GraphTiming` it is the
paper's (19) with the settings' constants; with one (the allocator's online calibration) it is
the ``delay_quantile`` of :func:`~mec_coop.alloc.timing.simulate`, the graph replayed with the
measured times and sizes, its uplink FIFOs and its edge queue, *without* the edge's deadline
(a plan must not rely on the deadline cutting late views off). The solvers search with (19);
when the judged delay misses the requirement, or leaves slack, :func:`plan` solves again with
the solver's target corrected by the difference (at most :data:`MAX_RETRIES` times). The
replay's delay is not smooth in the target, so after a miss the target is then bisected
between the highest target that met the requirement (else the solver's fastest plan, if that
meets it) and the lowest that missed; the most accurate plan that meets the requirement is
kept, else the fastest.

With ``accuracy_tolerance`` > 0 (this project's default, not the paper's), :func:`plan` then
looks for the fastest plan whose accuracy is within that tolerance of the most accurate one
(bisection on the solver's delay target, :data:`TOLERANCE_STEPS` solves): the paper maximises
accuracy (9) up to the requirement, so a nearly equal accuracy can take all the delay budget,
and on the running graph every extra offload also queues at the edge, where a view that
misses the release deadline is lost to the triangulation. ``accuracy_tolerance`` 0 is the
paper's objective.
The allocator node only maps parameters to :class:`PlanSettings` and pushes :class:`Plan`.
"""

from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from mec_coop.alloc import baselines, solvers
from mec_coop.alloc.model import (accuracy, empty_probability, end_to_end_delay,
                                  held_probability, route_probabilities, spectral_rates,
                                  SystemParams, uplink_bits_per_s)
from mec_coop.alloc.scores import CameraModel
from mec_coop.alloc.tables import Allocation, TOL
from mec_coop.alloc.timing import DelayPrediction, GraphTiming, simulate

Solver = Callable[..., Allocation]
SOLVERS: dict[str, Solver] = {
    'proposed': solvers.proposed,
    'paper_literal': solvers.paper_literal,
    'proposed_fixed_tau': solvers.proposed_fixed_tau,
    'cascade': solvers.cascade,
    'device_centric': baselines.device_centric,
    'server_centric': baselines.server_centric,
    'exhaustive': baselines.exhaustive,
}
# Solvers that choose both thresholds freely; the others keep their scheme (a user who picks
# server-centric gets server-centric, also when it misses the requirement).
THRESHOLD_SOLVERS = ('proposed', 'paper_literal', 'proposed_fixed_tau', 'exhaustive')
# Solver targets tried below the requirement when some views arrive after the edge's deadline.
LATE_GRID = 6
# Solves again with a corrected target when the judged delay misses or undershoots the
# requirement.
MAX_RETRIES = 3
# The edge's release deadline sits this far before the requirement, for fusion, filtering and
# publishing after it (the allocator reports the measured time as calibration.overhead).
RELEASE_MARGIN_S = 0.05
# Slack below which a feasible plan is kept rather than re-solved for more accuracy (s).
SLACK_S = 0.02
# Solves of a bisection on the solver's target (accuracy tolerance, or a judged miss).
TOLERANCE_STEPS = 6
# Delay-model constants a user sets: parameter -> (SystemParams field, lower, upper bound,
# description). Defaults are those of SystemParams, i.e. the paper's Table I.
MODEL_PARAMS = {
    'fps': ('frame_rate_hz', 0.01, 1000.0, 'Frames per second per camera (lambda)'),
    'image_bytes': ('image_bytes', 1.0, 1e9, 'Size S_I of one offloaded JPEG (bytes)'),
    'message_bytes': ('message_bytes', 1.0, 1e9, 'Size S_M of one keypoint message (bytes)'),
    'device_inference_s': ('device_inference_s', 0.0, 60.0, 'Camera model time T_d^I'),
    'server_inference_s': ('server_inference_s', 0.0, 60.0, 'Edge model time t_s per image'),
    'device_processing_s': ('device_processing_s', 0.0, 60.0,
                            'Camera time besides inference T_d^p'),
    'server_processing_s': ('server_processing_s', 0.0, 60.0,
                            'Edge triangulation and messaging T_s^p'),
    'bs_to_server_s': ('bs_to_server_s', 0.0, 60.0, 'Base station to edge T^{B->S}'),
    'server_to_client_s': ('server_to_client_s', 0.0, 60.0, 'Edge to client T^{S->C}'),
}


@dataclass(frozen=True)
class PlanSettings:
    """Everything :func:`plan` needs besides the score laws; validated on construction."""

    params: SystemParams
    solver: str = 'proposed'
    segments: int = 20
    min_share: float = 0.01
    timing: Optional[GraphTiming] = None
    delay_quantile: float = 0.95
    link_enabled: bool = True
    accuracy_tolerance: float = 0.0

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise ValueError(f'solver must be one of {sorted(SOLVERS)}, got {self.solver!r}')
        if not 2 <= self.segments <= 1000:  # one segment would put every threshold at 0
            raise ValueError(f'segments must be in [2, 1000], got {self.segments}')
        if not 0.0 <= self.min_share < 1.0:
            raise ValueError(f'min_share must be in [0, 1), got {self.min_share}')
        if self.delay_quantile not in (0.5, 0.95):
            raise ValueError(f'delay_quantile must be 0.5 or 0.95, got {self.delay_quantile}')
        if not 0.0 <= self.accuracy_tolerance < 1.0:
            raise ValueError(f'accuracy_tolerance must be in [0, 1), got '
                             f'{self.accuracy_tolerance}')

    def check_cameras(self, num_cameras: int) -> None:
        """Raise ``ValueError`` when ``min_share`` leaves no airtime for ``num_cameras``."""
        if self.min_share * num_cameras >= 1.0:
            raise ValueError(f'min_tdma_share {self.min_share} leaves no airtime to share '
                             f'among {num_cameras} cameras')

    @classmethod
    def from_values(cls, values: Mapping[str, Any], params: SystemParams) -> 'PlanSettings':
        """Build settings from parameter values (:data:`MODEL_PARAMS` and the node's own)."""
        model = {field: values[name] for name, (field, *_rest) in MODEL_PARAMS.items()
                 if name in values}
        params = replace(params, delay_req_s=values['delay_requirement_s'],
                         tx_model=values['tx_model'],
                         uplink_combine=values.get('uplink_combine', params.uplink_combine),
                         **model)
        return cls(params=params, solver=str(values['solver']),
                   segments=int(values['segments']),
                   min_share=float(values['min_tdma_share']),
                   delay_quantile=float(values.get('delay_quantile', 0.95)),
                   accuracy_tolerance=float(values.get('accuracy_tolerance', 0.0)))


@dataclass(frozen=True)
class Plan:
    """The values to apply and what the model predicts for exactly those values."""

    allocation: Allocation        # the solver's result (its shares before the minimum share)
    shares: np.ndarray            # applied TDMA shares, each >= min_share, summing to <= 1
    delay_s: float                # judged delay on the applied shares (see the module doc)
    feasible: bool                # delay_s <= the requirement, on the applied shares
    loads_bps: np.ndarray         # predicted uplink load per camera (eq. (14))
    delay_req_s: float
    solves: int                   # solver runs it took (> 1: the target was corrected)
    prediction: Optional[DelayPrediction] = None  # the calibrated model's, when it judged


def applied_shares(tau: np.ndarray, min_share: float) -> np.ndarray:
    """Shares with ``min_share`` each and the rest in proportion to ``tau``."""
    tau = np.asarray(tau, dtype=float)
    return min_share + (1.0 - tau.size * min_share) * tau


def plan(cameras: Sequence[CameraModel], settings: PlanSettings) -> Plan:
    """Solve and evaluate on the applied shares; see the module docstring."""
    settings.check_cameras(len(cameras))
    params = settings.params
    requirement, target = params.delay_req_s, params.delay_req_s
    best: Optional[Plan] = None
    tried = []                      # (target, judged plan) of every solve
    for attempt in range(1, MAX_RETRIES + 2):
        allocation = SOLVERS[settings.solver](cameras, replace(params, delay_req_s=target),
                                              segments=settings.segments)
        candidate = _evaluate(cameras, settings, allocation, attempt)
        tried.append((target, candidate))
        if best is None or _better(candidate, best):
            best = candidate
        error = candidate.delay_s - requirement
        if candidate.feasible and (settings.timing is None or error > -SLACK_S):
            break
        if not candidate.feasible and not allocation.feasible:
            break  # the solver's fastest plan is already too slow
        # Below the solver's smallest reachable delay every target gives its fastest plan.
        target = max(target - error - (TOL if error > 0 else 0.0),
                     allocation.min_delay_s + TOL)
    assert best is not None  # the loop runs at least once
    best = replace(best, solves=attempt)
    missed = [t for t, c in tried if not c.feasible]
    if settings.timing is not None and missed:
        # The replay's delay is not smooth in the target, so the corrections above can end a
        # few milliseconds over the requirement, or far below it (pareto runs): bisect between
        # the highest target that met it (else the solver's fastest plan) and the lowest that
        # missed, for the most accurate plan that meets it.
        met = [t for t, c in tried if c.feasible]
        if met:
            low = max(met)
        else:
            low = best.allocation.min_delay_s + TOL
            fastest = _solved_at(cameras, settings, low, best.solves + 1)
            best = fastest if _better(fastest, best) else replace(best, solves=fastest.solves)
        above = [t for t in missed if t > low]
        if above and best.feasible:
            best = _bisect(cameras, settings, low, min(above), best, lambda c: c.feasible,
                           _better, upward=True)
    if not best.feasible and settings.solver in THRESHOLD_SOLVERS:
        # The paper's fallback (its Fig. 12): no offloads, the most accurate camera thresholds.
        # The corrections above end at the solver's fastest plan, which drops every frame.
        fallback = _cameras_alone(cameras, settings, best.solves + 1)
        best = fallback if _better(fallback, best) else best
    if best.feasible and best.prediction is not None and max(best.prediction.late_views) > 0:
        # Views the edge's deadline beats are lost (model.accuracy's late), so a plan for a lower
        # target, with fewer offloads, can be the more accurate one: the targets below, on a
        # grid, and the cameras alone (the paper's fallback).
        solves = best.solves
        for low in np.linspace(best.allocation.min_delay_s + TOL, target, LATE_GRID)[:-1]:
            solves += 1
            candidate = _solved_at(cameras, settings, low, solves)
            best = candidate if candidate.feasible and _better(candidate, best) else best
        if settings.solver in THRESHOLD_SOLVERS:
            solves += 1
            alone = _cameras_alone(cameras, settings, solves)
            best = alone if alone.feasible and _better(alone, best) else best
        best = replace(best, solves=solves)
    if settings.accuracy_tolerance > 0.0 and best.feasible:
        floor = best.allocation.accuracy - settings.accuracy_tolerance - TOL
        best = _bisect(cameras, settings, 0.0, target, best,
                       lambda c: c.feasible and c.allocation.accuracy >= floor,
                       lambda c, chosen: c.delay_s < chosen.delay_s, upward=False)
    return best


def _bisect(cameras: Sequence[CameraModel], settings: PlanSettings, low: float, high: float,
            chosen: Plan, good: Callable[[Plan], bool], better: Callable[[Plan, Plan], bool],
            upward: bool) -> Plan:
    """
    Bisect the solver's delay target in ``[low, high]`` for :data:`TOLERANCE_STEPS` solves.

    A ``good`` plan moves the search up (``upward``: the most accurate plan that meets the
    requirement) or down (the fastest that keeps the accuracy); the ``better`` of the good
    plans and ``chosen`` is returned.
    """
    solves = chosen.solves
    for _ in range(TOLERANCE_STEPS):
        middle = 0.5 * (low + high)
        solves += 1
        candidate = _solved_at(cameras, settings, middle, solves)
        if good(candidate):
            chosen = candidate if better(candidate, chosen) else chosen
            low, high = (middle, high) if upward else (low, middle)
        else:
            low, high = (low, middle) if upward else (middle, high)
    return replace(chosen, solves=solves)


def with_shares(cameras: Sequence[CameraModel], settings: PlanSettings, result: Plan,
                shares: np.ndarray) -> Plan:
    """
    Judge ``result``'s thresholds on other applied shares (e.g. the uplink plan's).

    ``shares`` must each be at least ``settings.min_share`` and sum to at most 1.
    """
    if np.any(shares < settings.min_share - TOL) or shares.sum() > 1.0 + TOL:
        raise ValueError(f'shares {shares.round(4).tolist()} break the minimum share '
                         f'{settings.min_share} or the airtime')
    tau = (shares - settings.min_share) / (1.0 - shares.size * settings.min_share)
    return _evaluate(cameras, settings, replace(result.allocation, tau=tau), result.solves)


def _solved_at(cameras: Sequence[CameraModel], settings: PlanSettings, target: float,
               solves: int) -> Plan:
    """Solve for the delay target ``target`` and judge the result on the applied shares."""
    return _evaluate(cameras, settings, SOLVERS[settings.solver](
        cameras, replace(settings.params, delay_req_s=target), segments=settings.segments),
        solves)


def _cameras_alone(cameras: Sequence[CameraModel], settings: PlanSettings, solves: int) -> Plan:
    """Judge the paper's fallback: no offloads, the most accurate camera thresholds."""
    return _evaluate(cameras, settings, baselines.device_centric(
        cameras, settings.params, segments=settings.segments), solves)


def _better(candidate: Plan, best: Plan) -> bool:
    if candidate.feasible != best.feasible:
        return candidate.feasible
    if candidate.feasible or abs(candidate.delay_s - best.delay_s) <= SLACK_S:
        # Two plans that miss the requirement by about as much: the more accurate. Eq. (14)
        # charges a dropped frame nothing, so the solver's fastest plan drops every frame,
        # while the cameras send a drop notice the size of their keypoints: on the graph that
        # plan is no faster than sending keypoints, and makes no skeleton (on a loaded
        # machine the fallback was accuracy 0.25, every threshold 1).
        return candidate.allocation.accuracy > best.allocation.accuracy
    return candidate.delay_s < best.delay_s


def _evaluate(cameras: Sequence[CameraModel], settings: PlanSettings, allocation: Allocation,
              solves: int) -> Plan:
    """Judge one solver result on the applied shares."""
    params = settings.params
    shares = applied_shares(allocation.tau, settings.min_share)
    routes = [route_probabilities(c, lo, hi) for c, lo, hi in
              zip(cameras, allocation.theta_low, allocation.theta_high)]
    p_uncertain = np.array([float(pu) for pu, _ in routes])
    p_positive = np.array([float(pp) for _, pp in routes])
    loads = uplink_bits_per_s(params, p_uncertain, p_positive)
    prediction = None
    if settings.timing is None:
        delay = float(end_to_end_delay(cameras, params, allocation.theta_low,
                                       allocation.theta_high, shares))
    else:
        rates = shares * spectral_rates(cameras, params) if settings.link_enabled \
            else np.full(len(cameras), np.inf)
        thresholds = list(zip(cameras, allocation.theta_low, allocation.theta_high))
        prediction = simulate(settings.timing, p_uncertain, p_positive, rates,
                              p_held=[held_probability(*t) for t in thresholds],
                              p_empty=[empty_probability(*t) for t in thresholds])
        delay = prediction.quantile(settings.delay_quantile, complete=True)
        # The views the edge's deadline beats are lost: plans are compared on what arrives.
        on_time = [accuracy(*t, srv, late) for t, srv, late in zip(
            thresholds, allocation.theta_server, prediction.late_views)]
        allocation = replace(allocation, accuracy=float(np.mean(on_time)))
    return Plan(allocation=allocation, shares=shares, delay_s=delay,
                feasible=delay <= params.delay_req_s + TOL, loads_bps=loads,
                delay_req_s=params.delay_req_s, solves=solves, prediction=prediction)


def accuracy_under(cameras: Sequence[CameraModel], allocation: Allocation) -> float:
    """Mean accuracy (9) of ``allocation``'s thresholds judged with other score laws."""
    return float(np.mean([accuracy(c, lo, hi, srv) for c, lo, hi, srv in zip(
        cameras, allocation.theta_low, allocation.theta_high, allocation.theta_server)]))
