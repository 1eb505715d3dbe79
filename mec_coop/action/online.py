# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
On-line action recognition for tracked people: buffers, classifier, event detector per track.

The action node is glue around :class:`ActionTracker`: each skeleton of a track is appended
to that track's buffer (the model's horizon plus a margin), classified from the m skeletons
sampled over the horizon, and fed to the track's :class:`~.events.EventDetector`. A skeleton
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
    detector: EventDetector


@dataclass(frozen=True)
class Recognition:
    """The classifier's output after one skeleton, and the events it fired."""

    probabilities: np.ndarray
    label: str
    events: list[Event]


class ActionTracker:
    """Per-track windows and event detectors around one classifier."""

    def __init__(self, model: ActionClassifier, settings: DetectorSettings) -> None:
        problem = settings.problem(model.classes)
        if problem:
            raise ValueError(problem)
        self.model = model
        self.settings = settings
        self._tracks: dict[int, _Track] = {}
        self.counts = {'skeletons': 0, 'out_of_order': 0, 'empty': 0, 'restarted': 0,
                       'events': 0}

    def configure(self, model: ActionClassifier, settings: DetectorSettings) -> None:
        """Swap model or detector settings; buffers stay, detectors restart."""
        problem = settings.problem(model.classes)
        if problem:
            raise ValueError(problem)
        self.model, self.settings = model, settings
        for track in self._tracks.values():
            track.detector = EventDetector(settings, model.classes)

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
        if track is None or (track.stamps and stamp - track.stamps[-1] > self.model.horizon_s):
            self.counts['restarted'] += track is not None
            track = self._tracks[track_id] = _Track(
                deque(), deque(), EventDetector(self.settings, self.model.classes))
        track.stamps.append(float(stamp))
        track.points.append(points)
        while track.stamps[0] < stamp - self.model.horizon_s - 1.0:
            track.stamps.popleft()
            track.points.popleft()
        self.counts['skeletons'] += 1
        for other in [k for k, t in self._tracks.items()
                      if t.stamps[-1] < stamp - self.model.horizon_s - FORGET_S]:
            del self._tracks[other]
        p = self.model.predict_last(np.array(track.points), np.array(track.stamps))
        events = track.detector.update(float(stamp), p)
        self.counts['events'] += len(events)
        return Recognition(p, self.model.classes[int(np.argmax(p))], events)

    @property
    def tracks(self) -> list[int]:
        """Track ids with a live window."""
        return list(self._tracks)
