# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Pip packaging of the pure-Python core, for use without ROS 2.

The ROS 2 package (interfaces, nodes, launch files) is built by CMakeLists.txt with colcon or
cmake (see README). ``pip install .`` here installs only what needs no ROS: geometry,
triangulation, metrics, rigs, pose backends and the allocator, e.g. for notebooks and analysis.
"""

from setuptools import find_packages, setup

setup(
    name='mec_coop',
    version='0.1.0',
    description='Multi-camera 3D human pose estimation by cooperative edge inference (core)',
    license='AGPL-3.0-or-later',
    python_requires='>=3.10',
    packages=find_packages(include=['mec_coop', 'mec_coop.*'],
                           exclude=['mec_coop.nodes', 'mec_coop.nodes.*', 'mec_coop.ros',
                                    'mec_coop.ros.*']),
    package_data={'mec_coop.action': ['models/*.npz']},
    install_requires=['numpy>=1.26,<2.3', 'scipy>=1.11', 'opencv-python-headless>=4.8,<5'],
    extras_require={'pose': ['ultralytics', 'torch', 'torchvision']},
)
