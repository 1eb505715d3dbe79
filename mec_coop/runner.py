# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Start a node graph (:mod:`mec_coop.graph`) as separate processes, like ``ros2 launch`` would.

Each :class:`~mec_coop.graph.NodeSpec` runs as ``python -m mec_coop.nodes.<executable>`` with the
same name, namespace and parameters (a ``--params-file``) that the launch files give it. Logs go
to ``<log_dir>/<namespace>_<name>.log``. On stop every node gets SIGINT (a clean rclpy shutdown,
so nodes write their results), then SIGTERM and SIGKILL after grace periods.
"""

import os
import pathlib
import signal
import subprocess
import sys
import time

from mec_coop.graph import ros_params_file


class GraphProcesses:
    """Running processes of a graph; use as a context manager."""

    def __init__(self, specs, log_dir, env=None, ros_args=()):
        self.specs = list(specs)
        self.log_dir = pathlib.Path(log_dir)
        self.env = dict(os.environ if env is None else env)
        self.ros_args = list(ros_args)
        self.procs = {}

    def start(self):
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for spec in self.specs:
            label = spec.fully_qualified_name.strip('/').replace('/', '_')
            params = self.log_dir / f'{label}.params.yaml'
            params.write_text(ros_params_file(spec))
            remaps = ['-r', f'__node:={spec.name}']
            if spec.namespace:
                remaps += ['-r', f'__ns:=/{spec.namespace.strip("/")}']
            cmd = [sys.executable, '-m', f'mec_coop.nodes.{spec.executable}', '--ros-args',
                   *remaps, '--params-file', str(params), *self.ros_args]
            log = open(self.log_dir / f'{label}.log', 'w')
            self.procs[label] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                                  env=self.env), log)
        return self

    def failed(self):
        """Labels and exit codes of processes that ended on their own."""
        return {label: p.returncode for label, (p, _) in self.procs.items()
                if p.poll() is not None}

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

    def log_tail(self, label, lines=20):
        path = self.log_dir / f'{label}.log'
        return '\n'.join(path.read_text().splitlines()[-lines:]) if path.exists() else ''

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
