# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""A node that hangs while stopping still leaves, in bounded time, with its stacks logged."""

import signal
import subprocess
import sys
import textwrap
import time

import pytest

# A node under spin_node whose clean-up or ROS teardown never returns (a stuck worker, a DDS
# destructor waiting on a dead peer), with the deadlines shortened for the test.
SCRIPT = textwrap.dedent("""
    import sys, time
    from rclpy.node import Node
    from mec_coop.ros import runtime

    runtime.CLOSE_DEADLINE_S, runtime.TEARDOWN_DEADLINE_S = 1.0, 1.0
    HANG = sys.argv[1]

    class Stuck(Node):
        def __init__(self):
            super().__init__('stuck')
            self.create_timer(0.05, lambda: print('spinning', flush=True))

        def close(self):
            print('closing', flush=True)
            if HANG == 'close':
                time.sleep(3600)

        def destroy_node(self):
            if HANG == 'teardown':
                time.sleep(3600)
            super().destroy_node()

    runtime.spin_node(Stuck, [])
""")


@pytest.mark.parametrize('hang, code, reason', [
    ('close', 1, 'clean-up did not finish'),
    ('teardown', 0, 'ROS teardown did not finish'),
    ('nothing', 0, None)])
def test_a_hang_while_stopping_ends_in_bounded_time_with_the_stacks(tmp_path, hang, code,
                                                                    reason):
    log = tmp_path / 'node.log'
    with open(log, 'w') as out:
        proc = subprocess.Popen([sys.executable, '-c', SCRIPT, hang], stdout=out,
                                stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while 'spinning' not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)    # ignored while stopping
        assert proc.wait(timeout=15) == code, log.read_text()
        took = time.monotonic() - sent
    text = log.read_text()
    assert 'closing' in text and 'KeyboardInterrupt' not in text
    if reason is None:
        assert took < 1.0 and '[mec_coop]' not in text
    else:
        # One deadline (1 s) for the stuck step, plus the teardown's for 'teardown'.
        assert 0.9 < took < 4.0, took
        assert reason in text
        # The stack names where it hung.
        stuck_in = 'close' if hang == 'close' else 'destroy_node'
        assert f'in {stuck_in}' in text, text
