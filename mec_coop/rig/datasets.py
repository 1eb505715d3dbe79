# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Datasets from the virtual rig: YOLO-pose training data and labelled confidence samples.

* :func:`export_yolo_pose` writes rendered views in the Ultralytics pose format (``images/``,
  ``labels/``, ``data.yaml`` with ``kpt_shape: [17, 3]`` and the COCO flip indices).
* :func:`confidence_samples` runs a camera model and an edge model on every view and pairs each
  view's mean joint confidence with the view's positive/negative label (Sec. III of "Cooperative
  Inference for Real-Time 3D Human Pose Estimation in Multi-Device Edge Networks": the
  inputs of the allocator's CDFs, Fig. 5); :func:`mec_coop.alloc.scores.save_samples` writes
  them as the ``.npz`` the allocator reads (``x_pos``, ``x_neg``, ``y_pos``, ``y_neg``, ``pi``).
"""

import pathlib

import cv2
import numpy as np

from mec_coop.alloc.scores import SOURCES
from mec_coop.geometry.skeleton import COCO_FLIP_INDEX, NUM_JOINTS

# Margin around the projected joints for the person box (joints are inside the body outline).
BOX_MARGIN = 0.12


def yolo_pose_labels(frame, view, width, height):
    """
    Label lines of one view: ``0 cx cy w h x1 y1 v1 ... x17 y17 v17``, normalised.

    Visibility ``v``: 2 visible, 1 inside the image but occluded, 0 outside (coordinates 0).
    People with fewer than 3 visible joints are not labelled.
    """
    lines = []
    for p in range(frame.keypoints_2d.shape[1]):
        kp = frame.keypoints_2d[view, p]
        visible = frame.visibility[view, p]
        inside = frame.in_image[view, p]
        if visible.sum() < 3:
            continue
        pts = kp[inside]
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        pad = BOX_MARGIN * (hi - lo).max()
        lo = np.clip(lo - pad, 0, (width - 1, height - 1))
        hi = np.clip(hi + pad, 0, (width - 1, height - 1))
        box = [(lo[0] + hi[0]) / 2 / width, (lo[1] + hi[1]) / 2 / height,
               (hi[0] - lo[0]) / width, (hi[1] - lo[1]) / height]
        fields = ['0'] + [f'{v:.6f}' for v in box]
        for j in range(NUM_JOINTS):
            if inside[j]:
                fields += [f'{kp[j, 0] / width:.6f}', f'{kp[j, 1] / height:.6f}',
                           '2' if visible[j] else '1']
            else:
                fields += ['0', '0', '0']
        lines.append(' '.join(fields))
    return lines


def export_yolo_pose(rig, times, out_dir, split='train', jpeg_quality=95):
    """Write the views of ``rig.frame(t)`` for each ``t`` as a YOLO-pose dataset split."""
    out = pathlib.Path(out_dir)
    (out / 'images' / split).mkdir(parents=True, exist_ok=True)
    (out / 'labels' / split).mkdir(parents=True, exist_ok=True)
    count = 0
    for k, t in enumerate(times):
        frame = rig.frame(t)
        for v, cam in enumerate(rig.cameras):
            stem = f'{k:06d}_{cam.name}'
            cv2.imwrite(str(out / 'images' / split / f'{stem}.jpg'), frame.image(v),
                        [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
            lines = yolo_pose_labels(frame, v, cam.width, cam.height)
            (out / 'labels' / split / f'{stem}.txt').write_text(
                '\n'.join(lines) + ('\n' if lines else ''))
            count += 1
    (out / 'data.yaml').write_text(
        f'# virtual-rig renders (mec_coop.rig.datasets)\npath: {out.resolve()}\n'
        f'train: images/train\nval: images/{split}\nkpt_shape: [{NUM_JOINTS}, 3]\n'
        f'flip_idx: {list(COCO_FLIP_INDEX)}\nnames:\n  0: person\n')
    return count


def confidence_samples(rig, times, camera_model, edge_model):
    """
    Mean joint confidences of both models on every view, with the view's label.

    :return: dict of arrays over all views of all frames, keyed by the score-law sources of
        :mod:`mec_coop.alloc.scores`: ``device`` (camera model, x), ``server`` (edge model, y),
        then ``positive`` (bool), ``camera_index`` and ``time``.
    """
    rows = []
    for t in times:
        frame = rig.frame(t)
        for v in range(len(rig.cameras)):
            image = frame.image(v)
            rows.append((camera_model.predict(image).frame_confidence(),
                         edge_model.predict(image).frame_confidence(),
                         bool(frame.positive[v]), v, t))
    x, y, positive, view, time = (np.array(c) for c in zip(*rows))
    return {'device': x, 'server': y, 'positive': positive.astype(bool), 'camera_index': view,
            'time': time}


def sample_statistics(samples, detected_above=0.0):
    """Summarise detection rates and confidence quantiles per model and label (for JSON)."""
    pos = samples['positive']
    stats = {'views': int(pos.size), 'positive_views': int(pos.sum()),
             'positive_share_pi': float(pos.mean())}
    for key in SOURCES:
        for name, mask in (('positive', pos), ('negative', ~pos)):
            values = samples[key][mask]
            if values.size:
                stats[f'{key}_{name}_detection_rate'] = float(np.mean(values > detected_above))
                stats[f'{key}_{name}_confidence_p10_p50_p90'] = [
                    round(float(q), 3) for q in np.percentile(values, (10, 50, 90))]
    return stats


def plot_confidence_pdfs(samples, path, camera_label='camera model', edge_label='edge model'):
    """Plot the densities of the four confidence distributions (the paper's Fig. 5) as a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    pos = samples['positive']
    bins = np.linspace(0.0, 1.0, 21)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, key, label in zip(axes, SOURCES, (camera_label, edge_label)):
        for mask, name, color in ((pos, 'positive', 'tab:green'), (~pos, 'negative', 'tab:red')):
            if mask.any():
                ax.hist(samples[key][mask], bins=bins, density=True, alpha=0.55, color=color,
                        label=f'{name} (n={int(mask.sum())})')
        ax.set(title=label, xlabel='mean joint confidence')
        ax.legend()
    axes[0].set_ylabel('density')
    fig.tight_layout()
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
