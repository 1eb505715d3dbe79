# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""``/diagnostics`` messages and log-once problem reporting shared by the nodes."""

import math
from typing import Any, Callable, Iterable, Mapping, Union

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node

from mec_coop.alloc.timing import RunningStat
from mec_coop.coop.health import ERROR as ERROR_LEVEL, HealthWatch, WARN as WARN_LEVEL

OK, WARN, ERROR = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR
# The edge's per-camera diagnostic key of offloads' time on the camera (see EdgeHealth).
OFFLOAD_CAMERA_KEY = 'offload_camera_s'
# Name prefixes of the edge's per-camera statuses and of the cameras' own; the edge's own status
# and its key of the batch_size it runs (the allocator's replay batches as the edge does).
EDGE_STATUS, CAMERA_STATUS = 'mec_coop/edge/', 'mec_coop/camera/'
EDGE_NAME, BATCH_KEY = 'mec_coop/edge', 'batch_size'
OFFLOAD_WINDOW = 50
# ... of which those of the last 30 s (the newest 5 at least): with few offloads the window
# otherwise held the start-up's, 2-3 s on the camera, for the whole of a 75 s run.
OFFLOAD_HORIZON_S = 30.0


def diagnostic(name: str, hardware_id: str, level: Union[bytes, int], message: str,
               values: Mapping[str, Any]) -> DiagnosticStatus:
    """Build one ``DiagnosticStatus`` with ``values`` as key/value pairs (level: byte or 0..3)."""
    return DiagnosticStatus(level=bytes([level]) if isinstance(level, int) else level, name=name,
                            hardware_id=hardware_id, message=message,
                            values=[KeyValue(key=str(k), value=str(v)) for k, v in values.items()])


def diagnostic_array(node: Node, statuses: Iterable[DiagnosticStatus]) -> DiagnosticArray:
    """Build a ``DiagnosticArray`` of ``statuses`` stamped with the node's clock."""
    msg = DiagnosticArray(status=list(statuses))
    msg.header.stamp = node.get_clock().now().to_msg()
    return msg


class LogOnce:
    """Log each distinct problem once (then only count it), so bad input cannot flood the log."""

    def __init__(self, logger: Any) -> None:
        self._logger = logger
        self._seen: set[str] = set()
        self.counts: dict[str, int] = {}

    def __call__(self, key: str, message: str) -> None:
        """Count problem ``key``; log ``message`` the first time it occurs."""
        self.counts[key] = self.counts.get(key, 0) + 1
        if key not in self._seen:
            self._seen.add(key)
            self._logger.warning(f'{message} (logged once; counted in diagnostics)')


class EdgeHealth:
    """
    The edge's ``/diagnostics``: one status per camera and one for the edge.

    Levels come from :class:`~mec_coop.coop.health.HealthWatch`; a silent camera is an ERROR of
    its own status and a WARN of the edge's; no skeleton for ``2 * stall_s`` is an ERROR of the
    edge's.

    Each camera's status also says how long its offloaded frames took on the camera:
    ``offload_camera_s``, the median over the last :data:`OFFLOAD_WINDOW` offloads (within
    :data:`OFFLOAD_HORIZON_S`) of their age on arrival at the edge less the uplink's airtime and
    queueing (``nan`` before any). An offload
    is encoded on the camera after its model ran, so it leaves later than the camera's keypoints
    do; the allocator's delay replay reads this value (nowhere else is it measured).
    """

    def __init__(self, cameras: Iterable[str], stall_s: float, now: float) -> None:
        self._cameras = {cam: HealthWatch('accepted', 'reports accepted', stall_s, now)
                         for cam in cameras}
        self._edge = HealthWatch('skeletons', 'skeletons', 2 * stall_s, now)
        self._offload_camera_s = {cam: RunningStat(OFFLOAD_WINDOW) for cam in self._cameras}

    def offload_arrived(self, cam: str, age_s: float, msg: Any, now: float) -> None:
        """
        Record an offload ``msg`` of ``cam`` that arrived at ``now``, ``age_s`` after capture.

        Its time on the link (``uplink_airtime_s`` + ``uplink_queueing_s``) is subtracted; a
        negative rest (unsynchronised clocks) is not recorded.
        """
        self._offload_camera_s[cam].add(
            age_s - msg.uplink_airtime_s - msg.uplink_queueing_s, now)

    def statuses(self, fusion: Any, calibrated: Callable[[str], bool], now: float,
                 values: Mapping[str, Any]) -> list[DiagnosticStatus]:
        """Statuses of the cameras and the edge from ``fusion``'s counters at ``now``."""
        statuses, worst = [], []
        for cam, watch in self._cameras.items():
            counts = fusion.counts[cam]
            level, text = watch.assess(counts, now)
            if cam in fusion.silent:
                level, text = ERROR_LEVEL, f'not publishing; {text}'
            if level:
                worst.append((min(level, WARN_LEVEL), f'{cam}: {text}'))
            self._offload_camera_s[cam].expire(now - OFFLOAD_HORIZON_S)
            statuses.append(diagnostic(f'{EDGE_STATUS}{cam}', cam, level, text, {
                **counts, 'calibrated': calibrated(cam),
                OFFLOAD_CAMERA_KEY: round(
                    self._offload_camera_s[cam].quantile(0.5, math.nan), 4)}))
        level, text = self._edge.assess(fusion.totals, now)
        if worst and level < ERROR_LEVEL:
            level = max(level, max(lv for lv, _ in worst))
        text = '; '.join([text] + [t for _, t in worst])
        statuses.append(diagnostic(EDGE_NAME, 'edge', level, text,
                                   {**fusion.totals, **fusion.sync_stats, **values}))
        return statuses
