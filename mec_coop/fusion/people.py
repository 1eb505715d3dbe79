# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The edge with several people: association per instant, a filtered skeleton and crops per track.

:class:`PeopleFusion` is what :class:`~mec_coop.fusion.edge.EdgeFusion` runs per released
instant when ``FusionSettings.association`` is on: every person of every view goes into the
:class:`~mec_coop.fusion.association.Associator`; each confirmed person measured at the instant
becomes a :class:`~mec_coop.fusion.edge.FusedSkeleton` with its track id and the index of the
person used in each contributing camera's report, filtered by its own One Euro smoother; each
camera gets one crop per tracked person predicted into its image (the camera runs its model on
all of them, see :meth:`mec_coop.pose.backend.PoseBackend.predict_roi`).

The published single skeleton (the ``skeleton`` topic, kept for single-person consumers) is the
one of the longest-lived track measured at the instant: the lowest id, as ids grow with birth.
"""

import time
from typing import Callable, Optional, Sequence

from mec_coop.fusion.association import AssociationSettings, Associator, ViewDetections
from mec_coop.fusion.feedback import (CameraPrior, DEFAULT_MAX_HORIZON_S, FeedbackSettings,
                                      track_prior)
from mec_coop.fusion.resolve import published
from mec_coop.fusion.smoothing import SkeletonSmoother
from mec_coop.geometry.camera import PinholeCamera


class PeopleFusion:
    """Several people's tracks, skeletons and crops; see the module docstring."""

    def __init__(self, association: AssociationSettings,
                 feedback: Optional[FeedbackSettings]) -> None:
        self.associator = Associator(association)
        self.feedback = feedback
        self._smoothers: dict[int, SkeletonSmoother] = {}
        self.counts = {'born': 0, 'died': 0, 'released_detections': 0, 'resolved_joints': 0,
                       'contested_views': 0, 'outvoted_views': 0}

    def fuse(self, views: Sequence[tuple], make: Callable) -> list:
        """
        Associate one instant; return its people's skeletons, lowest id first.

        :param views: ``(camera id, capture stamp, report, PinholeCamera)`` of each view with
            keypoints (reports carry every person in ``people`` / ``people_weights``).
        :param make: ``make(views used, triangulation, start) -> FusedSkeleton`` (the edge's
            latency bookkeeping).
        """
        start = time.perf_counter()
        detections = [ViewDetections(camera, *report.all_people()) for _, _, report, camera
                      in views]
        stamp = min(stamp for _, stamp, _, _ in views)
        result = self.associator.step(stamp, detections)
        self.counts['born'] += len(result.born)
        self.counts['died'] += len(result.died)
        self.counts['released_detections'] += result.released_detections
        self.counts['resolved_joints'] += result.resolved_joints
        self.counts['contested_views'] += result.contested_views
        self.counts['outvoted_views'] += result.outvoted_views
        for track_id in result.died:
            self._smoothers.pop(track_id, None)
        out = []
        for person in result.people:
            used = [v for v, n in enumerate(person.person_indices) if n >= 0]
            fused = make([views[v] for v in used], person.triangulation, start)
            fused.track_id = person.track_id
            fused.person_indices = [int(person.person_indices[v]) for v in used]
            if person.update is not None and self.feedback is not None:
                smoother = self._smoothers.setdefault(
                    person.track_id, SkeletonSmoother(self.feedback.smoothing))
                fused.filtered = smoother(published(person.update, person.triangulation,
                                                    person.resolved))
            out.append(fused)
        return out

    def priors(self, camera: PinholeCamera, stamps: Sequence[float]) -> list[CameraPrior]:
        """
        Crops of every track in ``camera`` for each capture time in ``stamps``.

        Confirmed tracks first (by id), then tentative ones (``track_id`` 0): a new person
        becomes a track only when measured on ``birth_instants`` consecutive instants, and
        cameras that run on crops find them on the next frame only if a crop holds them.
        """
        if self.feedback is None:
            return []
        tracks = sorted(self.associator.tracks, key=lambda p: (p.track_id == 0, p.track_id))
        out = []
        for stamp in stamps:
            for person in tracks:
                prior = track_prior(person.track, self.feedback, camera, stamp, person.track_id)
                if prior is not None:
                    out.append(prior)
        return out

    def tracking(self, stamp: float) -> bool:
        """Whether any confirmed person was measured within the prediction horizon."""
        horizon = self.feedback.max_horizon_s if self.feedback else DEFAULT_MAX_HORIZON_S
        return any(stamp - p.last_seen <= horizon for p in self.associator.confirmed)
