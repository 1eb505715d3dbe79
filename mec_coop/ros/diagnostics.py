# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""``/diagnostics`` messages and log-once problem reporting shared by the nodes."""

from typing import Any, Iterable, Mapping

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node

OK, WARN, ERROR = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR


def diagnostic(name: str, hardware_id: str, level: bytes, message: str,
               values: Mapping[str, Any]) -> DiagnosticStatus:
    """Build one ``DiagnosticStatus`` with ``values`` as key/value pairs."""
    return DiagnosticStatus(level=level, name=name, hardware_id=hardware_id, message=message,
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
