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
    assert specs['/action'].parameters['frames'] == 0     # picked per rate
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
            # Cameras only: no search offloads either (the other schemes keep the node default).
            expected = 0 if mode == 'device_centric' else None
            assert spec.parameters.get('search_every') == expected


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


def test_unknown_config_entries_are_errors_naming_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown section 'camra'.*valid: \[.*'camera'"):
        load_config('virtual_rig', ['camra.imgsz=640'])
    with pytest.raises(ValueError, match=r"graph.modes.*valid: \[.*'mode'"):
        load_config('virtual_rig', ['graph.modes=cooperative'])
    with pytest.raises(ValueError, match=r"unknown config entries \['graph.bogus'\]"):
        build_graph({'graph': {'bogus': 1}})
    # Keys of a node's section are that node's parameters: the node refuses unknown ones.
    specs = _by_name(build_graph(load_config('virtual_rig')))
    assert specs['/cam0/camera'].respawn and specs['/edge'].respawn
    assert not specs['/rig'].respawn and not specs['/evaluator'].respawn


@pytest.mark.dds
def test_a_node_refuses_parameters_it_does_not_declare(ros_domain):
    import rclpy
    from rclpy.parameter import Parameter

    from mec_coop.nodes.uplink_node import UplinkNode
    from mec_coop.ros.runtime import check_overrides, UnknownParameters
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=ros_domain)
    try:
        good = UplinkNode(context=context, parameter_overrides=[Parameter('bandwidth_hz',
                                                                          value=2e6)])
        check_overrides(good)
        bad = UplinkNode(context=context, parameter_overrides=[Parameter('bogus_key', value=1)])
        with pytest.raises(UnknownParameters, match=r"\['bogus_key'\]; valid: \[.*'bandwidth_hz'"):
            check_overrides(bad)
        for node in (good, bad):
            node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


@pytest.mark.dds
def test_sros2_policy_lists_what_the_nodes_really_use(tmp_path, ros_domain):
    import xml.etree.ElementTree as ET

    import rclpy

    from mec_coop.ros.sros2 import observe, policy_xml
    from mec_coop.runner import GraphProcesses
    specs = [s for s in build_graph(load_config('virtual_rig', ['graph.cameras=2',
                                                                'graph.allocator=true']))
             if s.executable in ('uplink_node', 'evaluator_node')]
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=ros_domain)
    probe = rclpy.create_node('probe', context=context)
    try:
        with GraphProcesses(specs, tmp_path / 'logs'):
            found = observe(probe, specs, timeout_s=60.0)
    finally:
        probe.destroy_node()
        rclpy.shutdown(context=context)
    root = ET.fromstring(policy_xml(found))
    profiles = {e.get('path'): e.find('profiles/profile') for e in root.iter('enclave')}
    assert sorted(profiles) == ['/mec_coop/evaluator', '/mec_coop/uplink']

    def names(path, kind, access):
        group = profiles[path].find(f"{kind}[@{access}='ALLOW']")
        return {e.text for e in group} if group is not None else set()
    uplink = '/mec_coop/uplink'
    assert {'/cam0/offload', '/cam1/keypoints'} <= names(uplink, 'topics', 'subscribe')
    assert {'/edge/cam0/offload', '/uplink/link_state', '/diagnostics'} <= \
        names(uplink, 'topics', 'publish')
    assert '/uplink/set_parameters_atomically' in names(uplink, 'services', 'reply')
    evaluator = names('/mec_coop/evaluator', 'topics', 'subscribe')
    assert {'/skeleton', '/ground_truth', '/diagnostics', '/allocation'} <= evaluator
    assert not any(name.endswith('/offload') or 'image' in name for name in evaluator)
