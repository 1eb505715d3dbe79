# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Allocator core: confidence thresholds and TDMA shares for the cameras.

Equation numbers refer to "Cooperative Inference for Real-Time 3D Human Pose Estimation in
Multi-Device Edge Networks".

:mod:`mec_coop.alloc.model` holds the system model (score CDFs, accuracy (3)-(9), delay
(10)-(19), the conventional schemes (20)-(25)); :mod:`mec_coop.alloc.solvers` the solvers of
(P2), each returning an :class:`~mec_coop.alloc.solvers.Allocation`. Pure numpy/scipy, no ROS.
"""
