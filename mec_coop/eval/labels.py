# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Which ground-truth person each 2D detection is, to check that no skeleton mixes people.

A published skeleton names, per contributing camera, the capture stamp and the index of the
person used in that camera's report (``Skeleton3D.person_indices``). The evaluator keeps the
reports it saw (the camera's keypoints, the keypoints sent with an offload, the edge model's
result) and labels the detection with the ground-truth person whose projected joints are nearest
(median pixel distance over the joints both have); a detection farther than ``max_relative``
times that person's projected size from everyone is a false detection (label -1). An offloaded
frame has two reports (the camera's and the edge model's) and the skeleton does not say which
one was used: when their labels differ, the view is *ambiguous* and counted apart.
"""

from typing import Callable, Optional

import numpy as np

from mec_coop.geometry.camera import PinholeCamera


def label_detection(pixels: np.ndarray, camera: PinholeCamera, truth: np.ndarray,
                    max_relative: float = 0.3) -> int:
    """Ground-truth person (index into ``truth (P, J, 3)``) of a detection ``(J, 2)``; -1: none."""
    projected = camera.project(truth)                                          # (P, J, 2)
    d = np.linalg.norm(projected - np.asarray(pixels, dtype=np.float64)[None], axis=-1)
    seen = np.isfinite(d)
    if not seen.any():
        return -1
    with np.errstate(invalid='ignore'):
        median = np.where(seen.any(-1), np.nanmedian(np.where(seen, d, np.nan), -1), np.inf)
    best = int(np.argmin(median))
    extent = np.nanmax(projected[best], 0) - np.nanmin(projected[best], 0)
    return best if median[best] <= max_relative * float(np.max(extent)) else -1


class DetectionLabels:
    """Recent 2D reports of every camera, and the labels of the detections a skeleton used."""

    def __init__(self, keep_s: float = 10.0, max_relative: float = 0.3) -> None:
        self.keep_s = keep_s
        self.max_relative = max_relative
        self._reports: dict[str, dict[float, list[np.ndarray]]] = {}

    def add_report(self, camera: str, stamp: float, people: np.ndarray) -> None:
        """One report's people ``(N, J, 2)`` (pixels) of ``camera`` captured at ``stamp``."""
        reports = self._reports.setdefault(camera, {})
        reports.setdefault(round(stamp, 3), []).append(np.asarray(people, dtype=np.float64))
        for old in [s for s in reports if s < stamp - self.keep_s]:
            del reports[old]

    def labels(self, camera: str, stamp: float, index: int, model: PinholeCamera,
               truth: np.ndarray) -> set:
        """Labels of detection ``index`` in every report of ``camera`` at ``stamp``."""
        reports = self._reports.get(camera, {}).get(round(stamp, 3), [])
        return {label_detection(r[index], model, truth, self.max_relative)
                for r in reports if 0 <= index < len(r)}

    def check(self, views: list, cameras: Callable[[str], Optional[PinholeCamera]],
              truth_at: Callable[[float], Optional[np.ndarray]]) -> tuple:
        """
        ``(mixed, ambiguous views, unlabelled views)`` of one skeleton.

        :param views: ``(camera, capture stamp, person index)`` of each contributing view.
        :param cameras: camera name -> :class:`PinholeCamera` (None: view unlabelled).
        :param truth_at: capture stamp -> ``(P, J, 3)`` ground truth (None: view unlabelled).
        """
        used: set = set()
        ambiguous = unlabelled = 0
        for cam, stamp, index in views:
            model, truth = cameras(cam), truth_at(stamp)
            found = self.labels(cam, stamp, index, model, truth) \
                if model is not None and truth is not None and index >= 0 else set()
            if len(found) == 1:
                used |= found
            elif found:
                ambiguous += 1
            else:
                unlabelled += 1
        return len(used) > 1 or -1 in used, ambiguous, unlabelled
