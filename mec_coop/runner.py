# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Start a node graph (:mod:`mec_coop.graph`) as separate processes, like ``ros2 launch`` would.

Each :class:`~mec_coop.graph.NodeSpec` runs as ``python -m mec_coop.nodes.<executable>`` with the
same name, namespace and parameters (a ``--params-file``) that the launch files give it. Logs go
to ``<log_dir>/<namespace>_<name>.log``. A node that dies is restarted by :meth:`supervise` if
its spec says so (``respawn``, as the launch files do), at most the spec's
``respawn_max_retries`` times (``graph.respawn_max_retries``, the launch files' bound too), each
restart logged; the others end the graph. On stop every node gets SIGINT (nodes finish their
work and write their results), then SIGTERM and SIGKILL after grace periods.
"""

import os
import pathlib
import signal
import subprocess
import sys
import time

from mec_coop.graph import RESPAWN_DELAY_S, ros_params_file


class GraphProcesses:
    """Running processes of a graph; use as a context manager."""

    def __init__(self, specs, log_dir, env=None, ros_args=(), max_restarts=None,
                 wrap=None):
        self.specs = {_label(spec): spec for spec in specs}
        self.log_dir = pathlib.Path(log_dir)
        self.env = dict(os.environ if env is None else env)
        self.ros_args = list(ros_args)
        # None: each spec's respawn_max_retries; a number overrides them all (tests).
        self.max_restarts = max_restarts
        # spec -> command prefix, e.g. ['ip', 'netns', 'exec', 'cam0'] (benchmarks/shaped_link.py)
        self.wrap = wrap or (lambda spec: [])
        self.restarts = dict.fromkeys(self.specs, 0)
        self.procs = {}
        self._died_at = {}

    def _spawn(self, label, mode='w'):
        spec = self.specs[label]
        params = self.log_dir / f'{label}.params.yaml'
        params.write_text(ros_params_file(spec))
        remaps = ['-r', f'__node:={spec.name}']
        if spec.namespace:
            remaps += ['-r', f'__ns:=/{spec.namespace.strip("/")}']
        cmd = [*self.wrap(spec), sys.executable, '-m', f'mec_coop.nodes.{spec.executable}',
               '--ros-args', *remaps, '--params-file', str(params), *self.ros_args]
        log = open(self.log_dir / f'{label}.log', mode)
        self.procs[label] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                              env=self.env), log)

    def start(self):
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for label in self.specs:
            self._spawn(label)
        return self

    def failed(self):
        """Labels and exit codes of processes that ended on their own."""
        return {label: p.returncode for label, (p, _) in self.procs.items()
                if p.poll() is not None}

    def supervise(self, report=print):
        """
        Restart dead nodes that respawn (after ``RESPAWN_DELAY_S``, a bounded number of times).

        Call it periodically. ``report(line)`` gets one line per death and restart. Returns the
        labels and exit codes of nodes that are dead for good (not respawned, or out of
        restarts): the graph cannot go on without them.
        """
        lost = {}
        for label, code in self.failed().items():
            spec = self.specs[label]
            bound = spec.respawn_max_retries if self.max_restarts is None else self.max_restarts
            # Exit code 2: the node refused its parameters; a restart would refuse them again.
            if code == 2 or not spec.respawn or self.restarts[label] >= bound:
                lost[label] = code
                continue
            now = time.monotonic()
            if label not in self._died_at:
                self._died_at[label] = now
                report(f'[run] node {label} exited with {code}; restarting it in '
                       f'{RESPAWN_DELAY_S:.0f} s ({self.restarts[label] + 1}/{bound})')
            if now - self._died_at[label] >= RESPAWN_DELAY_S:
                del self._died_at[label]
                self.restarts[label] += 1
                self.procs[label][1].write(f'\n[run] restart {self.restarts[label]} after exit '
                                           f'code {code}\n')
                self.procs[label][1].close()
                self._spawn(label, 'a')
        return lost

    def stop(self, grace_s=15.0):
        """Stop every process (SIGINT, then SIGTERM, then SIGKILL); return their exit codes."""
        for proc, _ in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + grace_s
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for proc, _ in self.procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.send_signal(sig)
            deadline = time.monotonic() + 5.0
        codes = {}
        for label, (proc, log) in self.procs.items():
            codes[label] = proc.wait()
            log.close()
        return codes

    def kill(self, label, sig=signal.SIGKILL):
        """Send ``sig`` to one node (tests of recovery)."""
        self.procs[label][0].send_signal(sig)

    def log_tail(self, label, lines=20):
        path = self.log_dir / f'{label}.log'
        return '\n'.join(path.read_text().splitlines()[-lines:]) if path.exists() else ''

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _label(spec):
    return spec.fully_qualified_name.strip('/').replace('/', '_')
