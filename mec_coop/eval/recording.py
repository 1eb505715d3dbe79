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
    """
    Write serialized ROS 2 messages to MCAP, one channel per topic.

    With ``segment_s`` the recording is split into files of that much log time
    (``<stem>_000.mcap``, ``<stem>_001.mcap``, ...), each finished (footer and index written)
    before the next starts: a process killed without warning loses only the open segment, the
    way rosbag2 splits bags. Without it there is one file, ``path``.
    """

    def __init__(self, path, segment_s=0.0):
        self.base = pathlib.Path(path)
        self.base.parent.mkdir(parents=True, exist_ok=True)
        self.segment_ns = int(segment_s * 1e9)
        self.paths = []
        self.messages = 0
        self._file = None
        self._segment_start = None

    def _start(self, log_time_ns):
        path = self.base if not self.segment_ns else self.base.with_name(
            f'{self.base.stem}_{len(self.paths):03d}{self.base.suffix}')
        self._file = open(path, 'wb')
        self._writer = Writer(self._file)
        self._writer.start(profile='ros2', library='mec_coop')
        self._channels = {}
        self._segment_start = log_time_ns
        self.paths.append(path)

    def write(self, topic, type_name, data, log_time_ns, publish_time_ns=None):
        """Append one CDR-serialized message of ``type_name`` (``pkg/msg/Name``) on ``topic``."""
        log_time_ns = int(log_time_ns)
        if self._file is not None and self.segment_ns and \
                log_time_ns - self._segment_start >= self.segment_ns:
            self._finish()
        if self._file is None:
            self._start(log_time_ns)
        if topic not in self._channels:
            schema = self._writer.register_schema(
                name=type_name, encoding='ros2msg', data=ros2msg_schema(type_name).encode())
            self._channels[topic] = self._writer.register_channel(
                topic=topic, message_encoding='cdr', schema_id=schema)
        self._writer.add_message(channel_id=self._channels[topic], log_time=log_time_ns,
                                 publish_time=int(publish_time_ns or log_time_ns),
                                 data=bytes(data), sequence=self.messages)
        self.messages += 1

    def _finish(self):
        self._writer.finish()
        self._file.close()
        self._file = None

    def close(self):
        """Finish the open file (an empty recording still leaves a valid, empty file)."""
        if self._file is None and not self.paths:
            self._start(0)
        if self._file is not None:
            self._finish()
