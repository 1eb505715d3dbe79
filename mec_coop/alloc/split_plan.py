# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Where each camera cuts the edge's pose model for an offloaded frame: a split plan.

An offloaded frame goes up either as a JPEG, which the edge's whole model then runs on, or as
the tensors of a cut (``partition_point``): the camera runs the head, the edge the tail
(:mod:`mec_coop.split`). Per camera the plan takes the route of least delay for one frame,
camera time + airtime at the camera's rate + edge time, as Neurosurgeon chooses a vertical cut
(Kang et al., ASPLOS 2017, the vertical-cut baseline of "Task-Aware Collaborative Inference and
Fine-Grained DNN Partitioning in MEC Networks", TMC 2026). The cuts' costs come from the
per-cut profile that ``benchmarks/split_pipeline.py`` measures (bytes, head and tail times,
MPJPE); the JPEG route's from the running graph (the offload size and edge time the allocator
measures). Only cuts that lose at most ``max_mpjpe_loss_mm`` against the profile's JPEG route
with every joint valid are candidates. On this CPU no cut ever wins (``docs/split_pipeline.md``),
so the plan sends JPEGs; with a faster camera or a wide link it pushes the cut that does.
"""

from dataclasses import dataclass
import json
import pathlib
import re
from typing import Optional, Sequence

import numpy as np

# Profile rows: 'split <point> <dtype>' and the JPEG route they are judged against.
_CUT_ROW = re.compile(r'^split (\d+) (\w+)$')
_JPEG_ROW = re.compile(r'^JPEG offload')


@dataclass(frozen=True)
class CutCost:
    """One cut with one tensor dtype: bytes per frame, camera (head) and edge (tail) seconds."""

    point: int
    dtype: str
    size_bytes: float
    camera_s: float
    edge_s: float

    def delay_s(self, rate_bps: float) -> float:
        """Seconds from the frame on the camera to the edge's result at ``rate_bps``."""
        return self.camera_s + 8.0 * self.size_bytes / rate_bps + self.edge_s


def load_cut_costs(path: str, max_mpjpe_loss_mm: float = 1.0) -> list[CutCost]:
    """
    Read the candidate cuts of a ``split_pipeline.json`` profile.

    :raises ValueError: when the file has no JPEG route to judge the cuts' accuracy by, or a
        row lacks a field.
    """
    routes = json.loads(pathlib.Path(path).read_text())['routes']
    jpeg = next((row for name, row in routes.items() if _JPEG_ROW.match(name)), None)
    if jpeg is None:
        raise ValueError(f'{path}: no JPEG offload route to judge the cuts by')
    cuts = []
    for name, row in routes.items():
        match = _CUT_ROW.match(name)
        if match is None:
            continue
        try:
            accurate = row['valid_joints'] >= 0.99 and \
                row['mpjpe_mm'] <= jpeg['mpjpe_mm'] + max_mpjpe_loss_mm
            if accurate:
                cuts.append(CutCost(int(match.group(1)), match.group(2), float(row['bytes']),
                                    float(row['camera_s']), float(row['edge_s'])))
        except KeyError as exc:
            raise ValueError(f'{path}: route {name!r} lacks {exc}') from None
    return cuts


def choose_cuts(cuts: Sequence[CutCost], image_bytes: Sequence[float], edge_s: float,
                rates_bps: Sequence[float]) -> list[Optional[CutCost]]:
    """
    Return each camera's cut of least delay, or None where its JPEG is at least as fast.

    :param cuts: candidates (:func:`load_cut_costs`).
    :param image_bytes: each camera's offload size (bytes).
    :param edge_s: the edge's time per offloaded image.
    :param rates_bps: each camera's uplink rate (bit/s; ``inf``: no emulated link).
    """
    out: list[Optional[CutCost]] = []
    for size, rate in zip(image_bytes, rates_bps):
        jpeg = 8.0 * float(size) / rate + edge_s
        best = min(cuts, key=lambda c: c.delay_s(rate), default=None)
        out.append(best if best is not None and best.delay_s(rate) < jpeg else None)
    return out


def partition_points(chosen: Sequence[Optional[CutCost]]) -> np.ndarray:
    """Return the ``partition_point`` per camera (-1: send the JPEG)."""
    return np.array([-1 if c is None else c.point for c in chosen], dtype=int)
