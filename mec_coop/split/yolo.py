# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The edge's pose model as an operator DAG, run split in two: head on a camera, tail on the edge.

The graph is the Ultralytics layer list with its ``f`` (from) links; the Pose layer is opened
into its per-scale box, class and keypoint branches (``23.box0`` ... ``23.kpt2``) and one
``decode`` operator (anchors, DFL, keypoint decoding), because those branches are where the
network runs in parallel. The head starts from the letterboxed input tensor exactly as
Ultralytics' predictor prepares it, and the tail ends with the predictor's own non-maximum
suppression and scaling to image pixels, so a split frame gives the same keypoints as
:meth:`UltralyticsPose.predict` on the same image.
"""

import time
from typing import Dict, List, Tuple

import numpy as np
import torch

from mec_coop.pose.backend import PoseEstimate
from mec_coop.pose.ultralytics_backend import _checked, _unpack, UltralyticsPose
from mec_coop.split.dag import Cut, INPUT, OpDag, OpNode
from mec_coop.split.profiling import profile

DECODE = 'decode'


def _layer_fn(module, many: bool):
    return (lambda *xs: module(list(xs))) if many else module


def _decode_fn(head):
    n = head.nl

    def decode(*raw):
        bs = raw[0].shape[0]
        preds = {'boxes': torch.cat([r.view(bs, 4 * head.reg_max, -1) for r in raw[:n]], -1),
                 'scores': torch.cat([r.view(bs, head.nc, -1) for r in raw[n:2 * n]], -1),
                 'kpts': torch.cat([r.view(bs, head.nk, -1) for r in raw[2 * n:]], -1),
                 'feats': list(raw[:n])}      # only their shapes place the anchors
        return head._inference(preds)
    return decode


def pose_layer_dag(model) -> OpDag:
    """Operator DAG of an Ultralytics pose ``DetectionModel`` (layer list, Pose head opened)."""
    nodes: List[OpNode] = []
    layers = list(model.model)
    for layer in layers[:-1]:
        f = layer.f if isinstance(layer.f, list) else [layer.f]
        parents = [(str(layer.i - 1) if layer.i else INPUT) if j == -1 else str(j) for j in f]
        nodes.append(OpNode(str(layer.i), parents, type(layer).__name__,
                            fn=_layer_fn(layer, isinstance(layer.f, list)),
                            members=[str(layer.i)]))
    head = layers[-1]
    if type(head).__name__ != 'Pose' or getattr(head, 'end2end', False):
        raise ValueError(f'expected a (non end-to-end) Pose head, got {type(head).__name__}')
    branches = [('box', head.cv2), ('cls', head.cv3), ('kpt', head.cv4)]
    raw = []
    for label, modules in branches:
        for k, src in enumerate(head.f):
            name = f'{head.i}.{label}{k}'
            nodes.append(OpNode(name, [str(src)], label, fn=modules[k], members=[name]))
            raw.append(name)
    nodes.append(OpNode(DECODE, raw, 'decode', fn=_decode_fn(head), members=[DECODE]))
    return OpDag(nodes)


class SplitPose(UltralyticsPose):
    """
    :class:`UltralyticsPose` that can also run as head + tail at a partition point.

    :param cuts: enumeration of partition points, ``'paper'`` (Algorithm 1 + valid-cut test) or
        ``'prefix'`` (ours: frontiers of topological prefixes; see :mod:`mec_coop.split.dag`).
    :param profile_repeats: timed passes per operator when the graph is profiled (0: do not
        profile, MACs and bytes stay 0 until :meth:`profile` is called).
    """

    def __init__(self, weights=None, imgsz=960, cuts='paper', conf=0.25, device='cpu',
                 threads=None, profile_repeats=0, flip_tta=False):
        if flip_tta:
            raise ValueError('a split model runs without flip test-time augmentation')
        super().__init__(weights, imgsz, flip_tta=False, conf=conf, device=device,
                         threads=threads)
        predictor = self._model.predictor
        self._predictor = predictor
        self._net = predictor.model.model        # the fused network predict() runs
        self.graph = pose_layer_dag(self._net)
        self.cut_method = cuts
        self.layer_index = {name: i for i, name in enumerate(self.graph.order)}
        self.layer_index[INPUT] = -1
        self._input_hw: Dict[Tuple[int, int], Tuple[int, int]] = {}
        self._shapes: Dict[Tuple[int, int], Dict[str, Tuple[int, ...]]] = {}
        # MACs of a small square input order the cuts (MACs scale alike with the input area),
        # so a camera and the edge number them identically whatever their frames.
        self.profile((64, 64), profile_repeats)

    @torch.no_grad()
    def profile(self, image_hw: Tuple[int, int], repeats: int = 3) -> OpDag:
        """Measure MACs, bytes and latency (``repeats`` > 0) per operator for ``image_hw``."""
        x = self.prepare(np.zeros((*image_hw, 3), np.uint8))
        profile(self.graph, x, self._net, repeats)
        self.cuts: List[Cut] = self.graph.partition_points(self.cut_method)
        return self.graph

    def input_hw(self, image_hw: Tuple[int, int]) -> Tuple[int, int]:
        """Return the (h, w) of the letterboxed model input for frames of ``image_hw``."""
        key = (int(image_hw[0]), int(image_hw[1]))
        if key not in self._input_hw:
            shape = self._predictor.pre_transform([np.zeros((*key, 3), np.uint8)])[0].shape
            self._input_hw[key] = (int(shape[0]), int(shape[1]))
        return self._input_hw[key]

    @torch.no_grad()
    def output_shapes(self, input_hw: Tuple[int, int]) -> Dict[str, Tuple[int, ...]]:
        """Return every operator's output shape for a model input of ``input_hw``."""
        key = (int(input_hw[0]), int(input_hw[1]))
        if key not in self._shapes:
            values = self.graph.run({INPUT: torch.zeros(1, 3, *key)}, self.graph.order)
            self._shapes[key] = {n: tuple(v.shape) for n, v in values.items()}
        return self._shapes[key]

    def cut(self, point: int) -> Cut:
        if not 0 <= int(point) < len(self.cuts):
            raise ValueError(f'partition point {point} outside 0..{len(self.cuts) - 1}')
        return self.cuts[int(point)]

    def layer_ids(self, point: int) -> List[int]:
        """Return the integer ids of the operators a cut sends (``-1``: the input)."""
        return [self.layer_index[m] for m in self.cut(point).members]

    def prepare(self, image_bgr) -> torch.Tensor:
        """Build the letterboxed, normalised input tensor as Ultralytics' predictor does."""
        return self._predictor.preprocess([_checked(image_bgr)])

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the whole network on a prepared input: decoded predictions ``(B, 56, A)``."""
        out = self._net(x)
        return out[0] if isinstance(out, (tuple, list)) else out

    @torch.no_grad()
    def run_head(self, image_bgr, point: int) -> Tuple[Dict[str, torch.Tensor], Tuple[int, int]]:
        """Head of ``point`` on a BGR frame: the sent tensors and the model input's (h, w)."""
        x = self.prepare(image_bgr)
        return self.graph.head(x, self.cut(point)), (int(x.shape[2]), int(x.shape[3]))

    @torch.no_grad()
    def run_tail(self, sent: Dict[str, torch.Tensor], point: int) -> torch.Tensor:
        """Tail of ``point``: the decoded predictions ``(B, 56, A)``."""
        return self.graph.tail(sent, self.cut(point))[DECODE]

    def postprocess(self, preds: torch.Tensor, input_hw: Tuple[int, int],
                    image_hw: Tuple[int, int], elapsed_s: float = 0.0) -> PoseEstimate:
        """Non-maximum suppression and scaling to image pixels, as ``predict`` does."""
        from ultralytics.utils import nms
        args = self._predictor.args
        kept = nms.non_max_suppression(preds.float(), args.conf, args.iou, args.classes,
                                       args.agnostic_nms, max_det=args.max_det,
                                       nc=len(self._predictor.model.names))
        frame = np.empty((*image_hw, 3), np.uint8)       # only its shape is read
        result = self._predictor.construct_result(kept[0], torch.empty(1, 3, *input_hw),
                                                  frame, '')
        out = _unpack(result)
        if out is None:
            return PoseEstimate.empty(elapsed_s, self.name)
        boxes, scores, keypoints, confidences = out
        return PoseEstimate(boxes, scores, keypoints, confidences, elapsed_s, self.name)

    def predict_tail(self, sent: Dict[str, torch.Tensor], point: int,
                     input_hw: Tuple[int, int], image_hw: Tuple[int, int]) -> PoseEstimate:
        """Run the edge's half: tail, NMS and scaling; the time covers all three."""
        start = time.perf_counter()
        preds = self.run_tail(sent, point)
        return self.postprocess(preds, input_hw, image_hw, time.perf_counter() - start)
