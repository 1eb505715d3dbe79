# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Input checks of the camera and edge nodes in ROS terms.

Their parameters, and rejections counted and logged once per cause (the checks themselves are
in :mod:`mec_coop.coop.guard`).
"""

from typing import Any, Callable, MutableMapping

from rclpy.node import Node

from mec_coop.coop.guard import check_image_size, Rejected, StampGate
from mec_coop.fusion.sync import Verdict
from mec_coop.ros.diagnostics import LogOnce
from mec_coop.ros.params import float_param, int_param

# 4000 x 3000 pixels: above any camera the models are run on (they resize to imgsz anyway).
MAX_PIXELS = 12_000_000
# Enough for a raw bgr8 image of MAX_PIXELS (a JPEG of it is far smaller).
MAX_IMAGE_BYTES = 3 * MAX_PIXELS


def declare_image_limits(node: Node) -> None:
    """Declare ``max_image_bytes`` and ``max_pixels`` (checked before an image is decoded)."""
    node.declare_parameter('max_image_bytes', MAX_IMAGE_BYTES, int_param(
        'Larger images are rejected before decoding (bytes on the wire)', 1000, 1 << 31))
    node.declare_parameter('max_pixels', MAX_PIXELS, int_param(
        'Images with more pixels (read from the header) are rejected before decoding',
        1000, 1 << 31))


def image_limits(node: Node) -> tuple[int, int]:
    """``(max_image_bytes, max_pixels)`` of a node that declared them."""
    return node.get_parameter('max_image_bytes').value, node.get_parameter('max_pixels').value


def declare_stamp_checks(node: Node) -> None:
    """Declare the camera's ``future_tolerance_s`` and ``reorder_after_s``."""
    node.declare_parameter('future_tolerance_s', 1.0, float_param(
        "Frames stamped further ahead of this node's clock are rejected (allowance for clock "
        'offset between the camera driver and this node)', 0.0, 60.0))
    node.declare_parameter('reorder_after_s', 2.0, float_param(
        'After this long without an accepted frame, an older stamp is taken as a clock jump '
        'back and accepted (ordering restarts)', 0.1, 600.0))


def update_gate(node: Node, gate: StampGate) -> StampGate:
    """Apply the node's stamp parameters to ``gate`` (its ordering state is kept)."""
    gate.future_tolerance_s = node.get_parameter('future_tolerance_s').value
    gate.max_age_s = node.get_parameter('max_age_s').value
    gate.reorder_after_s = node.get_parameter('reorder_after_s').value
    return gate


def check_frame_id(actual: str, expected: str) -> None:
    """Raise ``Rejected('wrong_frame')`` unless ``actual`` is ``expected`` (when known)."""
    if expected and actual != expected:
        raise Rejected('wrong_frame', f'frame_id {actual!r} is not the camera frame '
                       f'{expected!r}')


def check_raw_size(msg, max_bytes: int, max_pixels: int) -> None:
    """Apply the image limits to a ``sensor_msgs/Image`` before it is converted."""
    check_image_size(len(msg.data), msg.width, msg.height, max_bytes, max_pixels)


def reject(counts: MutableMapping[str, int], problems: LogOnce, who: str, exc: Rejected,
           count: bool = True) -> None:
    """Count ``exc`` under its cause (unless already counted) and log it once per cause."""
    if count:
        counts[exc.cause] = counts.get(exc.cause, 0) + 1
    problems(f'{exc.cause}:{who}', f'{who}: input rejected ({exc.cause}): {exc}')


class ReportGate:
    """
    The edge's door for camera reports: frame checks first, then the fusion's verdict.

    Every refusal is counted in the fusion's per-camera counters and logged once per cause and
    camera. ``frame_of(cam)`` is the camera's optical frame ('' while unknown: not checked).
    """

    def __init__(self, fusion: Any, problems: LogOnce, frame_of: Callable[[str], str]) -> None:
        self._fusion = fusion
        self._problems = problems
        self._frame_of = frame_of

    def admit(self, cam: str, msg: Any) -> bool:
        """Whether ``msg`` (keypoints or offload) is under ``cam``'s frame; counted if not."""
        try:
            check_frame_id(msg.header.frame_id, self._frame_of(cam))
        except Rejected as exc:
            reject(self._fusion.counts[cam], self._problems, cam, exc)
            return False
        return True

    def add(self, cam: str, stamp: float, report: Any, now: float) -> None:
        """Give ``report`` to the fusion; log what it refused (it counts it itself)."""
        try:
            result = self._fusion.add(cam, stamp, report, now)
        except Rejected as exc:
            reject(self._fusion.counts[cam], self._problems, cam, exc, count=False)
            return
        if result is not Verdict.ACCEPTED:
            self._problems(f'{result.value}:{cam}', f'{cam}: {result.value} report stamped '
                           f'{stamp:.3f} dropped')
