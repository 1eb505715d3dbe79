# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Split inference: operator DAGs, partition points, head/tail execution, tensors on the wire."""
