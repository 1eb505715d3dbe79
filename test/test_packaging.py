# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The package builds the way ROS users build it (colcon) and the core installs with pip."""

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

SOURCES = ['CMakeLists.txt', 'package.xml', 'setup.py', 'LICENSE', 'msg', 'mec_coop', 'cmake',
           'launch', 'config', 'rviz']


def _copy_tree(repo_root, dest):
    dest.mkdir(parents=True)
    for name in SOURCES:
        src = repo_root / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns('__pycache__'))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


def test_colcon_build_installs_interfaces_and_python_package(repo_root, tmp_path):
    _copy_tree(repo_root, tmp_path / 'ws' / 'src' / 'mec_coop')
    env = dict(os.environ, AMENT_PREFIX_PATH=sys.prefix)
    env.pop('PYTHONPATH', None)
    build = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), 'colcon'), 'build',
         '--event-handlers', 'console_direct-'], cwd=tmp_path / 'ws',
        env=env, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    install = tmp_path / 'ws' / 'install' / 'mec_coop'
    index = install / 'share' / 'ament_index' / 'resource_index'
    assert (index / 'packages' / 'mec_coop').exists()
    assert (index / 'rosidl_interfaces' / 'mec_coop').exists()
    assert (install / 'share' / 'mec_coop' / 'package.xml').exists()
    nodes = sorted(p.stem for p in (repo_root / 'mec_coop' / 'nodes').glob('*_node.py'))
    assert nodes and all(os.access(install / 'lib' / 'mec_coop' / n, os.X_OK) for n in nodes)
    for folder in ('launch', 'config', 'rviz'):
        if (repo_root / folder).is_dir():
            assert (install / 'share' / 'mec_coop' / folder).is_dir()
    site = install / 'lib' / f'python{sys.version_info.major}.{sys.version_info.minor}' / \
        'site-packages'
    env = dict(env, PYTHONPATH=str(site),
               LD_LIBRARY_PATH=f'{install / "lib"}:{env.get("LD_LIBRARY_PATH", "")}')
    probe = subprocess.run(
        [sys.executable, '-c',
         'import mec_coop.msg as m, mec_coop.geometry.triangulation as t; '
         'print(m.Skeleton3D.__module__, t.__file__)'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    assert str(site) in probe.stdout


def test_pip_wheel_contains_the_core_without_ros(repo_root, tmp_path):
    src = _copy_tree(repo_root, tmp_path / 'src')
    out = subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation',
         '-w', str(tmp_path / 'dist'), str(src)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    (wheel,) = (tmp_path / 'dist').glob('mec_coop-*.whl')
    names = zipfile.ZipFile(wheel).namelist()
    assert 'mec_coop/geometry/triangulation.py' in names
    assert not any(n.startswith(('mec_coop/msg/', 'mec_coop/nodes/', 'mec_coop/ros/'))
                   for n in names)


@pytest.mark.parametrize('script', ['setup.sh', 'test.sh', 'demo.sh'])
def test_scripts_are_executable(repo_root, script):
    assert os.access(repo_root / 'scripts' / script, os.X_OK)
