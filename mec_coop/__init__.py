# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""mec_coop: multi-camera 3D human pose estimation by cooperative edge inference."""

# The generated interfaces (mec_coop.msg) live in the installed copy of this package; when the
# source tree is first on sys.path (running from the repository root) this merges the two.
__path__ = __import__('pkgutil').extend_path(__path__, __name__)
