# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Synthetic 2D detections of several people, labelled with the ground-truth person of each.

For association tests and ``benchmarks/association.py``: the ground-truth joints are projected
into every camera, then the detector's failings are injected: pixel noise, people missed by a
camera, joints outside the image, and false detections (a person-shaped cluster of keypoints where
nobody is). Each detection carries its person label (-1 for a false one), which is what the
"no skeleton fused from different people" check needs.
"""

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from mec_coop.geometry.camera import PinholeCamera


@dataclass(frozen=True)
class DetectorModel:
    """How a synthetic detector fails (probabilities per person, camera and instant)."""

    noise_px: float = 3.0
    miss_rate: float = 0.0
    false_rate: float = 0.0        # expected false detections per camera and instant
    confidence: float = 0.9
    min_visible_joints: int = 5    # fewer joints in the image: the camera does not see the person


@dataclass
class SyntheticView:
    """One camera's detections: ``pixels (N, J, 2)``, ``weights (N, J)``, ``labels (N,)``."""

    camera: PinholeCamera
    pixels: np.ndarray
    weights: np.ndarray
    labels: np.ndarray


def detect(cameras: Sequence[PinholeCamera], people: np.ndarray, model: DetectorModel,
           rng: np.random.Generator, hidden: Optional[np.ndarray] = None) -> list[SyntheticView]:
    """
    Detect ``people (P, J, 3)`` (world, m) in each camera; detections shuffled per camera.

    :param hidden: ``(V, P)`` bool, people a camera must not see (occlusion scripted by a test).
    """
    people = np.asarray(people, dtype=np.float64).reshape(-1, *np.shape(people)[-2:])
    out = []
    for v, cam in enumerate(cameras):
        pixels, weights, labels = [], [], []
        for p, joints in enumerate(people):
            if (hidden is not None and hidden[v, p]) or rng.random() < model.miss_rate:
                continue
            px = cam.project(joints) + rng.normal(0.0, model.noise_px, (len(joints), 2))
            seen = np.isfinite(px).all(-1) & cam.in_image(np.nan_to_num(px, nan=-1.0))
            if seen.sum() < model.min_visible_joints:
                continue
            pixels.append(np.where(seen[:, None], px, np.nan))
            weights.append(np.where(seen, model.confidence, 0.0))
            labels.append(p)
        for _ in range(rng.poisson(model.false_rate)):
            pixels.append(_false_detection(cam, people, rng))
            weights.append(np.full(people.shape[1], model.confidence))
            labels.append(-1)
        order = rng.permutation(len(labels))
        J = people.shape[1]
        out.append(SyntheticView(
            cam, np.array(pixels, dtype=np.float64).reshape(-1, J, 2)[order],
            np.array(weights, dtype=np.float64).reshape(-1, J)[order],
            np.array(labels, dtype=int)[order]))
    return out


def _false_detection(cam: PinholeCamera, people: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """Return a person's shape seen by this camera, moved to a random place in the image."""
    template = people[rng.integers(len(people))] if len(people) else None
    if template is None or not np.isfinite(px := cam.project(template)).all():
        px = rng.normal(0.0, 40.0, (17, 2)) * [1.0, 3.0]
    px = px - np.nanmean(px, axis=0)
    centre = rng.uniform([0.1 * cam.width, 0.2 * cam.height], [0.9 * cam.width, 0.8 * cam.height])
    return px + centre
