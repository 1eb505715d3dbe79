# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Label-free frame labels: is a person in this camera's frame, judged by the rest of the rig.

The score laws of the allocator (``X^+``, ``X^-``, ``Y^+``, ``Y^-`` and ``pi``; paper Sec. III)
need each frame labelled positive (a person with enough joints visible) or negative. A real rig
has no ground truth, but it has the skeleton the *other* views triangulated: a frame is

* **negative** when fewer than ``1 - negative_fraction`` of the skeleton's supported joints
  project into the image (the person is out of view); when the person found in the frame (by
  the camera's or the edge's model) agrees with the projection on some joints but not on that
  fraction (partly hidden: the models report hidden joints with low confidence or elsewhere);
  or when an edge (large-model) result found nobody there (hidden);
* **positive** when a person found in the frame agrees with the projection on more than that
  fraction of the joints, within ``tolerance_px`` and above ``min_confidence``;
* **unlabelled** otherwise (only the small model looked and found nobody: a miss and an
  occlusion look the same to it; audits give these frames the edge's look), and when no
  skeleton exists.

A joint counts as supported when views other than this camera triangulated it: ``num_views``
minus one if this camera contributed, at least ``min_support``. Without that, a view that made
the skeleton would always agree with it. The virtual rig's ground-truth definition uses the same
fraction (``negative_fraction`` = 0.4 there), so the two labels answer the same question.
"""

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from mec_coop.geometry.camera import PinholeCamera


@dataclass(frozen=True)
class LabelRule:
    """Thresholds of the label; see the module docstring."""

    negative_fraction: float = 0.4
    tolerance_px: float = 25.0
    min_support: int = 2
    min_confidence: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 < self.negative_fraction < 1.0:
            raise ValueError(f'negative_fraction must be in (0, 1), got {self.negative_fraction}')
        if self.tolerance_px <= 0.0 or self.min_support < 1:
            raise ValueError('tolerance_px must be > 0 and min_support >= 1')


def agreement(projected: np.ndarray, usable: np.ndarray, people: Sequence[tuple],
              rule: LabelRule) -> float:
    """
    Best fraction over ``people`` of the ``usable`` joints found within the tolerance.

    :param projected: ``(17, 2)`` projection of the skeleton.
    :param usable: ``(17,)`` joints to compare (supported and inside the image).
    :param people: ``(pixels (17, 2), confidences (17,))`` per person found in the frame.
    :param rule: :class:`LabelRule`.
    :return: fraction in [0, 1] (0 without people or usable joints).
    """
    if not people or not usable.any():
        return 0.0
    best = 0.0
    for pixels, confidences in people:
        pixels, confidences = np.asarray(pixels, float), np.asarray(confidences, float)
        close = np.linalg.norm(pixels - projected, axis=1) <= rule.tolerance_px
        found = close & (confidences >= rule.min_confidence) & np.isfinite(pixels).all(axis=1)
        best = max(best, float(np.count_nonzero(found & usable)) / np.count_nonzero(usable))
    return best


def label_frame(camera: PinholeCamera, joints: np.ndarray, num_views: np.ndarray,
                contributed: bool, device_people: Sequence[tuple],
                edge_people: Optional[Sequence[tuple]], rule: LabelRule = LabelRule()
                ) -> Optional[bool]:
    """
    Label one camera frame from the skeleton of the same instant; ``None``: unlabelled.

    :param camera: the frame's calibrated camera.
    :param joints: ``(17, 3)`` skeleton in the world frame (NaN where invalid).
    :param num_views: ``(17,)`` views that triangulated each joint.
    :param contributed: whether this camera is one of the skeleton's views.
    :param device_people: people the camera's model found (``(pixels, confidences)``).
    :param edge_people: people the edge's model found, ``None`` when the edge did not look.
    :param rule: :class:`LabelRule`.
    :return: ``True`` (positive), ``False`` (negative) or ``None``.
    """
    joints = np.asarray(joints, float)
    support = np.asarray(num_views, int) - int(contributed)
    supported = np.isfinite(joints).all(axis=1) & (support >= rule.min_support)
    if not supported.any():
        return None
    # Behind the camera projects to NaN, which fails every comparison below: not inside.
    with np.errstate(invalid='ignore'):
        pixels = camera.project(np.where(supported[:, None], joints, 0.0))
        inside = supported & (pixels[:, 0] >= 0) & (pixels[:, 1] >= 0) \
            & (pixels[:, 0] < camera.width) & (pixels[:, 1] < camera.height)
    needed = 1.0 - rule.negative_fraction
    if np.count_nonzero(inside) / np.count_nonzero(supported) <= needed:
        return False
    found = agreement(pixels, inside, [*device_people, *(edge_people or ())], rule)
    if found > needed:
        return True
    return False if found > 0.0 or edge_people is not None else None


class AmbiguousShare:
    """
    Labels for the frames :func:`label_frame` leaves unlabelled, drawn at the audited rate.

    A frame where the small model found nobody is a miss (positive) or a hidden person
    (negative). Leaving such frames out biases both score laws (they are the low scores), so
    each one gets a random label, positive with the share observed among *audited* frames of
    the same kind (the edge looked at those, and audits are a random sample): the laws are then
    unbiased in expectation. The share starts at 1/2 (a uniform prior, one pseudo-count each).

    :param seed: random seed of the draws.
    """

    def __init__(self, seed: int = 0) -> None:
        self.positive, self.audited = 1, 2
        self._rng = np.random.default_rng(seed)

    @property
    def share(self) -> float:
        """Return the positive share among audited ambiguous frames (with the prior)."""
        return self.positive / self.audited

    def observe(self, label: bool) -> None:
        """Record the edge-informed label of an audited frame the small model alone left open."""
        self.positive += int(label)
        self.audited += 1

    def draw(self) -> bool:
        """Draw a label for an ambiguous frame that was not audited."""
        return bool(self._rng.random() < self.share)
