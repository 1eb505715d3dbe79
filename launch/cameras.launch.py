# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Launch the graph of config/cameras.yaml (see mec_coop/graph.py)."""

from mec_coop.ros.launch_graph import graph_launch_description


def generate_launch_description():
    return graph_launch_description('cameras')
