# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Approximate-time grouping of per-camera results of one capture instant.

Each camera reports every frame once (keypoints, an empty result for a dropped frame, or later
the edge's result of an offloaded frame). A group collects reports whose capture stamps lie
within ``max_gap_s`` (less than half the frame period) of the group's first stamp; it is
released when every expected camera has reported or ``timeout_s`` after it was opened.

Groups are per capture instant, not per camera stream: the edge's result of an offloaded frame
usually arrives after the same camera's next frame, and it still joins its own instant while
that instant is open (an older group waiting for it is not released because a newer one
completed). Reports for released instants are *late*; a report older than the camera's newest
one that matches no open instant is *out of order* (a camera stream going back in time); a
second report of a camera for one instant is a *duplicate*. All three are dropped and counted,
because ApproximateTime-style synchronisers cannot tell a user about them.

One camera cannot stall the others: out-of-order state is per camera and restarts when that
camera has had nothing accepted for ``reorder_after_s`` (its clock jumped back), and a report
stamped ahead of the receiver (``age_s < 0``, within the caller's future tolerance) opens an
instant whose timeout counts from that capture time, so it is not released before the other
cameras' frames of that time exist (they would all be *late*).
"""

import collections
from dataclasses import dataclass, field
import enum
from typing import Any, Hashable, Iterable


# Released instants remembered to tell late reports from new instants (a few minutes of frames).
RELEASED_MEMORY = 512


class Verdict(enum.Enum):
    """What became of one report."""

    ACCEPTED = 'accepted'
    LATE = 'late'                   # its instant was already released
    OUT_OF_ORDER = 'out_of_order'   # older than the camera's previous report
    DUPLICATE = 'duplicate'         # the camera already reported this instant
    FUTURE = 'future'               # stamped further ahead of the receiver than tolerated


@dataclass
class Group:
    """Reports of one capture instant: ``camera -> (stamp, item)``."""

    anchor: float
    opened_at: float
    reports: dict[Hashable, tuple[float, Any]] = field(default_factory=dict)
    # Cameras whose report is provisional: a later final report replaces it, and the instant
    # is not complete before it came (or the timeout released the instant with the provisional).
    provisional: set = field(default_factory=set)


@dataclass
class SyncStats:
    """Counts of groups released (complete or timed out) and of reports dropped, by cause."""

    groups: int = 0
    complete: int = 0
    timed_out: int = 0
    late: int = 0
    out_of_order: int = 0
    duplicate: int = 0


class ViewSynchronizer:
    """Group reports of ``cameras`` by capture stamp (seconds); see the module docstring."""

    def __init__(self, cameras: Iterable[Hashable], max_gap_s: float = 0.05,
                 timeout_s: float = 1.0, reorder_after_s: float = 2.0) -> None:
        if max_gap_s <= 0 or timeout_s <= 0:
            raise ValueError(f'max_gap_s and timeout_s must be > 0, got {max_gap_s}, {timeout_s}')
        self.cameras = set(cameras)
        self.max_gap_s = float(max_gap_s)
        self.timeout_s = float(timeout_s)
        self.reorder_after_s = float(reorder_after_s)
        self.stats = SyncStats()
        self._open: list[Group] = []
        # Anchors of recently released instants; older ones are below the floor.
        self._released: collections.deque[float] = collections.deque()
        self._floor = float('-inf')
        self._last_stamp: dict[Hashable, float] = {}
        self._accepted_at: dict[Hashable, float] = {}

    def set_cameras(self, cameras: Iterable[Hashable]) -> None:
        """Change the expected cameras (e.g. one stopped publishing); applies to open groups."""
        self.cameras = set(cameras)

    def add(self, camera: Hashable, stamp: float, item: Any, now: float,
            age_s: float = 0.0, provisional: bool = False) -> tuple[Verdict, list[Group]]:
        """
        Add one report; return its :class:`Verdict` and the groups released now.

        :param age_s: how long ago the report's frame was captured; a new instant's timeout
            then counts from its capture, not from its first report's arrival.
        :param provisional: a stand-in until the camera's final report for this instant comes
            (e.g. the camera's keypoints of a frame the edge model is still working on).
        """
        group = min((g for g in self._open if abs(g.anchor - stamp) <= self.max_gap_s),
                    key=lambda g: abs(g.anchor - stamp), default=None)
        if group is None:
            if stamp <= self._floor or any(abs(a - stamp) <= self.max_gap_s
                                           for a in self._released):
                self.stats.late += 1
                return Verdict.LATE, self.poll(now)
            if stamp < self._last_stamp.get(camera, float('-inf')):
                if now - self._accepted_at.get(camera, now) < self.reorder_after_s:
                    self.stats.out_of_order += 1
                    return Verdict.OUT_OF_ORDER, self.poll(now)
                del self._last_stamp[camera]   # the camera's clock jumped back: start again
            group = Group(anchor=stamp, opened_at=now - age_s)
            self._open.append(group)
        elif camera in group.reports and (provisional or camera not in group.provisional):
            self.stats.duplicate += 1
            return Verdict.DUPLICATE, self.poll(now)
        self._last_stamp[camera] = max(stamp, self._last_stamp.get(camera, float('-inf')))
        self._accepted_at[camera] = now
        group.reports[camera] = (stamp, item)
        if provisional:
            group.provisional.add(camera)
        else:
            group.provisional.discard(camera)
        return Verdict.ACCEPTED, self.poll(now)

    def poll(self, now: float) -> list[Group]:
        """Release the groups that are complete or timed out (each on its own), oldest first."""
        released = []
        for group in sorted(self._open, key=lambda g: g.anchor):
            complete = self.cameras <= set(group.reports) and not group.provisional
            if complete or now - group.opened_at >= self.timeout_s:
                released.append(group)
                self.stats.groups += 1
                self.stats.complete += complete
                self.stats.timed_out += not complete
        if released:
            done = {id(g) for g in released}
            self._open = [g for g in self._open if id(g) not in done]
            self._released.extend(g.anchor for g in released)
            while len(self._released) > RELEASED_MEMORY:
                self._floor = max(self._floor, self._released.popleft() + self.max_gap_s)
        return released
