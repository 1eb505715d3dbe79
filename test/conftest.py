# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Shared fixtures of the test suite.

Test isolation (own ROS domain, ROS_HOME and log dir, offline Ultralytics, source tree first),
an in-process rclpy harness, the real small pose model, and the calibrated camera rings,
Qualisys files and demo data that the recorded-rig tests share.
"""

import importlib.util
import itertools
import os
import pathlib
import sys
import threading
import time
import xml.etree.ElementTree as ET

import numpy as np
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

    def publish_calibration(self, cameras, without_info=()):
        """
        Publish a rig's calibration the ROS way: latched CameraInfo per camera, one /tf_static.

        Each camera's optical frame is ``<name>_optical_frame``; cameras named in
        ``without_info`` get their transform but no CameraInfo.
        """
        import dataclasses

        from sensor_msgs.msg import CameraInfo
        from tf2_msgs.msg import TFMessage

        from mec_coop.ros.camera_info import camera_to_ros
        from mec_coop.ros.qos import QOS_LATCHED, QOS_TF_STATIC
        transforms = []
        for cam in cameras:
            info, tf = camera_to_ros(dataclasses.replace(cam, name=f'{cam.name}_optical_frame'))
            transforms.append(tf)
            if cam.name not in without_info:
                self.node.create_publisher(CameraInfo, f'/{cam.name}/camera_info',
                                           QOS_LATCHED).publish(info)
        self.node.create_publisher(TFMessage, '/tf_static', QOS_TF_STATIC).publish(
            TFMessage(transforms=transforms))

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


# ---- recorded rig ------------------------------------------------------------------------------


def _num(value):
    return repr(float(value))


def _write_qca(path, cameras, left=0, top=0, binning=1, models=None, rotation=0):
    """Write cameras as Qualisys would (inverse of the conventions under test)."""
    root = ET.Element('calibration', source=path.name)
    cams = ET.SubElement(root, 'cameras')
    for k, cam in enumerate(cameras):
        model = 'none' if models is None else models[k]
        tag = ET.SubElement(cams, 'camera', active='1', serial=cam.name, model=model,
                            viewrotation=str(rotation))
        right = left + cam.width * binning - 1
        bottom = top + cam.height * binning - 1
        ET.SubElement(tag, 'fov_video', left=str(left), top=str(top), right=str(right),
                      bottom=str(bottom))
        M = np.diag([1.0, -1.0, -1.0]) @ cam.R
        pos = cam.center * 1000.0
        attrs = {f'r{i + 1}{j + 1}': _num(M[i, j]) for i in range(3) for j in range(3)}
        attrs.update(x=_num(pos[0]), y=_num(pos[1]), z=_num(pos[2]))
        ET.SubElement(tag, 'transform', **attrs)
        K = cam.K * binning
        d = cam.dist * 64
        ET.SubElement(tag, 'intrinsic', focalLengthU=_num(K[0, 0] * 64),
                      focalLengthV=_num(K[1, 1] * 64), centerPointU=_num((K[0, 2] + left) * 64),
                      centerPointV=_num((K[1, 2] + top) * 64), skew='0',
                      radialDistortion1=_num(d[0]), radialDistortion2=_num(d[1]),
                      radialDistortion3=_num(d[4]), tangentalDistortion1=_num(d[2]),
                      tangentalDistortion2=_num(d[3]))
    ET.ElementTree(root).write(path, xml_declaration=True)


def _ring(n=4, width=640, height=480, radius=4.0, dist=(0.01, -0.02, 0.001, 0.0005, 0.0)):
    # Imported here: pytest_configure puts the source tree on sys.path after this file loads.
    from mec_coop.geometry.camera import PinholeCamera
    cams = []
    for k in range(n):
        a = 2 * np.pi * (k + 0.5) / n
        cams.append(PinholeCamera.look_at(f'cam{k + 1:02d}', (radius * np.cos(a),
                                                              radius * np.sin(a), 2.0),
                                          (0.0, 0.0, 1.0), width, height, 60.0, dist=dist))
    return cams


@pytest.fixture(scope='session')
def ring_cameras():
    """Return the factory of calibrated cameras on a ring, aimed inwards (args: n, width, ...)."""
    return _ring


@pytest.fixture(scope='session')
def write_qca():
    """Return the writer of a Qualisys calibration (args: path, cameras, left, top, binning...)."""
    return _write_qca


@pytest.fixture(scope='session')
def pose2sim_demos():
    """Skip unless Pose2Sim's demo data are installed; session scope skips before any setup."""
    if importlib.util.find_spec('Pose2Sim') is None:
        from mec_coop.rig.recorded.demos import INSTALL_HINT
        pytest.skip(f'pose2sim demo data not installed ({INSTALL_HINT})')
