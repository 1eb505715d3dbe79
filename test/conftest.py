# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Shared fixtures of the test suite.

Test isolation (own ROS domain, ROS_HOME and log dir, offline Ultralytics, source tree first),
an in-process rclpy harness and the real small pose model.
"""

import itertools
import os
import pathlib
import sys
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


# Domain ids 1..200 spread over concurrent test runs (by pid), then one per test within a run.
_DOMAINS = itertools.count(1 + (os.getpid() * 37) % 150)


def _isolate_ros(tmp_root):
    os.environ['ROS_DOMAIN_ID'] = str(next(_DOMAINS))
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    os.environ['ROS_HOME'] = str(tmp_root / 'ros_home')
    os.environ['ROS_LOG_DIR'] = str(tmp_root / 'ros_log')
    os.environ['YOLO_OFFLINE'] = '1'
    os.environ['YOLO_AUTOINSTALL'] = 'false'
    os.environ.setdefault('YOLO_CONFIG_DIR', str(ROOT / '.yolo'))
    # Child processes must import this source tree, not a stale installed copy.
    os.environ['PYTHONPATH'] = os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p])


def pytest_configure(config):
    sys.path.insert(0, str(ROOT))
    tmp_root = pathlib.Path(config.rootpath, 'build', 'test_env', str(os.getpid()))
    tmp_root.mkdir(parents=True, exist_ok=True)
    _isolate_ros(tmp_root)


@pytest.fixture
def ros_domain(tmp_path, monkeypatch):
    """Give the test its own ROS_DOMAIN_ID, ROS_HOME and ROS_LOG_DIR (also for child processes)."""
    domain = (next(_DOMAINS) - 1) % 200 + 1
    monkeypatch.setenv('ROS_DOMAIN_ID', str(domain))
    monkeypatch.setenv('ROS_HOME', str(tmp_path / 'ros_home'))
    monkeypatch.setenv('ROS_LOG_DIR', str(tmp_path / 'ros_log'))
    return domain


@pytest.fixture(scope='session')
def repo_root():
    return ROOT


class Harness:
    """An rclpy context with an executor thread and a test node for publishing/subscribing."""

    def __init__(self, domain):
        import rclpy
        from rclpy.executors import MultiThreadedExecutor
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.executor = MultiThreadedExecutor(num_threads=4, context=self.context)
        self.node = rclpy.create_node('harness', context=self.context)
        self.executor.add_node(self.node)
        self.nodes = [self.node]
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def add(self, node):
        """Spin ``node``; a lifecycle node with ``autostart`` is brought to active first."""
        from rclpy.lifecycle import LifecycleNode

        from mec_coop.ros.runtime import bring_up
        if isinstance(node, LifecycleNode) and node.get_parameter('autostart').value:
            bring_up(node)
        self.executor.add_node(node)
        self.nodes.append(node)
        return node

    def collect(self, cls, topic, qos=None):
        from mec_coop.ros.qos import QOS_RELIABLE
        box = []
        self.node.create_subscription(cls, topic, box.append, qos or QOS_RELIABLE)
        return box

    def wait_for(self, predicate, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return False

    def close(self):
        import rclpy
        self.executor.shutdown()
        self.thread.join(timeout=10)
        for node in self.nodes[1:]:
            getattr(node, 'close', lambda: None)()
        for node in self.nodes:
            node.destroy_node()
        rclpy.shutdown(context=self.context)


@pytest.fixture
def harness(ros_domain):
    """Run a :class:`Harness` on the test's own ROS domain."""
    h = Harness(ros_domain)
    yield h
    h.close()


@pytest.fixture(scope='session')
def small_model():
    """Load the real yolo11n-pose at the camera setting (imgsz 320)."""
    from mec_coop.pose.ultralytics_backend import UltralyticsPose
    return UltralyticsPose(imgsz=320)


@pytest.fixture(scope='session')
def person_image():
    """Read Ultralytics' zidane.jpg (two people, BGR)."""
    import importlib.resources

    import cv2
    return cv2.imread(str(importlib.resources.files('ultralytics') / 'assets' / 'zidane.jpg'))
