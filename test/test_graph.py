# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The node-graph description shared by the launch files and the runner."""

import ast
import pathlib

import pytest
import yaml

from mec_coop.coop.routing import MODES
from mec_coop.graph import build_graph, load_config, ros_params_file

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _by_name(specs):
    return {s.fully_qualified_name: s for s in specs}


def test_virtual_rig_graph_has_every_node_with_its_parameters():
    specs = _by_name(build_graph(load_config('virtual_rig')))
    assert set(specs) == {'/rig', '/cam0/camera', '/cam1/camera', '/cam2/camera',
                          '/cam3/camera', '/uplink', '/edge', '/evaluator', '/action'}
    assert specs['/action'].parameters['frames'] == 8
    assert specs['/rig'].parameters['num_cameras'] == 4
    assert specs['/cam2/camera'].parameters['camera_id'] == 'cam2'
    assert specs['/cam2/camera'].parameters['theta_low'] == MODES['cooperative']['theta_low']
    assert specs['/edge'].parameters['input_namespace'] == 'edge'
    assert specs['/uplink'].parameters['cameras'] == ['cam0', 'cam1', 'cam2', 'cam3']


@pytest.mark.parametrize('mode', sorted(MODES))
def test_modes_set_the_camera_thresholds(mode):
    specs = build_graph(load_config('virtual_rig', [f'graph.mode={mode}']))
    for spec in specs:
        if spec.executable == 'camera_node':
            assert {k: spec.parameters[k] for k in MODES[mode]} == MODES[mode]


def test_overrides_camera_lists_and_no_uplink():
    config = load_config('virtual_rig', ['graph.cameras=[left, right]', 'graph.uplink=false',
                                         'camera.imgsz=640'])
    specs = _by_name(build_graph(config))
    assert '/uplink' not in specs and specs['/edge'].parameters['input_namespace'] == ''
    assert specs['/left/camera'].parameters['imgsz'] == 640
    fps = load_config('virtual_rig', ['rig.fps=10'])['rig']['fps']
    assert fps == 10.0 and isinstance(fps, float)
    with pytest.raises(ValueError, match='section.key=value'):
        load_config('virtual_rig', ['imgsz=3'])
    with pytest.raises(ValueError, match='graph.mode'):
        build_graph(load_config('virtual_rig', ['graph.mode=magic']))
    with pytest.raises(ValueError, match='2..16'):
        build_graph(load_config('virtual_rig', ['graph.cameras=1']))


@pytest.mark.parametrize('name', ['virtual_rig', 'recorded_rig', 'cameras'])
def test_each_launch_file_has_a_config_that_builds(name):
    launch = ROOT / 'launch' / f'{name}.launch.py'
    tree = ast.parse(launch.read_text())
    assert any(isinstance(n, ast.FunctionDef) and n.name == 'generate_launch_description'
               for n in tree.body)
    assert f"'{name}'" in launch.read_text()
    assert build_graph(load_config(name))


def test_params_file_is_ros2_parameter_yaml():
    spec = _by_name(build_graph(load_config('virtual_rig')))['/cam1/camera']
    content = yaml.safe_load(ros_params_file(spec))
    assert content == {'/cam1/camera': {'ros__parameters': spec.parameters}}
