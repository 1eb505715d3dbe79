# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Test isolation: own ROS domain, ROS_HOME and log dir, offline Ultralytics, source tree first."""

import itertools
import os
import pathlib
import sys

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
