# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Cooperative inference: routing by dual thresholds, uplink (TDMA) model, view synchronisation."""
