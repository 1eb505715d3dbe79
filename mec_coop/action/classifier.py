# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The action classifier: window features of the last m skeletons -> a small MLP -> P(action).

Two kinds share the code: ``3d`` (the edge's world skeletons) and ``2d`` (one camera's own
keypoints). Windows shorter than m (the start of a track) repeat their oldest skeleton, the
same in training and on line. Training uses torch (Adam, class-balanced cross-entropy, fixed
seeds: deterministic on CPU); inference is numpy, so the nodes need no torch. A trained model
is a small ``.npz`` (standardisation, two weight matrices, metadata).
"""

from dataclasses import dataclass
import pathlib

import numpy as np

from mec_coop.rig.virtual import ACTIONS
from .features import (body_size_2d, frame_features_2d, frame_features_3d, FRAME_MACS,
                       hip_centres, window_features)

KINDS = ('3d', '2d')
HIDDEN = 48


def window_indices(stamps: np.ndarray, m: int, horizon_s: float) -> np.ndarray:
    """
    Return the indices ``(T, m)`` (oldest first) of the m skeletons of each window.

    For each of T ascending stamps: the skeletons nearest to m evenly spaced ages 0 ..
    ``horizon_s`` before it, never newer than the window's own frame nor older than the first.
    """
    stamps = np.asarray(stamps, dtype=np.float64)
    ages = np.linspace(horizon_s, 0.0, m) if m > 1 else np.zeros(1)
    targets = stamps[:, None] - ages[None, :]
    right = np.clip(np.searchsorted(stamps, targets), 0, len(stamps) - 1)
    left = np.maximum(right - 1, 0)
    nearer_left = np.abs(stamps[left] - targets) < np.abs(stamps[right] - targets)
    return np.minimum(np.where(nearer_left, left, right), np.arange(len(stamps))[:, None])


def sequence_features(kind: str, points: np.ndarray, stamps: np.ndarray, m: int,
                      horizon_s: float) -> np.ndarray:
    """
    Window features ``(T, n)`` at every frame of a stream of skeletons (oldest first).

    ``points``: ``(T, 17, 3)`` world joints (``3d``) or ``(T, 17, 2)`` pixels (``2d``), NaN
    where invalid; only the frames the model receives (no missing instants). Each window holds
    m skeletons sampled over the last ``horizon_s`` seconds (:func:`window_indices`): m is the
    temporal sampling of a clip of fixed length, as the paper's "number of input frames".
    """
    points = np.asarray(points, dtype=np.float64)
    stamps = np.asarray(stamps, dtype=np.float64)
    if kind not in KINDS:
        raise ValueError(f'kind must be one of {KINDS}, got {kind!r}')
    if m < 1:
        raise ValueError(f'm must be >= 1, got {m}')
    if len(points) != len(stamps) or points.shape[1:] != (17, 3 if kind == '3d' else 2):
        raise ValueError(f'{kind} points must be (T, 17, {3 if kind == "3d" else 2}) with one '
                         f'stamp each, got {points.shape} and {stamps.shape}')
    return _window_features(kind, points, stamps, window_indices(stamps, m, horizon_s))


def _window_features(kind, points, stamps, index):
    centres = hip_centres(points)
    if kind == '3d':
        return window_features(frame_features_3d(points)[index], centres[index], stamps[index])
    # Image rows grow downwards: flip v so that the last coordinate points up, as in 3D.
    centres = centres * np.array([1.0, -1.0])
    return window_features(frame_features_2d(points)[index], centres[index], stamps[index],
                           body_size_2d(points)[index])


@dataclass
class ActionClassifier:
    """A trained model: ``kind``, frames ``m`` over ``horizon_s``, training rate ``fps``."""

    kind: str
    m: int
    horizon_s: float
    fps: float
    mean: np.ndarray
    std: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    classes: tuple[str, ...] = ACTIONS

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, classes)`` of window features ``(N, n)``."""
        hidden = np.maximum(((features - self.mean) / self.std) @ self.w1 + self.b1, 0.0)
        logits = hidden @ self.w2 + self.b2
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict_last(self, points: np.ndarray, stamps: np.ndarray) -> np.ndarray:
        """Probabilities ``(classes,)`` after the newest of a track's recent skeletons."""
        if len(points) == 0:
            raise ValueError('no skeleton to classify')
        stamps = np.asarray(stamps, dtype=np.float64)
        # Features of the m sampled skeletons only: the cost is linear in m, eq. (14).
        index = window_indices(stamps, self.m, self.horizon_s)[-1]
        features = _window_features(self.kind, np.asarray(points, dtype=np.float64)[index],
                                    stamps[index], np.arange(self.m)[None])
        return self.predict_proba(features)[0]

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one inference: features (linear in m) plus the MLP."""
        return FRAME_MACS[self.kind] * self.m + 6 * (self.m - 1) + self.w1.size + self.w2.size

    def save(self, path: str | pathlib.Path) -> None:
        """Write the model to ``path`` (``.npz``)."""
        np.savez_compressed(path, kind=self.kind, m=self.m, horizon_s=self.horizon_s,
                            fps=self.fps, classes=np.array(self.classes),
                            **{k: getattr(self, k).astype(np.float32)
                               for k in ('mean', 'std', 'w1', 'b1', 'w2', 'b2')})

    @classmethod
    def load(cls, path: str | pathlib.Path) -> 'ActionClassifier':
        """Read a model written by :meth:`save`."""
        with np.load(path) as z:
            mean, std, w1, b1, w2, b2 = (z[k].astype(np.float64)
                                         for k in ('mean', 'std', 'w1', 'b1', 'w2', 'b2'))
            return cls(str(z['kind']), int(z['m']), float(z['horizon_s']), float(z['fps']),
                       mean, std, w1, b1, w2, b2, tuple(str(c) for c in z['classes']))


def train(kind: str, m: int, horizon_s: float, fps: float, features: np.ndarray,
          labels: np.ndarray, epochs: int = 30, seed: int = 0) -> ActionClassifier:
    """Fit an :class:`ActionClassifier` on window features and label indices (deterministic)."""
    import torch  # training only: inference is numpy
    torch.manual_seed(seed)
    mean = features.mean(axis=0)
    std = np.maximum(features.std(axis=0), 1e-6)
    x = torch.tensor((features - mean) / std, dtype=torch.float32)
    y = torch.tensor(labels, dtype=torch.long)
    counts = np.bincount(labels, minlength=len(ACTIONS)).astype(np.float64)
    # Square-root balancing: rare actions (falls) count more without drowning the common ones.
    weight = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1.0)), 0.0)
    weight *= len(ACTIONS) / weight.sum()
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], HIDDEN), torch.nn.ReLU(),
                              torch.nn.Linear(HIDDEN, len(ACTIONS)))
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(weight, dtype=torch.float32))
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(512):
            optimiser.zero_grad()
            loss_fn(net(x[batch]), y[batch]).backward()
            optimiser.step()
    # Stored as float32 (small files); rounding here makes the saved model the returned one.
    w1, b1, w2, b2 = (p.detach().numpy().astype(np.float32).astype(np.float64)
                      for p in net.parameters())
    mean, std = (v.astype(np.float32).astype(np.float64) for v in (mean, std))
    return ActionClassifier(kind, int(m), float(horizon_s), float(fps), mean, std, w1.T, b1,
                            w2.T, b2)
