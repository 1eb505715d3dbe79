# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Dual-threshold routing of a camera frame and the paper's schemes as presets.

The paper: "Cooperative Inference for Real-Time 3D Human Pose Estimation in Multi-Device Edge
Networks" (Sec. II, Sec. V).

A camera with mean joint confidence ``c`` sends its 2D keypoints when ``c >= theta_high``,
offloads the image to the edge when ``theta_low <= c < theta_high`` and drops the frame when
``c < theta_low``. The edge keeps its own result for an offloaded image when its confidence is
``>= theta_server``.
"""

from dataclasses import dataclass
import enum
import math
import random
import zlib


class Route(enum.Enum):
    """What a camera does with one frame."""

    KEYPOINTS = 'keypoints'
    OFFLOAD = 'offload'
    DROP = 'drop'


# What a frame became, by name (a camera's counts, the evaluator's routes, a recorded run's
# views): its route, or an offload the thresholds did not ask for, a random audit (the
# allocator's unbiased sample) or a search (a dropped frame sent whole while the camera holds
# no crop, for the edge to look for people).
ROUTES = (*(route.value for route in Route), 'audit', 'search')
# Those sent up as an image: the edge runs its model on each, so each is an image view there.
IMAGE_ROUTES = (Route.OFFLOAD.value, 'audit', 'search')


@dataclass(frozen=True)
class Thresholds:
    """Camera thresholds ``theta_low <= theta_high`` and the edge threshold, all in [0, 1]."""

    theta_low: float
    theta_high: float
    theta_server: float = 0.3

    def __post_init__(self):
        problem = threshold_problem(self.theta_low, self.theta_high, self.theta_server)
        if problem:
            raise ValueError(problem)

    def route(self, confidence):
        """Route of a frame whose camera-model mean joint confidence is ``confidence``."""
        if not math.isfinite(confidence):
            return Route.DROP
        if confidence >= self.theta_high:
            return Route.KEYPOINTS
        if confidence >= self.theta_low:
            return Route.OFFLOAD
        return Route.DROP

    def edge_accepts(self, confidence: float) -> bool:
        """Whether the edge uses its own result of an offloaded frame."""
        return edge_accepts(confidence, self.theta_server)


class AuditSampler:
    """
    Random audit offloads: each frame independently with probability ``fraction``.

    Seeded from the camera name (stable across runs, different between cameras), so a run can
    be repeated and cameras do not audit the same instants.
    """

    def __init__(self, camera_id: str) -> None:
        self._rng = random.Random(zlib.crc32(camera_id.encode()))

    def draw(self, fraction: float) -> bool:
        """Tell whether this frame is an audit."""
        return fraction > 0.0 and self._rng.random() < fraction


def edge_accepts(confidence: float, theta_server: float) -> bool:
    """Whether the edge uses its result of an offloaded frame (its confidence >= theta_server)."""
    return math.isfinite(confidence) and confidence >= theta_server


def threshold_problem(theta_low, theta_high, theta_server=0.0):
    """Reason why a threshold set is invalid, or ``''`` when it is valid."""
    for name, value in (('theta_low', theta_low), ('theta_high', theta_high),
                        ('theta_server', theta_server)):
        if not (isinstance(value, (int, float)) and math.isfinite(value)):
            return f'{name} must be a finite number, got {value!r}'
        # theta_high may exceed 1: "never confident enough", i.e. offload everything above low.
        upper = 1.01 if name == 'theta_high' else 1.0
        if not 0.0 <= value <= upper:
            return f'{name} must be in [0, {upper:g}], got {value}'
    if theta_low > theta_high:
        return f'theta_low ({theta_low}) must not exceed theta_high ({theta_high})'
    return ''


# The schemes of the paper (Sec. V, eqs. (20)-(25)) as threshold presets. Device-centric keeps
# one threshold (low = high), server-centric offloads every frame (low = 0, high above any
# confidence), cascade never drops at the camera (low = 0).
MODES = {
    'device_centric': {'theta_low': 0.5, 'theta_high': 0.5},
    'server_centric': {'theta_low': 0.0, 'theta_high': 1.01},
    'cascade': {'theta_low': 0.0, 'theta_high': 0.7},
    'cooperative': {'theta_low': 0.3, 'theta_high': 0.7},
}


def mode_thresholds(mode, theta_server=0.3):
    """:class:`Thresholds` of a named scheme (see :data:`MODES`)."""
    if mode not in MODES:
        raise ValueError(f'unknown mode {mode!r}; choose one of {sorted(MODES)}')
    return Thresholds(theta_server=theta_server, **MODES[mode])
