# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Co-CRRA on the TDMA uplink: FDMA equivalence, optimality on a grid, quality from a ratio."""

import numpy as np
import pytest

from mec_coop.alloc.cocrra import CoCrraProblem, eta, O_GRID
from mec_coop.alloc.cocrra_tdma import co_crra_tdma, delivery, RateCurve, TdmaLink
from mec_coop.coop.uplink import dbm_to_watt


def rig_link(gains_db, t0=0.3, min_share=0.05):
    """Build the uplink of config/virtual_rig.yaml (1 MHz, 30 dBm, -165 dBm/Hz) with gains."""
    return TdmaLink(1e6, dbm_to_watt(30.0), dbm_to_watt(-165.0),
                    tuple(10 ** (g / 10) for g in gains_db), t0, min_share)


def test_a_share_is_an_fdma_band_with_its_energy():
    link = rig_link([-100.0, -104.0])
    d, o, tau = np.array([1.05e6, 0.9e6]), np.array([0.3, 0.5]), np.array([0.6, 0.4])
    for i in range(2):
        fdma = CoCrraProblem(d[i:i + 1], b_max_mhz=1.0, b_min_mhz=0.0, p_max_w=1.0,
                             p_min_w=0.0, t0_s=0.3, delta=link.gains[i],
                             n0_w_per_hz=link.n0_w_per_hz)
        expected = fdma.delivery(o[i], tau[i] * 1.0, tau[i] * link.power_w)[0]
        assert delivery(o, tau, d, link)[i] == pytest.approx(expected, rel=1e-12)


# Weak channels and a 0.1 s upload budget: the ratios and shares both matter here.
@pytest.mark.parametrize('gains_db', [(-110.0, -113.0), (-111.0, -111.5), (-109.0, -116.0)])
def test_tdma_co_crra_within_one_percent_of_a_grid(gains_db):
    link = rig_link(gains_db, t0=0.1)
    d = np.array([1.05e6, 0.8e6])
    o, tau, phi = co_crra_tdma(d, link)
    assert tau.sum() <= 1.0 + 1e-9 and (tau >= link.min_share - 1e-12).all()
    assert 0.3 < phi.mean() < 0.95 and (o > 0.3).all()    # a non-trivial operating point
    best = 0.0
    g = O_GRID[:, None]
    for t1 in np.linspace(link.min_share, 1.0 - link.min_share, 901):
        t = np.array([t1, 1.0 - t1])
        best = max(best, float((eta(g) * delivery(g, t[None], d[None], link)).max(axis=0).sum()))
    assert phi.sum() >= 0.99 * best


def test_quality_from_a_measured_rate_curve():
    # jpeg curve of docs/figures/compression.json (virtual rig, KB per frame).
    curve = RateCurve((95, 90, 70, 50, 30, 15), (220.9e3, 128.6e3, 56.0e3, 41.4e3, 31.7e3, 23e3))
    assert curve.full_bits == pytest.approx(8 * 220.9e3)
    assert curve.quality_for(0.0) == 95
    assert curve.quality_for(0.5) == 70        # 110 KB fit 56 KB, not 128.6 KB
    assert curve.quality_for(0.99) == 15       # nothing fits: the lowest quality
    with pytest.raises(ValueError, match='must not grow'):
        RateCurve((90, 50), (10.0, 20.0))
    with pytest.raises(ValueError, match='exceeds the airtime'):
        rig_link([-100.0] * 30, min_share=0.05)
