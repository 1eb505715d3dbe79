# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
On-line action recognition for tracked people: buffers, classifier, event detector per track.

The action node is glue around :class:`ActionTracker`: each skeleton of a track is appended
to that track's buffer (the longest model horizon plus a margin), classified from the m
skeletons sampled over the horizon, and fed to the track's :class:`~.events.EventDetector`.
With several models (each action on the model picked for it: :meth:`ActionTracker.configure`
with a plan), every model classifies the skeleton and feeds the detector of its own actions;
the first model's output is the track's label. A skeleton
older than the track's newest is refused (counted, not used): windows need ordered stamps.
Non-finite coordinates count as invalid joints. A track silent for longer than the horizon
starts over (its old window says nothing about now); tracks silent for longer than
:data:`FORGET_S` beyond the horizon are forgotten, so that track ids coming and going do not
accumulate.
"""

from collections import deque
from dataclasses import dataclass

import numpy as np

from .classifier import ActionClassifier
from .events import DetectorSettings, Event, EventDetector

FORGET_S = 10.0


@dataclass
class _Track:
    stamps: deque
    points: deque
    detectors: list[EventDetector]


@dataclass(frozen=True)
class Recognition:
    """The classifier's output after one skeleton, and the events it fired."""

    probabilities: np.ndarray
    label: str
    events: list[Event]


Plan = list[tuple[ActionClassifier, DetectorSettings]]


class ActionTracker:
    """Per-track windows and event detectors around one classifier, or one per action group."""

    def __init__(self, model: ActionClassifier, settings: DetectorSettings,
                 plan: Plan | None = None) -> None:
        self._tracks: dict[int, _Track] = {}
        self.counts = {'skeletons': 0, 'out_of_order': 0, 'empty': 0, 'restarted': 0,
                       'events': 0}
        self.configure(model, settings, plan)

    def configure(self, model: ActionClassifier, settings: DetectorSettings,
                  plan: Plan | None = None) -> None:
        """
        Swap models or detector settings; buffers stay, detectors restart.

        ``plan``: ``(model, settings)`` pairs whose settings report disjoint actions, each
        action's events from its own model; None: ``model`` reports ``settings.actions``.
        """
        plan = plan or [(model, settings)]
        for member, member_settings in plan:
            problem = member_settings.problem(member.classes)
            if problem:
                raise ValueError(problem)
        reported = [a for _, s in plan for a in s.actions]
        if len(reported) != len(set(reported)):
            raise ValueError(f'an action is reported by two models of the plan: {reported}')
        self.plan = list(plan)
        self.model, self.settings = self.plan[0]
        self._horizon_s = max(member.horizon_s for member, _ in self.plan)
        for track in self._tracks.values():
            track.detectors = self._detectors()

    def _detectors(self):
        return [EventDetector(s, member.classes) for member, s in self.plan]

    def frames_of(self, action: str) -> int:
        """Return the m of the model whose events of ``action`` the tracker reports."""
        return next(member.m for member, s in self.plan if action in s.actions)

    def update(self, track_id: int, stamp: float, points: np.ndarray) -> Recognition | None:
        """
        Add the skeleton of ``track_id`` at ``stamp`` (NaN rows: invalid joints).

        Returns None when the skeleton cannot be used (out of order, or no valid joint).
        """
        points = np.asarray(points, dtype=np.float64)
        points = np.where(np.isfinite(points), points, np.nan)
        track = self._tracks.get(track_id)
        if track is not None and track.stamps and stamp <= track.stamps[-1]:
            self.counts['out_of_order'] += 1
            return None
        if not np.isfinite(points).any():
            self.counts['empty'] += 1
            return None
        horizon = self._horizon_s
        if track is None or (track.stamps and stamp - track.stamps[-1] > horizon):
            self.counts['restarted'] += track is not None
            track = self._tracks[track_id] = _Track(deque(), deque(), self._detectors())
        track.stamps.append(float(stamp))
        track.points.append(points)
        while track.stamps[0] < stamp - horizon - 1.0:
            track.stamps.popleft()
            track.points.popleft()
        self.counts['skeletons'] += 1
        for other in [k for k, t in self._tracks.items()
                      if t.stamps[-1] < stamp - horizon - FORGET_S]:
            del self._tracks[other]
        window, stamps = np.array(track.points), np.array(track.stamps)
        outputs = [member.predict_last(window, stamps) for member, _ in self.plan]
        events = [e for p, detector in zip(outputs, track.detectors)
                  for e in detector.update(float(stamp), p)]
        self.counts['events'] += len(events)
        return Recognition(outputs[0], self.model.classes[int(np.argmax(outputs[0]))], events)

    @property
    def tracks(self) -> list[int]:
        """Track ids with a live window."""
        return list(self._tracks)
