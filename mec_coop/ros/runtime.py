# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Running nodes: worker threads behind callbacks, lifecycle bring-up and the spin loop."""

import collections
import faulthandler
import os
import signal
import socket
import sys
import threading
import time
import traceback
from typing import Any, Callable, Generic, Optional, TypeVar

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.signals import SignalHandlerOptions
from rclpy.subscription import Subscription
from rclpy.timer import Timer

from mec_coop.ros.params import text_param

Job = TypeVar('Job')
# How often the spin loop looks for a stop request (bounds the reaction to SIGINT).
SPIN_POLL_S = 0.1
# After a stop signal: the most the node's clean-up may take (launch sends SIGKILL at about
# 10 s), then the most the ROS/DDS teardown after it may take (StopSignals).
CLOSE_DEADLINE_S = 10.0
TEARDOWN_DEADLINE_S = 2.0


class JobQueue(Generic[Job]):
    """
    Run ``handler(job)`` in a worker thread for jobs that callbacks submit.

    Heavy work (model inference) thus never blocks the executor. At most ``limit`` jobs wait;
    submitting to a full queue drops the oldest (newest-frame-wins with ``limit=1``). A job that
    raises is passed to ``on_error(job, exc)`` and the worker goes on, unless the node's context
    is shutting down (the result would have nowhere to go).
    """

    def __init__(self, handler: Callable[[Any], None],
                 on_error: Callable[[Any, Exception], None], context: Any, name: str,
                 max_batch: Optional[Callable[[], int]] = None) -> None:
        self._handler = handler
        self._on_error = on_error
        # With max_batch the handler gets a list of up to max_batch() waiting jobs at once.
        self._max_batch = max_batch
        self._context = context
        self._jobs: collections.deque[Job] = collections.deque()
        self._wake = threading.Condition()
        self._running = True
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Job, limit: int) -> bool:
        """Queue ``job``; return True when the oldest waiting job was dropped for it."""
        with self._wake:
            dropped = len(self._jobs) >= limit
            if dropped:
                self._jobs.popleft()
            self._jobs.append(job)
            self._wake.notify()
        return dropped

    def __len__(self) -> int:
        return len(self._jobs)

    def _loop(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._jobs or not self._running)
                if not self._running:
                    return
                if self._max_batch is None:
                    job: Any = self._jobs.popleft()
                else:
                    count = max(1, min(self._max_batch(), len(self._jobs)))
                    job = [self._jobs.popleft() for _ in range(count)]
            try:
                self._handler(job)
            except Exception as exc:  # noqa: B902 - one bad job must not stop the worker
                if not self._running or not self._context.ok():
                    return  # shutting down: the result would have nowhere to go
                self._on_error(job, exc)

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the worker after the job in progress; waiting jobs are discarded."""
        with self._wake:
            self._running = False
            self._wake.notify()
        self._thread.join(timeout=timeout)


def declare_autostart(node: LifecycleNode) -> None:
    """Declare ``autostart``: whether :func:`spin_node` configures and activates the node."""
    node.declare_parameter('autostart', True, text_param(
        'Configure and activate at start-up; false leaves the node unconfigured for '
        '`ros2 lifecycle set`', read_only=True))


def bring_up(node: LifecycleNode) -> None:
    """Configure and activate a lifecycle node; raise ``RuntimeError`` naming the failed step."""
    for name, step in (('configure', node.trigger_configure),
                       ('activate', node.trigger_activate)):
        if step() != TransitionCallbackReturn.SUCCESS:
            raise RuntimeError(f'{node.get_name()}: lifecycle {name} failed')


def release(node: Node, entities: list) -> list:
    """Destroy the publishers, subscriptions and timers in ``entities``; return ``[]``."""
    for entity in entities:
        for kind, destroy in ((Publisher, node.destroy_publisher),
                              (Subscription, node.destroy_subscription),
                              (Timer, node.destroy_timer)):
            if isinstance(entity, kind):
                destroy(entity)
    return []


class ManagedModelNode(LifecycleNode):
    """
    A lifecycle node that loads a pose model on configure and works between activate/deactivate.

    Subclasses put what configure creates in ``_configured`` and what activate creates in
    ``_active``, and stop their worker in ``close()``; deactivate and cleanup release them. A
    model passed in by the caller (tests) is kept across cleanup; one the node loaded is dropped.
    """

    def __init__(self, name: str, pose_backend: Optional[Any] = None, **node_kwargs: Any) -> None:
        super().__init__(name, **node_kwargs)
        self._model = pose_backend
        self._own_model = pose_backend is None
        self._configured: list = []
        self._active: list = []

    def _now(self) -> float:
        """Return the node clock's time in seconds (capture stamps are compared with it)."""
        return self.get_clock().now().nanoseconds * 1e-9

    def close(self) -> None:
        """Stop the worker thread; also called before the node is destroyed."""

    def on_deactivate(self, state: Any) -> TransitionCallbackReturn:
        self._active = release(self, self._active)
        self.close()
        return super().on_deactivate(state)

    def on_cleanup(self, state: Any) -> TransitionCallbackReturn:
        self._configured = release(self, self._configured)
        if self._own_model:
            self._model = None
        return TransitionCallbackReturn.SUCCESS


class UnknownParameters(ValueError):
    """Parameters given to a node (params file, overrides) that it does not declare."""


def check_overrides(node: Node) -> None:
    """
    Raise :class:`UnknownParameters` naming the unknown and the valid keys.

    ROS ignores parameters a node does not declare, so a typo in a config or an override
    (``camera.bogus_key=1``) would otherwise change nothing, silently.
    """
    # rclpy keeps the node's overrides (params file, -p) here; there is no public accessor.
    given = set(getattr(node, '_parameter_overrides', {}))
    declared = set(node._parameters)
    unknown = sorted(given - declared)
    if unknown:
        raise UnknownParameters(
            f'{node.get_fully_qualified_name()}: unknown parameter(s) {unknown}; valid: '
            f'{sorted(declared)}')


class StopSignals:
    """
    Turn SIGINT/SIGTERM into a stop request instead of rclpy's immediate context shutdown.

    The node then stops its workers and logs its totals while the context is still valid (no
    "publisher's context is invalid" from a worker or the log), and a second signal during the
    clean-up is ignored instead of raising ``KeyboardInterrupt`` mid-way.

    A watchdog thread bounds the exit: it learns of the signal from the interpreter's C-level
    handler (``signal.set_wakeup_fd``), so it runs even when the main thread is stuck in native
    code. Past :data:`CLOSE_DEADLINE_S` for the node's clean-up, or :data:`TEARDOWN_DEADLINE_S`
    for the ROS/DDS teardown after it, it logs every thread's stack and leaves: exit code 1 when
    the clean-up did not finish (results may be lost), the node's own code when only the
    teardown hung (everything was saved). Without it a hang in teardown ends in launch's SIGKILL.
    """

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.cleaned_up = threading.Event()
        self.code = 0
        self._reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        threading.Thread(target=self._watch, name='stop_watchdog', daemon=True).start()

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.requested.set()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)

    def _watch(self) -> None:
        self._reader.recv(1)
        self.requested.set()
        if not self.cleaned_up.wait(CLOSE_DEADLINE_S):
            _leave(f'clean-up did not finish {CLOSE_DEADLINE_S:.0f} s after the stop signal', 1)
        time.sleep(TEARDOWN_DEADLINE_S)
        _leave(f'ROS teardown did not finish {TEARDOWN_DEADLINE_S:.0f} s after the clean-up '
               '(results were saved); leaving without it', self.code)


def _leave(reason: str, code: int) -> None:
    sys.stderr.write(f'[mec_coop] {reason}; stacks of the threads:\n')
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    sys.stderr.flush()
    sys.stdout.flush()
    os._exit(code)


def spin_node(node_class: Callable[[], Node], args: Optional[list[str]] = None) -> None:
    """
    Run one node until SIGINT/SIGTERM or an external shutdown, then clean up in the safe order.

    Clean-up: stop the node's workers (``close``: results written, totals logged), destroy the
    node, shut rclpy down, flush the output, and leave without the interpreter's finalisation
    (with torch loaded it takes seconds, which launch answers with SIGTERM): everything that
    needs releasing has been released explicitly by then.
    """
    rclpy.init(args=args if args is not None else sys.argv,
               signal_handler_options=SignalHandlerOptions.NO)
    stop = StopSignals()
    node = None
    executor = SingleThreadedExecutor()
    code = 0
    try:
        node = node_class()
        check_overrides(node)
        if isinstance(node, LifecycleNode) and node.get_parameter('autostart').value:
            bring_up(node)
        executor.add_node(node)
        while not stop.requested.is_set() and rclpy.ok():
            executor.spin_once(timeout_sec=SPIN_POLL_S)
    except ExternalShutdownException:
        pass
    except UnknownParameters as exc:
        sys.stderr.write(f'{exc}\n')
        code = 2
    except Exception:  # noqa: B902 - logged with its traceback, then the same clean-up
        traceback.print_exc()
        code = 1
    finally:
        if node is not None:
            close = getattr(node, 'close', None)
            if close:
                close()
        stop.code = code
        stop.cleaned_up.set()
        executor.shutdown(timeout_sec=1.0)
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
