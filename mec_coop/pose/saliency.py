# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Gradient importance: how much the edge model's keypoint loss moves per input pixel.

SpaT-IMCO (Xiao et al., IEEE TCCN 2024, Sec. V-A) rates pixel ``x_i`` by ``p_i = dL/dx_i``:
compression noise ``e`` changes the loss by about ``sum_i p_i e_i``. For pose the loss is the
keypoint loss of the person against reference keypoints (ground truth on the virtual rig).
This is the expensive, model-specific map that :func:`mec_coop.coop.importance.pose_importance`
(cheap, from keypoints only) is checked against; it needs a backward pass of the edge model.
"""

import numpy as np

from mec_coop.pose.ultralytics_backend import UltralyticsPose

STRIDE = 32
PAD_VALUE = 114.0 / 255.0  # Ultralytics' letterbox grey
# OKS-like keypoint loss: squared error over (this share of the person's size)^2.
LOSS_SCALE_FRACTION = 0.1


def keypoint_loss_gradient(backend: UltralyticsPose, image_bgr: np.ndarray,
                           reference: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """
    ``|dL/dx|`` summed over colour channels, ``(H, W)``, for one person's keypoint loss.

    The image is resized (bilinear, inside the graph so the gradient lands on the original
    pixels) to the backend's ``imgsz`` and padded to the stride as Ultralytics does; the anchor
    whose box centre is nearest the reference joints' centre among the confident ones is the
    person; ``L = sum_j ||k_j - r_j||^2 / (2 s^2)`` over visible joints ``j``.

    :param reference: ``(17, 2)`` reference keypoints in image pixels.
    :param visible: ``(17,)`` bool, joints that count.
    :raises ValueError: when no joint is visible.
    """
    import torch
    import torch.nn.functional as F

    vis = np.asarray(visible, dtype=bool)
    ref = np.asarray(reference, dtype=np.float64)
    if not vis.any():
        raise ValueError('keypoint loss gradient needs at least one visible reference joint')
    h, w = image_bgr.shape[:2]
    r = backend.imgsz / max(h, w)
    nh, nw = int(round(h * r)), int(round(w * r))
    ph, pw = -(-nh // STRIDE) * STRIDE, -(-nw // STRIDE) * STRIDE
    rgb = np.ascontiguousarray(image_bgr[..., ::-1], dtype=np.float32) / 255.0
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].clone().requires_grad_(True)
    net = backend._model.model
    for p in net.parameters():
        p.requires_grad_(False)
    with torch.enable_grad():
        small = F.interpolate(x, size=(nh, nw), mode='bilinear', align_corners=False)
        padded = F.pad(small, (0, pw - nw, 0, ph - nh), value=PAD_VALUE)
        out = net(padded)
        pred = (out[0] if isinstance(out, (list, tuple)) else out)[0]  # (4 + 1 + 51, anchors)
        target = torch.from_numpy(ref[vis] * r)
        centre = target.mean(dim=0)
        score = pred[4]
        dist = torch.linalg.norm(pred[:2].T - centre, dim=1)
        confident = score >= 0.5 * score.max()
        anchor = int(torch.argmin(torch.where(confident, dist, torch.inf)))
        kp = pred[5:, anchor].reshape(-1, 3)[:, :2][torch.from_numpy(vis)]
        span = (target.max(dim=0).values - target.min(dim=0).values).max()
        s = LOSS_SCALE_FRACTION * torch.clamp(span, min=8.0)
        loss = ((kp - target) ** 2).sum() / (2.0 * s ** 2)
        loss.backward()
    if x.grad is None:
        raise RuntimeError('the keypoint loss does not depend on the input image')
    return x.grad[0].abs().sum(dim=0).numpy().astype(np.float64)
