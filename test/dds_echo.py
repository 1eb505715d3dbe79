# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Echo every mec_coop message type from ``in/<Type>`` to ``out/<Type>`` (run as a process)."""

import sys

import rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy

from mec_coop import msg as mec_msgs


def message_types():
    """All generated message classes of the package, by name."""
    return {name: getattr(mec_msgs, name) for name in dir(mec_msgs)
            if not name.startswith('_') and hasattr(getattr(mec_msgs, name), 'SLOT_TYPES')}


class Echo(Node):
    def __init__(self):
        super().__init__('mec_coop_echo')
        qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        self._keep = []
        for name, cls in message_types().items():
            pub = self.create_publisher(cls, f'out/{name}', qos)
            self._keep.append(self.create_subscription(cls, f'in/{name}', pub.publish, qos))


def main():
    rclpy.init(args=sys.argv)
    node = Echo()
    print('echo ready', flush=True)
    try:
        rclpy.spin(node)
    except KeyboardInterrupt:
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
