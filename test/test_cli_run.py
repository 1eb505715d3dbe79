# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""`run`/`demo --duration`: the run time counts from the first skeleton, however late it comes."""

import io
import time

from mec_coop import cli


class FakeGraph:
    """The runner's interface, with no process behind it."""

    restarts: dict = {}

    def __init__(self, specs, log_dir):
        self.log_dir = log_dir

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def supervise(self, report):
        return {}


def test_the_duration_counts_from_a_late_first_skeleton(tmp_path, monkeypatch):
    # Models loading on a loaded machine: the first skeleton after 2.5 s, the duration 1 s.
    # Before, the run ended while still waiting and scored nothing.
    launched = time.monotonic()
    monkeypatch.setattr(cli, 'build_graph', lambda config: [])
    monkeypatch.setattr(cli, 'GraphProcesses', FakeGraph)
    monkeypatch.setattr(cli, '_progress', lambda out: (
        '3/3 instants' if time.monotonic() - launched > 2.5 else 'waiting for the first'))
    stream = io.StringIO()
    cli.run_graph({}, duration_s=1.0, out_dir=tmp_path, stream=stream)
    took = time.monotonic() - launched
    assert 'first skeleton 3 s after start' in stream.getvalue()
    assert 3.4 < took < 6.0, took
