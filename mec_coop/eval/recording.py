# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
MCAP recordings in the rosbag2 layout (``ros2msg`` schemas, CDR messages).

Files written here open in Foxglove and with ``ros2 bag`` (rosbag2 reads MCAP). Messages arrive
already serialized (``rclpy.serialization.serialize_message``), so nothing is re-encoded; the
schemas are the installed ``.msg`` definitions with their dependencies appended, as rosbag2
stores them.
"""

import os
import pathlib
import re
import sys

from mcap.writer import Writer

_BUILTIN = {'bool', 'byte', 'char', 'float32', 'float64', 'int8', 'uint8', 'int16', 'uint16',
            'int32', 'uint32', 'int64', 'uint64', 'string', 'wstring'}
_SEPARATOR = '=' * 80


def _share_dirs():
    # The venv prefix holds the interfaces on the pip-wheel route; ament prefixes elsewhere.
    prefixes = os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep) + [sys.prefix]
    return [pathlib.Path(p) / 'share' for p in prefixes if p]


def _definition(package, name):
    for share in _share_dirs():
        path = share / package / 'msg' / f'{name}.msg'
        if path.is_file():
            return path.read_text()
    raise FileNotFoundError(f'no definition of {package}/msg/{name} under {_share_dirs()}')


def ros2msg_schema(type_name):
    """
    Full ``ros2msg`` schema text of ``pkg/msg/Name``: its definition and every nested type.

    :raises FileNotFoundError: when a definition is not installed.
    """
    package, _, name = type_name.split('/')
    text = _definition(package, name)
    parts, seen, todo = [], set(), [(package, text)]
    while todo:
        pkg, body = todo.pop(0)
        for line in body.splitlines():
            field = line.split('#', 1)[0].strip()
            if not field or '=' in field.split()[0] or len(field.split()) < 2:
                continue
            base = re.sub(r'\[.*\]$', '', field.split()[0])
            base = re.sub(r'<=\d+$', '', base)
            if base in _BUILTIN:
                continue
            dep = base if '/' in base else ('std_msgs/Header' if base == 'Header'
                                            else f'{pkg}/{base}')
            if dep in seen:
                continue
            seen.add(dep)
            dep_pkg, dep_name = dep.split('/')
            dep_text = _definition(dep_pkg, dep_name)
            parts.append(f'{_SEPARATOR}\nMSG: {dep}\n{dep_text}')
            todo.append((dep_pkg, dep_text))
    return '\n'.join([text] + parts)


class McapRecorder:
    """Write serialized ROS 2 messages to an MCAP file, one channel per topic."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, 'wb')
        self._writer = Writer(self._file)
        self._writer.start(profile='ros2', library='mec_coop')
        self._channels = {}
        self.messages = 0

    def write(self, topic, type_name, data, log_time_ns, publish_time_ns=None):
        """Append one CDR-serialized message of ``type_name`` (``pkg/msg/Name``) on ``topic``."""
        if topic not in self._channels:
            schema = self._writer.register_schema(
                name=type_name, encoding='ros2msg', data=ros2msg_schema(type_name).encode())
            self._channels[topic] = self._writer.register_channel(
                topic=topic, message_encoding='cdr', schema_id=schema)
        self._writer.add_message(channel_id=self._channels[topic], log_time=int(log_time_ns),
                                 publish_time=int(publish_time_ns or log_time_ns),
                                 data=bytes(data), sequence=self.messages)
        self.messages += 1

    def close(self):
        self._writer.finish()
        self._file.close()
