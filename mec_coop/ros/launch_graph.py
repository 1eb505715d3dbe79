# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
``launch_ros`` glue for the files in ``launch/``: a config's graph as a LaunchDescription.

Imported only by launch files (``launch`` is part of a ROS 2 install, not of the core).
Camera, edge, uplink and allocator nodes respawn when they die (``mec_coop.graph.RESPAWNED``),
at most ``graph.respawn_max_retries`` times each (5; launch's ``respawn_max_retries``, in
``launch`` since 3.1.0, so in every Jazzy install), e.g.
``overrides:="graph.respawn_max_retries=3"``.
Arguments: ``config`` (path or name in ``share/mec_coop/config``) and ``overrides``
(space-separated ``section.key=value``), e.g.
``ros2 launch mec_coop virtual_rig.launch.py overrides:="graph.mode=server_centric"``.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from mec_coop.graph import build_graph, load_config, RESPAWN_DELAY_S


def _nodes(context):
    config = LaunchConfiguration('config').perform(context)
    if not os.path.isabs(config) and not os.path.exists(config):
        config = os.path.join(get_package_share_directory('mec_coop'), 'config',
                              config if config.endswith('.yaml') else f'{config}.yaml')
    overrides = LaunchConfiguration('overrides').perform(context).split()
    return [Node(package='mec_coop', executable=spec.executable, name=spec.name,
                 namespace=spec.namespace or None, parameters=[spec.parameters],
                 output='screen', emulate_tty=True, respawn=spec.respawn,
                 respawn_delay=RESPAWN_DELAY_S if spec.respawn else 0.0,
                 respawn_max_retries=spec.respawn_max_retries,
                 # Used only with ROS_SECURITY_ENABLE=true (README, "Security").
                 ros_arguments=['--enclave', spec.enclave])
            for spec in build_graph(load_config(config, overrides))]


def graph_launch_description(config_name):
    """Build the LaunchDescription of the graph of ``config/<config_name>.yaml``."""
    return LaunchDescription([
        DeclareLaunchArgument('config', default_value=config_name,
                              description='Graph YAML: a path or a name in config/'),
        DeclareLaunchArgument('overrides', default_value='',
                              description='Space-separated section.key=value overrides'),
        OpaqueFunction(function=_nodes),
    ])
