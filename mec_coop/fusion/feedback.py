# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The edge's memory of the person: a track that filters the skeleton and guides the cameras.

The 3D track filters the published skeleton and tells each camera where to look next (semantic
feedback, issue 10).

The idea is the smart-edge-sensor loop of Bultmann and Behnke ("Real-Time Multi-View 3D Human
Pose Estimation using Semantic Feedback to Smart Edge Sensors", RSS 2021): the fused 3D skeleton,
predicted to a camera's next capture time and projected into it, is a prior for that camera's 2D
model. Here the prior is a square crop (:class:`~mec_coop.pose.roi.Roi`) around the projected
keypoints, so the nano model sees the person at its input resolution instead of 4x shrunk.

:class:`PersonFeedback` keeps one :class:`~mec_coop.fusion.tracking.SkeletonTrack` and one
:class:`~mec_coop.fusion.smoothing.SkeletonSmoother`; :meth:`PersonFeedback.update` takes each
fused instant in capture order and returns what to publish; :meth:`PersonFeedback.roi` places a
camera's crop for a capture time. A fused instant older than the track (an offloaded view
completed it late) is published as fused, without entering the track.
"""

from dataclasses import dataclass, field
from typing import MutableMapping, Optional

import numpy as np

from mec_coop.fusion.shape import PersonShape
from mec_coop.fusion.smoothing import SkeletonSmoother, SmoothedSkeleton, SMOOTHING_METHODS
from mec_coop.fusion.tracking import SkeletonTrack, TrackConfig
from mec_coop.geometry.camera import PinholeCamera
from mec_coop.geometry.skeleton import complete_body
from mec_coop.geometry.triangulation import Triangulation
from mec_coop.pose.roi import DEFAULT_MARGIN, DEFAULT_MIN_SIZE, Roi, roi_from_keypoints

# Recommended by benchmarks/tracking.py: the velocity decays (limbs swing back), which predicts
# 0.5 s ahead as well as holding the last pose does and better than constant velocity.
DEFAULT_TRACK = TrackConfig(accel_psd=16.0, velocity_decay_s=0.3)
# A prediction further ahead than this past the last measurement is no prior any more.
DEFAULT_MAX_HORIZON_S = 1.5
# After that the crop searches where the person was last seen, widened by how far they may have
# walked (SEARCH_SPEED_MPS), until this long after the last measurement. A track is mostly lost
# to a few instants without two good views, not because the person left: the search crop finds
# them again where the full frame at imgsz 320 does not (a person 40 px tall at 5 m).
DEFAULT_SEARCH_HORIZON_S = 6.0
SEARCH_SPEED_MPS = 1.0


@dataclass(frozen=True)
class FeedbackSettings:
    """How the track filters the skeleton and places the crops."""

    smoothing: str = 'one_euro'
    margin: float = DEFAULT_MARGIN
    min_size: int = DEFAULT_MIN_SIZE
    max_horizon_s: float = DEFAULT_MAX_HORIZON_S
    search_horizon_s: float = DEFAULT_SEARCH_HORIZON_S
    min_joints: int = 6          # fewer predicted joints in view: no crop for that camera
    # Flag joints the person's own bone lengths refute (fusion/shape.py); False: as before.
    shape_check: bool = True
    track: TrackConfig = field(default_factory=lambda: DEFAULT_TRACK)

    def __post_init__(self) -> None:
        if self.smoothing not in SMOOTHING_METHODS:
            raise ValueError(f'smoothing must be one of {SMOOTHING_METHODS}, '
                             f'got {self.smoothing!r}')
        if not self.max_horizon_s > 0:
            raise ValueError(f'max_horizon_s must be > 0, got {self.max_horizon_s}')
        if not self.search_horizon_s >= self.max_horizon_s:
            raise ValueError(f'search_horizon_s ({self.search_horizon_s}) must be >= '
                             f'max_horizon_s ({self.max_horizon_s})')
        if not 1 <= self.min_joints <= 17:
            raise ValueError(f'min_joints must be in [1, 17], got {self.min_joints}')


@dataclass(frozen=True)
class CameraPrior:
    """Where one camera should look at capture time ``stamp``: the crop and the keypoints."""

    stamp: float
    roi: Roi
    keypoints: np.ndarray   # (17, 2) predicted pixels (distorted), NaN where not predicted
    track_id: int = 0       # the tracked person (0: the single-person track)


class PersonFeedback:
    """Track, filter and crop placement for one person; see the module docstring."""

    def __init__(self, settings: FeedbackSettings = FeedbackSettings()) -> None:
        self.settings = settings
        self.track = SkeletonTrack(settings.track)
        self.smoother = SkeletonSmoother(settings.smoothing)
        self.shape = PersonShape() if settings.shape_check else None
        self.counts = {'tracked': 0, 'not_tracked': 0, 'reinitialised': 0, 'swaps_fixed': 0,
                       'joints_rejected': 0, 'joints_predicted': 0}

    def update(self, stamp: float, points: np.ndarray,
               valid: np.ndarray) -> Optional[SmoothedSkeleton]:
        """
        Take one fused instant; return the skeleton to publish.

        None when the instant is older than the track: publish it as fused then.
        """
        result = self.track.update(stamp, points, valid)
        if not result.accepted:
            self.counts['not_tracked'] += 1
            return None
        self.counts['tracked'] += 1
        self.counts['reinitialised'] += result.status == 'reinitialised'
        self.counts['swaps_fixed'] += len(result.swapped_pairs)
        self.counts['joints_rejected'] += int(result.rejected.sum())
        published = self.smoother(result)
        self.counts['joints_predicted'] += int(published.predicted.sum())
        return published

    def plausible(self, tri: Triangulation, counts: MutableMapping[str, int]) -> Triangulation:
        """Return ``tri`` (one instant) with the joints the person's bones refute made invalid."""
        return tri if self.shape is None else self.shape.check(tri, counts)

    def roi(self, camera: PinholeCamera, stamp: float) -> Optional[CameraPrior]:
        """Place the crop of ``camera`` for capture time ``stamp``; None without a usable prior."""
        return track_prior(self.track, self.settings, camera, stamp)

    def tracking(self, stamp: float) -> bool:
        """Whether the track was measured within its prediction horizon of ``stamp``."""
        last = self.track.stamp
        return last is not None and stamp - last <= self.settings.max_horizon_s

    def reset(self) -> None:
        """Forget the person (lost for good)."""
        self.track.reset()
        self.smoother.reset()
        if self.shape is not None:
            self.shape.reset()


def track_prior(track: SkeletonTrack, settings: FeedbackSettings, camera: PinholeCamera,
                stamp: float, track_id: int = 0) -> Optional[CameraPrior]:
    """
    Crop of ``camera`` for ``track`` at capture time ``stamp``; None without a usable prior.

    The crop covers the whole body (:func:`~mec_coop.geometry.skeleton.complete_body` fills
    joints the track lacks) and, past ``max_horizon_s`` without a measurement, the distance
    the person may have walked since (a search crop, until ``search_horizon_s``). The prior's
    keypoints are the track's own predictions only.
    """
    last = track.stamp
    if last is None or not 0.0 <= stamp - last <= settings.search_horizon_s:
        return None
    points = track.predict(stamp, settings.search_horizon_s).points
    pixels = camera.project(points)
    ok = np.all(np.isfinite(pixels), axis=-1)
    if (ok & camera.in_image(np.where(ok[:, None], pixels, 0.0))).sum() < settings.min_joints:
        return None
    support = complete_body(points)
    walked = SEARCH_SPEED_MPS * (stamp - last - settings.max_horizon_s)
    if walked > 0:
        centre = np.nanmean(points, axis=0)
        support = np.concatenate([support, centre + walked * np.concatenate(
            [np.eye(3), -np.eye(3)])])
    roi = roi_from_keypoints(camera.project(support), camera.width, camera.height,
                             settings.margin, settings.min_size)
    return None if roi is None else CameraPrior(stamp, roi, pixels, track_id)


def frame_period(stamps: list[float], default: float) -> float:
    """Return the median spacing of capture stamps (s); ``default`` with fewer than two."""
    if len(stamps) < 2:
        return default
    gaps = np.diff(np.sort(np.asarray(stamps, dtype=float)))
    gaps = gaps[gaps > 1e-3]
    return float(np.median(gaps)) if gaps.size else default
