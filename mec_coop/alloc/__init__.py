# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Allocator core of paper A: confidence thresholds and TDMA shares for the cameras.

:mod:`mec_coop.alloc.model` holds the system model (score CDFs, accuracy (3)-(9), delay
(10)-(19), the conventional schemes (20)-(25)); :mod:`mec_coop.alloc.solvers` the solvers of
(P2), each returning an :class:`~mec_coop.alloc.solvers.Allocation`. Pure numpy/scipy, no ROS.
"""
