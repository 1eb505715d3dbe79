# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Setting parameters on other nodes without ever blocking a callback.

:class:`ParameterPusher` keeps, per remote node, the latest values wanted there and sends them
in one ``SetParametersAtomically`` request; replies arrive as future callbacks. A node that is
not up yet, a rejected or failed request and a request without reply within
:data:`PUSH_TIMEOUT_S` are counted and retried by :meth:`ParameterPusher.retry` (call it from a
timer), so a restarted node gets its values back. rclpy's ``AsyncParameterClient`` wraps the
same call but opens six service clients per node; this opens one.
"""

import threading
import time
from typing import Callable, Optional

from rcl_interfaces.srv import SetParametersAtomically
from rclpy.node import Node
from rclpy.parameter import Parameter

# Replies to a parameter request are expected within this time; then it is sent again.
PUSH_TIMEOUT_S = 5.0


class _Target:
    """The latest values wanted on one remote node and the state of their delivery."""

    def __init__(self, client, node_name: str) -> None:
        self.client = client
        self.node_name = node_name
        self.wanted: Optional[list[Parameter]] = None
        self.delivered = True
        self.in_flight = None
        self.sent_at = 0.0
        self.counts = {'applied': 0, 'rejected': 0, 'failed': 0, 'unavailable': 0,
                       'timed_out': 0}
        self.last_problem = ''


class ParameterPusher:
    """
    Deliver parameter sets to named nodes; see the module docstring.

    :param targets: key -> fully qualified node name (keys name the targets in :meth:`push`).
    :param problems: ``problems(key, message)`` reports a problem (logged once per key).
    """

    def __init__(self, node: Node, targets: dict[str, str],
                 problems: Callable[[str, str], None]) -> None:
        self._problems = problems
        # Reentrant: a reply that is already in when its done callback is added runs at once.
        self._lock = threading.RLock()
        self.targets = {key: _Target(node.create_client(
            SetParametersAtomically, f'{name.rstrip("/")}/set_parameters_atomically'), name)
            for key, name in targets.items()}

    def push(self, wanted: dict[str, list[Parameter]]) -> None:
        """Make ``wanted[key]`` the values of each target (keys without a target are skipped)."""
        with self._lock:
            for key, target in self.targets.items():
                if key in wanted:
                    target.wanted = wanted[key]
                    target.delivered = False
                    self._send(target)

    def retry(self) -> None:
        """Give up requests without reply and send what is not delivered yet."""
        now = time.monotonic()
        with self._lock:
            for target in self.targets.values():
                if target.in_flight is not None and now - target.sent_at > PUSH_TIMEOUT_S:
                    target.client.remove_pending_request(target.in_flight)
                    target.in_flight = None
                    target.counts['timed_out'] += 1
                    target.last_problem = f'no reply in {PUSH_TIMEOUT_S} s'
                self._send(target)

    def applied(self, key: str, name: str):
        """Value of ``name`` in the set ``key``'s node accepted last; None while one is pending."""
        with self._lock:
            target = self.targets.get(key)
            if target is None or not target.delivered or target.wanted is None:
                return None
            return next((p.value for p in target.wanted if p.name == name), None)

    def status(self) -> list[tuple[str, bool, str, dict[str, int]]]:
        """``(node name, ok, text, counts)`` per target, for diagnostics."""
        with self._lock:
            return [(t.node_name, t.delivered or not t.last_problem,
                     'applied' if t.delivered else (t.last_problem or 'pending'), dict(t.counts))
                    for t in self.targets.values()]

    def _send(self, target: _Target) -> None:
        """Send ``target.wanted`` unless it is delivered or a request is in flight (lock held)."""
        if target.delivered or target.in_flight is not None:
            return
        if not target.client.service_is_ready():
            target.counts['unavailable'] += 1
            target.last_problem = 'not available'
            self._problems(f'unavailable:{target.node_name}',
                           f'{target.node_name} is not available; retrying every second')
            return
        sent = target.wanted
        request = SetParametersAtomically.Request(
            parameters=[p.to_parameter_msg() for p in sent])
        target.in_flight = target.client.call_async(request)
        target.sent_at = time.monotonic()
        target.in_flight.add_done_callback(lambda f: self._on_reply(target, sent, f))

    def _on_reply(self, target: _Target, sent: list[Parameter], future) -> None:
        with self._lock:
            if future is not target.in_flight:
                return  # a request given up after PUSH_TIMEOUT_S
            target.in_flight = None
            try:
                result = future.result().result
            except Exception as exc:  # noqa: B902 - any transport error: retry later
                target.counts['failed'] += 1
                target.last_problem = repr(exc)
                self._problems(f'failed:{target.node_name}',
                               f'setting parameters on {target.node_name} failed: {exc!r}')
                return
            if not result.successful:
                target.counts['rejected'] += 1
                target.last_problem = result.reason
                self._problems(f'rejected:{target.node_name}:{result.reason}',
                               f'{target.node_name} rejected {[p.name for p in sent]}: '
                               f'{result.reason}')
                return
            if target.wanted is sent:
                target.delivered = True
                target.counts['applied'] += 1
                target.last_problem = ''
            else:
                self._send(target)  # newer values came while this request was in flight
