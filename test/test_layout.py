# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ROS boundary and the size limits of the tree hold (README, "Layout")."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / 'mec_coop'
# Only these import rclpy or message packages; the rest is the pure core.
ROS_BOUNDARY = ('ros', 'nodes')
ROS_MODULES = ('rclpy', 'launch', 'launch_ros', 'ament_index_python', 'cv_bridge',
               'builtin_interfaces', 'rcl_interfaces', 'lifecycle_msgs', 'tf2_msgs')


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def _is_ros(module):
    top = module.split('.')[0]
    return top in ROS_MODULES or top.endswith('_msgs') or module.startswith('mec_coop.msg') \
        or module.startswith(('mec_coop.ros', 'mec_coop.nodes'))


def _core_files():
    return [p for p in PACKAGE.rglob('*.py')
            if p.relative_to(PACKAGE).parts[0] not in ROS_BOUNDARY]


def test_core_imports_no_ros():
    offenders = {str(p.relative_to(ROOT)): sorted(m for m in _imports(p) if _is_ros(m))
                 for p in _core_files()}
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize('path,limit', [('nodes/edge_node.py', 250),
                                        ('nodes/allocator_node.py', 250)])
def test_fat_nodes_stay_thin(path, limit):
    assert len((PACKAGE / path).read_text().splitlines()) < limit


def test_no_core_file_over_450_lines():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in _core_files()}
    assert {k: v for k, v in sizes.items() if v > 450} == {}


def test_readme_layout_table_names_every_package_folder():
    readme = (ROOT / 'README.md').read_text()
    folders = sorted({p.parent.relative_to(ROOT).as_posix()
                      for p in PACKAGE.rglob('__init__.py')} - {'mec_coop'})
    assert [f for f in folders if f'`{f}/`' not in readme] == []


def test_package_xml_declares_every_ros_package_the_code_imports():
    from catkin_pkg.package import parse_package
    package = parse_package(str(ROOT))
    declared = {d.name for d in package.build_depends + package.exec_depends
                + package.build_export_depends}
    files = list(PACKAGE.rglob('*.py')) + list((ROOT / 'launch').glob('*.py'))
    imported = {m.split('.')[0] for p in files for m in _imports(p) if _is_ros(m)}
    imported -= {'mec_coop'}
    assert sorted(imported - declared) == []
