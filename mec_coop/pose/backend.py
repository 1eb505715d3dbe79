# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The pose-model interface: an image in, every detected person's COCO-17 keypoints out.

Besides one full image (:meth:`PoseBackend.predict`) a backend runs several images as one batch
(:meth:`PoseBackend.predict_batch`, the edge serving several offloaded frames) and crops around
where people are expected (:meth:`PoseBackend.predict_roi`, the camera with the edge's feedback;
see :mod:`mec_coop.pose.roi`).
"""

from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from mec_coop.geometry.skeleton import NUM_JOINTS
from mec_coop.pose.roi import crop_input_size, crops_for_model, Roi

# Two people found in overlapping crops are one person when their boxes overlap this much.
DUPLICATE_IOU = 0.5


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

    def subset(self, indices) -> 'PoseEstimate':
        """Keep the people at ``indices`` (same time and model name)."""
        idx = np.asarray(indices, dtype=int).reshape(-1)
        return PoseEstimate(self.boxes[idx], self.box_scores[idx], self.keypoints[idx],
                            self.confidences[idx], self.inference_time_s, self.model_name)

    def in_full_image(self, roi: Roi, input_size: Optional[int] = None) -> 'PoseEstimate':
        """Map this estimate of a crop (resized to ``input_size``) to full-image pixels."""
        corners = roi.to_full(self.boxes.reshape(-1, 2, 2), input_size).reshape(-1, 4)
        return PoseEstimate(corners, self.box_scores, roi.to_full(self.keypoints, input_size),
                            self.confidences, self.inference_time_s, self.model_name)

    @classmethod
    def merge(cls, estimates: Sequence['PoseEstimate'],
              iou: float = DUPLICATE_IOU) -> 'PoseEstimate':
        """
        Join the people of several estimates of one image, a person found twice once.

        Overlapping crops find the same person twice: of two boxes overlapping by more than
        ``iou`` the higher box score survives (non-maximum suppression). The time is the sum of
        the estimates' times.
        """
        time_s = sum(e.inference_time_s for e in estimates)
        name = estimates[0].model_name if estimates else ''
        people = [e for e in estimates if e.num_people]
        if not people:
            return cls.empty(time_s, name)

        def joined(field: str) -> np.ndarray:
            return np.concatenate([getattr(e, field) for e in people])
        merged = cls(joined('boxes'), joined('box_scores'), joined('keypoints'),
                     joined('confidences'), inference_time_s=time_s, model_name=name)
        overlap = box_iou(merged.boxes, merged.boxes)
        keep: list[int] = []
        for i in np.argsort(-merged.box_scores, kind='stable'):
            if all(overlap[i, k] <= iou for k in keep):
                keep.append(int(i))
        return merged.subset(sorted(keep))


class PoseBackend:
    """
    A 2D pose model. Subclasses implement :meth:`predict`.

    :attr:`input_size` is the square side crops are resized to before the model (``None``: crops
    are passed at their own size); the model's own input size is the natural choice.
    """

    name = 'pose'
    input_size: Optional[int] = None

    def predict(self, image_bgr) -> PoseEstimate:
        """Return the :class:`PoseEstimate` of one BGR ``uint8`` image ``(H, W, 3)``."""
        raise NotImplementedError

    def predict_batch(self, images_bgr: Sequence[np.ndarray]) -> List[PoseEstimate]:
        """One :class:`PoseEstimate` per image; backends that can batch override this."""
        return [self.predict(image) for image in images_bgr]

    def predict_sized(self, images_bgr: Sequence[np.ndarray],
                      size: Optional[int]) -> List[PoseEstimate]:
        """:meth:`predict_batch` of square ``size`` images at input ``size`` where supported."""
        return self.predict_batch(images_bgr)

    def predict_roi(self, image_bgr, rois: Sequence[Roi],
                    input_size: Optional[int] = None) -> PoseEstimate:
        """
        People found in the crops ``rois`` of one image, in full-image pixels.

        Each crop is resized to ``input_size`` (default :attr:`input_size`), all crops go
        through the model together (:meth:`predict_sized`), and a person found in two
        overlapping crops is reported once (:meth:`PoseEstimate.merge`). No crop gives an empty
        estimate: the caller decides whether to fall back to the full frame.
        """
        if not rois:
            return PoseEstimate.empty(0.0, self.name)
        size = input_size or self.input_size
        crops = [roi.crop(image_bgr, size) for roi in rois]
        estimates = self.predict_sized(crops, size)
        return PoseEstimate.merge([est.in_full_image(roi, size)
                                   for est, roi in zip(estimates, rois)])

    def predict_around(self, image_bgr, people_keypoints) -> Optional[PoseEstimate]:
        """
        People found in crops around people already found (``(P, J, 2)`` pixels), or None.

        The crops are :func:`~mec_coop.pose.roi.crops_for_model` at
        :func:`~mec_coop.pose.roi.crop_input_size`; None when no crop lies in the image, so
        that the caller runs (or batches) the whole frame instead.
        """
        size = crop_input_size(self.input_size)
        rois = crops_for_model(people_keypoints, image_bgr.shape[1], image_bgr.shape[0], size)
        return self.predict_roi(image_bgr, rois, size) if rois else None


def _area(boxes):
    return np.prod(boxes[:, 2:] - boxes[:, :2], axis=-1)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union ``(N, M)`` of boxes ``(N, 4)`` and ``(M, 4)`` (x/y min, max)."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=-1)
    return inter / (_area(a)[:, None] + _area(b)[None, :] - inter + 1e-9)
