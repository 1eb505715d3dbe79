# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""The pure core type-checks with mypy (configuration and strictness per package: mypy.ini)."""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.linter
def test_core_type_checks():
    result = subprocess.run([sys.executable, '-m', 'mypy', '--config-file', 'mypy.ini',
                             'mec_coop'], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
