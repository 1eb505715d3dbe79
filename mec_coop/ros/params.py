# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Parameter descriptors with ranges, validation verdicts and the pose-model parameters."""

from typing import Any, Iterable

from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
from rclpy.node import Node
from rclpy.parameter import Parameter

from mec_coop.pose.backend import PoseBackend


def float_param(description: str, lo: float, hi: float, step: float = 0.0,
                read_only: bool = False) -> ParameterDescriptor:
    """Descriptor of a double parameter limited to ``[lo, hi]``."""
    return ParameterDescriptor(
        description=description, read_only=read_only,
        floating_point_range=[FloatingPointRange(from_value=float(lo), to_value=float(hi),
                                                 step=float(step))])


def int_param(description: str, lo: int, hi: int, step: int = 1,
              read_only: bool = False) -> ParameterDescriptor:
    """Descriptor of an integer parameter limited to ``[lo, hi]``."""
    return ParameterDescriptor(
        description=description, read_only=read_only,
        integer_range=[IntegerRange(from_value=int(lo), to_value=int(hi), step=int(step))])


def text_param(description: str, read_only: bool = False) -> ParameterDescriptor:
    """Descriptor of a string, bool or list parameter (no range applies)."""
    return ParameterDescriptor(description=description, read_only=read_only)


def declare_cameras(node: Node) -> list[str]:
    """Declare the read-only ``cameras`` list every multi-camera node takes; return it."""
    node.declare_parameter('cameras', ['cam0', 'cam1', 'cam2', 'cam3'], text_param(
        'Camera names (topic namespaces)', read_only=True))
    return list(node.get_parameter('cameras').value)


def declare_pose_model(node: Node, imgsz: int, role: str) -> None:
    """Declare the read-only parameters of a node's pose model (``role``: camera or edge)."""
    node.declare_parameter('weights', '', text_param(
        f'{role} model weights path or name; empty: bundled yolo11n-pose', read_only=True))
    node.declare_parameter('imgsz', imgsz, int_param(f'{role} model input size', 64, 2048, 32,
                                                     read_only=True))
    node.declare_parameter('detection_threshold', 0.05, float_param(
        'Minimum person box score the model reports; low, so that uncertain people reach '
        'the confidence thresholds instead of vanishing', 0.001, 1.0, read_only=True))
    node.declare_parameter('device', 'cpu', text_param('torch device', read_only=True))
    node.declare_parameter('threads', 0, int_param('torch CPU threads (0: default)', 0, 64,
                                                   read_only=True))


def load_pose_model(node: Node, split: bool = False, **options: Any) -> PoseBackend:
    """
    Load the Ultralytics backend that :func:`declare_pose_model`'s parameters describe.

    ``split``: a :class:`~mec_coop.split.yolo.SplitPose`, which also runs as head + tail.
    ``options`` override the parameters' values (e.g. a camera's ``imgsz`` of the edge model).
    """
    from mec_coop.pose.ultralytics_backend import UltralyticsPose  # torch: only when needed
    from mec_coop.split.yolo import SplitPose
    kwargs = {'weights': node.get_parameter('weights').value or None,
              'imgsz': node.get_parameter('imgsz').value,
              'conf': node.get_parameter('detection_threshold').value,
              'device': node.get_parameter('device').value,
              'threads': node.get_parameter('threads').value or None, **options}
    return (SplitPose if split else UltralyticsPose)(**kwargs)


def proposed_values(node: Node, parameters: Iterable[Parameter],
                    names: Iterable[str]) -> dict[str, Any]:
    """Values of ``names`` after applying ``parameters`` (the set being changed together)."""
    values = {name: node.get_parameter(name).value for name in names}
    values.update({p.name: p.value for p in parameters if p.name in values})
    return values


def verdict(reason: str) -> SetParametersResult:
    """:class:`SetParametersResult` rejecting with ``reason``, or accepting when it is empty."""
    return SetParametersResult(successful=not reason, reason=reason)
