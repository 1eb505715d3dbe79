# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The allocator's action plan: seed 001's allocation for the graph's action task.

"Joint Optimization of Video-based AI Inference Tasks in MEC-assisted Augmented Reality
Systems" (B.4-B.8, :mod:`.video`, :mod:`.video_admm`): every camera is a device whose action
task runs locally or on the edge with ``m_n`` frames. The system is this graph's: each camera's
rate is its Shannon rate over the whole band (B.2 eq. (8), the uplink's link state), a frame is
the keypoint message a camera sends per capture (the edge's action model reads skeletons, not
images), and the accuracy (15) and MAC (14) laws are the fits to the bundled 3D action models
(:data:`ACTION_ACCURACY`, :data:`ACTION_MACS`); the CPU and weight constants stay the
reconstruction's. ``m`` is snapped to the nearest bundled model.

The graph runs one 3D action model on the fused skeletons (``action_node``), not one per
camera, so the node gets the largest planned ``m``: every camera's planned accuracy
(non-decreasing in ``m``) is then met, at a MAC cost the fit puts at 1.2 kMAC per extra frame.
The cameras run no 2D action model in this graph: a camera planned local is reported (its ``m``
in ``CameraAllocation.action_frames``), and the edge model serves it.
"""

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mec_coop.alloc.video import edge_only, gp_heuristic, local_only, VideoPlan
from mec_coop.alloc.video_admm import admm
from mec_coop.alloc.video_model import AccuracyModel, MacModel, VideoSystem

ACTION_ALLOCATIONS = ('none', 'admm', 'gp_heuristic', 'local_only', 'edge_only')
_SOLVERS = {'admm': admm, 'gp_heuristic': gp_heuristic, 'local_only': local_only,
            'edge_only': edge_only}
# Eqs. (15) and (14) fitted to the bundled 3D models on held-out virtual-rig seeds
# (`python benchmarks/actions.py`, docs/figures/actions_models.json: RMSE 0.0058).
ACTION_ACCURACY = AccuracyModel(a=0.9286, b=0.1523, c=0.4594)
ACTION_MACS = MacModel(s1=1222.0, s0=1626.0)


@dataclass(frozen=True)
class ActionPlan:
    """The solver's decision, each camera's ``m`` on a bundled model, and the node's ``m``."""

    plan: VideoPlan
    frames: tuple
    node_frames: int


def snap(m: float, bundled: Sequence[int]) -> int:
    """Nearest bundled frame count (the larger one on a tie)."""
    options = np.array(sorted(bundled))
    return int(options[np.argmin(np.abs(options - m) - 1e-9 * options)])


def plan_actions(method: str, rates_bps: Sequence[float], frame_bits: float,
                 bundled: Sequence[int]) -> ActionPlan:
    """
    Solve seed 001's allocation ``method`` (one of :data:`ACTION_ALLOCATIONS` but ``none``).

    :param rates_bps: each camera's rate over the whole band (finite, positive).
    :param frame_bits: what one frame of the task costs on the uplink.
    :param bundled: the frame counts the action node has models for.
    """
    if method not in _SOLVERS:
        raise ValueError(f'action allocation must be one of {sorted(_SOLVERS)}, got {method!r}')
    rates = np.asarray(rates_bps, dtype=float)
    if not (rates.size and np.all(np.isfinite(rates)) and np.all(rates > 0)):
        raise ValueError(f'every camera needs a finite positive rate, got {rates.tolist()}')
    if not frame_bits > 0:
        raise ValueError(f'frame size must be positive, got {frame_bits}')
    system = VideoSystem(rates, accuracy=ACTION_ACCURACY, macs=ACTION_MACS,
                         frame_bits=float(frame_bits), m_max=int(max(bundled)))
    plan = _SOLVERS[method](system)
    frames = tuple(snap(m, bundled) for m in plan.m)
    return ActionPlan(plan, frames, max(frames))
