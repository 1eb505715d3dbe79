# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The pose-model interface: an image in, every detected person's COCO-17 keypoints out."""

from dataclasses import dataclass

import numpy as np

from mec_coop.geometry.skeleton import NUM_JOINTS


@dataclass
class PoseEstimate:
    """People found in one image (``P`` may be 0)."""

    boxes: np.ndarray          # (P, 4) x_min, y_min, x_max, y_max in pixels
    box_scores: np.ndarray     # (P,)
    keypoints: np.ndarray      # (P, 17, 2) pixels of the input image
    confidences: np.ndarray    # (P, 17) keypoint confidences in [0, 1]
    inference_time_s: float = 0.0
    model_name: str = ''

    def __post_init__(self):
        p = len(self.boxes)
        shapes = {'boxes': (p, 4), 'box_scores': (p,), 'keypoints': (p, NUM_JOINTS, 2),
                  'confidences': (p, NUM_JOINTS)}
        for name, shape in shapes.items():
            value = np.asarray(getattr(self, name), dtype=np.float64).reshape(shape)
            setattr(self, name, value)

    @classmethod
    def empty(cls, inference_time_s=0.0, model_name=''):
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros((0, NUM_JOINTS, 2)),
                   np.zeros((0, NUM_JOINTS)), inference_time_s, model_name)

    @property
    def num_people(self):
        return len(self.boxes)

    @property
    def mean_confidence(self):
        """Mean joint confidence of each person, ``(P,)``: the paper's c-bar (mean over 17)."""
        return self.confidences.mean(axis=1) if self.num_people else np.zeros(0)

    def best(self):
        """Index of the person with the highest mean joint confidence, or -1 if none."""
        return int(np.argmax(self.mean_confidence)) if self.num_people else -1

    def as_array(self):
        """Keypoints with their confidences, ``(P, 17, 3)`` rows of ``(x, y, confidence)``."""
        return np.concatenate([self.keypoints, self.confidences[..., None]], axis=-1)

    def frame_confidence(self):
        """Mean joint confidence of the best person; 0 when nobody was detected."""
        i = self.best()
        return float(self.mean_confidence[i]) if i >= 0 else 0.0


class PoseBackend:
    """A 2D pose model. Subclasses implement :meth:`predict`."""

    name = 'pose'

    def predict(self, image_bgr):
        """Return the :class:`PoseEstimate` of one BGR ``uint8`` image ``(H, W, 3)``."""
        raise NotImplementedError
