# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
The wireless hop from the cameras to the base station: TDMA shares over a Shannon-rate link.

Paper A eq. (16): camera ``n`` with airtime share ``tau_n`` transmits at
``r_n = tau_n * B * log2(1 + P g_n / (N0 B))``. A message of ``bits`` occupies the camera's share
for ``bits / r_n`` seconds; messages of one camera queue behind each other (FIFO), cameras do
not wait for each other (each owns its slots). Defaults are the paper's Table I. A change of
share re-times the airtime still queued (:class:`TdmaUplink`).

Fading (:data:`FADINGS`, ``LinkBudget.fading``): ``'none'`` keeps each camera's gain ``g_n``
fixed, so an upload is on time with certainty or never. ``'gaussian'`` is the channel of
"Adaptive Compression Offloading and Resource Allocation for Edge Vision Computing" (Xiao et
al., IEEE TCCN 2024), eq. (2): the power gain is ``|h|`` with ``h ~ N(0, g_n^2)``, drawn once per
message from a seeded generator and held for the message's whole airtime (block fading: a
message is one coherence block), so ``Pr(airtime <= t0) = 2 Q(x)`` holds exactly for a message
alone on the link, ``x`` the gain it needs in units of ``g_n``. The mean gain is
``sqrt(2 / pi) g_n`` (0.80 ``g_n``) and, at high SNR, the mean spectral rate is
``(gamma + ln 2) / (2 ln 2)`` = 0.92 bit/s/Hz below the fixed gain's (``E log2 |h| / g_n``);
``'none'`` stays the default: it is what the emulator always did and what the measurements
before this option were taken with.
"""

from collections import deque
from dataclasses import dataclass
import itertools
import math
from typing import Any, Optional

import numpy as np

FADINGS = ('none', 'gaussian')


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
    fading: str = 'none'

    def __post_init__(self):
        if self.fading not in FADINGS:
            raise ValueError(f'fading must be one of {FADINGS}, got {self.fading!r}')

    def spectral_rate_bps(self, gain_db, fade: float = 1.0):
        """
        ``B log2(1 + P g / (N0 B))``: the rate with the whole airtime (``tau = 1``).

        ``fade``: the drawn ``|h| / g`` of one message (1: the configured gain).
        """
        snr = dbm_to_watt(self.tx_power_dbm) * db_to_linear(gain_db) * fade / (
            dbm_to_watt(self.noise_dbm_per_hz) * self.bandwidth_hz)
        return self.bandwidth_hz * math.log2(1.0 + snr)


@dataclass(frozen=True)
class Delivery:
    """Timing of one message over the uplink (seconds)."""

    queueing_s: float
    airtime_s: float
    done_at: float


@dataclass
class _Queued:
    """One message on a camera's FIFO: its bits and when it was submitted, starts and is done."""

    item: Any
    bits: float
    submitted: float
    start: float
    done_at: float
    stream: Any = None
    fade: float = 1.0   # |h| / g_n of this message's block (1 without fading)


class TdmaUplink:
    """
    Per-camera FIFO over TDMA shares; times are in seconds on any monotonic clock.

    The link holds the queued messages (any ``item``) and hands them out when their airtime is
    over (:meth:`due`). A TDMA scheduler serves a camera's bits at the share it has *now*: when a
    share, gain or the budget changes, the airtime still queued is re-timed at the new rate
    (:meth:`configure` with ``now``), so an offload queued on a tiny share finishes early once
    the share rises, instead of holding the camera's FIFO for the old share's airtime.
    """

    def __init__(self, budget: LinkBudget = LinkBudget(), seed: int = 0) -> None:
        self.budget = budget
        self._rng = np.random.default_rng(seed)
        self._share: dict = {}
        self._gain_db: dict = {}
        self._queue: dict = {}
        self._replaced: list = []

    def configure(self, shares: Optional[dict] = None, gains_db: Optional[dict] = None,
                  budget: Optional[LinkBudget] = None, now: Optional[float] = None) -> None:
        """
        Update airtime shares, channel gains (dicts by camera) and/or the budget as one change.

        Airtime still queued at ``now`` is served at the new rates from ``now`` on (bits left
        are kept, times scale by old rate / new rate). A camera new to the link gets a gain of
        -100 dB unless one is given. A faded message keeps its draw: the scale (fixed-gain rates)
        is exact for it on a change of share, an approximation on a change of gain or budget.

        :raises ValueError: when the resulting shares do not sum to at most 1, a gain is not
            finite, or messages are queued and ``now`` is not given; nothing is changed then.
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
        if now is None and any(self._queue.values()):
            raise ValueError('messages are queued: re-timing them at the new rates needs now')
        old_rate = {c: self.rate_bps(c) for c in self._share}
        self._share, self._gain_db = new_share, new_gain
        if budget is not None:
            self.budget = budget
        for camera in new_share:
            self._queue.setdefault(camera, deque())
            if camera in old_rate and now is not None:
                self._retime(self._queue[camera], old_rate[camera] / self.rate_bps(camera), now)

    @staticmethod
    def _retime(queue: deque, scale: float, now: float) -> None:
        # The FIFO is one stretch of airtime: every boundary after now moves by the same factor.
        for q in queue:
            if q.start > now:
                q.start = now + (q.start - now) * scale
            if q.done_at > now:
                q.done_at = now + (q.done_at - now) * scale

    @staticmethod
    def share_problem(shares: dict) -> str:
        """Reason why a share assignment is invalid, or ``''``."""
        for camera, share in shares.items():
            if not (math.isfinite(share) and 0.0 < share <= 1.0):
                return f'tdma_share of {camera!r} must be in (0, 1], got {share}'
        total = sum(shares.values())
        if total > 1.0 + 1e-9:
            return f'TDMA shares sum to {total:.4f} > 1'
        return ''

    def rate_bps(self, camera: str) -> float:
        """Return the current uplink rate of ``camera`` in bit/s (``tau_n R_n``, fixed gain)."""
        return self._message_rate(camera, 1.0)

    def _message_rate(self, camera: str, fade: float) -> float:
        return self._share[camera] * self.budget.spectral_rate_bps(self._gain_db[camera], fade)

    def send(self, camera: str, num_bytes: float, now: float, item: Any = None,
             stream: Any = None, keep: Optional[int] = None) -> Delivery:
        """
        Queue ``num_bytes`` submitted at ``now``; return its :class:`Delivery` as planned.

        With ``'gaussian'`` fading the message's gain is drawn here, once for its airtime.

        ``keep``: at most this many messages of the camera's ``stream`` may wait (not yet on the
        air), as a KEEP_LAST writer history of that depth keeps them on a real link: the oldest
        waiting one is replaced (:meth:`take_replaced`) and the camera's later airtime moves up.
        """
        if camera not in self._share:
            raise KeyError(f'camera {camera!r} has no TDMA share configured')
        queue = self._queue[camera]
        if keep is not None:
            waiting = [q for q in queue if q.start > now and q.stream == stream]
            for old in waiting[:max(0, len(waiting) - keep + 1)]:
                self._remove(queue, old)
        start = max(now, queue[-1].done_at) if queue else now
        bits = 8.0 * num_bytes
        fade = abs(float(self._rng.standard_normal())) if self.budget.fading == 'gaussian' \
            else 1.0
        queued = _Queued(item, bits, now, start, start + bits / self._message_rate(camera, fade),
                         stream, fade)
        queue.append(queued)
        return Delivery(queueing_s=start - now, airtime_s=queued.done_at - start,
                        done_at=queued.done_at)

    def _remove(self, queue: deque, old: _Queued) -> None:
        # Not on the air yet: the messages behind it (a FIFO: all after it) move up by its time.
        freed = old.done_at - old.start
        index = queue.index(old)
        del queue[index]
        self._replaced.append(old.item)
        for q in itertools.islice(queue, index, None):
            q.start -= freed
            q.done_at -= freed

    def take_replaced(self) -> list:
        """Return (and forget) the items replaced by newer ones of their stream."""
        out, self._replaced = self._replaced, []
        return out

    def next_due(self) -> Optional[float]:
        """Return when the earliest queued message is done (None: nothing queued)."""
        heads = [q[0].done_at for q in self._queue.values() if q]
        return min(heads) if heads else None

    def due(self, now: float) -> list[tuple[Any, Delivery]]:
        """
        Take the messages done by ``now`` (in the order they are done) with their timing.

        ``airtime_s`` is the message's bits at the rate its camera has now (with its own fade),
        so airtime times that rate is its size even when a re-time split its airtime between
        two rates; ``queueing_s`` is the rest of its time on the link (at least 0).
        """
        out = []
        for camera, queue in self._queue.items():
            while queue and queue[0].done_at <= now:
                q = queue.popleft()
                airtime = q.bits / self._message_rate(camera, q.fade)
                out.append((q.done_at, q.item, Delivery(
                    max(0.0, q.done_at - q.submitted - airtime), airtime, q.done_at)))
        out.sort(key=lambda entry: entry[0])
        return [(item, delivery) for _, item, delivery in out]

    def backlog_s(self, camera: str, now: float) -> float:
        """Seconds of airtime still queued for ``camera`` at ``now``."""
        queue = self._queue.get(camera)
        return max(0.0, queue[-1].done_at - now) if queue else 0.0
