# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""ROS 2 code-style checks: ament_flake8, ament_pep257, copyright headers, package.xml."""

import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

from ament_pep257.main import main as pep257_main
from catkin_pkg.package import parse_package
import pytest

pytestmark = pytest.mark.linter

ROOT = pathlib.Path(__file__).resolve().parents[1]
PY_DIRS = ['mec_coop', 'test', 'benchmarks', 'scripts', 'launch', 'setup.py']
HEADER = ('# Copyright 2026 mec_coop maintainers\n'
          '# SPDX-License-Identifier: AGPL-3.0-or-later\n')


def _existing(paths):
    return [str(ROOT / p) for p in paths if (ROOT / p).exists()]


def _python_files():
    files = []
    for path in _existing(PY_DIRS):
        path = pathlib.Path(path)
        files += [path] if path.is_file() else sorted(path.rglob('*.py'))
    return sorted(set(files))


def test_flake8():
    # A fresh interpreter: flake8 forks worker processes, and forking this one after the
    # in-process rclpy tests (threads of DDS and torch) can crash the children and hang the pool.
    result = subprocess.run([sys.executable, '-m', 'ament_flake8.main', '--config',
                             str(ROOT / 'test' / 'flake8.ini')] + _existing(PY_DIRS),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, 'code style errors / warnings:\n' + result.stdout[-20000:]


def test_pep257():
    rc = pep257_main(argv=_existing(PY_DIRS))
    assert rc == 0, 'found docstring style errors (see output above)'


def test_copyright_and_license_headers():
    missing = [str(p.relative_to(ROOT)) for p in _python_files()
               if HEADER not in p.read_text(encoding='utf-8').split('"""')[0]]
    assert not missing, f'files without the copyright/SPDX header: {missing}'


def test_package_xml_is_valid_format_3():
    ElementTree.parse(ROOT / 'package.xml')  # well-formed XML
    package = parse_package(str(ROOT))
    package.validate()
    assert package.package_format == 3
    assert package.name == 'mec_coop'
    assert 'rosidl_interface_packages' in [g.name for g in package.member_of_groups]
    assert package.get_build_type() == 'ament_cmake'
