# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every custom message crosses real DDS between two processes and comes back unchanged."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosidl_parser import definition as idl

from mec_coop import msg as mec_msgs

pytestmark = pytest.mark.dds

MESSAGE_NAMES = sorted(name for name in dir(mec_msgs) if not name.startswith('_')
                       and hasattr(getattr(mec_msgs, name), 'SLOT_TYPES'))


def _value(slot, rng):
    """Draw a random value for one field type (nested messages are filled recursively)."""
    if isinstance(slot, idl.Array):
        return [_value(slot.value_type, rng) for _ in range(slot.size)]
    if isinstance(slot, idl.AbstractSequence):
        return [_value(slot.value_type, rng) for _ in range(int(rng.integers(1, 4)))]
    if isinstance(slot, idl.AbstractString):
        return f'text-{rng.integers(1e6)}'
    if isinstance(slot, idl.NamespacedType):
        module = __import__('.'.join(slot.namespaces), fromlist=[slot.name])
        return _fill(getattr(module, slot.name)(), rng)
    kind = slot.typename
    if kind == 'boolean':
        return bool(rng.integers(2))
    if kind in ('float', 'double'):
        return float(np.float32(rng.normal(0.0, 100.0)))
    if kind in ('octet', 'uint8', 'char'):
        return int(rng.integers(0, 256))
    if kind.startswith('uint'):
        return int(rng.integers(0, 2 ** min(int(kind[4:]), 31)))
    if kind.startswith('int'):
        bits = min(int(kind[3:]), 32) - 1
        return int(rng.integers(-2 ** bits, 2 ** bits - 1))
    raise TypeError(f'no generator for {kind}')


def _fill(message, rng):
    for name, slot in zip(message.get_fields_and_field_types(), message.SLOT_TYPES):
        value = _value(slot, rng)
        if isinstance(slot, idl.AbstractSequence) and isinstance(slot.value_type, idl.BasicType) \
                and slot.value_type.typename in ('octet', 'uint8'):
            value = bytes(value)
        setattr(message, name, value)
    return message


@pytest.fixture(scope='module')
def echo_process(tmp_path_factory, repo_root):
    # One echo process for the module; ros_domain is per test, so this fixture sets its own.
    env = dict(os.environ)
    env['ROS_DOMAIN_ID'] = str(int(os.environ['ROS_DOMAIN_ID']) + 50)
    env['ROS_LOG_DIR'] = str(tmp_path_factory.mktemp('echo_log'))
    proc = subprocess.Popen([sys.executable, str(repo_root / 'test' / 'dds_echo.py')], env=env,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'echo ready'
    yield int(env['ROS_DOMAIN_ID'])
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope='module')
def node(echo_process):
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=echo_process)
    node = rclpy.create_node('mec_coop_msg_test', context=context)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    yield node, executor
    executor.shutdown()
    node.destroy_node()
    rclpy.shutdown(context=context)


@pytest.mark.parametrize('name', MESSAGE_NAMES)
def test_message_round_trip_over_dds(node, name):
    node, executor = node
    cls = getattr(mec_msgs, name)
    sent = _fill(cls(), np.random.default_rng(sum(map(ord, name))))
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    received = []
    pub = node.create_publisher(cls, f'in/{name}', qos)
    sub = node.create_subscription(cls, f'out/{name}', received.append, qos)
    deadline = time.monotonic() + 20.0
    try:
        while not received and time.monotonic() < deadline:
            if pub.get_subscription_count() > 0 and sub.get_publisher_count() > 0:
                pub.publish(sent)
            executor.spin_once(timeout_sec=0.1)
    finally:
        node.destroy_publisher(pub)
        node.destroy_subscription(sub)
    assert received, f'{name} did not come back from the echo process within 20 s'
    assert received[0] == sent
