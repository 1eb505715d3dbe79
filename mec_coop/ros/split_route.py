# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The split route's ROS side: heads on the cameras, tails on the edge.

The camera runs the head of the edge's model and sends ``SplitTensor``; the edge checks it
against the cut it names, runs the tail and treats the result like an offloaded frame.
"""

import time
from typing import Callable, List, Optional, Tuple

import numpy as np
import torch

from mec_coop.coop.codec import decode_compressed
from mec_coop.coop.guard import Rejected
from mec_coop.msg import OffloadRequest, SplitTensor
from mec_coop.pose.backend import PoseBackend, PoseEstimate
from mec_coop.pose.heap import release_free_heap
from mec_coop.ros.conversions import people_arrays
from mec_coop.ros.params import int_param, text_param
from mec_coop.ros.split_tensor import encoded_to_msg, msg_to_encoded
from mec_coop.split.codec import CODECS, decode_tensors, encode_tensors, TensorDecodeError

SPLIT_DTYPES = ('float16', 'int8', 'float32')


def split_problem(point: int, num_cuts: int, dtype: str, codec: str) -> str:
    """Say why a camera's split settings are unusable ('' when they are fine)."""
    if point >= 0 and num_cuts == 0:
        return 'partition_point >= 0 needs split_route: true (the head model is not loaded)'
    if point >= num_cuts:
        return f'partition_point {point} outside -1..{num_cuts - 1}'
    if dtype not in SPLIT_DTYPES:
        return f'split_dtype must be one of {SPLIT_DTYPES}, got {dtype!r}'
    if codec not in CODECS:
        return f'split_codec must be one of {CODECS}, got {codec!r}'
    return ''


def head_message(model, image: np.ndarray, point: int, dtype: str, codec: str) -> SplitTensor:
    """
    Run the head of ``point`` on a BGR frame and pack what it sends.

    The caller fills the header, sequence and the camera's own fields;
    ``device_inference_time_s`` holds the head's time (the caller adds its own model's).
    """
    start = time.perf_counter()
    sent, input_hw = model.run_head(image, point)
    cut = model.cut(point)
    enc = encode_tensors([sent[m].float().numpy() for m in cut.members], model.layer_ids(point),
                         dtype, codec)
    msg = SplitTensor(model_name=model.name, partition_point=int(point),
                      input_size=int(model.imgsz), width=int(image.shape[1]),
                      height=int(image.shape[0]))
    encoded_to_msg(enc, msg)
    msg.device_inference_time_s = float(time.perf_counter() - start)
    return msg


def tail_estimate(model, msg: SplitTensor) -> PoseEstimate:
    """Check ``msg`` against the edge's model and run the tail; :class:`TensorDecodeError`."""
    if not hasattr(model, 'cuts'):
        raise TensorDecodeError('the edge model cannot run tails (set split_route: true)')
    if msg.model_name != model.name:
        raise TensorDecodeError(f'head of model {msg.model_name!r}, the edge runs {model.name!r}')
    if not 0 <= msg.partition_point < len(model.cuts):
        raise TensorDecodeError(f'partition point {msg.partition_point} outside '
                                f'0..{len(model.cuts) - 1}')
    if min(msg.width, msg.height) <= 0:
        raise TensorDecodeError(f'image size {msg.width}x{msg.height} is empty')
    point = int(msg.partition_point)
    image_hw = (int(msg.height), int(msg.width))
    input_hw = model.input_hw(image_hw)
    shapes = model.output_shapes(input_hw)
    members = model.cut(point).members
    tensors = decode_tensors(msg_to_encoded(msg), model.layer_ids(point),
                             [shapes[m] for m in members])
    sent = {m: torch.from_numpy(t) for m, t in zip(members, tensors)}
    return model.predict_tail(sent, point, input_hw, image_hw)


def rejection_counter(log, counts) -> Callable[[str, str, str], None]:
    """
    Build the ``reject`` of :func:`edge_estimates`: log once per cause and count.

    Every rejected job counts as ``bad_input`` of its camera and under its cause (an image's
    rejection cause, or ``bad_split`` for split tensors).
    """
    def reject(cam: str, kind: str, reason: str) -> None:
        log(f'{kind}:{cam}', f'{cam}: {reason}')
        counts[cam]['bad_input'] += 1
        counts[cam]['bad_split' if kind == 'split' else kind] += 1
    return reject


def declare_offload_inputs(node) -> None:
    """Declare the edge's ``offload_crops`` and ``max_offload_crops``."""
    node.declare_parameter('offload_crops', True, text_param(
        'Run the model on crops around the people the camera found (their keypoints come '
        'with an offload); false: the full frame (the paper)'))
    # A camera that reports many (possibly spurious) people would otherwise make one offload
    # cost a crop each, and the edge's heap keep the largest batch (benchmarks/edge_memory.py).
    node.declare_parameter('max_offload_crops', 6, int_param(
        'An offload with more people than this runs on the full frame instead of crops', 1,
        64))


def offload_crops(node) -> int:
    """``max_crops`` of :func:`edge_estimates` for a node's parameters (0: full frames)."""
    if not node.get_parameter('offload_crops').value:
        return 0
    return int(node.get_parameter('max_offload_crops').value)


def edge_estimates(model: PoseBackend, jobs: list, reject: Callable[[str, str, str], None],
                   limits: Tuple[Optional[int], Optional[int]] = (None, None),
                   max_crops: int = 0) -> List[Tuple[str, object, Tuple[int, int], PoseEstimate]]:
    """
    Run the edge's model on a batch of ``(camera, message)`` jobs.

    Offloaded JPEGs go through the model as one batch; split tensors each through their tail.
    An offload that carries 1 to ``max_crops`` of the camera's people runs on crops around them
    instead (:meth:`~mec_coop.pose.backend.PoseBackend.predict_around`; with more people the
    whole frame, which then costs less than their crops): on the virtual rig,
    seed 7, every frame offloaded (``benchmarks/closed_loop.py``), full frames at imgsz 960
    gave an MPJPE of 122 mm, crops 61 mm. A job that cannot be used is passed to
    ``reject(camera, kind, reason)`` and left out. ``limits`` are the image's
    ``(max_bytes, max_pixels)``, checked before decoding. Returns ``(camera, message,
    (height, width), estimate)`` in job order. The model's freed buffers go back to the
    operating system after the batch (:func:`~mec_coop.pose.heap.release_free_heap`): the crop
    batches vary with the people reported and the edge would otherwise keep its largest one's.

    Each estimate's ``inference_time_s`` is the whole batch's time (decoding, crops, the model,
    returning the buffers) shared among its images: the edge's time per image, on which the
    allocator's replay queues offloads. The model's time alone fell short of the edge's busy
    time by 10% in the mean and 40% in ``E[S^2]`` at 8 cameras (a recorded run).
    """
    start = time.perf_counter()
    images, done = [], {}
    for k, (cam, msg) in enumerate(jobs):
        if isinstance(msg, OffloadRequest):
            try:
                image = decode_compressed(msg.image.data, msg.image.format, *limits)
            except Rejected as exc:
                reject(cam, exc.cause, f'offloaded image rejected ({exc.cause}): {exc}')
                continue
            around = model.predict_around(image, people_arrays(msg.people)[0]) \
                if 0 < len(msg.people) <= max_crops else None
            if around is not None:
                done[k] = (image.shape[:2], around)
            else:
                images.append((k, image))
            continue
        try:
            done[k] = ((int(msg.height), int(msg.width)), tail_estimate(model, msg))
        except TensorDecodeError as exc:
            reject(cam, 'split', f'split tensor rejected: {exc}')
    estimates = model.predict_batch([image for _, image in images])
    done.update({k: (image.shape[:2], est) for (k, image), est in zip(images, estimates)})
    images.clear()              # the decoded frames' pages go back with the model's buffers
    release_free_heap()
    per_image = (time.perf_counter() - start) / max(len(done), 1)
    for _, estimate in done.values():
        estimate.inference_time_s = per_image
    return [(jobs[k][0], jobs[k][1], *done[k]) for k in sorted(done)]
