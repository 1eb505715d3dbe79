# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Procedural humanoid: random walk across the room with labelled actions, COCO-17 ground truth.

A :class:`Humanoid` is a deterministic function of time: its schedule of actions (episodes) is
drawn from a seeded generator in order and extended lazily, so ``pose(t)`` gives the same answer
for any query order and frame rate. Every action starts and ends in the neutral standing pose,
which keeps joint trajectories continuous across episodes.

Joint angles come in ``(left, right)`` pairs; :mod:`.body` turns them into the figure.
"""

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
from numpy.typing import ArrayLike

from .body import Part, pose_figure
from .layout import Box, Room

ACTIONS = ('walk', 'spread_arms', 'jump', 'fall', 'crouch', 'stand')
_ACTION_WEIGHTS = np.array([0.42, 0.13, 0.11, 0.09, 0.11, 0.14])

# Keep the body centre this far from the walls: spread arms reach ~0.9 m from it.
WALL_MARGIN = 1.0
# Clearance between a walking path and furniture footprints.
OBSTACLE_CLEARANCE = 0.45
# Lying length from the ankles to beyond the head, for a 1.75 m person.
_LYING_LENGTH = 1.95

_SKIN = ((185, 205, 238), (150, 180, 225), (105, 140, 190), (70, 100, 150), (50, 70, 110))
_HAIR = ((25, 25, 30), (30, 45, 70), (40, 70, 110), (90, 150, 190), (110, 110, 115))
_SHIRT = ((40, 40, 190), (170, 90, 30), (60, 140, 60), (230, 230, 230), (40, 40, 40),
          (40, 170, 220), (130, 60, 120), (150, 150, 150), (30, 90, 200), (190, 140, 90))
_TROUSERS = ((90, 50, 30), (35, 35, 38), (70, 120, 150), (110, 100, 90), (140, 80, 40))
_SHOES = ((25, 25, 25), (200, 200, 205), (40, 60, 90))

# Duration ranges (s) of the actions done in place.
_DURATIONS = {'stand': (1.5, 4.0), 'spread_arms': (2.5, 4.5), 'crouch': (2.5, 4.5),
              'fall': (5.0, 7.0)}

_NEUTRAL = {
    'hip_flex': np.zeros(2), 'hip_abd': np.full(2, 0.04), 'knee': np.full(2, 0.04),
    'sh_flex': np.full(2, 0.05), 'sh_abd': np.full(2, 0.12), 'elbow': np.full(2, 0.2),
    'pitch': 0.0, 'lift': 0.0, 'tilt': 0.0, 'head_pitch': 0.0, 'head_yaw': 0.0,
}


@dataclass(frozen=True)
class Appearance:
    """Body height and BGR colours of one person."""

    height: float
    skin: tuple
    hair: tuple
    shirt: tuple
    trousers: tuple
    shoes: tuple
    long_sleeves: bool

    @classmethod
    def random(cls, rng: np.random.Generator) -> Self:
        """Draw a plausible appearance from ``rng`` (numpy Generator)."""
        def pick(options):
            return tuple(int(c) for c in options[rng.integers(len(options))])
        return cls(float(rng.uniform(1.6, 1.9)), pick(_SKIN), pick(_HAIR), pick(_SHIRT),
                   pick(_TROUSERS), pick(_SHOES), bool(rng.random() < 0.4))


@dataclass(frozen=True)
class BodyPose:
    """One person at one instant: COCO-17 joints ``(17, 3)``, action label and render parts."""

    joints: np.ndarray
    action: str
    parts: tuple[Part, ...]
    appearance: Appearance
    head: np.ndarray   # rows: head centre, face forward, head up, head left (world)

    @property
    def scale(self) -> float:
        """Body scale relative to the 1.75 m reference figure."""
        return self.appearance.height / 1.75


@dataclass(frozen=True)
class _Episode:
    action: str
    start: float
    end: float
    origin: np.ndarray
    target: np.ndarray
    heading0: float
    heading1: float
    sign: float = 1.0     # fall: +1 forwards, -1 backwards
    count: int = 1        # jump: number of jumps


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _bump(x):
    """0 -> 1 -> 0 over x in [0, 1], zero slope at both ends."""
    x = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * x)


def _envelope(tau, duration, ramp):
    return float(_smoothstep(tau / ramp) * _smoothstep((duration - tau) / ramp))


def _wrap(angle):
    return (angle + np.pi) % (2.0 * np.pi) - np.pi


def _blend(base, target, weight):
    return {k: base[k] + weight * (target.get(k, base[k]) - base[k]) for k in base}


class Humanoid:
    """One person moving at random across the room; deterministic for a given seed."""

    def __init__(self, seed: int | Sequence[int] = 0, room: Room = Room(),
                 obstacles: Iterable[Box] = (), appearance: Appearance | None = None,
                 actions: Sequence[str] = ACTIONS, start: ArrayLike | None = None,
                 heading: float | None = None, waypoints: ArrayLike | None = None) -> None:
        """
        Person drawn from ``seed``.

        ``actions``: the subset of :data:`ACTIONS` it performs (``('stand',)`` keeps it in
        place); ``start`` ``(x, y)`` and ``heading`` (rad, 0 = +x) fix its initial placement.
        ``waypoints`` ``(K, 2)``: walk from one to the next, cyclically, instead of to random
        points (scripted crossings); the person starts at the first.
        """
        self._waypoints = None if waypoints is None else np.asarray(waypoints, dtype=np.float64)
        if self._waypoints is not None:
            if self._waypoints.ndim != 2 or self._waypoints.shape[1] != 2 or \
                    len(self._waypoints) < 2:
                raise ValueError(f'waypoints must be (K >= 2, 2), got {self._waypoints.shape}')
            start = self._waypoints[0]
            self._leg = 0
        unknown = set(actions) - set(ACTIONS)
        if unknown or not actions:
            raise ValueError(f'actions must be a non-empty subset of {ACTIONS}, got {actions}')
        motion_seed, look_seed = np.random.SeedSequence(seed).spawn(2)
        self.room = room
        self.obstacles = tuple(obstacles)
        self.appearance = appearance or Appearance.random(np.random.default_rng(look_seed))
        weights = np.array([w if a in actions else 0.0 for a, w in zip(ACTIONS, _ACTION_WEIGHTS)])
        self._weights = weights / weights.sum()
        self._rng = np.random.default_rng(motion_seed)
        self._lo = room.lo[:2] + WALL_MARGIN
        self._hi = room.hi[:2] - WALL_MARGIN
        start = self._free_point() if start is None else np.asarray(start, dtype=np.float64)
        if not room.contains(np.append(start, 0.0)):
            raise ValueError(f'start {start.tolist()} is outside the room')
        if heading is None:
            heading = self._rng.uniform(-np.pi, np.pi)
        self._episodes = [self._stationary('stand', 0.0, start, float(heading))]
        self._starts = [0.0]

    # ---- schedule -------------------------------------------------------------------------
    def _free_point(self):
        for _ in range(200):
            p = self._rng.uniform(self._lo, self._hi)
            if not any(b.footprint_hits(p, p, OBSTACLE_CLEARANCE) for b in self.obstacles):
                return p
        raise RuntimeError('no free floor space for a person: furniture covers the room')

    def _stationary(self, action, start, position, heading):
        rng = self._rng
        count = 1
        sign = self._fall_direction(position, heading) if action == 'fall' else 1.0
        if sign == 0.0:
            action, sign = 'stand', 1.0     # no room to fall here
        if action == 'jump':
            count = int(rng.integers(1, 4))
            duration = 1.4 * count + 0.4
        else:
            duration = float(rng.uniform(*_DURATIONS[action]))
        return _Episode(action, start, start + duration, position, position, heading, heading,
                        sign, count)

    def _fall_direction(self, position, heading):
        """+1 (forward) or -1 (backward) so the lying body stays clear; 0 if neither fits."""
        forward = np.array([np.cos(heading), np.sin(heading)])
        length = _LYING_LENGTH * self.appearance.height / 1.75
        first = 1.0 if self._rng.random() < 0.5 else -1.0
        for sign in (first, -first):
            end = position + sign * length * forward
            inside = self.room.contains(np.append(end, 0.0), margin=(0.2, 0.2, 0.0))
            if inside and not any(b.footprint_hits(position, end, 0.3) for b in self.obstacles):
                return sign
        return 0.0

    def _next(self, prev):
        rng = self._rng
        position, heading = prev.target, prev.heading1
        action = ACTIONS[rng.choice(len(ACTIONS), p=self._weights)]
        if self._waypoints is not None:
            self._leg += 1
            target = self._waypoints[self._leg % len(self._waypoints)]
            d = target - position
            duration = float(np.linalg.norm(d)) / float(rng.uniform(0.9, 1.4)) + 0.6
            return _Episode('walk', prev.end, prev.end + duration, position, target, heading,
                            float(np.arctan2(d[1], d[0])))
        if action == 'walk':
            for _ in range(50):
                target = self._free_point()
                dist = float(np.linalg.norm(target - position))
                if dist > 1.0 and not any(b.footprint_hits(position, target, OBSTACLE_CLEARANCE)
                                          for b in self.obstacles):
                    speed = float(rng.uniform(0.9, 1.4))
                    d = target - position
                    return _Episode('walk', prev.end, prev.end + dist / speed + 0.6, position,
                                    target, heading, float(np.arctan2(d[1], d[0])))
            action = 'stand'
        return self._stationary(action, prev.end, position, heading)

    def episode(self, t: float) -> _Episode:
        """Return the scheduled episode at time ``t`` (seconds, clamped to >= 0)."""
        t = max(float(t), 0.0)
        while self._episodes[-1].end <= t:
            nxt = self._next(self._episodes[-1])
            self._episodes.append(nxt)
            self._starts.append(nxt.start)
        return self._episodes[bisect.bisect_right(self._starts, t) - 1]

    # ---- motion ---------------------------------------------------------------------------
    def pose(self, t: float) -> BodyPose:
        """Return the :class:`BodyPose` at time ``t`` seconds."""
        ep = self.episode(t)
        tau = max(float(t), 0.0) - ep.start
        duration = ep.end - ep.start
        position, heading = ep.origin, ep.heading0
        angles = dict(_NEUTRAL)
        # Idle sway keeps standing people from looking frozen; phase from absolute time.
        angles['head_yaw'] = 0.25 * np.sin(0.7 * t + 3.0 * self.appearance.height)
        if ep.action == 'walk':
            position, heading, angles = self._walk(ep, tau, duration, angles)
        elif ep.action == 'spread_arms':
            w = _envelope(tau, duration, 0.7)
            wave = 0.15 * np.sin(2.0 * np.pi * tau / 1.6)
            angles = _blend(angles, {'sh_abd': np.full(2, 1.5 + wave), 'elbow': np.full(2, 0.05),
                                     'sh_flex': np.full(2, 0.1)}, w)
        elif ep.action == 'crouch':
            w = _envelope(tau, duration, 0.9)
            angles = _blend(angles, {'hip_flex': np.full(2, 1.45), 'knee': np.full(2, 2.2),
                                     'pitch': 0.55, 'sh_flex': np.full(2, 0.7),
                                     'elbow': np.full(2, 0.6), 'head_pitch': -0.4,
                                     'hip_abd': np.full(2, 0.18)}, w)
        elif ep.action == 'jump':
            angles = _blend(angles, self._jump(ep, tau), _envelope(tau, duration, 0.2))
        elif ep.action == 'fall':
            angles = _blend(angles, self._fall(ep, tau, duration),
                            _envelope(tau, duration, 0.3))
        return self._body(position, heading, angles, ep.action, ep.sign)

    @staticmethod
    def _walk(ep, tau, duration, angles):
        ramp = 0.6
        length = float(np.linalg.norm(ep.target - ep.origin))
        vmax = length / (duration - ramp)
        if tau < ramp:
            s, v = vmax * tau * tau / (2 * ramp), vmax * tau / ramp
        elif tau > duration - ramp:
            rest = duration - tau
            s, v = length - vmax * rest * rest / (2 * ramp), vmax * rest / ramp
        else:
            s, v = vmax * (tau - ramp / 2), vmax
        s = min(max(s, 0.0), length)
        position = ep.origin + (ep.target - ep.origin) * (s / length)
        heading = ep.heading0 + _wrap(ep.heading1 - ep.heading0) * float(_smoothstep(tau / 0.8))
        a = min(v / 1.2, 1.0)
        phase = 2.0 * np.pi * s / 1.35
        swing = np.array([np.sin(phase), -np.sin(phase)])
        lift_leg = np.maximum(0.0, np.array([np.cos(phase), -np.cos(phase)])) ** 2
        angles = _blend(angles, {
            'hip_flex': 0.42 * swing, 'knee': 0.08 + 0.65 * lift_leg,
            'sh_flex': -0.38 * swing, 'elbow': np.full(2, 0.45), 'pitch': 0.06,
        }, a)
        return position, heading, angles

    @staticmethod
    def _jump(ep, tau):
        period = 1.4
        k = min(int((tau - 0.2) // period), ep.count - 1) if tau > 0.2 else 0
        u = (tau - 0.2 - k * period) / period
        # Each jump: crouch (u 0-0.35), flight (0.35-0.65), landing crouch (0.65-1).
        squat = float(_bump(u / 0.35) if u < 0.35 else (_bump((u - 0.65) / 0.35) if u > 0.65
                                                        else 0.0))
        air = float(np.clip((u - 0.35) / 0.3, 0.0, 1.0)) if 0.35 <= u <= 0.65 else 0.0
        reach = float(_bump((u - 0.2) / 0.6)) if 0.2 <= u <= 0.8 else 0.0
        return {
            'hip_flex': np.full(2, 0.9 * squat + 0.25 * np.sin(np.pi * air)),
            'knee': np.full(2, 1.5 * squat + 0.5 * np.sin(np.pi * air)),
            'pitch': 0.35 * squat, 'sh_flex': np.full(2, -0.5 * squat + 2.6 * reach),
            'sh_abd': np.full(2, 0.12 + 0.25 * reach), 'elbow': np.full(2, 0.15),
            'lift': 0.35 * 4.0 * air * (1.0 - air),
        }

    @staticmethod
    def _fall(ep, tau, duration):
        down, getup = 1.0, 2.0
        if tau < down:
            tilt = (tau / down) ** 2
        elif tau > duration - getup:
            tilt = 1.0 - float(_smoothstep((tau - (duration - getup)) / getup))
        else:
            tilt = 1.0
        # Bend knees and brace arms while going down or getting up, straight while lying.
        bend = float(np.sin(np.pi * tilt))
        forward = ep.sign > 0
        return {
            'tilt': tilt * np.pi / 2 * 0.97, 'knee': np.full(2, 0.9 * bend + 0.15),
            'hip_flex': np.full(2, 0.5 * bend), 'hip_abd': np.full(2, 0.1 + 0.1 * tilt),
            'sh_flex': np.full(2, (1.6 if forward else 0.6) * bend + 0.2 * tilt),
            'sh_abd': np.full(2, 0.2 + 0.7 * tilt), 'elbow': np.full(2, 0.3 + 0.4 * bend),
            'head_pitch': -0.3 * tilt * ep.sign,
        }

    # ---- body model -----------------------------------------------------------------------
    def _body(self, position, heading, ang, action, fall_sign):
        joints, head, parts = pose_figure(ang, self.appearance.height / 1.75, position, heading,
                                          fall_sign, self.appearance.long_sleeves)
        return BodyPose(joints, action, parts, self.appearance, head)
