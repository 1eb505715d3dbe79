# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
One event per action occurrence, from per-frame class probabilities, and event scoring.

Per reported action the detector is a two-threshold (hysteresis) switch: it fires when the
action's probability reaches ``on_threshold`` for ``min_frames`` consecutive skeletons, stays on
while it is at least ``off_threshold``, and cannot fire again until it has stayed below that for
``refractory_s`` (the probability of a fall dips while the person gets up; that is not a second
fall). The onset is the first stamp of the run of skeletons at or above ``off_threshold`` that
ends with the firing one (the classifier's evidence started there), less the action's onset lag
when the settings have one: the median by which that stamp trails the true start on validation
streams, which grows with the skeleton period.
"""

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

# Actions that are events (walking and standing are states, not reported by default).
EVENT_ACTIONS = ('fall', 'jump', 'spread_arms', 'crouch')
_HISTORY = 64


@dataclass(frozen=True)
class DetectorSettings:
    """Thresholds of the event detector and the actions it reports."""

    # Defaults: shared by all actions, picked on the 5 Hz validation seeds under a 0.9 s latency
    # budget for the bundled 3D model with m = 8, before m and the thresholds were picked per
    # rate (what the action node runs by default: models/detectors.json, written by
    # benchmarks/actions.py; docs/actions_results.md).
    on_threshold: float = 0.8
    off_threshold: float = 0.4
    min_frames: int = 1
    refractory_s: float = 3.0
    actions: tuple[str, ...] = EVENT_ACTIONS
    # Thresholds of single actions ``(action, on, off, min_frames, refractory_s)`` that replace
    # the four above for them (picked per action on validation streams: an action that shows
    # late, a fall at 2 Hz, need not lower the threshold of one that shows early).
    per_action: tuple[tuple[str, float, float, int, float], ...] = ()
    # ``(action, seconds)`` the onset estimate is moved back by (see the module's docstring).
    onset_lags: tuple[tuple[str, float], ...] = ()

    def of(self, action: str) -> 'DetectorSettings':
        """Return the settings that apply to ``action`` (its own, else the shared ones)."""
        lags = tuple((a, lag) for a, lag in self.onset_lags if a == action)
        for name, on, off, frames, refractory in self.per_action:
            if name == action:
                return DetectorSettings(on, off, frames, refractory, (action,), (), lags)
        return replace(self, actions=(action,), per_action=(), onset_lags=lags)

    def thresholds(self) -> dict[str, str]:
        """Return 'on/off/min_frames/refractory_s, onset lag' per reported action."""
        return {a: '/'.join(str(v) for v in (s.on_threshold, s.off_threshold, s.min_frames,
                                             s.refractory_s)) + f', lag {s.onset_lag:g} s'
                for a in self.actions for s in [self.of(a)]}

    @property
    def onset_lag(self) -> float:
        """Return the onset lag of the first reported action (that of :meth:`of`), else 0."""
        return dict(self.onset_lags).get(self.actions[0], 0.0)

    def problem(self, classes: Sequence[str]) -> str:
        """Why these settings are invalid for a model with ``classes`` ('' when valid)."""
        for name, *_ in self.per_action:
            problem = self.of(name).problem(classes)
            if problem:
                return f'{name}: {problem}'
        for name, lag in self.onset_lags:
            if name not in classes or not 0.0 <= lag < 10.0:
                return f'onset lags need a known action and 0 <= lag < 10 s, got {name}: {lag}'
        if not 0.0 < self.off_threshold <= self.on_threshold <= 1.0:
            return (f'need 0 < off_threshold <= on_threshold <= 1, got {self.off_threshold} '
                    f'and {self.on_threshold}')
        if self.min_frames < 1 or self.refractory_s < 0.0:
            return 'min_frames must be >= 1 and refractory_s >= 0'
        unknown = sorted(set(self.actions) - set(classes))
        if unknown or not self.actions:
            return f'actions must be a non-empty subset of {list(classes)}, got {unknown}'
        return ''


@dataclass(frozen=True)
class Event:
    """An action occurrence: ``stamp`` of the skeleton that fired it, estimated ``onset``."""

    action: str
    confidence: float
    stamp: float
    onset: float


class _Switch:
    def __init__(self) -> None:
        self.active = False
        self.run = 0
        self.last_high = -np.inf
        self.history: deque[tuple[float, float]] = deque(maxlen=_HISTORY)


class EventDetector:
    """Turns a stream of ``(stamp, probabilities)`` into :class:`Event` s (one track)."""

    def __init__(self, settings: DetectorSettings, classes: Sequence[str]) -> None:
        problem = settings.problem(classes)
        if problem:
            raise ValueError(problem)
        self.settings = settings
        self._index = {a: list(classes).index(a) for a in settings.actions}
        self._switches = {a: _Switch() for a in settings.actions}
        self._of = {a: settings.of(a) for a in settings.actions}

    def update(self, stamp: float, probabilities: np.ndarray) -> list[Event]:
        """Feed the probabilities after the skeleton at ``stamp``; return the events fired."""
        events = []
        for action, switch in self._switches.items():
            s = self._of[action]
            p = float(probabilities[self._index[action]])
            switch.history.append((stamp, p))
            if switch.active:
                if p >= s.off_threshold:
                    switch.last_high = stamp
                else:
                    switch.active = False
                continue
            switch.run = switch.run + 1 if p >= s.on_threshold else 0
            if switch.run >= s.min_frames and stamp - switch.last_high >= s.refractory_s:
                switch.active, switch.last_high = True, stamp
                events.append(Event(action, p, stamp,
                                    self._onset(switch, s.off_threshold) - s.onset_lag))
        return events

    @staticmethod
    def _onset(switch, off_threshold):
        onset = switch.history[-1][0]
        for stamp, p in reversed(switch.history):
            if p < off_threshold:
                break
            onset = stamp
        return onset


def detect(settings: DetectorSettings, classes: Sequence[str], stamps: Iterable[float],
           probabilities: np.ndarray) -> list[Event]:
    """Run a fresh :class:`EventDetector` over a whole sequence."""
    detector = EventDetector(settings, classes)
    return [e for t, p in zip(stamps, probabilities) for e in detector.update(float(t), p)]


@dataclass(frozen=True)
class EventScore:
    """Event-level counts and timings of one action."""

    tp: int
    fp: int
    fn: int
    latencies: tuple[float, ...]     # firing stamp - true onset (s), per true positive
    onset_errors: tuple[float, ...]  # estimated onset - true onset (s)

    @property
    def f1(self) -> float:
        """F1 of the events (1.0 when there was nothing to find and nothing was fired)."""
        denominator = 2 * self.tp + self.fp + self.fn
        return 1.0 if denominator == 0 else 2 * self.tp / denominator

    def __add__(self, other: 'EventScore') -> 'EventScore':
        return EventScore(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn,
                          self.latencies + other.latencies,
                          self.onset_errors + other.onset_errors)


def score_events(events: Iterable[Event], episodes: Iterable[tuple[str, float, float]],
                 action: str, grace_s: float = 1.0) -> EventScore:
    """
    Match events of ``action`` to true occurrences ``(action, start, end)``.

    An event is a true positive when it fires between an unmatched occurrence's start and
    ``grace_s`` after its end (the window still holds it); every other event is a false
    positive, every unmatched occurrence a miss.
    """
    truth = [(start, end) for a, start, end in episodes if a == action]
    matched = [False] * len(truth)
    tp = fp = 0
    latencies, onsets = [], []
    for event in sorted((e for e in events if e.action == action), key=lambda e: e.stamp):
        hit = next((i for i, (start, end) in enumerate(truth)
                    if not matched[i] and start <= event.stamp <= end + grace_s), None)
        if hit is None:
            fp += 1
            continue
        matched[hit] = True
        tp += 1
        latencies.append(event.stamp - truth[hit][0])
        onsets.append(event.onset - truth[hit][0])
    return EventScore(tp, fp, matched.count(False), tuple(latencies), tuple(onsets))
