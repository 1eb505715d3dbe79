# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Camera side of the edge's feedback: the predicted crop or the whole frame.

A crop helps only while the prediction is fresh and right. The edge predicts for the next
capture times; :class:`RoiPolicy` keeps the last few priors and uses the one predicted for the
capture time nearest the frame's if that is within ``max_age_s``, and falls back
to the full frame when there is none. Every ``full_frame_every``-th frame also runs on the full
frame so people the edge does not track yet are found; the crop still runs on that frame and
the two are merged (:data:`Choice.PERIODIC` comes with the prior), because with cameras at the
same frame rate the periodic frames coincide, and a full frame alone, where a small person is
easily missed, lost that whole instant in every camera at once. When the full frame finds people
no crop holds, the next ``follow_up`` frames run it too (:meth:`RoiPolicy.untracked`): the edge
confirms a new person only after ``birth_instants`` (2) consecutive instants, which one full
frame in ten never gives; with three people crossing (``benchmarks/closed_loop_people.py``,
cooperative) the people not tracked yet were missing from 71 positive camera reports of 180
person-instants, and two of them got no track for 14 s. A crop that finds nobody is
tried once wider (:func:`infer`). Without edge feedback a camera behaves as before: full frames
only.

Without a crop the small model misses people the edge's large model finds (at imgsz 320 a
person 40 px wide at the far wall), and the edge cannot start a track from one camera: so every
``search_every``-th frame that ran without a crop and would be dropped is offloaded instead
(:meth:`RoiPolicy.search`), and the edge's model looks for the person there. While the edge
tracks someone in view it sends crops, so searches stop by themselves.
"""

from dataclasses import dataclass
import enum
import math
from typing import Any, cast, Generic, MutableMapping, Optional, Sequence, TypeVar

import numpy as np

from mec_coop.pose.backend import box_iou, DUPLICATE_IOU, PoseBackend, PoseEstimate
from mec_coop.pose.roi import Roi

Prior = TypeVar('Prior')
# Priors kept per camera: the edge sends two capture times ahead, a few instants back.
PRIORS_KEPT = 6
# A crop that found nobody is tried once more this much wider (see infer).
RETRY_WIDEN = 1.3


class Choice(enum.Enum):
    """Why a frame runs on the crop or on the full frame."""

    ROI = 'roi_used'
    NO_PRIOR = 'full_no_prior'
    STALE = 'full_stale_prior'
    PERIODIC = 'full_periodic'   # the full frame and the crop


@dataclass
class RoiPolicy(Generic[Prior]):
    """The fallback rules; see the module docstring. ``full_frame_every`` 0: never periodic."""

    max_age_s: float = 0.75
    full_frame_every: int = 10
    search_every: int = 3
    follow_up: int = 2

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_age_s) and self.max_age_s >= 0):
            raise ValueError(f'max_age_s must be finite and >= 0, got {self.max_age_s}')
        if self.full_frame_every < 0:
            raise ValueError(f'full_frame_every must be >= 0, got {self.full_frame_every}')
        if self.search_every < 0:
            raise ValueError(f'search_every must be >= 0, got {self.search_every}')
        if self.follow_up < 0:
            raise ValueError(f'follow_up must be >= 0, got {self.follow_up}')
        # One tuple, replaced whole: offer() and choose() run on different threads.
        self._priors: tuple[tuple[float, Prior], ...] = ()
        self._frames = 0
        self._uncropped_drops = 0
        self._follow = 0
        self._crop_found = True

    def offer(self, stamp: float, prior: Prior) -> None:
        """Keep a prior predicted for capture time ``stamp`` (the newest few are kept)."""
        kept = dict(self._priors)
        kept[stamp] = prior
        self._priors = tuple(sorted(kept.items(), key=lambda item: item[0])[-PRIORS_KEPT:])

    def choose(self, frame_stamp: float) -> tuple[Choice, Optional[Prior]]:
        """Decide for one frame; the prior comes with :attr:`Choice.ROI` and ``PERIODIC``."""
        self._frames += 1
        priors = self._priors
        if not priors:
            return Choice.NO_PRIOR, None
        stamp, prior = min(priors, key=lambda item: abs(item[0] - frame_stamp))
        if abs(frame_stamp - stamp) > self.max_age_s:
            return Choice.STALE, None
        if self._follow > 0 or (self.full_frame_every
                                and self._frames % self.full_frame_every == 0):
            self._follow = max(self._follow - 1, 0)
            return Choice.PERIODIC, prior
        return Choice.ROI, prior

    def untracked(self, people: int) -> None:
        """Hear that the full frame found ``people`` no crop holds: run it on the next frames."""
        if people > 0:
            self._follow = self.follow_up

    def infer(self, model: PoseBackend, image: np.ndarray, stamp: float,
              counts: MutableMapping[str, int]) -> tuple[PoseEstimate, Any, Choice]:
        """
        :meth:`choose` and :func:`infer` for one frame; return estimate, prediction and choice.

        A crop that missed is retried wider only if the previous crop found someone: the
        wider try catches the nano model's flicker, not a person hidden where the track says
        (seed 0, 4 cameras, ``benchmarks/closed_loop.py``: 169 retries found 10 people, and
        all but a few came right after a found one; see the README).
        """
        choice, prior = self.choose(stamp)
        # The camera node's priors are (crops, predicted keypoints), as infer takes them.
        crops = cast(Optional[tuple[Sequence[Roi], Any]], prior)
        estimate, predicted = infer(model, image, choice, crops, counts,
                                    retry=self._crop_found, policy=self)
        if prior is not None:
            self._crop_found = predicted is not None
        return estimate, predicted, choice

    def search(self, choice: Choice, dropped: bool) -> bool:
        """Whether to offload a frame the thresholds drop (see the module docstring)."""
        if not dropped or choice not in (Choice.NO_PRIOR, Choice.STALE) or not self.search_every:
            return False
        self._uncropped_drops += 1
        return self._uncropped_drops % self.search_every == 0


def infer(model: PoseBackend, image: np.ndarray, choice: Choice,
          prior: Optional[tuple[Sequence[Roi], Any]],
          counts: MutableMapping[str, int], retry: bool = True,
          policy: Optional['RoiPolicy'] = None) -> tuple[PoseEstimate, Any]:
    """
    Run ``model`` on one frame as :meth:`RoiPolicy.choose` decided; return estimate, prediction.

    With a prior ``(crops, predicted keypoints)``: the crops (on periodic frames also the full
    frame, for people the crops do not hold). A crop that finds nobody is tried once
    :data:`RETRY_WIDEN` wider, since the nano model's detections flicker with the crop's scale
    (a crouching person seen from behind found in 120 and 200 px crops, not in 160); if that
    misses too, the frame has nobody (``retry`` False: no wider try). The full frame is not
    run then: on three virtual-rig seeds (``benchmarks/closed_loop.py``) it found someone in 0
    of 375 such frames (the person is hidden where the track says), and people elsewhere are
    found by the periodic full frames. The prediction is returned only with people found with
    a crop. ``counts`` (with ``roi_retry`` and ``roi_miss`` keys) counts both; ``policy`` (the
    camera's) hears of people a periodic full frame found outside the crops
    (:meth:`RoiPolicy.untracked`).
    """
    if prior is None:
        return model.predict(image), None
    rois, predicted = prior
    estimate = model.predict_roi(image, rois)
    if choice is Choice.PERIODIC:
        # People the crops found keep their crop keypoints (finer than the full frame's, even
        # where the full frame scores the box higher); the full frame adds only new people.
        full = model.predict(image)
        overlap = box_iou(full.boxes, estimate.boxes) if estimate.num_people else \
            np.zeros((full.num_people, 1))
        new = full.subset(np.flatnonzero(overlap.max(axis=1, initial=0.0) <= DUPLICATE_IOU))
        if policy is not None:
            policy.untracked(new.num_people)
        merged = PoseEstimate.merge([estimate, new])
        return merged, predicted if merged.num_people else None
    if estimate.num_people == 0 and retry:
        counts['roi_retry'] += 1
        wider = model.predict_roi(image, [roi.widened(RETRY_WIDEN) for roi in rois])
        wider.inference_time_s += estimate.inference_time_s
        estimate = wider
    if estimate.num_people == 0:
        counts['roi_miss'] += 1
        return estimate, None
    return estimate, predicted
