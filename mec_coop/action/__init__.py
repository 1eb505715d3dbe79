# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Action recognition from skeleton sequences: features, classifier, event detector, data.

:mod:`.features` turns the last m skeletons (3D world joints, or a camera's own 2D keypoints)
into a fixed-length vector of transparent quantities (heights, angles, velocities, window
statistics); :mod:`.classifier` is a small MLP on them; :mod:`.events` turns per-frame class
probabilities into one event per action occurrence (hysteresis, refractory time, onset); and
:mod:`.data` generates labelled sequences from the virtual rig with the noise and dropouts of
the triangulated skeletons. Pure numpy (torch only to train). The frame count m is the
"number of input video frames" of "Joint Optimization of Video-based AI Inference Tasks in
MEC-assisted Augmented Reality Systems" (seed 001): its allocation lives in
:mod:`mec_coop.alloc.video`.
"""
