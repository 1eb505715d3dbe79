# Copyright 2026 mec_coop maintainers
# SPDX-License-Identifier: AGPL-3.0-or-later
"""
Timing of the running graph: a delay model that matches what it measures.

The paper's delay (19) is a mean over a synchronous instant with Table I constants; the graph
differs in ways that decide whether a plan meets its requirement: each camera owns its TDMA
slots and transmits in parallel with the others (a per-camera FIFO, see
:class:`mec_coop.coop.uplink.TdmaUplink`), the edge serves offloads of *all* instants one after
the other (a single-server queue, so a load above one image per service time builds a backlog),
and an instant is released when its last view is in or at the edge's deadline.

:func:`simulate` replays the graph as a discrete-event model with measured numbers
(:class:`~mec_coop.alloc.calibration.Calibration`) for given routing probabilities and uplink
rates and returns delay quantiles; :func:`md1_wait` is the closed-form M/D/1 waiting time it is
checked against. :class:`RunningStat` is the robust running statistic the measurements keep.
"""

from collections import deque
from dataclasses import dataclass
import math
from typing import Optional, Sequence

import numpy as np
from numpy.typing import ArrayLike

# Period of the edge's release timer (nodes/edge_node.py).
RELEASE_POLL_S = 0.01
# Fewer samples than this and a quantity keeps its prior (the paper's or the user's constant).
MIN_SAMPLES = 5
# The quantile levels of the released delay a prediction carries (1%, 2%, ..., 99%): each
# carries a hundredth of the mass, so a pool of them misplaces at most 1% per plan.
QUANTILE_LEVELS = tuple(k / 100 for k in range(1, 100))


class RunningStat:
    """
    The newest ``window`` finite, non-negative samples of one quantity; medians on demand.

    Each sample keeps the time it was taken (``at``, any clock; untimed: the oldest), so
    :meth:`expire` can forget the start-up's samples or a load that has gone.
    """

    def __init__(self, window: int = 200, signed: bool = False) -> None:
        if window < 1:
            raise ValueError(f'window must be >= 1, got {window}')
        self._samples: deque = deque(maxlen=int(window))   # (at, value), oldest first
        self.rejected = 0
        self.signed = signed   # differences may be negative; times and sizes may not

    def add(self, value: float, at: float = -math.inf) -> bool:
        """Keep ``value``, taken at ``at``; a NaN, infinite or negative one counts as rejected."""
        value = float(value)
        if not (math.isfinite(value) and (self.signed or value >= 0.0)):
            self.rejected += 1
            return False
        self._samples.append((float(at), value))
        return True

    def expire(self, before: float) -> int:
        """Forget samples taken before ``before`` (the newest 5 stay); return how many."""
        dropped = 0
        while len(self._samples) > MIN_SAMPLES and self._samples[0][0] < before:
            self._samples.popleft()
            dropped += 1
        return dropped

    def __len__(self) -> int:
        return len(self._samples)

    def samples(self) -> np.ndarray:
        pairs = tuple(self._samples)   # one C-level copy: callbacks append while planners read
        return np.fromiter((v for _, v in pairs), dtype=float, count=len(pairs))

    def quantile(self, q: float, default: float) -> float:
        """Return quantile ``q`` of the window (``default`` below :data:`MIN_SAMPLES`)."""
        if len(self._samples) < MIN_SAMPLES:
            return float(default)
        return float(np.quantile(self.samples(), q))

    def mean(self, default: float) -> float:
        """Return the mean of the window (``default`` below :data:`MIN_SAMPLES`)."""
        if len(self._samples) < MIN_SAMPLES:
            return float(default)
        return float(np.mean(self.samples()))


@dataclass(frozen=True)
class GraphTiming:
    """
    What :func:`simulate` needs besides the plan; every time in seconds, sizes in bytes.

    ``device_s`` holds camera times, one row per observed capture instant and one column per
    camera (a replayed instant draws a whole row: cameras that share a CPU or a network are
    slow together, which independent draws would miss). ``edge_service_s`` is the edge's time
    per image, one value or observed samples that each offload draws from (the waiting in a
    queue grows with the service time's spread, ``E[S^2]``, which one median misses: the
    recorded trace's edge times span 0.14-0.67 s around a median of 0.375 s). The other
    quantities are per-camera medians or graph-wide constants. ``deadline_s`` is the
    edge's release deadline from capture (its ``sync_timeout_s``), ``None`` to wait for all.
    ``offload_extra_s`` (per camera) is how much later an offloaded frame leaves its camera
    than its keypoints would: the offload is encoded after the model ran (a region-wise
    1280x720 offload took about 0.1 s here), and ``device_s`` is measured on keypoint messages.
    ``empty_image_bytes`` (per camera; None: as ``image_bytes``) is the size of an image in
    which the camera found nobody: it goes up whole (at 8 cameras the median offload was
    124 KB, not the 15 KB of a region-wise one). ``edge_batch`` is the edge's ``batch_size``:
    the images of a batch complete together (:func:`_fifo`). ``offload_residual_s`` is what
    the replay misses on an offloaded view's path, measured online
    (:meth:`~mec_coop.alloc.calibration.Calibration.offload_residual`): added to each offload's
    completion, after the edge's queue (a delay, not load).
    """

    frame_rate_hz: float
    device_s: np.ndarray
    image_bytes: np.ndarray
    message_bytes: np.ndarray
    edge_service_s: ArrayLike
    overhead_s: float
    deadline_s: Optional[float] = None
    offload_extra_s: ArrayLike = 0.0
    empty_image_bytes: Optional[np.ndarray] = None
    edge_batch: int = 1
    offload_residual_s: float = 0.0


@dataclass(frozen=True)
class DelayPrediction:
    """Delay quantiles of the simulated graph (released: with the deadline; complete: without)."""

    p50_s: float
    p95_s: float
    complete_p50_s: float
    complete_p95_s: float
    late_fraction: float          # instants released by the deadline before all views were in
    edge_utilisation: float       # offered edge load: images per second x service time
    edge_wait_s: float            # mean time an offload waits at the edge before its service
    uplink_utilisation: np.ndarray  # per camera: airtime per second
    # Median time from capture to the edge's result of an offloaded view (NaN: no offload),
    # comparable with Calibration.offload_view_s: where the slow mode of the delay comes from.
    offload_view_p50_s: float = float('nan')
    # The released delay at QUANTILE_LEVELS: pooled over the plans of a run by pooled_median.
    released_quantiles_s: tuple = ()
    # Per camera, the share of its held images whose view the deadline released without.
    late_views: tuple = ()

    def quantile(self, q: float, complete: bool = False) -> float:
        """Return p50 or p95 (the two this model reports)."""
        table = {0.5: (self.p50_s, self.complete_p50_s), 0.95: (self.p95_s, self.complete_p95_s)}
        if q not in table:
            raise ValueError(f'delay quantile must be 0.5 or 0.95, got {q}')
        return table[q][int(complete)]


def pooled_median(quantile_rows: Sequence[Sequence[float]]) -> float:
    """
    Return the median of delay distributions at :data:`QUANTILE_LEVELS` pooled (NaN: none).

    One row per skeleton, the plan's in effect. The delay is bimodal (keypoints only, about
    0.1 s; an offloaded view, 0.3 s and more): the median of the plans' medians is one mode.
    """
    values = np.concatenate([np.asarray(r, dtype=float) for r in quantile_rows] or [np.empty(0)])
    return float(np.median(values)) if values.size else math.nan


def md1_wait(arrival_rate: float, service_s: float) -> float:
    """Mean M/D/1 waiting time ``rho D / (2 (1 - rho))``; infinite at ``rho >= 1``."""
    rho = arrival_rate * service_s
    return math.inf if rho >= 1.0 else rho * service_s / (2.0 * (1.0 - rho))


def _fifo(arrivals: np.ndarray, service: np.ndarray, batch: int = 1) -> np.ndarray:
    """
    Return completion times of jobs served in arrival order (Lindley recursion).

    With ``batch`` > 1 the server takes up to that many jobs waiting when it frees (the edge's
    ``batch_size``); they complete together, after the sum of their service times.
    """
    order = np.argsort(arrivals, kind='stable')
    done = np.empty_like(arrivals)
    free, first = -math.inf, 0
    while first < order.size:
        start = max(free, arrivals[order[first]])
        last = first + 1
        while last < min(order.size, first + batch) and arrivals[order[last]] <= start:
            last += 1
        jobs = order[first:last]
        free = start + float(service[jobs].sum())
        done[jobs] = free
        first = last
    return done


def simulate(timing: GraphTiming, p_uncertain: ArrayLike, p_positive: ArrayLike,
             rates_bps: ArrayLike, instants: int = 1500, seed: int = 0,
             p_held: Optional[ArrayLike] = None,
             p_empty: Optional[ArrayLike] = None) -> DelayPrediction:
    """
    Replay ``instants`` capture instants of the graph and return its delay quantiles.

    Per instant every camera draws its route (offload with ``P^U_n``, keypoints with
    ``P^P_n``, else a drop notice, which is a keypoint-sized message) and a model time from its
    samples; its messages queue on its own uplink (rate ``rates_bps[n]`` = ``tau_n R_n``),
    offloads then queue at the edge in arrival order (all cameras and instants), and the
    instant is complete when its last report is in. The first tenth of the instants is left
    out as warm-up.

    :param timing: :class:`GraphTiming`.
    :param p_uncertain: ``P^U_n`` per camera (eq. (11)).
    :param p_positive: ``P^P_n`` per camera (eq. (13)).
    :param rates_bps: uplink rate per camera with its applied share (``inf``: no emulated link).
    :param instants: instants to replay.
    :param seed: random seed (the same seed gives the same prediction).
    :param p_held: per camera, the share of frames that are images the instant waits for
        (:func:`~mec_coop.alloc.model.held_probability`, at most ``p_uncertain``); the other
        images (audits of kept frames) complete their view when they arrive, and load the edge
        all the same. None: every image is waited for.
    :param p_empty: per camera, the share of frames that are images in which the camera found
        nobody (:func:`~mec_coop.alloc.model.empty_probability`, at most ``p_held``): they take
        ``timing.empty_image_bytes``. None: none.
    :return: :class:`DelayPrediction`.
    """
    p_u, p_p = np.asarray(p_uncertain, float), np.asarray(p_positive, float)
    rates = np.asarray(rates_bps, float)
    cams = p_u.size
    if not (p_p.size == rates.size == timing.device_s.shape[1] == cams):
        raise ValueError('p_uncertain, p_positive, rates_bps and timing.device_s need one '
                         'entry per camera')
    if np.any(rates <= 0.0):
        raise ValueError('uplink rates must be positive')
    rng = np.random.default_rng(seed)
    period = 1.0 / timing.frame_rate_hz
    capture = np.arange(instants) * period
    u = rng.random((instants, cams))
    offload = u < p_u
    held = offload if p_held is None else u < np.asarray(p_held, float)
    device = timing.device_s[rng.integers(len(timing.device_s), size=instants)]
    size = np.where(offload, timing.image_bytes, timing.message_bytes)
    if p_empty is not None and timing.empty_image_bytes is not None:
        size = np.where(u < np.asarray(p_empty, float), timing.empty_image_bytes, size)
    airtime = 8.0 * size / rates
    sent = np.empty((instants, cams))
    # The camera times are measured from capture to the camera's message, so they already
    # hold its waiting (a camera keeps only its newest frame: no backlog builds); queueing
    # them again made a camera slower than the frame period diverge (150 s predicted where
    # 0.5 s was measured). Then each camera's own uplink slots: a FIFO.
    leave = capture[:, None] + device + offload * np.broadcast_to(
        np.asarray(timing.offload_extra_s, dtype=float), (cams,))
    for n in range(cams):
        sent[:, n] = _fifo(leave[:, n], airtime[:, n])
    final, edge_done = sent.copy(), sent.copy()
    wait = 0.0
    services = np.atleast_1d(np.asarray(timing.edge_service_s, dtype=float))
    if offload.any():
        service = services[rng.integers(services.size, size=int(offload.sum()))]
        done = _fifo(sent[offload], service, timing.edge_batch)
        wait = float(np.mean(done - sent[offload] - service))
        edge_done[offload] = np.maximum(done + timing.offload_residual_s, sent[offload])
        final[held] = edge_done[held]
    complete = final.max(axis=1) - capture
    deadline = math.inf if timing.deadline_s is None else timing.deadline_s
    released = np.minimum(complete, deadline)
    skip = instants // 10
    complete, released = complete[skip:] + timing.overhead_s, released[skip:] + timing.overhead_s
    over = (final - capture[:, None])[skip:] > deadline
    waited = held[skip:]
    airtime_per_s = timing.frame_rate_hz * 8.0 * (
        p_u * timing.image_bytes + (1.0 - p_u) * timing.message_bytes) / rates
    return DelayPrediction(
        p50_s=float(np.median(released)), p95_s=float(np.quantile(released, 0.95)),
        complete_p50_s=float(np.median(complete)),
        complete_p95_s=float(np.quantile(complete, 0.95)),
        late_fraction=float(np.mean(over.any(axis=1))),
        edge_utilisation=float(timing.frame_rate_hz * p_u.sum() * services.mean()),
        edge_wait_s=wait,
        uplink_utilisation=airtime_per_s,
        offload_view_p50_s=float(np.median((edge_done - capture[:, None])[skip:][offload[skip:]]))
        if offload[skip:].any() else float('nan'),
        released_quantiles_s=tuple(float(v) for v in np.quantile(released, QUANTILE_LEVELS)),
        late_views=tuple(float(v) for v in (waited & over).sum(axis=0)
                         / np.maximum(waited.sum(axis=0), 1)))
