# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The wireless hop from the cameras to the base station: TDMA shares over a Shannon-rate link.

Paper A eq. (16): camera ``n`` with airtime share ``tau_n`` transmits at
``r_n = tau_n * B * log2(1 + P g_n / (N0 B))``. A message of ``bits`` occupies the camera's share
for ``bits / r_n`` seconds; messages of one camera queue behind each other (FIFO), cameras do
not wait for each other (each owns its slots). Defaults are the paper's Table I.
"""

from dataclasses import dataclass
import math


def db_to_linear(db):
    return 10.0 ** (db / 10.0)


def dbm_to_watt(dbm):
    return 10.0 ** ((dbm - 30.0) / 10.0)


@dataclass(frozen=True)
class LinkBudget:
    """Bandwidth ``B`` (Hz), transmit power ``P`` (dBm) and noise density ``N0`` (dBm/Hz)."""

    bandwidth_hz: float = 1e6
    tx_power_dbm: float = 30.0
    noise_dbm_per_hz: float = -165.0

    def spectral_rate_bps(self, gain_db):
        """``B log2(1 + P g / (N0 B))``: the rate with the whole airtime (``tau = 1``)."""
        snr = dbm_to_watt(self.tx_power_dbm) * db_to_linear(gain_db) / (
            dbm_to_watt(self.noise_dbm_per_hz) * self.bandwidth_hz)
        return self.bandwidth_hz * math.log2(1.0 + snr)


@dataclass(frozen=True)
class Delivery:
    """Timing of one message over the uplink (seconds)."""

    queueing_s: float
    airtime_s: float
    done_at: float


class TdmaUplink:
    """Per-camera FIFO over TDMA shares; times are in seconds on any monotonic clock."""

    def __init__(self, budget=LinkBudget()):
        self.budget = budget
        self._share = {}
        self._gain_db = {}
        self._busy_until = {}

    def configure(self, shares=None, gains_db=None, budget=None):
        """
        Update airtime shares and/or channel gains (dicts by camera) as one change.

        Queued airtime is kept: a new share applies to messages submitted from now on. A camera
        new to the link gets a gain of -100 dB unless one is given.

        :raises ValueError: when the resulting shares do not sum to at most 1 or a gain is not
            finite; nothing is changed then.
        """
        new_share = {**self._share, **{c: float(s) for c, s in (shares or {}).items()}}
        new_gain = {c: -100.0 for c in new_share}
        new_gain.update(self._gain_db)
        new_gain.update({c: float(g) for c, g in (gains_db or {}).items()})
        problem = self.share_problem(new_share)
        bad_gain = [c for c, g in new_gain.items() if not math.isfinite(g)]
        if problem or bad_gain or set(new_gain) - set(new_share):
            raise ValueError(problem or f'channel gains must be finite and belong to cameras '
                             f'with a share: {bad_gain or sorted(set(new_gain) - set(new_share))}')
        self._share, self._gain_db = new_share, new_gain
        for camera in new_share:
            self._busy_until.setdefault(camera, -math.inf)
        if budget is not None:
            self.budget = budget

    @staticmethod
    def share_problem(shares):
        """Reason why a share assignment is invalid, or ``''``."""
        for camera, share in shares.items():
            if not (math.isfinite(share) and 0.0 < share <= 1.0):
                return f'tdma_share of {camera!r} must be in (0, 1], got {share}'
        total = sum(shares.values())
        if total > 1.0 + 1e-9:
            return f'TDMA shares sum to {total:.4f} > 1'
        return ''

    def rate_bps(self, camera):
        """Return the current uplink rate of ``camera`` in bit/s (``tau_n R_n``)."""
        return self._share[camera] * self.budget.spectral_rate_bps(self._gain_db[camera])

    def send(self, camera, num_bytes, now):
        """Schedule ``num_bytes`` submitted at ``now``; return its :class:`Delivery`."""
        if camera not in self._share:
            raise KeyError(f'camera {camera!r} has no TDMA share configured')
        start = max(now, self._busy_until[camera])
        airtime = 8.0 * num_bytes / self.rate_bps(camera)
        self._busy_until[camera] = start + airtime
        return Delivery(queueing_s=start - now, airtime_s=airtime, done_at=start + airtime)

    def backlog_s(self, camera, now):
        """Seconds of airtime still queued for ``camera`` at ``now``."""
        return max(0.0, self._busy_until.get(camera, -math.inf) - now)
