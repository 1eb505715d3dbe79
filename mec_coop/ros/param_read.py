# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Reading parameters that other nodes own, without ever blocking a callback.

:class:`ParameterReader` asks each remote node for a few named parameters with one
``GetParameters`` request, keeps the values of the last reply and asks again every
``refresh_s`` (call :meth:`ParameterReader.poll` from a timer), so a value the owner changes at
run time is seen within that time and a restarted node is read again. The owner stays the one
place the value is set; the reader only follows it.
"""

import threading
import time
from typing import Callable

from rcl_interfaces.srv import GetParameters
from rclpy.node import Node
from rclpy.parameter import parameter_value_to_python

from mec_coop.ros.param_push import PUSH_TIMEOUT_S


class ParameterReader:
    """
    Follow ``names`` on each of ``targets`` (key -> fully qualified node name).

    :param problems: ``problems(key, message)`` reports a node that does not answer or lacks a
        parameter (logged once per key).
    :param changed: called (in the executor) when a node's values differ from the last read.
    """

    def __init__(self, node: Node, targets: dict[str, str], names: tuple[str, ...],
                 problems: Callable[[str, str], None], changed: Callable[[], None],
                 refresh_s: float = 2.0) -> None:
        self.names, self.refresh_s, self._problems = tuple(names), refresh_s, problems
        self._changed = changed
        self._lock = threading.Lock()
        self._clients = {key: (node.create_client(
            GetParameters, f'{name.rstrip("/")}/get_parameters'), name)
            for key, name in targets.items()}
        self._values: dict[str, dict] = {}
        self._asked: dict[str, float] = {}
        self._in_flight: dict[str, object] = {}

    def value(self, key: str, name: str):
        """Return the last value read of ``name`` on ``key``'s node (None before a reply)."""
        with self._lock:
            return self._values.get(key, {}).get(name)

    def poll(self) -> None:
        """Ask every node whose last answer is older than ``refresh_s`` (one request each)."""
        now = time.monotonic()
        for key, (client, name) in self._clients.items():
            with self._lock:
                pending = self._in_flight.get(key)
                if pending is not None and now - self._asked[key] > PUSH_TIMEOUT_S:
                    client.remove_pending_request(pending)
                    del self._in_flight[key]   # no reply: ask again below
                    pending = None
                if pending is not None or now - self._asked.get(key, -1e9) < self.refresh_s:
                    continue
                if not client.service_is_ready():
                    self._problems(f'unreadable:{name}', f'{name} is not available to read '
                                   f'{list(self.names)} from; retrying')
                    continue
                future = client.call_async(GetParameters.Request(names=list(self.names)))
                self._in_flight[key], self._asked[key] = future, now
            future.add_done_callback(lambda f, k=key: self._on_reply(k, f))

    def _on_reply(self, key: str, future) -> None:
        name = self._clients[key][1]
        with self._lock:
            if self._in_flight.get(key) is not future:
                return   # given up after PUSH_TIMEOUT_S
            del self._in_flight[key]
            try:
                values = [parameter_value_to_python(v) for v in future.result().values]
            except Exception as exc:  # noqa: B902 - any transport error: ask again later
                self._problems(f'read:{name}', f'reading {list(self.names)} from {name} '
                               f'failed: {exc!r}')
                return
            if len(values) != len(self.names) or any(v is None for v in values):
                self._problems(f'lacks:{name}', f'{name} lacks one of {list(self.names)}')
                return
            new = dict(zip(self.names, values))
            changed, self._values[key] = new != self._values.get(key), new
        if changed:
            self._changed()
