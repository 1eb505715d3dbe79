# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The allocator's pure step: settings and score laws in, the values to apply out.

:func:`plan` runs a solver of :data:`SOLVERS`, then applies what the node really sets on the
graph (every camera keeps ``min_share`` of the airtime, so drop notices and keypoints still go
up) and evaluates feasibility, predicted delay and uplink loads on exactly those applied shares.
When the minimum share pushes the delay over the requirement, it solves again against a
tightened requirement (at most :data:`MAX_RETRIES` times) before it reports the plan infeasible.
The allocator node only maps parameters to :class:`PlanSettings` and pushes :class:`Plan`.
"""

from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mec_coop.alloc import baselines, solvers
from mec_coop.alloc.model import (end_to_end_delay, route_probabilities, SystemParams,
                                  uplink_bits_per_s)
from mec_coop.alloc.scores import CameraModel
from mec_coop.alloc.tables import Allocation, TOL

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
# Solves against a tightened requirement when the minimum share breaks the first solution.
MAX_RETRIES = 3
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

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise ValueError(f'solver must be one of {sorted(SOLVERS)}, got {self.solver!r}')
        if not 1 <= self.segments <= 1000:
            raise ValueError(f'segments must be in [1, 1000], got {self.segments}')
        if not 0.0 <= self.min_share < 1.0:
            raise ValueError(f'min_share must be in [0, 1), got {self.min_share}')

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
                         tx_model=values['tx_model'], **model)
        return cls(params=params, solver=str(values['solver']),
                   segments=int(values['segments']),
                   min_share=float(values['min_tdma_share']))


@dataclass(frozen=True)
class Plan:
    """The values to apply and what the model predicts for exactly those values."""

    allocation: Allocation        # the solver's result (its shares before the minimum share)
    shares: np.ndarray            # applied TDMA shares, each >= min_share, summing to <= 1
    delay_s: float                # predicted end-to-end delay (19) with the applied shares
    feasible: bool                # delay_s <= the requirement, on the applied shares
    loads_bps: np.ndarray         # predicted uplink load per camera (eq. (14))
    delay_req_s: float
    solves: int                   # solver runs it took (> 1: the requirement was tightened)


def applied_shares(tau: np.ndarray, min_share: float) -> np.ndarray:
    """Shares with ``min_share`` each and the rest in proportion to ``tau``."""
    tau = np.asarray(tau, dtype=float)
    return min_share + (1.0 - tau.size * min_share) * tau


def plan(cameras: Sequence[CameraModel], settings: PlanSettings) -> Plan:
    """Solve and evaluate on the applied shares; see the module docstring."""
    settings.check_cameras(len(cameras))
    params = settings.params
    requirement = params.delay_req_s
    target = requirement
    for attempt in range(1, MAX_RETRIES + 2):
        allocation = SOLVERS[settings.solver](cameras, replace(params, delay_req_s=target),
                                              segments=settings.segments)
        shares = applied_shares(allocation.tau, settings.min_share)
        delay = float(end_to_end_delay(cameras, params, allocation.theta_low,
                                       allocation.theta_high, shares))
        feasible = allocation.feasible and delay <= requirement + TOL
        if feasible or not allocation.feasible or attempt > MAX_RETRIES:
            break
        # The minimum share cost (delay - requirement): ask the solver for that much less.
        target -= delay - requirement + TOL
    routes = [route_probabilities(c, lo, hi) for c, lo, hi in
              zip(cameras, allocation.theta_low, allocation.theta_high)]
    loads = np.array([uplink_bits_per_s(params, pu, pp) for pu, pp in routes], dtype=float)
    return Plan(allocation=allocation, shares=shares, delay_s=delay, feasible=feasible,
                loads_bps=loads, delay_req_s=requirement, solves=attempt)
