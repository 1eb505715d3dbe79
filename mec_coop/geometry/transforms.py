# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
A small static transform tree: the part of tf2 the edge needs for camera extrinsics.

Transforms are stored as ``parent -> child`` (the pose of ``child`` in ``parent``), as in
``/tf_static``; :meth:`TransformTree.lookup` composes them along the tree, so chains such as
``world -> rig -> cam0_link -> cam0_optical`` resolve as they would with tf2.
"""

import numpy as np
from scipy.spatial.transform import Rotation


class TransformTree:
    """Static rigid transforms between named frames."""

    def __init__(self):
        self._parent = {}

    def add(self, parent, child, translation, quaternion_xyzw):
        """Store the pose of ``child`` in ``parent``; a frame has one parent (latest wins)."""
        if parent == child:
            raise ValueError(f'frame {child!r} cannot be its own parent')
        q = np.asarray(quaternion_xyzw, dtype=np.float64)
        t = np.asarray(translation, dtype=np.float64)
        if not (np.all(np.isfinite(q)) and np.all(np.isfinite(t))) or \
                abs(np.linalg.norm(q) - 1.0) > 1e-3:
            raise ValueError(f'invalid transform {parent!r} -> {child!r}: t={t}, q={q}')
        self._parent[child] = (parent, Rotation.from_quat(q / np.linalg.norm(q)).as_matrix(), t)

    def frames(self):
        return set(self._parent) | {p for p, _, _ in self._parent.values()}

    def _to_root(self, frame):
        """Rotation, translation of ``frame`` in its tree's root, and that root."""
        R, t = np.eye(3), np.zeros(3)
        seen = set()
        while frame in self._parent:
            if frame in seen:
                raise ValueError(f'transform cycle through {frame!r}')
            seen.add(frame)
            parent, Rp, tp = self._parent[frame]
            R, t = Rp @ R, Rp @ t + tp
            frame = parent
        return R, t, frame

    def lookup(self, target, source):
        """
        Pose ``(R, t)`` of frame ``source`` in frame ``target``: ``x_target = R x_source + t``.

        :raises LookupError: when the frames are not connected.
        """
        Rs, ts, root_s = self._to_root(source)
        Rt, tt, root_t = self._to_root(target)
        if root_s != root_t:
            raise LookupError(f'no transform from {source!r} to {target!r} '
                              f'(known frames: {sorted(self.frames())})')
        return Rt.T @ Rs, Rt.T @ (ts - tt)
