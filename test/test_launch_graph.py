# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
What the launch files hand to ``launch_ros``: every node, with a bounded respawn.

``launch`` and ``launch_ros`` are not installable here (no PyPI wheels), so the test replaces
them with recorders of the actions and their arguments and runs the real
:mod:`mec_coop.ros.launch_graph` against them. The argument names are those of Jazzy's
``launch_ros.actions.Node`` / ``launch.actions.ExecuteProcess`` (``respawn_max_retries`` since
``launch`` 3.1.0, ros2/launch#696; Jazzy ships 3.4).
"""

import importlib
import sys
import types

import pytest

from mec_coop.graph import build_graph, CONFIG_DIR, load_config

# Keyword arguments of Jazzy's launch_ros Node that the graph uses.
JAZZY_NODE_ARGUMENTS = {'package', 'executable', 'name', 'namespace', 'parameters', 'output',
                        'emulate_tty', 'respawn', 'respawn_delay', 'respawn_max_retries',
                        'ros_arguments'}


class _Action:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class _LaunchConfiguration:
    values: dict = {}

    def __init__(self, name):
        self.name = name

    def perform(self, context):
        return self.values[self.name]


@pytest.fixture
def launch_graph(monkeypatch):
    modules = {name: types.ModuleType(name) for name in (
        'launch', 'launch.actions', 'launch.substitutions', 'launch_ros', 'launch_ros.actions')}
    modules['launch'].LaunchDescription = _Action
    modules['launch.actions'].DeclareLaunchArgument = _Action
    modules['launch.actions'].OpaqueFunction = _Action
    modules['launch.substitutions'].LaunchConfiguration = _LaunchConfiguration
    modules['launch_ros.actions'].Node = _Action
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.delitem(sys.modules, 'mec_coop.ros.launch_graph', raising=False)
    return importlib.import_module('mec_coop.ros.launch_graph')


def _nodes(launch_graph, config, overrides=''):
    description = launch_graph.graph_launch_description(config)
    (actions,) = description.args
    arguments = {a.args[0]: a.kwargs['default_value'] for a in actions if 'default_value'
                 in a.kwargs}
    assert arguments == {'config': config, 'overrides': ''}
    opaque = actions[-1]
    _LaunchConfiguration.values = {'config': str(CONFIG_DIR / f'{config}.yaml'),
                                   'overrides': overrides}
    return {(n.kwargs['namespace'] or '') + '/' + n.kwargs['name']: n.kwargs
            for n in opaque.kwargs['function'](None)}


@pytest.mark.parametrize('config', ['virtual_rig', 'recorded_rig', 'cameras'])
def test_launched_nodes_respawn_a_bounded_number_of_times(launch_graph, config):
    nodes = _nodes(launch_graph, config)
    specs = build_graph(load_config(config))
    assert len(nodes) == len(specs)
    for spec in specs:
        node = nodes[(spec.namespace or '') + '/' + spec.name]
        assert set(node) <= JAZZY_NODE_ARGUMENTS
        assert node['respawn'] == (spec.executable in ('camera_node', 'edge_node', 'uplink_node',
                                                       'allocator_node'))
        assert node['respawn_max_retries'] == 5
        assert node['respawn_delay'] == (1.0 if node['respawn'] else 0.0)


def test_the_bound_comes_from_the_config_and_is_validated(launch_graph):
    nodes = _nodes(launch_graph, 'virtual_rig', 'graph.respawn_max_retries=2')
    assert nodes['cam0/camera']['respawn_max_retries'] == 2 and nodes['cam0/camera']['respawn']
    nodes = _nodes(launch_graph, 'virtual_rig', 'graph.respawn_max_retries=0')
    assert not any(node['respawn'] for node in nodes.values())
    for bad in ('-1', '1001', '2.5', 'true'):
        with pytest.raises(ValueError, match='respawn_max_retries'):
            build_graph(load_config('virtual_rig', [f'graph.respawn_max_retries={bad}']))
